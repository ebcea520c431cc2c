"""Linking source persons to persistent canonical people (seed 001), set-based in the store.

Every source person record is a `census.identities` row (scope, kind, source key). Linking
sets its `person_id`, with the rule or match weight that made the link:
1. the tenant's **match chain** for the record's scope (deterministic identifier rules, e.g.
   ClassLink email -> PowerSchool STUDENTS.EMAIL, then STUDENT_NUMBER -> Star
   StudentIdentifier); a step links a record that matches exactly one existing person; where a
   step lists several identifier types, the one with the best match rate over the batch is used;
2. **probabilistic** matching with Splink (`probabilistic.match_people`) on names, birth date,
   grade and school for what remains: above the auto-link threshold it links, between the
   thresholds it waits for a human (`census.match_reviews`);
3. in a scope that creates people (the district's SIS), a record still unmatched becomes a new
   person; elsewhere (vendors) it stays `unmatched`, kept and listed, never dropped.

Person ids are persistent: a later run links into existing people, never renumbers them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import pyarrow as pa
import sqlalchemy as sa
import yaml

from nexus.errors import NexusError
from nexus.identity.probabilistic import MatchThresholds, match_people
from nexus.store.bulk import bulk_load, bulk_read
from nexus.store.canonical_tables import identities, match_reviews, match_settings, people


class IdentityError(NexusError):
    """An identity request that cannot be carried out (the message says why)."""


def package_settings() -> dict:
    text = resources.files("nexus.identity").joinpath("chains.yaml").read_text()
    return yaml.safe_load(text)


def settings_for(conn: sa.Connection, tenant_id: int) -> dict:
    """The package defaults with the tenant's overrides laid over them (top-level keys)."""
    base = package_settings()
    own = conn.execute(
        sa.select(match_settings.c.document).where(match_settings.c.tenant_id == tenant_id)
    ).scalar()
    if own:
        base.update(own)
        if "chains" in own:
            base["chains"] = {**package_settings()["chains"], **own["chains"]}
    return base


def set_settings(conn: sa.Connection, tenant_id: int, document: dict) -> None:
    allowed = {"required_match_rate", "thresholds", "creating_scopes", "chains"}
    unknown = set(document) - allowed - {"version"}
    if unknown:
        raise IdentityError(
            f"unknown identity settings {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    conn.execute(match_settings.delete().where(match_settings.c.tenant_id == tenant_id))
    conn.execute(
        match_settings.insert().values(
            tenant_id=tenant_id, document=document, updated_at=datetime.now(UTC)
        )
    )


def creates_people(scope: str, settings: dict | None = None) -> bool:
    settings = settings or package_settings()
    return scope in settings.get("creating_scopes", [])


def _norm(expr: str, steps: list[str]) -> str:
    for step in steps:
        if step == "trim":
            expr = f"trim({expr})"
        elif step == "lower":
            expr = f"lower({expr})"
        elif step == "strip_zeros":
            expr = f"ltrim({expr}, '0')"
        else:
            raise IdentityError(f"unknown normalize step {step!r} in a match chain")
    return expr


def _scopes_unlinked(conn: sa.Connection, tenant_id: int) -> list[str]:
    return [
        s
        for (s,) in conn.execute(
            sa.text(
                "SELECT DISTINCT key_scope FROM census.identities WHERE tenant_id = :t "
                "AND person_id IS NULL AND link_status = 'unmatched' ORDER BY key_scope"
            ),
            {"t": tenant_id},
        )
    ]


def _step_matches(
    conn: sa.Connection, tenant_id: int, scope: str, incoming: str, existing: str, norm: list[str]
) -> pa.Table:
    """Unlinked records of `scope` whose `incoming` identifier equals an `existing` identifier
    of a linked person in another scope: (person_kind, source_key, person_id, candidates)."""
    return bulk_read(
        conn,
        f"""
        SELECT i.person_kind, i.source_key, min(x.person_id) AS person_id,
               count(DISTINCT x.person_id) AS candidates
        FROM census.identities i
        JOIN census.person_identifiers pi ON pi.tenant_id = i.tenant_id
             AND pi.key_scope = i.key_scope AND pi.person_kind = i.person_kind
             AND pi.source_key = i.source_key AND pi.valid_to_run IS NULL
             AND pi.identifier_type = {_lit(incoming)}
        JOIN census.person_identifiers pe ON pe.tenant_id = i.tenant_id
             AND pe.person_kind = i.person_kind AND pe.key_scope <> i.key_scope
             AND pe.valid_to_run IS NULL AND pe.identifier_type = {_lit(existing)}
             AND {_norm("pe.value", norm)} = {_norm("pi.value", norm)}
        JOIN census.identities x ON x.tenant_id = pe.tenant_id AND x.key_scope = pe.key_scope
             AND x.person_kind = pe.person_kind AND x.source_key = pe.source_key
             AND x.person_id IS NOT NULL
        WHERE i.tenant_id = {int(tenant_id)} AND i.key_scope = {_lit(scope)}
          AND i.person_id IS NULL AND i.link_status = 'unmatched'
        GROUP BY i.person_kind, i.source_key
        """,
    )


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


_LINKS = sa.Table(
    "nexus_links",
    sa.MetaData(),
    sa.Column("person_kind", sa.Text),
    sa.Column("source_key", sa.Text),
    sa.Column("person_id", sa.BigInteger),
    sa.Column("link_status", sa.Text),
    sa.Column("link_rule", sa.Text),
    sa.Column("match_probability", sa.Float),
    sa.Column("match_weight", sa.Float),
)


def _apply_links(conn: sa.Connection, tenant_id: int, scope: str, links: pa.Table) -> int:
    """Set the identity link of each (person_kind, source_key) of `scope` in `links`."""
    if not links.num_rows:
        return 0
    conn.execute(sa.text("DROP TABLE IF EXISTS nexus_links"))
    conn.execute(
        sa.text(
            "CREATE TEMPORARY TABLE nexus_links (person_kind TEXT, source_key TEXT, "
            "person_id BIGINT, link_status TEXT, link_rule TEXT, match_probability DOUBLE "
            "PRECISION, match_weight DOUBLE PRECISION)"
        )
    )
    bulk_load(conn, _LINKS, links)
    conn.execute(
        sa.text(
            "UPDATE census.identities SET person_id = l.person_id, link_status = l.link_status, "
            "link_rule = l.link_rule, match_probability = l.match_probability, "
            "match_weight = l.match_weight FROM nexus_links l "
            "WHERE census.identities.tenant_id = :t AND census.identities.key_scope = :s "
            "AND census.identities.person_kind = l.person_kind "
            "AND census.identities.source_key = l.source_key"
        ),
        {"t": tenant_id, "s": scope},
    )
    conn.execute(sa.text("DROP TABLE nexus_links"))
    return links.num_rows


def _links(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("person_kind", pa.string()),
                ("source_key", pa.string()),
                ("person_id", pa.int64()),
                ("link_status", pa.string()),
                ("link_rule", pa.string()),
                ("match_probability", pa.float64()),
                ("match_weight", pa.float64()),
            ]
        ),
    )


