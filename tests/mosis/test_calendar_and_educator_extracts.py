"""School Calendar Header/Days (August, June) and Educator Core/School (October) extracts from a
small hand-written district, on DuckDB and PostgreSQL.

The district (hand-checked against the layouts `school_calendar_*.csv`, `educator_*.csv`):
- Test High School (Campus school 10, DESE 1050), calendar 1: five in-session days
  Mon 17 – Fri 21 August 2026 of 375 minutes (6.2500 h) except Wednesday's 400 (6.6667 h),
  then a Saturday not in session; enrolled grades 09 and 12 (a no-show in grade 07 and a
  state-excluded enrollment do not count);
- Test Elementary (Campus school 20, DESE 0150), calendar 2: a four-day week, Tue 18 – Fri 21
  August of 420 minutes (7.0000 h), Friday without minutes (its record is blocked: Standard
  Day Length is required); grades K (Campus KG) and 03;
- left out: a state-excluded calendar, a summer-school calendar and a calendar of 2025-26.
- Staff (October 2026-27 counts on Wednesday 30 September 2026): Rosa Hale teaches at both
  schools (1050: 0.50 + 0.25 FTE from two assignments; 0150: 0.50 from 8 September, a late
  start); Tomas J. Ibarra (Hispanic, male) is an administrator (position 10) at 0150 until
  18 December 2026 (an early end) and left a teaching post at 1050 on 15 September; Lee Quinn
  starts on 15 October (after the count date: not reported).

Canonical holds no calendar adoption date, no educator SSN and no salary, which the layouts
require: those records are derived in full, stored with the run and listed as blocking, and
the file holds the header row only. The tests check their values in the run's stored values.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.canonical import map_run
from nexus.integration import ingest
from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.extract import ExtractError, run_extract
from tests.canonical.campus_files import enrollment, student, write_extract
from tests.mosis.campus_more import assignment, calendar, day, staff

YEAR = 2027
HIGH, ELEM = "1050", "0150"


def _district(store, tenant: str, folder: Path) -> None:
    entities = write_extract(
        folder,
        calendars=[
            calendar(1, 10, HIGH, "Test High School"),
            calendar(2, 20, ELEM, "Test Elementary"),
            calendar(3, 10, HIGH, "Test High School", **{"calendar.exclude": "1"}),
            calendar(
                4,
                20,
                ELEM,
                "Test Elementary",
                **{
                    "calendar.summerSchool": "1",
                    "calendar.startDate": "06/01/2027",
                    "calendar.endDate": "06/30/2027",
                },
            ),
            calendar(5, 10, HIGH, "Test High School", **{"calendar.endYear": "2026"}),
        ],
        days=[
            day(1, "08/17/2026", 375),
            day(1, "08/18/2026", 375),
            day(1, "08/19/2026", 400),
            day(1, "08/20/2026", 375),
            day(1, "08/21/2026", 375),
            day(1, "08/22/2026", 0, instruction=False),
            day(2, "08/18/2026", 420),
            day(2, "08/19/2026", 420),
            day(2, "08/20/2026", 420),
            day(2, "08/21/2026", None),
            day(2, "08/24/2026", None, instruction=False),
            day(3, "08/18/2026", 375),
            day(4, "06/08/2027", 240),
            day(5, "08/18/2025", 375),
        ],
        students=[student(i, f"Last{i}", f"First{i}") for i in range(1, 7)],
        enrollments=[
            enrollment(1, 1, **{"enrollment.grade": "09"}),
            enrollment(2, 2, **{"enrollment.grade": "12"}),
            enrollment(3, 3, **{"enrollment.grade": "07", "enrollment.noShow": "1"}),
            enrollment(4, 4, **{"enrollment.grade": "KG", "enrollment.calendarID": "2"}),
            enrollment(5, 5, **{"enrollment.grade": "03", "enrollment.calendarID": "2"}),
            enrollment(
                6,
                6,
                **{
                    "enrollment.grade": "05",
                    "enrollment.calendarID": "2",
                    "enrollment.stateExclude": "1",
                },
            ),
        ],
        staff=[
            staff(101, "Hale", "Rosa"),
            staff(
                102,
                "Ibarra",
                "Tomas",
                **{
                    "staff.middleName": "J",
                    "staff.gender": "M",
                    "staff.birthdate": "11/02/1975",
                    "staff.hispanicEthnicity": "Y",
                    "staff.raceEthnicityFed": "4",
                },
            ),
            staff(103, "Quinn", "Lee"),
        ],
        district_assignments=[
            assignment(1, 101, 10, "60", "0.5", "08/10/2026"),
            assignment(2, 101, 10, "60", "0.25", "08/10/2026"),
            assignment(3, 101, 20, "60", "0.5", "09/08/2026"),
            assignment(4, 102, 20, "10", "1.0", "07/01/2026", "12/18/2026"),
            assignment(5, 102, 10, "60", "1.0", "07/01/2026", "09/15/2026"),
            assignment(6, 103, 10, "60", "1.0", "10/15/2026"),
        ],
    )
    run = ingest(store, tenant, "campus-extract", str(folder), options={"entities": entities})
    assert run.status == "succeeded", run.as_dict()
    assert map_run(store, tenant, run.run_id).status == "succeeded"


@pytest.fixture
def district(store, tenant, tmp_path):
    _district(store, tenant, tmp_path / "campus")
    return tmp_path


def _csv(path: str) -> list[list[str]]:
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def _stored(store, extract_run_id: int) -> list[tuple[str, str, list[str | None]]]:
    """(status, subject, values in field order) of every row of a run, in file order."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.row_no, r.status, r.subject_key, v.field_order, v.value "
                "FROM reporting.mosis_extract_rows r JOIN reporting.mosis_extract_values v "
                "ON v.tenant_id = r.tenant_id AND v.extract_run_id = r.extract_run_id "
                "AND v.row_no = r.row_no WHERE r.extract_run_id = :r "
                "ORDER BY r.row_no, v.field_order"
            ),
            {"r": extract_run_id},
        ).all()
    out: dict[int, tuple[str, str, list]] = {}
    for row_no, status, subject, _, value in rows:
        out.setdefault(row_no, (status, subject, []))[2].append(value)
    return [out[k] for k in sorted(out)]


