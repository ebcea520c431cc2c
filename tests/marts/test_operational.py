"""The operational marts: MOSIS extract summary, readiness, problems, and the exception trend
built from the validation layer's tables; year-over-year in the grade card."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from nexus.marts.mosis_marts import refresh_operational
from nexus.marts.query import cells
from nexus.marts.refresh import refresh
from nexus.store.reporting_tables import mosis_extract_rows, mosis_extract_runs
from nexus.store.tables import metadata
from nexus.store.tenants import find_tenant
from tests.marts.district import District

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)


def _run(tenant_id: int, run_id: int, rows: int, blocking: int, status: str) -> dict:
    return {
        "tenant_id": tenant_id,
        "extract_run_id": run_id,
        "school_year": 2027,
        "cycle": "october",
        "layout": "student_core",
        "layout_version": 1,
        "input_snapshot": {},
        "rows": rows,
        "blocking": blocking,
        "warnings": 1,
        "status": status,
        "started_by": "test",
        "started_at": NOW,
    }


def test_extract_readiness_and_exception_trend(store, tenant):
    validation_runs = metadata.tables["reporting.validation_runs"]
    results = metadata.tables["reporting.mosis_validation_results"]
    exceptions = metadata.tables["reporting.validation_exceptions"]
    with store.engine.begin() as conn:
        t = find_tenant(conn, tenant).tenant_id
        conn.execute(
            mosis_extract_runs.insert(),
            [_run(t, 1, 10, 2, "succeeded"), _run(t, 2, 12, 0, "succeeded")],
        )
        problem = [
            {"column": "MOSIS ID", "severity": "blocking", "message": "missing", "value": ""}
        ]
        conn.execute(
            mosis_extract_rows.insert(),
            [
                {
                    "tenant_id": t,
                    "extract_run_id": 1,
                    "row_no": n,
                    "subject_type": "student",
                    "subject_key": str(n),
                    "status": "blocked",
                    "problems": json.dumps(problem),
                }
                for n in (1, 2)
            ],
        )
        conn.execute(
            validation_runs.insert().values(
                tenant_id=t,
                validation_run_id=7,
                school_year=2027,
                cycle="october",
                layouts=["student_core"],
                input_snapshot={},
                status="succeeded",
                started_by="test",
                started_at=NOW,
            )
        )
        for n, field in ((1, "MOSIS ID"), (2, "MOSIS ID"), (3, "Birth date")):
            conn.execute(
                exceptions.insert().values(
                    tenant_id=t,
                    exception_id=n,
                    identity_key=f"x{n}",
                    school_year=2027,
                    cycle="october",
                    layout="student_core",
                    rule_id="STC001",
                    severity="blocking",
                    owner="registrar",
                    entity_type="student",
                    record_key=str(n),
                    school_code="1050",
                    field=field,
                    message="m",
                    status="open",
                    first_seen_run=7,
                    last_seen_run=7,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            conn.execute(
                results.insert().values(
                    tenant_id=t,
                    validation_run_id=7,
                    exception_id=n,
                    layout="student_core",
                    rule_id="STC001",
                    school_code="1050",
                    severity="blocking",
                )
            )
    found = refresh_operational(store, tenant)
    assert found["mosis_extract_summary"] == 2 and found["mosis_readiness_latest"] == 1
    with store.engine.connect() as conn:
        ready = conn.execute(
            sa.text("SELECT extract_run_id, ready, ready_percent FROM mart.mosis_readiness_latest")
        ).one()
        assert tuple(ready) == (2, True, 100.0)
        problems = conn.execute(
            sa.text("SELECT extract_run_id, field, problem, rows FROM mart.mosis_extract_problems")
        ).all()
        assert [tuple(p) for p in problems] == [(1, "MOSIS ID", "blocking: missing", 2)]
        trend = conn.execute(
            sa.text(
                "SELECT field, owner, exceptions FROM mart.mosis_exception_trend ORDER BY field"
            )
        ).all()
        assert [tuple(r) for r in trend] == [
            ("Birth date", "registrar", 1),
            ("MOSIS ID", "registrar", 2),
        ]
    again = refresh_operational(store, tenant)  # problems of run 1 are not counted twice
    assert again["mosis_extract_problems"] == 0


def test_grade_card_shows_earlier_years(store, tenant, nexus, tmp_path):
    with store.engine.begin() as conn:
        for year, good in ((2026, 6), (2027, 9)):
            d = District(conn, year=year)
            d._ids = iter(range(year * 1000, year * 1000 + 900))
            d.school("5001")
            for i, s in enumerate(d.students(12)):
                d.enroll(s, "5001", "08")
                d.attend(s, "5001", [(360, 0)] if i < good else [(100, 260)])
    refresh(store, tenant, 2026)
    refresh(store, tenant, 2027)
    old = cells(store, tenant, "proportional_attendance", "2025-26", role="admin")["cells"][0]
    assert old["value"] == "50.0"
    result = nexus("marts", "report", "--district", "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    html = (tmp_path / "grade-card-demo-district-2027.html").read_text(encoding="utf-8")
    start = html.index("Proportional attendance rate (90/90)")
    row = html[start : start + 800]
    assert "2025-26" in row and "2026-27" in row
    assert row.index(">50.0<") < row.index(">75.0<")