def chain_pass(conn: sa.Connection, tenant_id: int, settings: dict) -> dict[str, dict]:
    """Deterministic chain for every scope with unlinked records; returns each step's rates."""
    chains = settings.get("chains", {})
    rates: dict[str, dict] = {}
    for scope in _scopes_unlinked(conn, tenant_id):
        for step in chains.get(scope, chains.get("default", [])):
            incoming, norm = step["incoming"], step.get("normalize", [])
            best: tuple[int, str, pa.Table] | None = None
            for existing in step["existing"]:
                found = _step_matches(conn, tenant_id, scope, incoming, existing, norm)
                rates.setdefault(scope, {})[f"{incoming}->{existing}"] = found.num_rows
                if best is None or found.num_rows > best[0]:
                    best = (found.num_rows, existing, found)
            if not best or not best[0]:
                continue
            _, existing, found = best
            # A record that matches two people is left for the next step (and Splink's review).
            links = [
                {
                    "person_kind": r["person_kind"],
                    "source_key": r["source_key"],
                    "person_id": int(r["person_id"]),
                    "link_status": "linked",
                    "link_rule": f"chain:{incoming}->{existing}",
                    "match_probability": None,
                    "match_weight": None,
                }
                for r in found.to_pylist()
                if int(r["candidates"]) == 1
            ]
            _apply_links(conn, tenant_id, scope, _links(links))
    return rates


def _candidates(
    conn: sa.Connection, tenant_id: int, person_kind: str, scope: str, linked: bool
) -> pa.Table:
    """The unlinked records of `scope`, or the people known from other scopes.

    A new record of a source is not matched against that source's own people: a second id in
    one system is a second person (the chain does the same).
    """
    if linked:
        where = f"person_id IS NOT NULL AND key_scope <> {_lit(scope)}"
        key = "CAST(person_id AS VARCHAR(40))"
    else:
        where = f"person_id IS NULL AND link_status = 'unmatched' AND key_scope = {_lit(scope)}"
        key = "source_key"
    # One row per existing person (its lowest-keyed identity), every unlinked record.
    sql = f"""
        SELECT key, first_name, last_name, birth_date, grade, school FROM (
          SELECT {key} AS key, legal_first_name AS first_name, legal_last_name AS last_name,
                 CAST(birth_date AS VARCHAR(10)) AS birth_date, grade_hint AS grade,
                 school_hint AS school,
                 row_number() OVER (PARTITION BY {key} ORDER BY key_scope, source_key) AS n
          FROM census.identities WHERE tenant_id = {int(tenant_id)}
            AND person_kind = {_lit(person_kind)} AND {where}) t
        WHERE n = 1"""
    table = bulk_read(conn, sql)
    return table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))


