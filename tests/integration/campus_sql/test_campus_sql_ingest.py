"""Every Campus entity through `nexus ingest campus-sql`, from DuckDB, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re

import pytest
import sqlalchemy as sa

from nexus.integration.connectors.campus_sql.catalog import load_catalog
from nexus.integration.connectors.campus_sql.guard import engine_for
from tests.integration.campus_sql.campus_db import ENGINES, EXPECTED_ROWS, CampusSource

_STAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?$")


def ingest(nexus, url: str, *extra: str) -> tuple[int, dict]:
    result = nexus("ingest", "campus-sql", url, "--tenant", "demo", "--json", *extra)
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


def snapshot(nexus, run_id: int, entity: str) -> list[dict]:
    result = nexus("runs", "snapshot", str(run_id), entity, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def plain(value: object) -> object:
    """A value as the source and the snapshot both can say it."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and _STAMP.match(value):
        return dt.datetime.fromisoformat(value).isoformat(sep=" ")
    return value


def source_rows(source: CampusSource, sql: str) -> list[dict]:
    engine = sa.create_engine(source.url)
    try:
        with engine.connect() as conn:
            return [dict(row) for row in conn.exec_driver_sql(sql).mappings()]
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine", ENGINES)
def test_every_entity_ingests_and_snapshots_reproduce_the_source(nexus, tenant, campus, engine):
    source = campus(engine)
    code, run = ingest(nexus, source.url)
    assert code == 0, run
    assert run["status"] == "succeeded"
    assert run["errors"] == []
    catalog = load_catalog()
    assert {f["name"] for f in run["files"]} == {q.name for q in catalog}
    assert all(f["status"] == "succeeded" for f in run["files"]), run["files"]
    for query in catalog:
        counts = run["entities"][query.entity]
        assert counts == {
            "new": EXPECTED_ROWS[query.entity],
            "changed": 0,
            "unchanged": 0,
            "deleted": 0,
            "errors": 0,
        }, query.entity
        # The snapshot holds exactly what the query returns at the source, value for value.
        expected = source_rows(source, query.sql_for(engine_for(engine).dialect))
        got = snapshot(nexus, run["run_id"], query.entity)

        def keyed(rows: list[dict], key=query.natural_key) -> dict:
            return {
                tuple(plain(r[k]) for k in key): {c: plain(v) for c, v in r.items()} for r in rows
            }

        assert keyed(got) == keyed(expected), query.entity
        assert list(got[0]) == list(query.columns)


def test_queries_read_the_active_year_trial_and_campus_names(nexus, tenant, campus):
    code, run = ingest(nexus, campus("duckdb").url)
    assert code == 0, run
    run_id = run["run_id"]

    def rows(entity: str, key: str) -> dict:
        return {r[key]: r for r in snapshot(nexus, run_id, entity)}

    assert set(rows("calendars", "calendarID")) == {100, 200}  # 2025-26 left out
    enrollments = rows("enrollments", "enrollmentID")
    assert set(enrollments) == {5001, 5002, 5004}
    assert enrollments[5001]["stateGrade"] == "03"
    assert set(rows("sections", "sectionID")) == {400, 402}  # inactive trial left out
    assert set(rows("rosters", "rosterID")) == {600, 601}
    students = rows("students", "personID")
    assert students[1001]["lastName"] == "Ash"  # the current identity, not the earlier one
    assert students[1001]["email"] == "mia.ash@example.org"
    assert students[1003]["email"] is None
    assert students[1001]["stateID"] == "1000000001"
    sections = rows("sections", "sectionID")
    assert sections[400]["roomName"] == "B12"
    assert (sections[400]["termStartDate"], sections[400]["termEndDate"]) == (
        "2026-08-20",
        "2026-12-18",
    )
    behavior = {(r["roleID"], r["resolutionID"]): r for r in snapshot(nexus, run_id, "behavior")}
    assert set(behavior) == {(920, 930), (921, 0)}
    assert behavior[(920, 930)]["stateResCode"] == "10"
    assert behavior[(920, 930)]["stateEventCode"] == "03"
    transcripts = rows("transcripts", "transcriptID")
    assert transcripts[960]["creditsEarned"] == 1.0
    assert transcripts[961]["creditsEarned"] is None
    assert rows("staff", "personID")[2001]["email"] == "ana.oak@example.org"


def test_ingest_through_a_connection_uses_its_secret_and_records_no_password(
    nexus, tenant, campus, monkeypatch
):
    source = campus("postgresql")
    monkeypatch.setenv("CAMPUS_PASSWORD", "s3cret")
    added = nexus(
        "connections", "add", "campus", "--tenant", "demo", "--kind", "campus-sql",
        "--url", source.url, "--client-secret-env", "CAMPUS_PASSWORD",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    result = nexus(
        "ingest", "campus-sql", "--tenant", "demo", "--connection", "campus",
        "--entities", "schools", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    listed = nexus("runs", "list", "--json").stdout
    assert "s3cret" not in result.stdout + listed


def test_connection_url_with_its_secret_is_used_for_the_same_database():
    from nexus.integration.connectors.base import ConnectorContext
    from nexus.integration.connectors.campus_sql import _source_url

    url = "mssql+pymssql://nexus_reader@campus-replica/campus"
    secret = "mssql+pymssql://nexus_reader:pw@campus-replica/campus"
    context = ConnectorContext(tenant_code="demo", url=secret)
    assert _source_url(url, context) == secret
    assert _source_url("duckdb:////tmp/other.duckdb", context) == "duckdb:////tmp/other.duckdb"
