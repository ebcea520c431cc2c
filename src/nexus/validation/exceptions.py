"""Exceptions: what validation found, with an identity that survives daily runs, a status, an
owner and a history; and the operator's work on them (list, show, assign, suppress, resolve,
export, trend).

An exception is identified by (school year, cycle, rule, source entity, record key, field):
the same problem on the same record is the same exception tomorrow, so its status, owner and
history carry over. Statuses:
- `open`: found, nobody has it yet; `assigned`: an owner role (or person) has it;
- `suppressed`: accepted as is, with a reason, until a date (then it opens again if found);
- `resolved`: an operator says it is fixed; if the next run still finds it, it reopens;
- `auto_resolved`: a run no longer found it (the data was fixed).
Every change is a history row: who, when, from, to, and the run that caused it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from nexus.store import Store, audit
from nexus.store.bulk import bulk_load
from nexus.store.engine import current_user
from nexus.store.tenants import find_tenant
from nexus.store.validation_tables import (
    mosis_validation_results,
    validation_exception_history,
    validation_exceptions,
    validation_runs,
)
from nexus.validation.catalog import OWNERS
from nexus.validation.findings import Finding, ValidationError

STATUSES = ("open", "assigned", "suppressed", "resolved", "auto_resolved")
ACTIVE = ("open", "assigned", "suppressed")
EXPORT_COLUMNS = (
    "exception_id",
    "status",
    "severity",
    "rule_id",
    "layout",
    "field",
    "school_code",
    "owner",
    "assigned_to",
    "entity_type",
    "record_id",
    "source_system",
    "source_entity",
    "record_key",
    "state_id",
    "current_value",
    "expected",
    "message",
    "school_year",
    "cycle",
    "first_seen_run",
    "last_seen_run",
    "status_reason",
    "suppressed_until",
    "trace",
)


def _next_ids(conn: sa.Connection, n: int) -> list[int]:
    if n == 0:
        return []
    seq = "reporting.validation_exception_seq"
    if conn.dialect.name == "postgresql":
        sql = f"SELECT nextval('{seq}') FROM generate_series(1, {int(n)})"
    else:
        sql = f"SELECT nextval('{seq}') FROM range({int(n)})"
    return sorted(int(r[0]) for r in conn.execute(sa.text(sql)))


def _history(conn: sa.Connection, rows: list[dict]) -> None:
    if not rows:
        return
    ids = sorted({r["exception_id"] for r in rows})
    h = validation_exception_history
    last: dict[int, int] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for eid, seq in conn.execute(
            sa.select(h.c.exception_id, sa.func.max(h.c.seq))
            .where(h.c.tenant_id == rows[0]["tenant_id"], h.c.exception_id.in_(chunk))
            .group_by(h.c.exception_id)
        ):
            last[int(eid)] = int(seq)
    for r in rows:
        last[r["exception_id"]] = last.get(r["exception_id"], 0) + 1
        r["seq"] = last[r["exception_id"]]
    table = pa.table(
        {
            "tenant_id": pa.array([r["tenant_id"] for r in rows], pa.int64()),
            "exception_id": pa.array([r["exception_id"] for r in rows], pa.int64()),
            "seq": pa.array([r["seq"] for r in rows], pa.int32()),
            "changed_at": pa.array([r["changed_at"] for r in rows], pa.timestamp("us", tz="UTC")),
            "changed_by": pa.array([r["changed_by"] for r in rows], pa.string()),
            "action": pa.array([r["action"] for r in rows], pa.string()),
            "from_status": pa.array([r.get("from_status") for r in rows], pa.string()),
            "to_status": pa.array([r["to_status"] for r in rows], pa.string()),
            "validation_run_id": pa.array([r.get("validation_run_id") for r in rows], pa.int64()),
            "detail": pa.array(
                [json.dumps(r["detail"]) if r.get("detail") else None for r in rows], pa.string()
            ),
        }
    )
    bulk_load(conn, h, table)


def merge(
    conn: sa.Connection,
    tenant_id: int,
    run_id: int,
    school_year: int,
    cycle: str,
    layouts: list[str],
    findings: list[Finding],
    user: str,
) -> dict[str, int]:
    """Fold one run's findings into the exceptions of (year, cycle) for `layouts`."""
    now = datetime.now(UTC)
    today = now.date()
    e = validation_exceptions
    existing = {
        r.identity_key: r
        for r in conn.execute(
            sa.select(
                e.c.exception_id,
                e.c.identity_key,
                e.c.status,
                e.c.suppressed_until,
                e.c.message,
                e.c.severity,
            ).where(
                e.c.tenant_id == tenant_id,
                e.c.school_year == school_year,
                e.c.cycle == cycle,
                e.c.layout.in_(layouts),
            )
        )
    }
    keyed: dict[str, Finding] = {}
    for f in findings:
        keyed.setdefault(f.identity(school_year, cycle), f)
    new_keys = [k for k in keyed if k not in existing]
    ids = dict(zip(new_keys, _next_ids(conn, len(new_keys)), strict=True))
    if new_keys:
        rows = [keyed[k] for k in new_keys]
        bulk_load(
            conn,
            e,
            pa.table(
                {
                    "tenant_id": pa.array([tenant_id] * len(rows), pa.int64()),
                    "exception_id": pa.array([ids[k] for k in new_keys], pa.int64()),
                    "identity_key": pa.array(new_keys, pa.string()),
                    "school_year": pa.array([school_year] * len(rows), pa.int32()),
                    "cycle": pa.array([cycle] * len(rows), pa.string()),
                    "layout": pa.array([f.layout for f in rows], pa.string()),
                    "rule_id": pa.array([f.rule.rule_id for f in rows], pa.string()),
                    "severity": pa.array([f.severity for f in rows], pa.string()),
                    "owner": pa.array([f.owner for f in rows], pa.string()),
                    "entity_type": pa.array([f.entity_type for f in rows], pa.string()),
                    "record_id": pa.array([f.record_id for f in rows], pa.string()),
                    "source_system": pa.array([f.source_system for f in rows], pa.string()),
                    "source_entity": pa.array([f.source_entity for f in rows], pa.string()),
                    "record_key": pa.array([f.record_key for f in rows], pa.string()),
                    "person_id": pa.array([f.person_id for f in rows], pa.int64()),
                    "state_id": pa.array(
                        [(f.trace or {}).get("state_id") for f in rows], pa.string()
                    ),
                    "school_code": pa.array([f.school_code for f in rows], pa.string()),
                    "field": pa.array([f.field for f in rows], pa.string()),
                    "current_value": pa.array([f.current_value for f in rows], pa.string()),
                    "expected": pa.array([f.expected for f in rows], pa.string()),
                    "message": pa.array([f.message for f in rows], pa.string()),
                    "trace": pa.array(
                        [json.dumps(f.trace) if f.trace else None for f in rows], pa.string()
                    ),
                    "status": pa.array(["open"] * len(rows), pa.string()),
                    "first_seen_run": pa.array([run_id] * len(rows), pa.int64()),
                    "last_seen_run": pa.array([run_id] * len(rows), pa.int64()),
                    "created_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
                    "updated_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
                }
            ),
        )
    all_ids = {k: (ids[k] if k in ids else existing[k].exception_id) for k in keyed}
    results = list(keyed.items())
    if results:
        bulk_load(
            conn,
            mosis_validation_results,
            pa.table(
                {
                    "tenant_id": pa.array([tenant_id] * len(results), pa.int64()),
                    "validation_run_id": pa.array([run_id] * len(results), pa.int64()),
                    "exception_id": pa.array([all_ids[k] for k, _ in results], pa.int64()),
                    "layout": pa.array([f.layout for _, f in results], pa.string()),
                    "rule_id": pa.array([f.rule.rule_id for _, f in results], pa.string()),
                    "school_code": pa.array([f.school_code for _, f in results], pa.string()),
                    "severity": pa.array([f.severity for _, f in results], pa.string()),
                    "row_key": pa.array([f.row_key for _, f in results], pa.string()),
                    "current_value": pa.array([f.current_value for _, f in results], pa.string()),
                }
            ),
        )
    # Seen again: last seen, current value and severity from this run (set-based).
    r = mosis_validation_results
    seen_again = [k for k in keyed if k in existing]
    if seen_again:
        conn.execute(
            e.update()
            .where(
                e.c.tenant_id == tenant_id,
                e.c.exception_id.in_(
                    sa.select(r.c.exception_id).where(
                        r.c.tenant_id == tenant_id, r.c.validation_run_id == run_id
                    )
                ),
                e.c.first_seen_run != run_id,
            )
            .values(
                last_seen_run=run_id,
                current_value=sa.select(r.c.current_value)
                .where(
                    r.c.tenant_id == tenant_id,
                    r.c.validation_run_id == run_id,
                    r.c.exception_id == e.c.exception_id,
                )
                .scalar_subquery(),
                updated_at=now,
            )
        )
    # A rule whose message or severity changed (DESE's pages imported): the exception says so.
    for k in seen_again:
        old, f = existing[k], keyed[k]
        if (old.message, old.severity) != (f.message, f.severity):
            conn.execute(
                e.update()
                .where(e.c.tenant_id == tenant_id, e.c.exception_id == old.exception_id)
                .values(message=f.message, severity=f.severity, expected=f.expected)
            )
    history: list[dict] = [
        {
            "tenant_id": tenant_id,
            "exception_id": ids[k],
            "changed_at": now,
            "changed_by": user,
            "action": "found",
            "to_status": "open",
            "validation_run_id": run_id,
        }
        for k in new_keys
    ]
    reopened = 0
    for k in seen_again:
        old = existing[k]
        status, until = old.status, old.suppressed_until
        if status in ("resolved", "auto_resolved"):
            action, detail = "reopened", {"reason": "found again"}
        elif status == "suppressed" and until is not None and until < today:
            action, detail = "expired", {"reason": f"suppressed until {until}"}
        else:
            continue
        reopened += 1
        conn.execute(
            e.update()
            .where(e.c.tenant_id == tenant_id, e.c.exception_id == old.exception_id)
            .values(status="open", resolved_run=None, updated_at=now)
        )
        history.append(
            {
                "tenant_id": tenant_id,
                "exception_id": old.exception_id,
                "changed_at": now,
                "changed_by": user,
                "action": action,
                "from_status": status,
                "to_status": "open",
                "validation_run_id": run_id,
                "detail": detail,
            }
        )
    gone = [existing[k] for k in existing if k not in keyed and existing[k].status in ACTIVE]
    gone_ids = [g.exception_id for g in gone]
    for start in range(0, len(gone_ids), 5000):
        conn.execute(
            e.update()
            .where(e.c.tenant_id == tenant_id, e.c.exception_id.in_(gone_ids[start : start + 5000]))
            .values(status="auto_resolved", resolved_run=run_id, updated_at=now)
        )
    history.extend(
        {
            "tenant_id": tenant_id,
            "exception_id": g.exception_id,
            "changed_at": now,
            "changed_by": user,
            "action": "auto_resolved",
            "from_status": g.status,
            "to_status": "auto_resolved",
            "validation_run_id": run_id,
            "detail": {"reason": "not found by this run: the data was fixed"},
        }
        for g in gone
    )
    _history(conn, history)
    return {
        "found": len(keyed),
        "new": len(new_keys),
        "reopened": reopened,
        "auto_resolved": len(gone),
    }


