"""Identity: who is who across sources. The review queue, unmatched records, refused files.

The review queue (`nexus.identity.review.list_reviews`) shows each pair Splink scored between
the thresholds with its evidence: both sides' names, birth dates, grades and schools, which of
them agree and which do not, and the score; operators accept or reject (`decide`, the decider
recorded). The unmatched records per source (`unmatched`) and the queue are student-level
(VIEW_STUDENTS; the service functions audit each read). The per-source report (`report`) and
the files the district gate refused (ingestion files recorded `failed` with the gate's reason,
`nexus.integration.runs`) are aggregates every role may see through the API.
"""

from __future__ import annotations

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.responses import Response

from nexus.identity import review as identity_review
from nexus.identity.people import IdentityError
from nexus.integration import runs as ingestion_runs
from nexus.store.canonical_tables import identities, match_reviews
from nexus.web import permissions
from nexus.web.security import Tenancy, TenantContext
from nexus.web.tables import Column, TableView
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["identity"])

REVIEW_STATUSES = ("pending", "accepted", "rejected")
GATE_REFUSAL = "refused by the district gate"
RUNS_SEARCHED = 500  # the newest ingestion runs searched for refused files
# The fields both sides of a pair show, compared for the evidence: (label, incoming, candidate).
EVIDENCE = (
    ("first name", "first_name", "candidate_first_name"),
    ("last name", "last_name", "candidate_last_name"),
    ("birth date", "birth_date", "candidate_birth_date"),
    ("grade", "grade", "candidate_grade"),
    ("school", "school", "candidate_school"),
)


def _same(a: object, b: object) -> bool:
    return str(a).strip().casefold() == str(b).strip().casefold()


def _candidates(conn: sa.Connection, tenant_id: int, person_ids: set[int]) -> dict[int, dict]:
    """One linked source record of each candidate person: what the pair is compared with."""
    if not person_ids:
        return {}
    i = identities
    rows = conn.execute(
        sa.select(
            i.c.person_id,
            i.c.legal_first_name,
            i.c.legal_last_name,
            i.c.birth_date,
            i.c.grade_hint,
            i.c.school_hint,
        )
        .where(i.c.tenant_id == tenant_id, i.c.person_id.in_(sorted(person_ids)))
        .order_by(i.c.person_id, i.c.key_scope, i.c.source_key)
    )
    out: dict[int, dict] = {}
    for r in rows:
        out.setdefault(
            int(r.person_id),
            {
                "candidate_first_name": r.legal_first_name,
                "candidate_last_name": r.legal_last_name,
                "candidate_birth_date": r.birth_date,
                "candidate_grade": r.grade_hint,
                "candidate_school": r.school_hint,
            },
        )
    return out


def reviews(ctx: TenantContext, status: str = "pending") -> list[dict]:
    """The review queue with each pair's evidence (student-level; the read is audited)."""
    ctx.require(permissions.VIEW_STUDENTS)
    if status not in REVIEW_STATUSES:
        raise IdentityError(
            f"unknown review status {status!r}: one of {', '.join(REVIEW_STATUSES)}"
        )
    with ctx.store.engine.begin() as conn:
        found = identity_review.list_reviews(conn, ctx.tenant_id, ctx.user.username, status)
        sides = _candidates(conn, ctx.tenant_id, {int(r["candidate_person_id"]) for r in found})
    out = []
    for r in found:
        pair = {**r, **sides.get(int(r["candidate_person_id"]), {})}
        agree, disagree, missing = [], [], []
        for label, mine, theirs in EVIDENCE:
            a, b = pair.get(mine), pair.get(theirs)
            if a in (None, "") or b in (None, ""):
                missing.append(label)
            elif _same(a, b):
                agree.append(label)
            else:
                disagree.append(label)
        out.append(pair | {"agree": agree, "disagree": disagree, "missing": missing})
    return out


def _review_of_tenant(ctx: TenantContext, review_id: int) -> None:
    with ctx.store.engine.connect() as conn:
        tenant_id = conn.execute(
            sa.select(match_reviews.c.tenant_id).where(
                match_reviews.c.tenant_id == ctx.tenant_id,
                match_reviews.c.review_id == review_id,
            )
        ).scalar()
    if tenant_id is None:
        raise HTTPException(404, "not found")
    ctx.owns(tenant_id)


def decide(ctx: TenantContext, review_id: int, accept: bool) -> dict:
    """Accept (link) or reject (keep apart) one pair, recorded with the user."""
    ctx.require(permissions.OPERATE)
    _review_of_tenant(ctx, review_id)
    with ctx.store.engine.begin() as conn:
        return identity_review.decide(conn, ctx.tenant_id, review_id, accept, ctx.user.username)


