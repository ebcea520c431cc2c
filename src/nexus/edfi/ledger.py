"""Ed-Fi problems as exceptions in the validation ledger (`nexus exceptions list`).

Each build folds its problems into `reporting.validation_exceptions` through the validation
layer's own merge, as one validation run of cycle `edfi` whose layouts are `edfi:<resource>`
for the resources built: an exception is identified by (school year, `edfi`, rule, resource,
record key, field), so one found again keeps its status, owner and history, and one a build
no longer finds is auto-resolved. Rules are `EDFI-<rule>` (EDFI-schema, EDFI-unknown_descriptor,
EDFI-unresolved_reference, EDFI-missouri_required, ...); an `error` problem is `blocking`
(the record is not sent), a `warning` is `warning`. Owner: the data office.
`edfi.record_problems` keeps the same problems per build.

Each send likewise folds the records the server refuses (the send log's `failed` rows: 400,
409, 403, ...) into layout `edfi-send` as `EDFI-server-<status>` with the server's message, so
a refusal is worked like any exception and resolves itself once the record is accepted.
"""

from __future__ import annotations

import sqlalchemy as sa

from nexus.edfi.records import Record
from nexus.store.edfi_tables import edfi_send_log
from nexus.validation.catalog import Rule
from nexus.validation.engine import Finding
from nexus.validation.exceptions import merge
from nexus.validation.runs import finish_run, start_run

CYCLE = "edfi"
OWNER = "data_office"
SEVERITY = {"error": "blocking", "warning": "warning"}


def layout_of(resource: str) -> str:
    return f"edfi:{resource}"


SEND_LAYOUT = "edfi-send"


def _start_run(
    conn, tenant_id: int, school_year: int, layouts: list[str], snapshot: dict, user: str
) -> int:
    return start_run(conn, tenant_id, school_year, CYCLE, layouts, None, snapshot, user)


def _finish_run(conn, tenant_id: int, run_id: int, counts: dict) -> dict:
    finish_run(conn, tenant_id, run_id, counts)
    return {"validation_run_id": run_id, **counts}


def record_send_failures(
    conn: sa.Connection,
    tenant_id: int,
    school_year: int,
    connection: str,
    send_id: int,
    user: str,
) -> dict:
    """Fold the records the server refuses (per the send log, after this send) into the
    ledger; those it has since accepted are auto-resolved."""
    log = edfi_send_log
    run_id = _start_run(
        conn,
        tenant_id,
        school_year,
        [SEND_LAYOUT],
        {"edfi_send_id": send_id, "connection": connection},
        user,
    )
    rules: dict[int, Rule] = {}
    findings = []
    for row in conn.execute(
        sa.select(log).where(
            log.c.tenant_id == tenant_id,
            log.c.school_year == school_year,
            log.c.connection == connection,
            log.c.outcome == "failed",
        )
    ):
        status = int(row.status_code or 0)
        rule = rules.get(status)
        if rule is None:
            rule = rules[status] = Rule(
                rule_id=f"EDFI-server-{status}",
                origin="nexus",
                layout=SEND_LAYOUT,
                kind="edfi",
                severity="blocking",
                owner=OWNER,
                title=f"The Ed-Fi ODS/API refused the record ({status})",
                message=row.message or f"HTTP {status}",
            )
        findings.append(
            Finding(
                rule=rule,
                layout=SEND_LAYOUT,
                entity_type=row.resource,
                record_key=row.record_key,
                field="-",
                message=row.message or f"HTTP {status}",
                severity="blocking",
                owner=OWNER,
                current_value=row.natural_key[:2000],
                record_id=row.record_key,
                source_entity=row.resource,
                trace={"edfi_send_id": row.send_id, "connection": connection},
            )
        )
    counts = merge(conn, tenant_id, run_id, school_year, CYCLE, [SEND_LAYOUT], findings, user)
    return _finish_run(conn, tenant_id, run_id, counts)


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
    run_id = _start_run(conn, tenant_id, school_year, layouts, {"edfi_build_id": build_id}, user)
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
    return _finish_run(conn, tenant_id, run_id, counts)