def _blocking(result) -> set[str]:
    return {p["column"] for p in result.problems if p["severity"] == "blocking"}


def test_school_calendar_header_and_days(store, tenant, district):
    header = run_extract(store, tenant, YEAR, "june", "school_calendar_header", district / "h")
    days = run_extract(store, tenant, YEAR, "august", "school_calendar_days", district / "d")

    assert Path(header.file).name == "2027JunSchoolCalHeader_048078.csv"
    assert Path(days.file).name == "2027AugSchoolCalDays_048078.csv"

    # Header: two calendars, both blocked for the adoption date canonical does not hold.
    assert _csv(header.file) == [
        [
            "CollectionVersion",
            "currentSchoolYear",
            "reportingDistrictCode",
            "reportingSchoolCode",
            "dateCalendarAdopted",
            "beginGrade",
            "endGrade",
            "4DaySchoolWeek",
            "dateVotersApproved4DayWeek",
            "4DayVoterAppStartYear",
        ]
    ]
    assert (header.rows, header.blocking) == (0, 2)
    assert _blocking(header) == {"dateCalendarAdopted"}
    common = ["2027JunSchoolCalHeader", "2027", "048078"]
    assert [values for _, _, values in _stored(store, header.extract_run_id)] == [
        [*common, ELEM, None, "K", "03", "Y", None, None],
        [*common, HIGH, None, "09", "12", "N", None, None],
    ]

    # Days: one record per in-session date; Friday at the elementary has no minutes.
    lines = _csv(days.file)
    assert lines[0] == [
        "CollectionVersion",
        "currentSchoolYear",
        "reportingDistrictCode",
        "reportingSchoolCode",
        "beginGrade",
        "endGrade",
        "Date",
        "StandardDayLength",
        "EventHours",
    ]
    version = ["2027AugSchoolCalDays", "2027", "048078"]
    assert lines[1:] == [
        [*version, ELEM, "K", "03", "08/18/2026", "7.0000", ""],
        [*version, ELEM, "K", "03", "08/19/2026", "7.0000", ""],
        [*version, ELEM, "K", "03", "08/20/2026", "7.0000", ""],
        [*version, HIGH, "09", "12", "08/17/2026", "6.2500", ""],
        [*version, HIGH, "09", "12", "08/18/2026", "6.2500", ""],
        [*version, HIGH, "09", "12", "08/19/2026", "6.6667", ""],
        [*version, HIGH, "09", "12", "08/20/2026", "6.2500", ""],
        [*version, HIGH, "09", "12", "08/21/2026", "6.2500", ""],
    ]
    assert (days.rows, days.blocking, days.warnings) == (8, 1, 0)
    (blocked,) = [p for p in days.problems if p["severity"] == "blocking"]
    assert blocked["column"] == "StandardDayLength"
    assert blocked["subject"].endswith(":2026-08-21")

    # One school only.
    high = run_extract(
        store, tenant, YEAR, "june", "school_calendar_days", district / "s", school_code=HIGH
    )
    assert {r[3] for r in _csv(high.file)[1:]} == {HIGH}
    assert high.rows == 5


