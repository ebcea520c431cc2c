"""`nexus marts` end to end: definitions, refresh (incremental), show, drill (audited), report."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from nexus.store.tables import audit_events
from tests.marts.district import District


def test_indicators_are_versioned_readable_definitions(nexus):
    result = nexus("marts", "indicators", "--year", "2026-27", "--json")
    assert result.exit_code == 0, result.stderr
    found = {i["name"]: i for i in json.loads(result.stdout)["indicators"]}
    for name in (
        "k12_enrollment",
        "membership",
        "frl_percent",
        "demographic_share_black",
        "attendance_rate",
        "proportional_attendance",
        "chronic_absence_hours",
        "discipline_incidents",
        "discipline_weapon",
        "discipline_expulsion",
        "acgr_4yr",
        "acgr_7yr",
        "dropout_rate",
        "map_proficient_ela",
        "mpi_math",
        "educators_teacher_fte",
        "educators_students_per_teacher",
        "courses_participation",
        "courses_completion",
        "credits_earned",
    ):
        indicator = found[name]
        assert indicator["source_tag"] in ("DESE", "SECONDARY", "UNCERTAIN")
        for words in ("purpose", "population", "numerator", "denominator", "count_date"):
            assert indicator[words], (name, words)
    assert "supersubgroup" in found["proportional_attendance"]["groups"]
    explained = nexus("marts", "explain", "proportional_attendance")
    assert explained.exit_code == 0
    assert "exactly 90.0% counts" in explained.stdout
    assert "10 * minutes_attended >= 9 * minutes_enrolled" in explained.stdout
    as_json = json.loads(nexus("marts", "explain", "acgr_5yr", "--json").stdout)
    assert "({years} - 4)" not in as_json["sql"]["base"] and "(5 - 4)" in as_json["sql"]["base"]


def test_an_unknown_indicator_or_year_is_one_clear_line(nexus):
    result = nexus("marts", "explain", "attendence")
    assert result.exit_code == 1
    assert "no indicator 'attendence' for 2026-27" in result.stderr
    result = nexus("marts", "indicators", "--year", "2026-28")
    assert result.exit_code == 1 and "two consecutive years" in result.stderr


@pytest.fixture
def small(store, tenant):
    with store.engine.begin() as conn:
        d = District(conn)
        d.school("4001")
        kids = d.students(12, race="black") + d.students(11, race="white")
        for i, s in enumerate(kids):
            d.enroll(s, "4001", "07")
            d.attend(s, "4001", [(360, 0)] if i % 4 else [(200, 160)])
        for s in d.students(3, race="asian"):
            d.enroll(s, "4001", "07")
            d.attend(s, "4001", [(360, 0)])
    return d


def test_show_before_refresh_says_what_to_do(small, nexus):
    result = nexus("marts", "show", "proportional_attendance")
    assert result.exit_code == 1
    assert "run `nexus marts refresh --year 2027`" in result.stderr


def test_refresh_is_incremental(small, store, nexus):
    first = json.loads(nexus("marts", "refresh", "--json").stdout)
    assert "proportional_attendance" in first["rebuilt"] and first["groups_rebuilt"]
    again = json.loads(nexus("marts", "refresh", "--json").stdout)
    assert again["rebuilt"] == [] and not again["groups_rebuilt"]
    with store.engine.connect() as conn:  # the definitions as loaded, visible to operators
        loaded = conn.execute(
            sa.text("SELECT count(*) FROM mart.grade_card_indicators WHERE school_year = 2027")
        ).scalar()
    assert loaded == len(first["rebuilt"])
    # A day's attendance arrives from a later ingestion run.
    with store.engine.begin() as conn:
        day = District(conn, run=2)
        day.schools = small.schools
        day._ids = iter(range(900_000, 901_000))
        day.attend(next(iter(_people(conn))), "4001", [(360, 0)])
    after = json.loads(nexus("marts", "refresh", "--json").stdout)
    assert {
        "proportional_attendance",
        "attendance_rate",
        "chronic_absence_hours",
        "membership",
    } <= set(after["rebuilt"])
    for untouched in ("k12_enrollment", "discipline_incidents", "acgr_4yr", "mpi_ela"):
        assert untouched in after["unchanged"]
    forced = json.loads(
        nexus("marts", "refresh", "--force", "--indicator", "acgr", "--json").stdout
    )
    assert forced["rebuilt"] == ["acgr_4yr", "acgr_5yr", "acgr_6yr", "acgr_7yr"]


def _people(conn) -> list[int]:
    return [r[0] for r in conn.execute(sa.text("SELECT person_id FROM census.people"))]


def _audits(store) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(audit_events)).mappings()]


def test_drill_lists_the_students_of_a_cell_and_is_audited(small, store, nexus):
    assert nexus("marts", "refresh").exit_code == 0
    refused = nexus("marts", "drill", "proportional_attendance", "--role", "public")
    assert refused.exit_code == 1 and "student-level" in refused.stderr
    assert _audits(store) == []
    result = nexus(
        "marts",
        "drill",
        "proportional_attendance",
        "--school",
        "4001",
        "--group",
        "black",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert len(rows) == 12
    assert sum(r["in_numerator"] for r in rows) == 9
    out = [r for r in rows if not r["in_numerator"]]
    assert out[0]["facts"] == "minutes_attended=200; minutes_enrolled=360"
    (event,) = _audits(store)
    assert event["action"] == "view.mart_drill"
    assert event["subject"]["rows"] == 12 and event["subject"]["group"] == "black"
    csv_out = nexus("marts", "drill", "proportional_attendance", "--csv").stdout.splitlines()
    assert csv_out[0].startswith("person_id,subject_type,mosis_state_id") and len(csv_out) == 27
    assert len(_audits(store)) == 2
    bad = nexus("marts", "drill", "proportional_attendance", "--school", "9999")
    assert bad.exit_code == 1 and "no school '9999'" in bad.stderr


def test_grade_card_report_is_self_contained_and_suppressed(small, store, nexus, tmp_path):
    assert nexus("marts", "refresh").exit_code == 0
    result = nexus("marts", "report", "--district", "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.stderr
    written = json.loads(result.stdout)
    html = (tmp_path / "grade-card-demo-district-2027.html").read_text(encoding="utf-8")
    assert written["charts"] >= 1 and "<svg" in html
    assert "<script" not in html and "<link" not in html and 'src="http' not in html
    assert "Proportional attendance rate (90/90)" in html and "<details>" in html
    assert "exactly 90.0% counts" in html  # the definition, one click away
    book = load_workbook(tmp_path / "grade-card-demo-district-2027.xlsx")
    assert book.sheetnames == ["Indicators", "By group", "Definitions"]
    groups = [r for r in book["By group"].iter_rows(values_only=True)]
    par = {r[1]: r for r in groups if r[0] == "proportional_attendance"}
    assert par["Black"][2] == 75.0 and par["Black"][3] == 12
    assert par["Asian"][2:] == ("*", "*")  # 3 students: hidden, never 0
    assert par["White"][2] == "*"  # complementary: White would reveal Asian from the total
    assert par["All students"][2] == round(100 * 20 / 26, 1)
    school = nexus("marts", "report", "--school", "4001", "--out", str(tmp_path))
    assert school.exit_code == 0, school.stderr
    assert (tmp_path / "grade-card-demo-4001-2027.html").exists()
    neither = nexus("marts", "report", "--out", str(tmp_path))
    assert neither.exit_code == 1 and "--district or --school" in neither.stderr


def test_bad_role_and_bad_grouping_are_refused(small, nexus):
    assert nexus("marts", "refresh").exit_code == 0
    result = nexus("marts", "show", "proportional_attendance", "--role", "principal")
    assert result.exit_code == 1 and "unknown role 'principal'" in result.stderr
    result = nexus("marts", "show", "proportional_attendance", "--by", "county")
    assert result.exit_code == 1 and "--by 'county'" in result.stderr
    result = nexus("marts", "drill", "k12_enrollment", "--group", "left_handed")
    assert result.exit_code == 1 and "not reported for group 'left_handed'" in result.stderr


def test_definitions_are_keyed_by_school_year(nexus):
    def named(year: str) -> dict:
        out = json.loads(nexus("marts", "indicators", "--year", year, "--json").stdout)
        return {i["name"]: i for i in out["indicators"]}

    msip5, msip6 = named("2020-21"), named("2026-27")
    par5, par6 = msip5["proportional_attendance"], msip6["proportional_attendance"]
    assert par5["framework"].startswith("MSIP 5") and par6["framework"].startswith("MSIP 6")
    assert par5["sha256"] != par6["sha256"]
    assert "acgr_4yr" not in named("2009-10") and "acgr_4yr" in named("2010-11")
