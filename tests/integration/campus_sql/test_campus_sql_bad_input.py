"""A Campus source that changed or cannot be reached: one clear line, nothing good lost."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.campus_sql.test_campus_sql_ingest import ingest, snapshot
from tests.integration.campus_sql.test_campus_sql_probe import statuses

LATER = dt.datetime(2026, 9, 30, 6, 0)


def by_name(run: dict) -> dict[str, dict]:
    return {f["name"]: f for f in run["files"]}


def test_column_type_change_fails_the_entity_until_accepted(nexus, store, tenant, campus):
    source = campus("duckdb")
    ingest(nexus, source.url, "--entities", "test_scores,attendance")
    source.execute(
        'ALTER TABLE "TestScore" ALTER "scaleScore" TYPE VARCHAR',
        f'UPDATE "TestScore" SET "modifiedDate" = TIMESTAMP \'{LATER}\'',
    )
    code, run = ingest(nexus, source.url, "--entities", "test_scores,attendance")
    assert code == 3, run
    assert run["status"] == "partial"
    failed = by_name(run)["test_scores.sql"]
    assert failed["status"] == "failed"
    assert failed["reason"] == (
        "test_scores.sql: column types changed since the last run (scaleScore DECIMAL(38,1) -> "
        "VARCHAR); check the source, then re-run with --accept-type-changes"
    )
    assert "test_scores" not in run["entities"]
    assert run["entities"]["attendance"]["unchanged"] == 6  # the other entity proceeds
    assert by_name(run)["attendance.sql"]["status"] == "skipped"
    kept = {r["scoreID"]: r["scaleScore"] for r in snapshot(nexus, run["run_id"], "test_scores")}
    assert kept == {950: 188.0, 951: None}  # nothing good was lost

    code, run = ingest(nexus, source.url, "--entities", "test_scores", "--accept-type-changes")
    assert code == 0, run
    assert run["entities"]["test_scores"]["changed"] == 2  # both rows got a new modifiedDate
    kept = {r["scoreID"]: r["scaleScore"] for r in snapshot(nexus, run["run_id"], "test_scores")}
    assert kept == {950: "188.0", 951: None}


def test_a_column_null_in_every_row_is_no_type_change(nexus, store, tenant, campus):
    source = campus("duckdb")
    ingest(nexus, source.url, "--entities", "test_scores")
    source.execute(
        'UPDATE "TestScore" SET "performanceLevel" = NULL',
        f'UPDATE "TestScore" SET "modifiedDate" = TIMESTAMP \'{LATER}\' WHERE "scoreID" = 950',
    )
    code, run = ingest(nexus, source.url, "--entities", "test_scores")
    assert code == 0, run
    assert run["entities"]["test_scores"]["changed"] == 1
    # The type on record is still text, so values coming back are no type change either.
    source.execute(
        'UPDATE "TestScore" SET "performanceLevel" = \'Advanced\', '
        '"modifiedDate" = TIMESTAMP \'2026-10-01 06:00:00\' WHERE "scoreID" = 951'
    )
    code, run = ingest(nexus, source.url, "--entities", "test_scores")
    assert code == 0, run
    assert run["entities"]["test_scores"]["changed"] == 1


def test_missing_table_or_column_fails_only_that_entity(nexus, store, tenant, campus):
    source = campus("sqlite")
    ingest(nexus, source.url)
    source.execute('DROP TABLE "Lep"', 'ALTER TABLE "Section504" DROP COLUMN "endDate"')
    code, run = ingest(nexus, source.url)
    assert code == 3, run
    files = by_name(run)
    assert files["english_learners.sql"]["status"] == "failed"
    assert (
        files["english_learners.sql"]["reason"]
        == "english_learners.sql: query failed at the source: no such table: Lep"
    )
    assert files["section504.sql"]["reason"] == (
        "section504.sql: query failed at the source: no such column: s.endDate"
    )
    failed = {n for n, f in files.items() if f["status"] == "failed"}
    assert failed == {"english_learners.sql", "section504.sql"}
    assert "english_learners" not in run["entities"]
    assert len(run["entities"]) == 15
    # What was ingested before stays current.
    assert len(snapshot(nexus, run["run_id"], "english_learners")) == 1


def test_empty_result_after_rows_is_not_read_as_everything_deleted(nexus, store, tenant, campus):
    source = campus("sqlite")
    ingest(nexus, source.url, "--entities", "section504,attendance")
    source.execute('DELETE FROM "Section504"')
    code, run = ingest(nexus, source.url, "--entities", "section504,attendance")
    assert code == 3, run
    assert by_name(run)["section504.sql"]["reason"] == (
        "section504.sql: the query returned no rows where the last run had 1; check the login's "
        "rights and the active school year at the source"
    )
    assert len(snapshot(nexus, run["run_id"], "section504")) == 1


def test_entities_option_limits_the_run(nexus, store, tenant, campus):
    source = campus("sqlite")
    code, run = ingest(nexus, source.url, "--entities", "students,attendance")
    assert code == 0, run
    assert statuses(run) == {"attendance": "succeeded", "students": "succeeded"}
    code, run = ingest(nexus, source.url, "--entities", "students,grades")
    assert code == 1
    assert run["reason"].startswith("no Campus query for grades; the entities are attendance,")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            "postgresql+psycopg://nexus:s3cret@127.0.0.1:1/campus",
            "cannot connect to postgresql+psycopg://nexus:***@127.0.0.1:1/campus: ",
        ),
        ("sqlite:////nonexistent/campus.sqlite", "no database file at /nonexistent/campus.sqlite"),
        (
            "mysql+pymysql://nexus:s3cret@campus/campus",
            "campus-sql reads SQL Server, PostgreSQL, DuckDB or SQLite; mysql has no read-only "
            "guard declared",
        ),
        ("not a url", "the campus-sql source is not a database URL"),
        (
            "mssql+pymssql://nexus_reader:s3cret@campus-replica/campus",
            # Without pymssql: "cannot read … install pymssql"; with it: "cannot connect to …".
            "mssql+pymssql://nexus_reader:***@campus-replica/campus: ",
        ),
    ],
)
def test_unreachable_source_fails_the_run_with_the_password_hidden(
    nexus, store, tenant, url, reason
):
    result = nexus("ingest", "campus-sql", url, "--tenant", "demo")
    assert result.exit_code == 1
    assert "s3cret" not in result.stdout + result.stderr
    assert reason in " ".join((result.stdout + result.stderr).split())
    assert "Traceback" not in result.stdout + result.stderr
