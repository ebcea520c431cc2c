"""Course Assignment, Student Assignment, Student Course Completion and Student Discipline
extracts from a tiny hand-written district, on DuckDB and PostgreSQL.

The district (Campus extract files): one 2026-27 calendar at school 1050; a teacher (Tina
Teach, position 60); course ENG9 "English 9" (state code 051101) with a full-year section
taught by her and a spring section; Arden and Bell rostered in the full-year section, Arden
in the spring one, and Cole rostered in the full-year section until September 15; one
transcript of 2026-27 for Arden (and one of 2025-26, not reported); an incident on October 5
with Bell the offender (two removals, ISS 2 days and OSS 3 days) and Arden a participant (an
ISS, not an offender), and a second incident on February 10, 2027 with Arden the offender
(ISS 1 day). October counts on Wednesday 30 September 2026; December on December 1.

The expected values were worked out by hand from the layouts (`layouts/2027/*.csv`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.canonical import map_run
from nexus.integration import ingest
from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.extract import run_extract
from tests.canonical.campus_files import CALENDAR, enrollment, student, write_extract
from tests.mosis.campus_rows import (
    behavior,
    course,
    district_assignment,
    roster,
    section,
    staff,
    transcript,
)

YEAR = 2027
RUNS = (
    ("october", "course_assignment"),
    ("october", "student_assignment"),
    ("june", "student_course_completion"),
    ("june", "student_discipline"),
    ("december", "student_discipline"),
    ("april", "student_discipline"),
)


def _district(store, tenant: str, folder: Path) -> None:
    entities = write_extract(
        folder,
        calendars=[CALENDAR],
        students=[
            student(1, "Arden", "Maya"),
            student(2, "Bell", "Noor", **{"student.hispanicEthnicity": "Y"}),
            student(3, "Cole", "Ivy", **{"student.gender": "M"}),
        ],
        enrollments=[
            enrollment(1, 1),
            enrollment(2, 2, **{"enrollment.grade": "10"}),
            enrollment(3, 3),
        ],
        # Lowe has no district assignment: no position code.
        staff=[staff(100, "Teach", "Tina"), staff(101, "Lowe", "Lee")],
        district_assignments=[district_assignment(1, 100)],
        courses=[course(500, "ENG9", "English 9", **{"course.stateCode": "051101"})],
        sections=[
            section(700, 500, 100),
            section(
                701,
                500,
                100,
                **{
                    "section.number": "2",
                    "term.name": "S2",
                    "term.startDate": "01/05/2027",
                    "term.endDate": "05/18/2027",
                },
            ),
            section(702, 500, 101, **{"section.number": "3"}),
        ],
        rosters=[
            roster(1, 1, 700),
            roster(2, 2, 700),
            roster(3, 1, 701, **{"roster.startDate": "01/05/2027"}),
            # Dropped before the count date: not in October's Student Assignment.
            roster(4, 3, 700, **{"roster.endDate": "09/15/2026"}),
            roster(5, 2, 702),
        ],
        transcripts=[
            transcript(900, 1, **{"transcript.stateCode": "051101"}),
            transcript(901, 1, **{"transcript.endYear": "2026", "transcript.date": "05/20/2026"}),
        ],
        behavior=[
            behavior(
                400,
                1,
                300,
                2,
                **{
                    "behavior.resolutionCode": "ISS",
                    "behavior.stateResCode": "ISS",
                    "behavior.resolutionStartDate": "10/06/2026",
                    "behavior.resolutionEndDate": "10/07/2026",
                    "behavior.duration": "2",
                },
            ),
            behavior(
                400,
                2,
                300,
                2,
                **{
                    "behavior.resolutionCode": "OSS",
                    "behavior.stateResCode": "OSS",
                    "behavior.resolutionStartDate": "10/08/2026",
                    "behavior.resolutionEndDate": "10/12/2026",
                    "behavior.duration": "3",
                },
            ),
            # A participant with a removal is not an offender: no record.
            behavior(
                401,
                3,
                300,
                1,
                **{
                    "behavior.role": "Participant",
                    "behavior.resolutionCode": "ISS",
                    "behavior.stateResCode": "ISS",
                    "behavior.resolutionStartDate": "10/06/2026",
                    "behavior.duration": "1",
                },
            ),
            behavior(
                402,
                4,
                301,
                1,
                **{
                    "behavior.incidentDate": "02/10/2027",
                    "behavior.eventCode": "MISC",
                    "behavior.stateEventCode": "O",
                    "behavior.resolutionCode": "ISS",
                    "behavior.stateResCode": "ISS",
                    "behavior.resolutionStartDate": "02/11/2027",
                    "behavior.duration": "1.5",
                },
            ),
        ],
    )
    run = ingest(store, tenant, "campus-extract", str(folder), options={"entities": entities})
    assert run.status == "succeeded", run.as_dict()
    assert map_run(store, tenant, run.run_id).status == "succeeded"


def _section_id(store, campus_section_id: str) -> str:
    with store.engine.connect() as conn:
        return str(
            conn.execute(
                sa.text(
                    "SELECT section_id FROM education.sections WHERE key_scope = 'campus' "
                    "AND source_key = :k"
                ),
                {"k": campus_section_id},
            ).scalar_one()
        )


def _lines(path: str) -> list[list[str]]:
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def _rows(path: str) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def district(store, tenant, tmp_path):
    _district(store, tenant, tmp_path / "campus")
    return tmp_path


def test_course_and_student_assignment_link(store, tenant, district):
    ca = run_extract(store, tenant, YEAR, "october", "course_assignment", district / "ca")
    sa_ = run_extract(store, tenant, YEAR, "october", "student_assignment", district / "sa")
    assert Path(ca.file).name == "2027Oct1.0CrsAssign_048078.csv"
    assert Path(sa_.file).name == "2027Oct1.0StuAssign_048078.csv"
    full_year, spring = _section_id(store, "700"), _section_id(store, "701")
    # Lowe's section: PosCode is required and no assignment gives it, so the record is blocked
    # and listed (no 60 is invented), and its student (Bell) has no Student Assignment.
    assert (ca.rows, ca.blocking, sa_.rows, sa_.blocking) == (2, 1, 2, 0)
    assert [(p["subject"], p["column"]) for p in ca.problems] == [
        (_section_id(store, "702"), "PosCode")
    ]

    # Course Assignment: vendor-named items 13-22 have no column name, so read by position.
    lines = _lines(ca.file)
    assert lines[0][:12] == [
        "CollectionVersion",
        "CurrentSchoolYear",
        "ReportingDistrictCode",
        "ReportingSchoolCode",
        "EDSSN",
        "LastName",
        "FirstName",
        "PosCode",
        "CTEProgType",
        "AssignNum",
        "LocCourseNum",
        "LocCourseName",
    ]
    common = ["2027Oct1.0CrsAssign", "2027", "048078", "1050", "", "Teach", "Tina", "60", ""]
    # Items 13-22: comment, caseload, state course number, sequence, grade, semester,
    # program code, delivery system, minutes per week, units of credit.
    tail = ["", "", "051101", "", ""]
    assert sorted(lines[1:], key=lambda r: int(r[9])) == sorted(
        [
            [*common, full_year, "ENG9", "English 9", *tail, "0", "", "", "", ""],
            [*common, spring, "ENG9", "English 9", *tail, "2", "", "", "", ""],
        ],
        key=lambda r: int(r[9]),
    )

    # Student Assignment: the two students rostered on the count date in the full-year
    # section (not Cole, dropped on September 15; not Arden's spring section).
    rows = _rows(sa_.file)
    keys = (
        "CollectionVersion",
        "ReportingSchoolCode",
        "StateID",
        "LocalStudentID",
        "StudentLastName",
        "StudentFirstName",
        "StudentDateofBirth",
        "StudentGradeLevel",
        "StudentGender",
        "StudentRaceEthn",
        "AssignNum",
        "PosCode",
        "IEPDisability",
        "LocCourseNum",
        "LocCourseName",
        "LocSecNum",
        "CourseNum",
        "EDSSN",
    )
    common = {
        "CollectionVersion": "2027Oct1.0StuAssign",
        "ReportingSchoolCode": "1050",
        "StudentDateofBirth": "04/02/2011",
        "StudentGender": "F",
        "AssignNum": full_year,
        "PosCode": "60",
        "IEPDisability": "00",
        "LocCourseNum": "ENG9",
        "LocCourseName": "English 9",
        "LocSecNum": "1",
        "CourseNum": "051101",
        "EDSSN": "",
    }
    assert [{k: r[k] for k in keys} for r in rows] == [
        {
            **common,
            "StateID": "1000000001",
            "LocalStudentID": "0000001",
            "StudentLastName": "Arden",
            "StudentFirstName": "Maya",
            "StudentGradeLevel": "09",
            "StudentRaceEthn": "W",
        },
        {
            **common,
            "StateID": "1000000002",
            "LocalStudentID": "0000002",
            "StudentLastName": "Bell",
            "StudentFirstName": "Noor",
            "StudentGradeLevel": "10",
            "StudentRaceEthn": "H",
        },
    ]
    # Every Student Assignment links to a Course Assignment of a teacher (position 60).
    by_num = {line[9]: line for line in lines[1:]}
    assert all(r["AssignNum"] in by_num and by_num[r["AssignNum"]][7] == "60" for r in rows)
    # One building only.
    other = run_extract(
        store, tenant, YEAR, "october", "course_assignment", district / "s", school_code="9999"
    )
    assert (other.rows, Path(other.file).name) == (0, "2027Oct1.0CrsAssign_048078_9999.csv")


def test_course_completion_and_discipline(store, tenant, district):
    done = run_extract(store, tenant, YEAR, "june", "student_course_completion", district / "c")
    assert Path(done.file).name == "2027Jun1.0StuCRSComp_048078.csv"
    # One transcript of 2026-27; the 2025-26 one is not reported.
    assert _rows(done.file) == [
        {
            "CollectionVersion": "2027Jun1.0StuCRSComp",
            "CurrentSchoolYear": "2027",
            "ReportingDistrictCode": "048078",
            "ReportingSchoolCode": "1050",
            "ReceivingCollDistCode": "",
            "SendDistCode": "",
            "SendSchoolCode": "",
            "StateID": "1000000001",
            "LocalStudentID": "0000001",
            "StudentLastName": "Arden",
            "StudentFirstName": "Maya",
            "StudentMiddleName": "",
            "StudentNameSuffix": "",
        }
    ]

    june = run_extract(store, tenant, YEAR, "june", "student_discipline", district / "j")
    assert Path(june.file).name == "2027Jun1.0StuDiscipline_048078.csv"
    common = {
        "CollectionVersion": "2027Jun1.0StuDiscipline",
        "CurrentSchoolYear": "2027",
        "AttendingDistrictCode": "048078",
        "AttendingSchoolCode": "1050",
        "ReportingDistrictCode": "048078",
        "ReportingSchoolCode": "1050",
        "ResidentDistrictCode": "048078",
        "ResidentSchoolCode": "1050",
        "MiddleName": "",
        "WeaponType": "",
        "ModifiedLength": "",
        "API": "",
        "LEPELL": "NLP",
        "IEPDisability": "00",
    }
    # Bell: the most serious of her two removals (OSS over ISS) with its length; Arden's
    # participant ISS in the same incident is not reported; her own February incident is.
    assert _rows(june.file) == [
        {
            **common,
            "StateID": "1000000002",
            "LocalStudentID": "0000002",
            "LastName": "Bell",
            "FirstName": "Noor",
            "OffenseDate": "10/05/2026",
            "OffenseType": "N",
            "DisciplineRemoval": "OSS",
            "LengthRemoved": "3",
        },
        {
            **common,
            "StateID": "1000000001",
            "LocalStudentID": "0000001",
            "LastName": "Arden",
            "FirstName": "Maya",
            "OffenseDate": "02/10/2027",
            "OffenseType": "O",
            "DisciplineRemoval": "ISS",
            "LengthRemoved": "1.5",
        },
    ]
    # December reports the incidents up to its count date only.
    december = run_extract(store, tenant, YEAR, "december", "student_discipline", district / "d")
    assert Path(december.file).name == "2027Dec1.0StuDiscipline_048078.csv"
    assert [(r["LastName"], r["DisciplineRemoval"]) for r in _rows(december.file)] == [
        ("Bell", "OSS")
    ]


def test_rerun_is_byte_identical_and_rows_conform_to_their_layouts(store, tenant, district):
    with store.engine.begin() as conn:
        mosis_layouts.load_package(conn)
        layouts = {name: mosis_layouts.get_layout(conn, name, YEAR) for _, name in RUNS}
        code_sets: dict[str, set[str]] = {}
        for code_set, code in conn.execute(
            sa.text("SELECT code_set, code FROM reporting.mosis_code_sets WHERE school_year = :y"),
            {"y": YEAR},
        ):
            code_sets.setdefault(code_set, set()).add(code)
    # Code sets these layouts' fields name, and the two the discipline fields should name
    # (the packaged layout leaves their code_set blank).
    extra_codes = {
        "OffenseType": "Discipline_Incident_Type_Codes",
        "DisciplineRemoval": "Discipline_Removal_Codes",
    }
    for cycle, name in RUNS:
        first = run_extract(store, tenant, YEAR, cycle, name, district / f"{cycle}-{name}-1")
        again = run_extract(store, tenant, YEAR, cycle, name, district / f"{cycle}-{name}-2")
        assert Path(first.file).read_bytes() == Path(again.file).read_bytes(), (cycle, name)
        assert first.sha256 == again.sha256
        assert first.rows > 0, (cycle, name)
        layout = layouts[name]
        lines = _lines(first.file)
        assert lines[0] == [f.header for f in layout.fields]
        assert len(lines) == first.rows + 1
        for line in lines[1:]:
            assert len(line) == len(layout.fields), (name, line)
            for f, value in zip(layout.fields, line, strict=True):
                where = (cycle, name, f.column_name or f.item_name, value)
                if f.length:
                    assert len(value) <= f.length, where
                if value and (f.data_type or "").lower() in ("integer", "number"):
                    float(value)
                code_set = f.code_set or extra_codes.get(f.column_name)
                codes = code_sets.get(code_set or "")
                if value and codes:
                    assert value in codes, where
                if f.requirement_for(cycle) == "Required":
                    assert value, where