# --- the operator's work ---------------------------------------------------------------------


def _tenant_id(conn: sa.Connection, tenant_code: str) -> int:
    tenant = find_tenant(conn, tenant_code)
    if tenant is None:
        raise ValidationError(f"no tenant {tenant_code!r}")
    return tenant.tenant_id


def _row(conn: sa.Connection, tenant_id: int, exception_id: int) -> dict:
    e = validation_exceptions
    row = (
        conn.execute(
            sa.select(e).where(e.c.tenant_id == tenant_id, e.c.exception_id == exception_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ValidationError(f"no exception {exception_id}")
    return _public(row)


def _public(row) -> dict:
    out = {k: v for k, v in dict(row).items() if k not in ("tenant_id", "identity_key")}
    if isinstance(out.get("trace"), str):
        out["trace"] = json.loads(out["trace"])
    return out


# Columns the queue may be sorted by (the web page's sortable headers).
SORTABLE = (
    "exception_id",
    "status",
    "severity",
    "rule_id",
    "layout",
    "field",
    "school_code",
    "owner",
    "record_key",
    "current_value",
    "message",
)


def _filtered(
    tenant_id: int,
    *,
    school_year: int | None = None,
    cycle: str | None = None,
    layout: str | None = None,
    field: str | None = None,
    school: str | None = None,
    owner: str | None = None,
    severity: str | None = None,
    status: str | None = None,
    rule: str | None = None,
) -> list:
    e = validation_exceptions
    where = [e.c.tenant_id == tenant_id]
    for column, value in (
        (e.c.school_year, school_year),
        (e.c.cycle, cycle),
        (e.c.layout, layout),
        (e.c.field, field),
        (e.c.school_code, school),
        (e.c.owner, owner),
        (e.c.severity, severity),
        (e.c.rule_id, rule),
    ):
        if value is not None:
            where.append(column == value)
    if status == "active":
        where.append(e.c.status.in_(ACTIVE))
    elif status is not None:
        if status not in STATUSES:
            raise ValidationError(f"unknown status {status!r}: one of {', '.join(STATUSES)}")
        where.append(e.c.status == status)
    return where


def _severity_rank():
    e = validation_exceptions
    return sa.case((e.c.severity == "blocking", 0), (e.c.severity == "warning", 1), else_=2)


def list_exceptions(
    store: Store,
    tenant_code: str,
    *,
    limit: int | None = None,
    offset: int = 0,
    sort: str | None = None,
    descending: bool = False,
    user: str | None = None,
    audit_action: str = "view.exceptions",
    audit_context: dict | None = None,
    **filters,
) -> list[dict]:
    """Exceptions matching the filters (school_year, cycle, layout, field, school, owner,
    severity, status, rule; `status` may be `active`: open, assigned, suppressed), blocking
    first unless `sort` names a column of `SORTABLE`; `limit`/`offset` take one page.

    Listing student-level rows is an audited view: one audit row for `user` (the process's
    user by default) with the people shown; `audit_action`/`audit_context` say what it was
    (an export, a page of the web queue)."""
    e = validation_exceptions
    if sort is not None and sort not in SORTABLE:
        raise ValidationError(f"cannot sort by {sort!r}: one of {', '.join(SORTABLE)}")
    with store.engine.begin() as conn:
        tenant_id = _tenant_id(conn, tenant_code)
        q = sa.select(e).where(*_filtered(tenant_id, **filters))
        if sort is not None:
            key = _severity_rank() if sort == "severity" else e.c[sort]
            q = q.order_by(key.desc() if descending else key.asc(), e.c.exception_id)
        else:
            q = q.order_by(_severity_rank(), e.c.exception_id)
        if limit:
            q = q.limit(limit)
        if offset:
            q = q.offset(offset)
        rows = [_public(r) for r in conn.execute(q).mappings()]
        audit.record(
            conn,
            tenant_id,
            user or current_user(),
            audit_action,
            {
                "rows": len(rows),
                **{k: v for k, v in filters.items() if v is not None},
                **(audit_context or {}),
                "person_ids": sorted(
                    {int(r["person_id"]) for r in rows if r.get("person_id") is not None}
                ),
            },
        )
    return rows


def count_exceptions(store: Store, tenant_code: str, **filters) -> int:
    """How many exceptions match the filters of `list_exceptions` (no rows: not audited)."""
    with store.engine.connect() as conn:
        tenant_id = _tenant_id(conn, tenant_code)
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(validation_exceptions)
                .where(*_filtered(tenant_id, **filters))
            ).scalar_one()
        )


def show_exception(
    store: Store, tenant_code: str, exception_id: int, user: str | None = None
) -> dict:
    """One exception with its history and the runs that saw it (an audited view by `user`)."""
    h = validation_exception_history
    r = mosis_validation_results
    with store.engine.begin() as conn:
        tenant_id = _tenant_id(conn, tenant_code)
        row = _row(conn, tenant_id, exception_id)
        row["history"] = [
            {
                **{k: v for k, v in dict(x).items() if k not in ("tenant_id", "exception_id")},
                "detail": json.loads(x["detail"]) if isinstance(x["detail"], str) else x["detail"],
            }
            for x in conn.execute(
                sa.select(h)
                .where(h.c.tenant_id == tenant_id, h.c.exception_id == exception_id)
                .order_by(h.c.seq)
            ).mappings()
        ]
        row["seen_in_runs"] = [
            int(x[0])
            for x in conn.execute(
                sa.select(r.c.validation_run_id)
                .where(r.c.tenant_id == tenant_id, r.c.exception_id == exception_id)
                .order_by(r.c.validation_run_id)
            )
        ]
        audit.record(
            conn,
            tenant_id,
            user or current_user(),
            "view.exception",
            {"id": exception_id, "person_ids": [row["person_id"]] if row.get("person_id") else []},
        )
    return row


def _change(
    store: Store,
    tenant_code: str,
    exception_id: int,
    action: str,
    to_status: str,
    values: dict,
    detail: dict,
    user: str | None,
) -> dict:
    e = validation_exceptions
    who = user or current_user()
    with store.engine.begin() as conn:
        tenant_id = _tenant_id(conn, tenant_code)
        row = _row(conn, tenant_id, exception_id)
        now = datetime.now(UTC)
        conn.execute(
            e.update()
            .where(e.c.tenant_id == tenant_id, e.c.exception_id == exception_id)
            .values(status=to_status, updated_at=now, **values)
        )
        _history(
            conn,
            [
                {
                    "tenant_id": tenant_id,
                    "exception_id": exception_id,
                    "changed_at": now,
                    "changed_by": who,
                    "action": action,
                    "from_status": row["status"],
                    "to_status": to_status,
                    "detail": detail,
                }
            ],
        )
        return _row(conn, tenant_id, exception_id)


def assign(
    store: Store, tenant_code: str, exception_id: int, role: str, user: str | None = None
) -> dict:
    """Give the exception to an owner role (or a named person: `registrar:jdoe`)."""
    base = role.split(":", 1)[0]
    if base not in OWNERS:
        raise ValidationError(f"unknown owner {base!r}: one of {', '.join(OWNERS)}")
    return _change(
        store,
        tenant_code,
        exception_id,
        "assign",
        "assigned",
        {"assigned_to": role, "owner": base},
        {"assigned_to": role},
        user,
    )


def suppress(
    store: Store,
    tenant_code: str,
    exception_id: int,
    reason: str,
    until: date,
    user: str | None = None,
) -> dict:
    """Accept the exception as it is, for a reason, until a date."""
    if not reason.strip():
        raise ValidationError("a suppression needs a reason")
    if until <= datetime.now(UTC).date():
        raise ValidationError(f"--until {until} is not in the future")
    return _change(
        store,
        tenant_code,
        exception_id,
        "suppress",
        "suppressed",
        {"status_reason": reason, "suppressed_until": until},
        {"reason": reason, "until": until.isoformat()},
        user,
    )


def resolve(
    store: Store,
    tenant_code: str,
    exception_id: int,
    note: str | None = None,
    user: str | None = None,
) -> dict:
    """Mark the exception fixed; the next run reopens it if the data still fails."""
    return _change(
        store,
        tenant_code,
        exception_id,
        "resolve",
        "resolved",
        {"status_reason": note},
        {"note": note} if note else {},
        user,
    )


def export(rows: list[dict], fmt: str, target: Path | None) -> bytes:
    """The exceptions as CSV or XLSX (one row per exception, `EXPORT_COLUMNS`)."""

    def cell(row: dict, column: str) -> object:
        value = row.get(column)
        if column == "trace" and value is not None and not isinstance(value, str):
            return json.dumps(value, default=str)
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return value

    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(["" if cell(row, c) is None else cell(row, c) for c in EXPORT_COLUMNS])
        data = buffer.getvalue().encode("utf-8")
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "exceptions"
        sheet.append(list(EXPORT_COLUMNS))
        for row in rows:
            sheet.append([cell(row, c) for c in EXPORT_COLUMNS])
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        buffer_b = io.BytesIO()
        book.save(buffer_b)
        data = buffer_b.getvalue()
    else:
        raise ValidationError(f"unknown export format {fmt!r}: csv or xlsx")
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return data


TREND_BY = {
    "cycle": "cycle",
    "layout": "layout",
    "field": "field",
    "school": "school_code",
    "owner": "owner",
    "rule": "rule_id",
    "severity": "severity",
}


def trend(
    store: Store,
    tenant_code: str,
    by: str = "cycle",
    school_year: int | None = None,
    cycle: str | None = None,
    last_runs: int | None = None,
) -> list[dict]:
    """Per validation run and group: exceptions found, blocking ones, and new ones (of the
    year and cycle when given; of the newest `last_runs` validation runs when given)."""
    if by not in TREND_BY:
        raise ValidationError(f"--by {by!r}: one of {', '.join(TREND_BY)}")
    r, v, e = mosis_validation_results, validation_runs, validation_exceptions
    group = (
        e.c.cycle
        if by == "cycle"
        else (e.c.owner if by == "owner" else e.c.field if by == "field" else r.c[TREND_BY[by]])
    )
    with store.engine.connect() as conn:
        tenant_id = _tenant_id(conn, tenant_code)
        q = (
            sa.select(
                r.c.validation_run_id,
                v.c.started_at,
                v.c.cycle.label("run_cycle"),
                group.label("group"),
                sa.func.count().label("found"),
                sa.func.sum(sa.case((r.c.severity == "blocking", 1), else_=0)).label("blocking"),
                sa.func.sum(
                    sa.case((e.c.first_seen_run == r.c.validation_run_id, 1), else_=0)
                ).label("new"),
            )
            .select_from(
                r.join(
                    v,
                    sa.and_(
                        v.c.tenant_id == r.c.tenant_id,
                        v.c.validation_run_id == r.c.validation_run_id,
                    ),
                ).join(
                    e,
                    sa.and_(e.c.tenant_id == r.c.tenant_id, e.c.exception_id == r.c.exception_id),
                )
            )
            .where(r.c.tenant_id == tenant_id)
            .group_by(r.c.validation_run_id, v.c.started_at, v.c.cycle, group)
            .order_by(r.c.validation_run_id, group)
        )
        if school_year is not None:
            q = q.where(v.c.school_year == school_year)
        if cycle is not None:
            q = q.where(v.c.cycle == cycle)
        if last_runs:
            newest = sa.select(v.c.validation_run_id).where(v.c.tenant_id == tenant_id)
            if school_year is not None:
                newest = newest.where(v.c.school_year == school_year)
            if cycle is not None:
                newest = newest.where(v.c.cycle == cycle)
            newest = newest.order_by(v.c.validation_run_id.desc()).limit(last_runs)
            # A plain list: PostgreSQL's planner then reaches the results by their key.
            ids = [int(x) for x in conn.execute(newest).scalars()]
            q = q.where(r.c.validation_run_id.in_(ids))
        return [
            {
                "validation_run_id": int(x.validation_run_id),
                "started_at": x.started_at,
                "cycle": x.run_cycle,
                by: x.group,
                "found": int(x.found),
                "blocking": int(x.blocking or 0),
                "new": int(x.new or 0),
            }
            for x in conn.execute(q)
        ]
