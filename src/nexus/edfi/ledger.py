"""Ed-Fi problems as exceptions in the validation ledger (`nexus exceptions list`).

Each build folds its problems into `reporting.validation_exceptions` through the validation
layer's own merge, as one validation run of cycle `edfi` whose layouts are `edfi:<resource>`
for the resources built: an exception is identified by (school year, `edfi`, rule, resource,
record key, field), so one found again keeps its status, owner and history, and one a build
no longer finds is auto-resolved. Rules are `EDFI-<rule>` (EDFI-schema, EDFI-unknown_descriptor,
EDFI-unresolved_reference, EDFI-missouri_required, ...); an `error` problem is `blocking`
(the record is not sent), a `warning` is `warning`. Owner: the data office.
`edfi.record_problems` keeps the same problems per build.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from nexus.edfi.records import Record
from nexus.store.validation_tables import validation_runs
from nexus.validation.catalog import Rule
from nexus.validation.engine import Finding
from nexus.validation.exceptions import merge

CYCLE = "edfi"
OWNER = "data_office"
SEVERITY = {"error": "blocking", "warning": "warning"}


def layout_of(resource: str) -> str:
    return f"edfi:{resource}"


def record_exceptions(
    conn: sa.Connection,
    tenant_id: int,
    school_year: int,
    build_id: int,
    records: list[Record],
    resources: list[str],
    user: str,
) -> dict:
    """Fold this build's problems into the ledger; returns the run id and its counts."""
    layouts = [layout_of(r) for r in resources]
    started = datetime.now(UTC)
    run_id = conn.execute(
        validation_runs.insert()
        .values(
            tenant_id=tenant_id,
            school_year=school_year,
            cycle=CYCLE,
            layouts=layouts,
            count_date=None,
            input_snapshot={"edfi_build_id": build_id},
            status="running",
            started_by=user,
            started_at=started,
        )
        .returning(validation_runs.c.validation_run_id)
    ).scalar_one()
    rules: dict[tuple[str, str, str], Rule] = {}
    findings: list[Finding] = []
    for record in records:
        for p in record.problems:
            severity = SEVERITY.get(p.severity, "warning")
            key = (p.resource, p.rule, severity)
            rule = rules.get(key)
            if rule is None:
                rule = rules[key] = Rule(
                    rule_id=f"EDFI-{p.rule}"[:40],
                    origin="nexus",
                    layout=layout_of(p.resource),
                    kind="edfi",
                    severity=severity,
                    owner=OWNER,
                    title=f"Ed-Fi {p.resource}: {p.rule}",
                    message=p.message,
                )
            findings.append(
                Finding(
                    rule=rule,
                    layout=layout_of(p.resource),
                    entity_type=p.resource,
                    record_key=p.record_key,
                    field=(p.field or "-")[:100],
                    message=p.message,
                    severity=severity,
                    owner=OWNER,
                    current_value=p.value,
                    record_id=p.record_key,
                    source_entity=p.resource,
                    trace={"edfi_build_id": build_id, "resource": p.resource},
                )
            )
    counts = merge(conn, tenant_id, run_id, school_year, CYCLE, layouts, findings, user)
    conn.execute(
        validation_runs.update()
        .where(
            validation_runs.c.tenant_id == tenant_id,
            validation_runs.c.validation_run_id == run_id,
        )
        .values(
            status="succeeded",
            found=counts["found"],
            new=counts["new"],
            auto_resolved=counts["auto_resolved"],
            ended_at=datetime.now(UTC),
        )
    )
    return {"validation_run_id": run_id, **counts}