def test_educator_core_and_school(store, tenant, district):
    core = run_extract(store, tenant, YEAR, "october", "educator_core", district / "c")
    school = run_extract(store, tenant, YEAR, "october", "educator_school", district / "s")

    assert core.count_date.isoformat() == "2026-09-30"
    assert Path(core.file).name == "2027Oct1.0EdCore_048078.csv"
    assert Path(school.file).name == "2027Oct1.0EdSchool_048078.csv"

    # Every record lacks the educator SSN (and Educator School the salary): all are blocked.
    assert (core.rows, core.blocking) == (0, 2)
    assert _blocking(core) == {"EDSSN"}
    assert (school.rows, school.blocking) == (0, 3)
    assert _blocking(school) == {"EDSSN", "Salary"}
    assert len(_csv(core.file)) == 1 and len(_csv(school.file)) == 1
    assert _csv(school.file)[0][:14] == [
        "CollectionVersion",
        "CurrentSchoolYear",
        "ReportingDistrictCode",
        "ReportingSchoolCode",
        "EDSSN",
        "LastName",
        "FirstName",
        "PosCode",
        "CTEProgType",
        "FTE",
        "Salary",
        "CTEMonth",
        "LateStartDate",
        "EarlyEndDate",
    ]

    # Fields 8-19 (degree, experience, salaries, ...) have no canonical source.
    ec, blank = ["2027Oct1.0EdCore", "2027", "048078", None], [None] * 12
    assert [values for _, _, values in _stored(store, core.extract_run_id)] == [
        [*ec, "Rosa Hale", "W", "F", *blank],
        [*ec, "Tomas J Ibarra", "H", "M", *blank],
    ]
    es = ["2027Oct1.0EdSchool", "2027", "048078"]
    assert [values for _, _, values in _stored(store, school.extract_run_id)] == [
        [*es, ELEM, None, "Ibarra", "Tomas", "10", None, "1.00", None, None, None]
        + ["12/18/2026", None, None],
        [*es, ELEM, None, "Hale", "Rosa", "60", None, "0.50", None, None, "09/08/2026"]
        + [None, None, None],
        [*es, HIGH, None, "Hale", "Rosa", "60", None, "0.75", None, None, None, None, None, None],
    ]

    # One school only: Hale's assignments at the high school.
    high = run_extract(
        store, tenant, YEAR, "october", "educator_school", district / "h", school_code=HIGH
    )
    assert [v[3] for _, _, v in _stored(store, high.extract_run_id)] == [HIGH]

    # Traces name the derivation, the rule and the canonical source.
    with store.engine.connect() as conn:
        raw = conn.execute(
            sa.text(
                "SELECT trace FROM reporting.mosis_extract_values WHERE extract_run_id = :r "
                "AND column_name = 'PosCode' AND row_no = 1"
            ),
            {"r": school.extract_run_id},
        ).scalar_one()
    trace = json.loads(raw) if isinstance(raw, str) else raw
    assert trace == {
        "derivation": "educator_school.pos_code",
        "rule": "the assignment's state position code",
        "source": "education.employment_assignments.position_code",
    }