def _unlinked_kinds(conn: sa.Connection, tenant_id: int) -> list[tuple[str, str]]:
    return [
        (kind, scope)
        for kind, scope in conn.execute(
            sa.text(
                "SELECT DISTINCT person_kind, key_scope FROM census.identities "
                "WHERE tenant_id = :t AND person_id IS NULL AND link_status = 'unmatched' "
                "ORDER BY person_kind, key_scope"
            ),
            {"t": tenant_id},
        ).all()
    ]


def probabilistic_pass(conn: sa.Connection, tenant_id: int, settings: dict) -> dict[str, int]:
    thresholds = MatchThresholds(**settings.get("thresholds", {}))
    outcome = {"linked": 0, "review": 0}
    rejected = {
        (r.key_scope, r.person_kind, r.source_key, r.candidate_person_id)
        for r in conn.execute(
            sa.select(match_reviews).where(
                match_reviews.c.tenant_id == tenant_id, match_reviews.c.status == "rejected"
            )
        )
    }
    for kind, scope in _unlinked_kinds(conn, tenant_id):
        incoming = _candidates(conn, tenant_id, kind, scope, linked=False)
        existing = _candidates(conn, tenant_id, kind, scope, linked=True)
        if not incoming.num_rows or not existing.num_rows:
            continue
        matches = match_people(incoming, existing, thresholds)
        by_scope: dict[str, list[dict]] = {}
        reviews: list[dict] = []
        for m in matches.to_pylist():
            source_key = m["incoming_key"]
            person_id = int(m["person_key"])
            if (scope, kind, source_key, person_id) in rejected:
                continue
            status = "linked" if m["decision"] == "link" else "review"
            by_scope.setdefault(scope, []).append(
                {
                    "person_kind": kind,
                    "source_key": source_key,
                    "person_id": person_id if status == "linked" else None,
                    "link_status": status,
                    "link_rule": "probabilistic",
                    "match_probability": m["match_probability"],
                    "match_weight": m["match_weight"],
                }
            )
            if status == "review":
                reviews.append(
                    {
                        "key_scope": scope,
                        "person_kind": kind,
                        "source_key": source_key,
                        "candidate_person_id": person_id,
                        "match_probability": m["match_probability"],
                        "match_weight": m["match_weight"],
                    }
                )
            outcome[status] += 1
        for scope, rows in by_scope.items():
            _apply_links(conn, tenant_id, scope, _links(rows))
        _queue_reviews(conn, tenant_id, reviews)
    return outcome


def _queue_reviews(conn: sa.Connection, tenant_id: int, reviews: list[dict]) -> None:
    if not reviews:
        return
    next_id = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(match_reviews.c.review_id), 0)).where(
            match_reviews.c.tenant_id == tenant_id
        )
    ).scalar_one()
    now = datetime.now(UTC)
    conn.execute(
        match_reviews.insert(),
        [
            {
                "tenant_id": tenant_id,
                "review_id": next_id + i,
                "status": "pending",
                "created_at": now,
                **r,
            }
            for i, r in enumerate(reviews, start=1)
        ],
    )


def create_pass(conn: sa.Connection, tenant_id: int, settings: dict, run_id: int | None) -> int:
    """Unmatched records of people-creating scopes become new, persistent people."""
    created = 0
    for scope in _scopes_unlinked(conn, tenant_id):
        if not creates_people(scope, settings):
            continue
        rows = conn.execute(
            sa.text(
                "SELECT person_kind, source_key FROM census.identities WHERE tenant_id = :t "
                "AND key_scope = :s AND person_id IS NULL AND link_status = 'unmatched' "
                "ORDER BY person_kind, source_key"
            ),
            {"t": tenant_id, "s": scope},
        ).all()
        if not rows:
            continue
        start = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(people.c.person_id), 0)).where(
                people.c.tenant_id == tenant_id
            )
        ).scalar_one()
        now = datetime.now(UTC)
        new_people = pa.table(
            {
                "tenant_id": pa.array([tenant_id] * len(rows), pa.int64()),
                "person_id": pa.array(range(start + 1, start + len(rows) + 1), pa.int64()),
                "person_kind": pa.array([r.person_kind for r in rows], pa.string()),
                "created_run_id": pa.array([run_id] * len(rows), pa.int64()),
                "created_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
            }
        )
        bulk_load(conn, people, new_people)
        _apply_links(
            conn,
            tenant_id,
            scope,
            _links(
                [
                    {
                        "person_kind": r.person_kind,
                        "source_key": r.source_key,
                        "person_id": start + i,
                        "link_status": "linked",
                        "link_rule": "created",
                        "match_probability": None,
                        "match_weight": None,
                    }
                    for i, r in enumerate(rows, start=1)
                ]
            ),
        )
        created += len(rows)
    return created


