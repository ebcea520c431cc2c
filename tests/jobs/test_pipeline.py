"""The daily pipeline end to end on a small synthetic district: every step in order with its
counts, recorded as it goes; a second day finds everything unchanged; a broken connection
blocks only its own map and a re-run after the fix succeeds; the map gate; one run per tenant
at a time, and a crashed run does not block forever."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nexus.jobs import (
    PipelineBusy,
    get_pipeline_run,
    list_pipeline_runs,
    run_daily,
    set_config,
)
from nexus.jobs.config import JobsError
from nexus.store.locks import PIPELINE, tenant_lock
from nexus.store.workspace_tables import pipeline_runs
from tests.jobs.conftest import INGEST_ONLY, TENANT, TODAY, make_tenant


def _steps(result) -> list[tuple[str, str, str]]:
    return [(s.step, s.target, s.status) for s in result.steps]


def test_a_day_runs_every_step_and_the_next_day_finds_everything_unchanged(store, synthetic):
    tenant_id = make_tenant(
        store,
        synthetic,
        config={"extracts": [{"cycle": "october", "layout": "student_core"}]},
    )
    lines: list[str] = []
    first = run_daily(store, TENANT, user="operator", progress=lines.append, today=TODAY)
    assert first.status == "succeeded", first.reason
    assert first.exit_code == 0
    assert _steps(first) == [
        ("ingest", "sis", "succeeded"),
        ("map", "sis", "succeeded"),
        ("validate", "2026-27 october", "succeeded"),
        ("marts", "2026-27", "succeeded"),
        ("extract", "2026-27 october/student_core", "succeeded"),
    ]
    ingest, mapped, validated, marts, extract = (s.counts for s in first.steps)
    assert ingest["rows"] > 10_000 and ingest["new"] == ingest["rows"] and ingest["errors"] == 0
    assert mapped["inserted"] > 0 and mapped["ingestion_run_id"] == ingest["run_id"]
    assert validated["found"] == validated["new"] > 0
    assert validated["new_blocking"] == validated["blocking"]
    assert marts["facts"] > 0
    assert (
        extract["rows"] > 0
        and Path(extract["file"]).parent == store.settings.home / "mosis" / TENANT
    )
    assert all(s.seconds is not None and s.ended_at >= s.started_at for s in first.steps)
    assert "ingest sis: started" in lines and "validate 2026-27 october: succeeded" in lines
    assert lines[-1] == f"daily run {first.pipeline_run_id}: succeeded"

    with store.engine.connect() as conn:
        recorded = get_pipeline_run(conn, tenant_id, first.pipeline_run_id)
    assert recorded["status"] == "succeeded" and recorded["started_by"] == "operator"
    assert recorded["trigger"] == "manual"
    assert [s["step"] for s in recorded["steps"]] == [s.step for s in first.steps]
    assert recorded["steps"][0]["counts"] == ingest
    file_bytes = Path(extract["file"]).read_bytes()

    second = run_daily(store, TENANT, today=TODAY)
    assert second.status == "succeeded", second.reason
    ingest2, mapped2, validated2, marts2, extract2 = (s.counts for s in second.steps)
    assert ingest2["unchanged"] == ingest["rows"] and ingest2["new"] == ingest2["changed"] == 0
    assert mapped2["inserted"] == mapped2["updated"] == mapped2["deleted"] == 0
    assert validated2["new"] == 0 and validated2["found"] == validated["found"]
    assert marts2["rebuilt"] == 0
    assert Path(extract2["file"]).read_bytes() == file_bytes
    with store.engine.connect() as conn:
        runs = list_pipeline_runs(conn, tenant_id, 10)
    assert [r["pipeline_run_id"] for r in runs] == [
        second.pipeline_run_id,
        first.pipeline_run_id,
    ]
    assert second.as_dict()["steps"] == runs[0]["steps"]


def test_a_broken_connection_blocks_its_map_and_a_rerun_after_the_fix_succeeds(
    store, synthetic, tmp_path
):
    extracts = tmp_path / "campus-extract"  # not there yet
    make_tenant(store, synthetic, extracts, config={"marts": False})
    broken = run_daily(store, TENANT, today=TODAY)
    assert broken.status == "partial" and broken.exit_code == 3
    assert _steps(broken) == [
        ("ingest", "sis", "failed"),
        ("map", "sis", "blocked"),
        ("validate", "2026-27 october", "succeeded"),
        ("marts", "2026-27", "skipped"),
    ]
    assert "not a folder of Campus extract files" in broken.steps[0].reason
    assert broken.steps[1].reason.startswith("the ingest of sis (run ")
    assert broken.reason.startswith("ingest sis failed: ")
    assert "map sis blocked" in broken.reason

    shutil.copytree(synthetic / "campus-extract", extracts)
    fixed = run_daily(store, TENANT, today=TODAY)
    assert fixed.status == "succeeded", fixed.reason
    assert fixed.steps[0].counts["new"] == fixed.steps[0].counts["rows"] > 0
    assert fixed.steps[1].counts["inserted"] > 0


def test_the_map_gate_blocks_a_run_with_too_many_row_errors(store, synthetic, tmp_path):
    extracts = tmp_path / "campus-extract"
    shutil.copytree(synthetic / "campus-extract", extracts)
    students = extracts / "students.csv"
    header, *rows = students.read_text().splitlines()
    # Six birth dates in August become month 13: six row errors among ~17,000 rows.
    students.write_text("\n".join([header, *(r.replace('"08/', '"13/') for r in rows)]) + "\n")
    tenant_id = make_tenant(store, synthetic, extracts, config=INGEST_ONLY)
    passed = run_daily(store, TENANT, today=TODAY)
    # Mapped: the six students' rows are missing, so records naming them become map errors.
    assert _steps(passed) == [
        ("ingest", "sis", "partial"),
        ("map", "sis", "partial"),
        ("marts", "2026-27", "skipped"),
    ]
    assert passed.status == "partial" and 0 < passed.steps[0].counts["errors"] < 50

    with store.engine.begin() as conn:
        set_config(conn, tenant_id, {**INGEST_ONLY, "max_error_rate": 0.0001}, "tester")
    students.write_text(students.read_text().replace('"13/', '"14/'))
    gated = run_daily(store, TENANT, today=TODAY)
    assert _steps(gated)[:2] == [("ingest", "sis", "partial"), ("map", "sis", "blocked")]
    reason = gated.steps[1].reason
    assert "above max_error_rate 0.0%" in reason and "nexus runs errors" in reason
    assert gated.status == "partial"


def test_two_runs_of_a_tenant_never_overlap(store, synthetic, tmp_path):
    tenant_id = make_tenant(store, synthetic, tmp_path / "missing", config=INGEST_ONLY)
    refused: list[str] = []

    def second_run(line: str) -> None:
        if line == "ingest sis: started":
            with pytest.raises(PipelineBusy) as busy:
                run_daily(store, TENANT, today=TODAY)
            refused.append(str(busy.value))

    first = run_daily(store, TENANT, progress=second_run, today=TODAY)
    assert refused == [
        f"a daily run of {TENANT} is already running in this process; wait for it to finish"
    ]
    # Nothing happened to the first run, and the refused one left no row.
    assert first.status == "failed"
    with store.engine.connect() as conn:
        assert len(list_pipeline_runs(conn, tenant_id)) == 1
    # The lock is released: the next run goes ahead.
    assert run_daily(store, TENANT, today=TODAY).pipeline_run_id > first.pipeline_run_id


def test_another_process_holding_the_tenant_lock_refuses_the_run(
    store, backend, synthetic, tmp_path
):
    if backend.name != "postgresql":
        pytest.skip("a DuckDB file has one writing process: no advisory lock")
    tenant_id = make_tenant(store, synthetic, tmp_path / "missing", config=INGEST_ONLY)
    held = tenant_lock(store, tenant_id, PIPELINE, JobsError("held"))
    with held, pytest.raises(PipelineBusy, match="already running in another process"):
        run_daily(store, TENANT, today=TODAY)
    assert run_daily(store, TENANT, today=TODAY).status == "failed"


def _running(store, tenant_id: int, host: str, pid: int, started: datetime) -> int:
    with store.engine.begin() as conn:
        return conn.execute(
            pipeline_runs.insert()
            .values(
                tenant_id=tenant_id,
                trigger="schedule",
                started_by="schedule 1",
                status="running",
                hostname=host,
                pid=pid,
                steps=[{"step": "ingest", "target": "sis", "status": "running"}],
                started_at=started,
            )
            .returning(pipeline_runs.c.pipeline_run_id)
        ).scalar_one()


def test_a_crashed_run_left_running_does_not_block_forever(store, backend, synthetic, tmp_path):
    tenant_id = make_tenant(store, synthetic, tmp_path / "missing", config=INGEST_ONLY)
    now = datetime.now(UTC)
    # A live run on another machine, started a minute ago.
    elsewhere = _running(store, tenant_id, "db-host-2", 4242, now - timedelta(minutes=1))
    if backend.name == "duckdb":
        with pytest.raises(
            PipelineBusy, match=f"daily run {elsewhere} of {TENANT} is running on db-host-2"
        ):
            run_daily(store, TENANT, today=TODAY)
        # Older than stale_after_minutes (6 hours by default): taken for dead.
        with store.engine.begin() as conn:
            conn.execute(
                pipeline_runs.update()
                .where(pipeline_runs.c.pipeline_run_id == elsewhere)
                .values(started_at=now - timedelta(hours=7))
            )
        expected = "abandoned: still running after 360 minutes (stale_after_minutes)"
    else:
        # On PostgreSQL the pipeline lock was free: whoever left it running is gone.
        expected = "abandoned: its process ended before the run finished (its lock was free)"
    after = run_daily(store, TENANT, today=TODAY)
    with store.engine.connect() as conn:
        reaped = get_pipeline_run(conn, tenant_id, elsewhere)
    assert reaped["status"] == "failed" and reaped["reason"] == expected
    assert reaped["steps"][0]["status"] == "failed" and reaped["ended_at"]
    assert after.status == "failed"  # its own connection is missing

    # A run of a process on this host that has ended.
    import socket

    dead = _running(store, tenant_id, socket.gethostname(), 999999999, now)
    run_daily(store, TENANT, today=TODAY)
    with store.engine.connect() as conn:
        assert get_pipeline_run(conn, tenant_id, dead)["status"] == "failed"


def test_unknown_tenant_run_and_trigger(store):
    with pytest.raises(JobsError, match="no tenant 'nowhere'"):
        run_daily(store, "nowhere")
    with pytest.raises(JobsError, match="unknown trigger 'cron': one of manual, web, schedule"):
        run_daily(store, "nowhere", trigger="cron")
    with store.engine.connect() as conn, pytest.raises(JobsError, match="no daily run 7"):
        get_pipeline_run(conn, 1, 7)