def test_cycles_of_the_new_layouts(store, tenant, district):
    with pytest.raises(ExtractError, match="not collected in october"):
        run_extract(store, tenant, YEAR, "october", "school_calendar_days", district / "x")
    with pytest.raises(ExtractError, match="not collected in june"):
        run_extract(store, tenant, YEAR, "june", "educator_core", district / "x")


RUNS = (
    ("august", "school_calendar_header"),
    ("june", "school_calendar_header"),
    ("august", "school_calendar_days"),
    ("june", "school_calendar_days"),
    ("october", "educator_core"),
    ("october", "educator_school"),
)


def test_rerun_is_byte_identical(store, tenant, district):
    for cycle, layout in RUNS:
        first = run_extract(store, tenant, YEAR, cycle, layout, district / "a")
        second = run_extract(store, tenant, YEAR, cycle, layout, district / "b")
        assert first.sha256 == second.sha256, layout
        assert Path(first.file).read_bytes() == Path(second.file).read_bytes()


# What canonical cannot give: these required fields are the only blocking problems allowed.
NO_SOURCE = {
    "school_calendar_header": {"dateCalendarAdopted"},
    "school_calendar_days": {"StandardDayLength"},  # the elementary's Friday has no minutes
    "educator_core": {"EDSSN"},
    "educator_school": {"EDSSN", "Salary"},
}


def _conforms(f, value: str | None, codes: dict[str, set[str]]) -> list[str]:
    if value in (None, ""):
        return []
    bad = []
    if f.length and len(value) > f.length:
        bad.append("length")
    if (f.data_type or "").lower() in ("integer", "number"):
        try:
            float(value)
        except ValueError:
            bad.append("number")
        if f.data_type.lower() == "integer" and not value.lstrip("-").isdigit():
            bad.append("integer")
        decimals = len(value.partition(".")[2])
        if f.precision and f.data_type.lower() == "number" and decimals != f.precision:
            bad.append("precision")
    if f.code_set in codes and value not in codes[f.code_set]:
        bad.append("code set")
    return bad


def test_every_row_conforms_to_its_layout(store, tenant, district):
    """Every written row: the layout's column count, each value within its length, numbers
    numeric, codes in their code set; every stored row (blocked ones too) likewise, blocked
    only for a field canonical has no source for."""
    with store.engine.begin() as conn:
        mosis_layouts.load_package(conn)
        layouts = {name: mosis_layouts.get_layout(conn, name, YEAR) for _, name in RUNS}
    for cycle, name in RUNS:
        layout = layouts[name]
        codes = {k: {c.code for c in v} for k, v in layout.code_sets.items()}
        result = run_extract(store, tenant, YEAR, cycle, name, district / cycle)
        lines = _csv(result.file)
        assert lines[0] == [f.header for f in layout.fields]
        assert len(lines) - 1 == result.rows
        for line in lines[1:]:
            assert len(line) == len(layout.fields), name
            for f, value in zip(layout.fields, line, strict=True):
                assert _conforms(f, value, codes) == [], (name, f.column_name, value)
                if f.requirement_for(cycle) == "Required":
                    assert value != "", (name, f.column_name)
        stored = _stored(store, result.extract_run_id)
        assert stored, name
        for _, _, values in stored:
            assert len(values) == len(layout.fields)
            for f, value in zip(layout.fields, values, strict=True):
                assert _conforms(f, value, codes) == [], (name, f.column_name, value)
        assert _blocking(result) <= NO_SOURCE[name], name
        assert result.warnings == 0, result.problems