def link_people(
    conn: sa.Connection, tenant_id: int, run_id: int | None = None, analyze: bool = False
) -> dict[str, int]:
    """Link every unlinked source person of the tenant; returns what each pass did.

    `analyze` (PostgreSQL: `store.backend.analyze_after_load`) refreshes the planner's
    statistics first: the identities just loaded would otherwise look empty to it, and the
    chain's joins would run as nested loops over every identifier.
    """
    if analyze:
        conn.execute(sa.text("ANALYZE census.identities"))
        conn.execute(sa.text("ANALYZE census.person_identifiers"))
    settings = settings_for(conn, tenant_id)
    before = _count_linked(conn, tenant_id)
    chain_pass(conn, tenant_id, settings)
    after_chain = _count_linked(conn, tenant_id)
    prob = probabilistic_pass(conn, tenant_id, settings)
    created = create_pass(conn, tenant_id, settings, run_id)
    # Records waiting for people the SIS just created (ClassLink before PowerSchool).
    chain_pass(conn, tenant_id, settings)
    final = _count_linked(conn, tenant_id)
    return {
        "linked_by_chain": (after_chain - before)
        + (final - after_chain - prob["linked"] - created),
        "linked_probabilistic": prob["linked"],
        "sent_to_review": prob["review"],
        "people_created": created,
    }


def _count_linked(conn: sa.Connection, tenant_id: int) -> int:
    return conn.execute(
        sa.select(sa.func.count()).where(
            identities.c.tenant_id == tenant_id, identities.c.person_id.is_not(None)
        )
    ).scalar_one()


def match_rates(conn: sa.Connection, tenant_id: int, scope: str) -> dict:
    """How well a scope's people match: the linked share and each identifier pair's rate.

    Counted per person kind, over the kinds the tenant already has people of (ClassLink
    staff cannot match where no source has given staff yet: they are listed, not held
    against the file); a file with no people of any kind to match against counts them all.
    The rate of a pair (incoming type -> existing type) is the share of those records whose
    incoming identifier equals that identifier of some person of another scope.
    """
    settings = settings_for(conn, tenant_id)
    by_kind: dict[str, dict] = {}
    for kind, total, linked in conn.execute(
        sa.text(
            "SELECT person_kind, count(*), count(person_id) FROM census.identities "
            "WHERE tenant_id = :t AND key_scope = :s GROUP BY person_kind ORDER BY person_kind"
        ),
        {"t": tenant_id, "s": scope},
    ).all():
        others = conn.execute(
            sa.select(sa.func.count()).where(
                identities.c.tenant_id == tenant_id,
                identities.c.person_kind == kind,
                identities.c.key_scope != scope,
                identities.c.person_id.is_not(None),
            )
        ).scalar_one()
        by_kind[kind] = {"people": int(total), "linked": int(linked), "gated": others > 0}
    # With no people at all to match against, nothing in the file can match: all kinds count.
    gated = [k for k, v in by_kind.items() if v["gated"]] or list(by_kind)
    total = sum(by_kind[k]["people"] for k in gated)
    linked = sum(by_kind[k]["linked"] for k in gated)
    pairs: dict[str, float] = {}
    kinds = ", ".join(_lit(k) for k in gated) or "''"
    chains = settings.get("chains", {})
    for step in chains.get(scope, chains.get("default", [])):
        incoming, norm = step["incoming"], step.get("normalize", [])
        for existing in step["existing"]:
            matched = conn.execute(
                sa.text(
                    f"""SELECT count(DISTINCT pi.person_kind || '|' || pi.source_key)
                    FROM census.person_identifiers pi
                    JOIN census.person_identifiers pe ON pe.tenant_id = pi.tenant_id
                      AND pe.person_kind = pi.person_kind AND pe.key_scope <> pi.key_scope
                      AND pe.valid_to_run IS NULL AND pe.identifier_type = :e
                      AND {_norm("pe.value", norm)} = {_norm("pi.value", norm)}
                    WHERE pi.tenant_id = :t AND pi.key_scope = :s AND pi.valid_to_run IS NULL
                      AND pi.identifier_type = :i AND pi.person_kind IN ({kinds})"""
                ),
                {"t": tenant_id, "s": scope, "e": existing, "i": incoming},
            ).scalar_one()
            pairs[f"{incoming}->{existing}"] = round(matched / total, 4) if total else 0.0
    return {
        "people": total,
        "linked": linked,
        "rate": round(linked / total, 4) if total else 0.0,
        "required": float(settings.get("required_match_rate", 0.8)),
        "pairs": pairs,
        "by_kind": by_kind,
        "creates_people": creates_people(scope, settings),
    }
