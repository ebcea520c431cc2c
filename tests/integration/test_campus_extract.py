"""Infinite Campus extract files through `nexus ingest campus-extract`."""

from __future__ import annotations

import json

from nexus.integration.connectors.campus_extract import presets
from tests.integration.test_csv_ingest import snapshot, write

STUDENTS = (
    "student.personID,student.stateID,student.studentNumber,student.lastName,"
    "student.firstName,student.birthdate\n"
    "101,1234567890,S101,Ash,Avery,03/04/2012\n"
    "102,1234567891,S102,Birch,Blake,11/30/2011\n"
)
ENROLLMENTS = (
    "enrollment.enrollmentID,enrollment.personID,enrollment.calendarID,enrollment.grade,"
    "enrollment.startDate,enrollment.endDate,enrollment.noShow\n"
    "9001,101,11,08,08/20/2026,,0\n"
    "9002,102,11,09,08/20/2026,01/15/2027,0\n"
)


def run(nexus, folder, *extra):
    result = nexus("ingest", "campus-extract", str(folder), "--tenant", "demo", "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


def test_presets_cover_the_extracts_the_issue_names():
    entities = {m.entity for m in presets()}
    assert entities == {
        "students",
        "enrollments",
        "attendance",
        "rosters",
        "courses",
        "sections",
        "staff",
        "district_assignments",
        "behavior",
        "test_scores",
        "calendars",
        "days",
        "transcripts",
    }
    for mapping in presets():
        assert all("." in column for column in mapping.columns), mapping.entity


def test_extracts_matched_by_name_or_header(nexus, tenant, tmp_path):
    folder = write(
        tmp_path / "extract",
        {
            "students.csv": STUDENTS,
            "Enrollment Export 2026-27.csv": ENROLLMENTS,
        },
    )
    code, result = run(nexus, folder, "--entities", "students,enrollments")
    assert code == 0, result
    assert result["entities"]["students"]["new"] == 2
    assert result["entities"]["enrollments"]["new"] == 2
    assert [f["name"] for f in result["files"]] == ["students.csv", "Enrollment Export 2026-27.csv"]
    assert snapshot(nexus, result["run_id"], "enrollments").startswith(
        "enrollment.enrollmentID,enrollment.personID,"
    )


def test_every_preset_is_expected_by_default(nexus, tenant, tmp_path):
    folder = write(tmp_path / "extract", {"students.csv": STUDENTS})
    code, result = run(nexus, folder)
    assert code == 3
    failed = {f["name"]: f["reason"] for f in result["files"] if f["status"] == "failed"}
    assert len(failed) == 12
    assert (
        failed["attendance.csv"] == "expected extract attendance.csv (attendance) was not delivered"
    )
    assert result["entities"]["students"]["new"] == 2


def test_campus_dates_and_flags_are_checked(nexus, tenant, tmp_path):
    bad = ENROLLMENTS.replace("01/15/2027,0", "2027-01-15,maybe")
    folder = write(tmp_path / "extract", {"enrollments.csv": bad})
    code, result = run(nexus, folder, "--entities", "enrollments")
    assert code == 3
    assert [(e["line"], e["column"], e["value"], e["reason"]) for e in result["errors"]] == [
        (3, "enrollment.endDate", "2027-01-15", "not a date in the form MM/DD/YYYY"),
        (3, "enrollment.noShow", "maybe", "not a yes/no value"),
    ]


def test_short_row_is_an_error_and_keeps_its_record(nexus, tenant, tmp_path):
    folder = write(tmp_path / "extract", {"students.csv": STUDENTS})
    run(nexus, folder, "--entities", "students")
    write(
        folder,
        {
            "students.csv": STUDENTS.replace(
                "102,1234567891,S102,Birch,Blake,11/30/2011", "102,1234567891,S102"
            )
        },
    )
    code, result = run(nexus, folder, "--entities", "students")
    assert code == 3
    assert result["errors"][0]["line"] == 3
    assert result["errors"][0]["reason"] == "too few fields for the header"
    assert result["entities"]["students"]["deleted"] == 0
    assert snapshot(nexus, result["run_id"], "students") == STUDENTS


def test_unknown_entity_is_refused(nexus, tenant, tmp_path):
    folder = write(tmp_path / "extract", {"students.csv": STUDENTS})
    result = nexus(
        "ingest", "campus-extract", str(folder), "--tenant", "demo", "--entities", "grades"
    )
    assert result.exit_code == 1
    assert "no Campus extract preset for grades" in result.stderr
