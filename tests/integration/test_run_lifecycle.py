"""Runs that die: a crash mid-run leaves no version visible and is marked failed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import sqlalchemy as sa

from nexus.integration import ingest, versioning
from tests.integration.test_csv_ingest import MAPPING, SCHOOLS, STUDENTS, snapshot, write


def _versions_of_run(store, run_id: int) -> int:
    with store.engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM integration.source_records WHERE valid_from_run = :r "
                "OR valid_to_run = :r"
            ),
            {"r": run_id},
        ).scalar()


def test_exception_during_apply_fails_the_run_and_rolls_back(store, tenant, tmp_path, monkeypatch):
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": STUDENTS, "schools.csv": SCHOOLS},
    )
    first = ingest(store, tenant, "csv", str(folder))
    write(
        folder,
        {
            "students.csv": STUDENTS.replace("Ash", "Ashe"),
            "schools.csv": SCHOOLS.replace("Central", "Middle"),
        },
    )
    real = versioning.apply_entity
    calls = []

    def apply_then_die(conn, *args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(conn, *args, **kwargs)

    monkeypatch.setattr(versioning, "apply_entity", apply_then_die)
    second = ingest(store, tenant, "csv", str(folder))
    assert second.status == "failed"
    assert second.reason == "internal error: RuntimeError: disk full"
    assert len(calls) == 2  # the first entity had been applied inside the transaction
    assert _versions_of_run(store, second.run_id) == 0
    monkeypatch.setattr(versioning, "apply_entity", real)
    third = ingest(store, tenant, "csv", str(folder))
    assert third.status == "succeeded"
    assert third.entities["students"]["changed"] == 1
    assert first.status == "succeeded"


CRASHING_RUN = textwrap.dedent(
    """
    import os, sys
    from nexus.integration import ingest, versioning
    from nexus.store import open_store

    real = versioning.apply_entity
    def apply_then_die(conn, *args, **kwargs):
        real(conn, *args, **kwargs)
        os._exit(9)  # the process dies inside the run's open transaction
    versioning.apply_entity = apply_then_die
    ingest(open_store(), "demo", "csv", sys.argv[1])
    """
)


def test_killed_process_leaves_no_versions_and_is_reaped(backend, store, tenant, tmp_path, nexus):
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": STUDENTS, "schools.csv": SCHOOLS},
    )
    store.dispose()  # DuckDB admits one writing process: let the child have the file
    child = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, str(folder)],
        env={**backend.env(), "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert child.returncode == 9, child.stderr
    listed = json.loads(nexus("runs", "list", "--json").stdout)
    assert [(r["run_id"], r["status"]) for r in listed] == [(1, "running")]
    result = nexus("ingest", "csv", str(folder), "--tenant", "demo", "--json")
    run = json.loads(result.stdout)
    assert run["status"] == "succeeded"
    assert run["entities"]["students"]["new"] == 3  # nothing of the dead run was visible
    dead = json.loads(nexus("runs", "show", "1", "--json").stdout)
    assert dead["status"] == "failed"
    assert dead["reason"].startswith("abandoned: process ")
    assert snapshot(nexus, run["run_id"], "students") == STUDENTS
    assert nexus("runs", "snapshot", "1", "students").exit_code == 1