def unmatched(ctx: TenantContext, source: str | None = None) -> list[dict]:
    """Source records linked to no one, per source (student-level; the read is audited)."""
    ctx.require(permissions.VIEW_STUDENTS)
    with ctx.store.engine.begin() as conn:
        return identity_review.unmatched(conn, ctx.tenant_id, ctx.user.username, source or None)


def report(ctx: TenantContext) -> dict:
    """Source persons per source kind: matched, waiting for review, unmatched (aggregates)."""
    with ctx.store.engine.connect() as conn:
        return identity_review.report(conn, ctx.tenant_id)


def refused_files(ctx: TenantContext) -> list[dict]:
    """Files the district gate refused: the run, the file (name, sha256) and the gate's why."""
    out = []
    with ctx.store.engine.connect() as conn:
        for run in ingestion_runs.list_runs(conn, ctx.tenant_id, limit=RUNS_SEARCHED):
            if run["status"] != "failed" or GATE_REFUSAL not in (run["reason"] or ""):
                continue
            for f in ingestion_runs.run_files(conn, run["run_id"], ctx.tenant_id):
                if GATE_REFUSAL not in (f["reason"] or ""):
                    continue
                out.append(
                    {
                        "run_id": run["run_id"],
                        "kind": run["kind"],
                        "source": run["source"],
                        "started_at": run["started_at"],
                        "file": f["name"],
                        "entity": f["entity"],
                        "sha256": f["sha256"],
                        "size_bytes": f["size_bytes"],
                        "reason": f["reason"],
                    }
                )
    return out


# --- pages --------------------------------------------------------------------------------------


@router.get("/t/{tenant}/identity")
def identity_page(request: Request, ctx: Tenancy, status: str = "pending"):
    queue = reviews(ctx, status)
    return render(
        request,
        "identity.html",
        reviews=queue,
        status=status,
        statuses=REVIEW_STATUSES,
        report=report(ctx),
        refused=refused_files(ctx),
    )


@router.post("/t/{tenant}/identity/reviews/{review_id}")
def decide_form(
    ctx: Tenancy, review_id: int, decision: Annotated[Literal["accept", "reject"], Form()]
) -> Response:
    decide(ctx, review_id, decision == "accept")
    return RedirectResponse(f"/t/{ctx.code}/identity", status_code=303)


@router.get("/t/{tenant}/identity/unmatched")
def unmatched_page(request: Request, ctx: Tenancy, source: str | None = None):
    rows = unmatched(ctx, source)
    for r in rows:
        r["name"] = f"{r['last_name'] or ''}, {r['first_name'] or ''}".strip(", ")
    view = TableView.build(
        request,
        rows,
        [
            Column("source_kind", "source"),
            Column("person_kind", "kind"),
            Column("source_key", "source key"),
            Column("name", "name"),
            Column("birth_date", "birth date"),
            Column("grade", "grade"),
            Column("school", "school"),
            Column("link_status", "status"),
            Column("link_rule", "why"),
        ],
        default_sort="source_kind",
    )
    return render(request, "identity_unmatched.html", view=view, source=source, report=report(ctx))


# --- API ----------------------------------------------------------------------------------------


class Decision(BaseModel):
    decision: Literal["accept", "reject"]


@api.get("/tenants/{tenant}/identity/reviews")
def reviews_api(ctx: Tenancy, status: str = "pending") -> dict:
    """The review queue (pending, accepted or rejected) with each pair's evidence."""
    return {"reviews": reviews(ctx, status)}


@api.post("/tenants/{tenant}/identity/reviews/{review_id}")
def decide_api(ctx: Tenancy, review_id: int, body: Decision) -> dict:
    """Accept (link the source record to the candidate) or reject (keep them apart)."""
    return decide(ctx, review_id, body.decision == "accept")


@api.get("/tenants/{tenant}/identity/unmatched")
def unmatched_api(ctx: Tenancy, source: str | None = None) -> dict:
    """Source records linked to no one (optionally of one source kind)."""
    return {"unmatched": unmatched(ctx, source)}


@api.get("/tenants/{tenant}/identity/report")
def report_api(ctx: Tenancy) -> dict:
    """Per source kind: records matched, waiting for review, unmatched."""
    return report(ctx)


@api.get("/tenants/{tenant}/identity/refused")
def refused_api(ctx: Tenancy) -> dict:
    """Files the district gate refused, with the gate's reason."""
    return {"refused_files": refused_files(ctx)}
