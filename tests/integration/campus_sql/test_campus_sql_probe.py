"""The cheap probe: unchanged entities are skipped, changed ones reloaded, and nothing else."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from nexus.integration.connectors.campus_sql.catalog import load_catalog
from tests.integration.campus_sql.campus_db import EXPECTED_ROWS
from tests.integration.campus_sql.test_campus_sql_ingest import ingest, snapshot

WATCHED = {q.entity for q in load_catalog() if q.watched}
ALWAYS_RELOADED = {q.entity for q in load_catalog() if not q.watched}


def versions(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM integration.source_records")).scalar()


def statuses(run: dict) -> dict[str, str]:
    return {f["name"].removesuffix(".sql"): f["status"] for f in run["files"]}


def test_second_identical_run_skips_watched_entities_and_adds_no_version(
    nexus, store, tenant, campus
):
    source = campus("sqlite")
    code, first = ingest(nexus, source.url)
    assert code == 0, first
    before = versions(store)
    assert before == sum(EXPECTED_ROWS.values())

    code, second = ingest(nexus, source.url)
    assert code == 0, second
    assert versions(store) == before
    assert {e for e, s in statuses(second).items() if s == "skipped"} == WATCHED
    assert {e for e, s in statuses(second).items() if s == "succeeded"} == ALWAYS_RELOADED
    for entity, counts in second["entities"].items():
        assert counts == {
            "new": 0,
            "changed": 0,
            "unchanged": EXPECTED_ROWS[entity],
            "deleted": 0,
            "errors": 0,
        }, entity
    # Every delivery records its query and probe; a skipped one keeps the snapshot whole.
    shown = json.loads(nexus("runs", "show", str(second["run_id"]), "--json").stdout)
    queries = {q.entity: q for q in load_catalog()}
    for entity, entry in shown["entities"].items():
        q = queries[entity]
        assert entry["query"] == {"name": f"{entity}.sql", "version": q.version, "sha256": q.sha256}
    assert queries["enrollments"].version == "2"  # residentSchool added
    with store.engine.connect() as conn:
        probes = dict(
            conn.execute(
                sa.text(
                    "SELECT s.name, i.probe FROM integration.ingestion_entities i "
                    "JOIN integration.source_entities s ON s.entity_id = i.entity_id "
                    "WHERE i.run_id = :r"
                ),
                {"r": second["run_id"]},
            ).all()
        )
    probes = {k: json.loads(v) if isinstance(v, str) else v for k, v in probes.items()}
    assert probes["attendance"]["tables"]["AttendanceDay"]["rows"] == 7
    assert probes["attendance"]["school_year"] == 2027
    assert probes["rosters"]["active_trials"] == [3, 8]
    assert probes["attendance"]["delivered"] == 6
    assert probes["english_learners"]["full_reload"] == "no modification column"
    assert len(snapshot(nexus, second["run_id"], "attendance")) == 6
    files = json.loads(nexus("runs", "files", str(first["run_id"]), "--json").stdout)
    assert all(f["sha256"] and f["artifact_path"] for f in files)  # the Parquet originals


def test_a_modified_row_reloads_only_its_entity(nexus, store, tenant, campus):
    source = campus("sqlite")
    ingest(nexus, source.url)
    attendance = source.table("AttendanceDay")
    source.execute(
        attendance.update()
        .where(attendance.c.personID == 1001, attendance.c.date == dt.date(2026, 8, 21))
        .values(presentMinutes=300, absentMinutes=90, modifiedDate=dt.datetime(2026, 8, 25, 6))
    )
    code, run = ingest(nexus, source.url)
    assert code == 0, run
    assert statuses(run)["attendance"] == "succeeded"
    assert run["entities"]["attendance"] == {
        "new": 0,
        "changed": 1,
        "unchanged": 5,
        "deleted": 0,
        "errors": 0,
    }
    assert {e for e, s in statuses(run).items() if s == "skipped"} == WATCHED - {"attendance"}
    changed = [r for r in snapshot(nexus, run["run_id"], "attendance") if r["date"] == "2026-08-21"]
    assert {r["personID"]: r["presentMinutes"] for r in changed} == {1001: 300, 1002: 195}

    # A new active schedule trial changes rosters without touching Roster: the probe sees it.
    trial = source.table("Trial")
    source.execute(
        trial.update().where(trial.c.trialID == 1).values(active=False),
        trial.update().where(trial.c.trialID == 2).values(active=True),
    )
    code, run = ingest(nexus, source.url, "--entities", "rosters,attendance")
    assert code == 0, run
    assert statuses(run) == {"attendance": "skipped", "rosters": "succeeded"}
    assert run["entities"]["rosters"]["new"] == 1  # 602, in the newly active trial
    assert run["entities"]["rosters"]["deleted"] == 1  # 600, in the trial now inactive


def test_entity_without_modification_column_always_reloads(nexus, store, tenant, campus):
    source = campus("sqlite")
    ingest(nexus, source.url, "--entities", "english_learners")
    lep = source.table("Lep")
    # No probe can see this: only a full reload does.
    source.execute(lep.update().values(exitDate=dt.date(2026, 12, 1)))
    code, run = ingest(nexus, source.url, "--entities", "english_learners")
    assert code == 0, run
    assert statuses(run) == {"english_learners": "succeeded"}
    assert run["entities"]["english_learners"]["changed"] == 1
