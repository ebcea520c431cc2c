"""What operators see and decide about person matching: the review queue, the unmatched list
and the per-source report.

A pending review pairs a source person with the canonical person Splink scored between the
thresholds. Accepting links them (rule `review:accepted`, the decider recorded); rejecting
leaves the source person unmatched and keeps the pair from being proposed again. Reading these
lists shows student names: each read is an audited view of student-level data.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from nexus.identity.people import IdentityError
from nexus.store import audit
from nexus.store.canonical_tables import identities, match_reviews
from nexus.store.tables import source_systems


def list_reviews(
    conn: sa.Connection, tenant_id: int, user: str, status: str = "pending"
) -> list[dict]:
    """The review queue with both sides' names, birth dates, grades and schools."""
    incoming = identities.alias("incoming")
    candidate = identities.alias("candidate")
    rows = conn.execute(
        sa.select(
            match_reviews.c.review_id,
            match_reviews.c.status,
            match_reviews.c.key_scope,
            match_reviews.c.person_kind,
            match_reviews.c.source_key,
            match_reviews.c.candidate_person_id,
            match_reviews.c.match_probability,
            match_reviews.c.match_weight,
            incoming.c.legal_first_name.label("first_name"),
            incoming.c.legal_last_name.label("last_name"),
            incoming.c.birth_date,
            incoming.c.grade_hint.label("grade"),
            incoming.c.school_hint.label("school"),
            sa.select(sa.func.min(candidate.c.legal_first_name + " " + candidate.c.legal_last_name))
            .where(
                candidate.c.tenant_id == tenant_id,
                candidate.c.person_id == match_reviews.c.candidate_person_id,
            )
            .scalar_subquery()
            .label("candidate_name"),
            sa.select(sa.func.min(candidate.c.birth_date))
            .where(
                candidate.c.tenant_id == tenant_id,
                candidate.c.person_id == match_reviews.c.candidate_person_id,
            )
            .scalar_subquery()
            .label("candidate_birth_date"),
        )
        .select_from(
            match_reviews.join(
                incoming,
                (incoming.c.tenant_id == match_reviews.c.tenant_id)
                & (incoming.c.key_scope == match_reviews.c.key_scope)
                & (incoming.c.person_kind == match_reviews.c.person_kind)
                & (incoming.c.source_key == match_reviews.c.source_key),
            )
        )
        .where(match_reviews.c.tenant_id == tenant_id, match_reviews.c.status == status)
        .order_by(match_reviews.c.review_id)
    ).mappings()
    out = [dict(r) for r in rows]
    audit.record(
        conn, tenant_id, user, "view.identity_reviews", {"status": status, "rows": len(out)}
    )
    return out


def decide(conn: sa.Connection, tenant_id: int, review_id: int, accept: bool, user: str) -> dict:
    review = conn.execute(
        sa.select(match_reviews).where(
            match_reviews.c.tenant_id == tenant_id, match_reviews.c.review_id == review_id
        )
    ).first()
    if review is None:
        raise IdentityError(f"no review {review_id}")
    if review.status != "pending":
        raise IdentityError(f"review {review_id} is already {review.status}")
    now = datetime.now(UTC)
    status = "accepted" if accept else "rejected"
    conn.execute(
        match_reviews.update()
        .where(match_reviews.c.tenant_id == tenant_id, match_reviews.c.review_id == review_id)
        .values(status=status, decided_by=user, decided_at=now)
    )
    same_record = (
        (identities.c.tenant_id == tenant_id)
        & (identities.c.key_scope == review.key_scope)
        & (identities.c.person_kind == review.person_kind)
        & (identities.c.source_key == review.source_key)
    )
    others_pending = conn.execute(
        sa.select(sa.func.count()).where(
            match_reviews.c.tenant_id == tenant_id,
            match_reviews.c.key_scope == review.key_scope,
            match_reviews.c.person_kind == review.person_kind,
            match_reviews.c.source_key == review.source_key,
            match_reviews.c.status == "pending",
        )
    ).scalar_one()
    if accept:
        conn.execute(
            identities.update()
            .where(same_record)
            .values(
                person_id=review.candidate_person_id,
                link_status="linked",
                link_rule="review:accepted",
                match_probability=review.match_probability,
                match_weight=review.match_weight,
            )
        )
        # The record is decided: any other pending pair for it is moot.
        conn.execute(
            match_reviews.update()
            .where(
                match_reviews.c.tenant_id == tenant_id,
                match_reviews.c.key_scope == review.key_scope,
                match_reviews.c.person_kind == review.person_kind,
                match_reviews.c.source_key == review.source_key,
                match_reviews.c.status == "pending",
            )
            .values(status="rejected", decided_by=user, decided_at=now)
        )
    elif not others_pending:
        conn.execute(
            identities.update()
            .where(same_record)
            .values(link_status="unmatched", link_rule="review:rejected", person_id=None)
        )
    audit.record(conn, tenant_id, user, f"identity.review.{status}", {"review_id": review_id})
    return {"review_id": review_id, "status": status, "person_id": review.candidate_person_id}


def _kind_of_system() -> sa.Select:
    return sa.select(source_systems.c.source_system_id, source_systems.c.kind)


def report(conn: sa.Connection, tenant_id: int) -> dict:
    """Source persons per source kind: matched (linked), review, unmatched."""
    rows = conn.execute(
        sa.select(
            source_systems.c.kind,
            identities.c.link_status,
            sa.func.count().label("n"),
        )
        .select_from(
            identities.join(
                source_systems,
                (source_systems.c.tenant_id == identities.c.tenant_id)
                & (source_systems.c.source_system_id == identities.c.source_system_id),
            )
        )
        .where(identities.c.tenant_id == tenant_id)
        .group_by(source_systems.c.kind, identities.c.link_status)
    )
    sources: dict[str, dict[str, int]] = {}
    for kind, status, n in rows:
        entry = sources.setdefault(kind, {"matched": 0, "review": 0, "unmatched": 0})
        key = "matched" if status == "linked" else status
        entry[key] = entry.get(key, 0) + int(n)
    return {"sources": dict(sorted(sources.items()))}


def unmatched(
    conn: sa.Connection, tenant_id: int, user: str, source_kind: str | None = None
) -> list[dict]:
    """Source persons not linked to anyone (kept, never dropped), with why where known."""
    query = (
        sa.select(
            source_systems.c.kind.label("source_kind"),
            identities.c.key_scope,
            identities.c.person_kind,
            identities.c.source_key,
            identities.c.link_status,
            identities.c.link_rule,
            identities.c.legal_first_name.label("first_name"),
            identities.c.legal_last_name.label("last_name"),
            identities.c.birth_date,
            identities.c.grade_hint.label("grade"),
            identities.c.school_hint.label("school"),
        )
        .select_from(
            identities.join(
                source_systems,
                (source_systems.c.tenant_id == identities.c.tenant_id)
                & (source_systems.c.source_system_id == identities.c.source_system_id),
            )
        )
        .where(identities.c.tenant_id == tenant_id, identities.c.person_id.is_(None))
        .order_by(source_systems.c.kind, identities.c.person_kind, identities.c.source_key)
    )
    if source_kind:
        query = query.where(source_systems.c.kind == source_kind)
    out = [dict(r) for r in conn.execute(query).mappings()]
    audit.record(conn, tenant_id, user, "view.identity_unmatched", {"rows": len(out)})
    return out
