"""Cross-cycle checks before upload (DESE runs them after): this cycle's Student Core against
the newest succeeded Student Core extract of an earlier cycle of the year (students gone,
birth date or grade changed, a school's count moved by more than a threshold)."""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa

from nexus.mosis.cycles import CYCLES
from nexus.store.reporting_tables import (
    mosis_extract_rows,
    mosis_extract_runs,
    mosis_extract_values,
)
from nexus.validation.findings import NO_SCHOOL, Finding, render


def cross_cycle(ev, layout, fields, subject_type: str) -> None:
    """Add the cross-cycle findings of `layout` to the evaluator `ev` (engine._Evaluator)."""
    rules = [r for r in ev.own.values() if r.kind == "cross_cycle"]
    if layout.name != "student_core" or not rules:
        return
    previous = _previous_extract(ev, layout.name)
    if previous is None:
        return
    run_id, prev_cycle, stored = previous
    by_header = {f.header: column for f, column, *_ in fields}
    state = by_header.get("StateID")
    if state is None:
        return
    ev.db.register("prev_vals", stored)
    ev.db.execute(
        "CREATE OR REPLACE TABLE prev AS SELECT row_no, "
        "max(CASE WHEN column_name = 'StateID' THEN value END) AS state_id, "
        "max(CASE WHEN column_name = 'DateOfBirth' THEN value END) AS dob, "
        "max(CASE WHEN column_name = 'StudentGradeLevel' THEN value END) AS grade, "
        "max(CASE WHEN column_name = 'AttendingSchoolCode' THEN value END) AS school "
        "FROM prev_vals GROUP BY row_no"
    ).fetchall()
    ev.db.unregister("prev_vals")
    for r in rules:
        check = r.spec.get("check")
        if check == "vanished":
            rows = ev.db.execute(
                f"SELECT p.state_id, p.school, NULL FROM prev p WHERE p.state_id IS NOT NULL "
                f"AND p.state_id NOT IN (SELECT {state} FROM vals WHERE {state} IS NOT NULL)"
            ).fetchall()
        elif check == "changed":
            col = by_header.get(r.spec["column"])
            prev_col = {"DateOfBirth": "dob", "StudentGradeLevel": "grade"}.get(r.spec["column"])
            if col is None or prev_col is None:
                continue
            rows = ev.db.execute(
                f"SELECT v.{state}, v.school_code, p.{prev_col}, v.{col} FROM vals v "
                f"JOIN prev p ON p.state_id = v.{state} "
                f"WHERE p.{prev_col} IS DISTINCT FROM v.{col}"
            ).fetchall()
        elif check == "membership":
            threshold = float(r.spec.get("threshold", 0.1))
            rows = ev.db.execute(
                "WITH a AS (SELECT school_code AS school, count(*) AS n FROM vals GROUP BY 1),"
                " b AS (SELECT school, count(*) AS n FROM prev GROUP BY 1) "
                "SELECT coalesce(a.school, b.school), coalesce(a.school, b.school), "
                "coalesce(b.n, 0), coalesce(a.n, 0) FROM a FULL JOIN b ON a.school = b.school "
                f"WHERE abs(coalesce(a.n, 0) - coalesce(b.n, 0)) > {threshold} * "
                "greatest(coalesce(b.n, 0), 1)"
            ).fetchall()
        else:
            continue
        for row in rows:
            key, school, before, *now = row
            value = now[0] if now else None
            ev.findings.append(
                Finding(
                    rule=r,
                    layout=layout.name,
                    entity_type="school" if check == "membership" else "student",
                    record_key=str(key),
                    field=r.spec.get("field") or "",
                    message=render(
                        r.message,
                        previous=prev_cycle,
                        before=before,
                        value=value,
                        threshold=f"{float(r.spec.get('threshold', 0)):.0%}",
                    ),
                    severity=r.severity,
                    owner=r.owner or "registrar",
                    current_value=None if value is None else str(value),
                    expected=None if before is None else str(before),
                    school_code=school or NO_SCHOOL,
                    row_key=str(key),
                    trace={"compared_with_extract_run": run_id, "cycle": prev_cycle},
                )
            )


def _previous_extract(ev, layout: str):
    order = {c: i for i, c in enumerate(("august", *CYCLES[1:]))}
    mine = order.get(ev.dates.cycle)
    if mine is None:
        return None
    t = mosis_extract_runs
    with ev.work.store.engine.connect() as conn:
        runs = conn.execute(
            sa.select(t.c.extract_run_id, t.c.cycle)
            .where(
                t.c.tenant_id == ev.work.tenant_id,
                t.c.school_year == ev.school_year,
                t.c.layout == layout,
                t.c.status == "succeeded",
                t.c.school_code.is_(None),
            )
            .order_by(t.c.extract_run_id.desc())
        ).all()
        earlier = [r for r in runs if order.get(r.cycle, 99) < mine]
        if not earlier:
            return None
        run_id, cycle = earlier[0]
        v, rows = mosis_extract_values, mosis_extract_rows
        data = conn.execute(
            sa.select(v.c.row_no, v.c.column_name, v.c.value)
            .join(
                rows,
                sa.and_(
                    rows.c.tenant_id == v.c.tenant_id,
                    rows.c.extract_run_id == v.c.extract_run_id,
                    rows.c.row_no == v.c.row_no,
                ),
            )
            .where(
                v.c.tenant_id == ev.work.tenant_id,
                v.c.extract_run_id == run_id,
                rows.c.status == "written",
                v.c.column_name.in_(
                    ("StateID", "DateOfBirth", "StudentGradeLevel", "AttendingSchoolCode")
                ),
            )
        ).all()
    table = pa.table(
        {
            "row_no": pa.array([d[0] for d in data], pa.int64()),
            "column_name": pa.array([d[1] for d in data], pa.string()),
            "value": pa.array([d[2] for d in data], pa.string()),
        }
    )
    return run_id, cycle, table


# --- SIS rules ---------------------------------------------------------------------------
