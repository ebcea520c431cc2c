"""Every export or view of student-level data leaves an audit row."""

from __future__ import annotations

import sqlalchemy as sa

from nexus.store import audit
from tests.integration.test_csv_ingest import MAPPING, SCHOOLS, STUDENTS, ingest, write


def test_snapshot_export_and_error_view_are_audited(nexus, tenant, store, tmp_path, monkeypatch):
    monkeypatch.setenv("NEXUS_USER", "registrar.jones")
    folder = write(
        tmp_path / "drop",
        {
            "mapping.yaml": MAPPING,
            "schools.csv": SCHOOLS,
            "students.csv": STUDENTS + "4,Elm,31/12/2012,1\n",
        },
    )
    _, run = ingest(nexus, folder)
    with store.engine.connect() as conn:
        assert audit.events(conn) == []  # ingesting is not viewing
    out = tmp_path / "students.csv"
    assert (
        nexus("runs", "snapshot", str(run["run_id"]), "students", "--out", str(out)).exit_code == 0
    )
    assert nexus("runs", "errors", str(run["run_id"])).exit_code == 0
    with store.engine.connect() as conn:
        events = audit.events(conn)
        tenant_id = conn.execute(sa.text("SELECT tenant_id FROM platform.tenants")).scalar()
    assert [(e["action"], e["user_name"], e["tenant_id"]) for e in events] == [
        ("view.run_errors", "registrar.jones", tenant_id),
        ("export.snapshot", "registrar.jones", tenant_id),
    ]
    assert events[1]["subject"] == {
        "run_id": run["run_id"],
        "entity": "students",
        "format": "csv",
        "records": 3,
    }
