"""Golden files: the district of `golden_district.py`, every file's expected text written out
below and checked by hand against its layout (the package's `<layout>.csv`: column order,
formats) and the district's rows. A transfer between two districts (tenants), field defaults,
and byte-identical re-runs. DuckDB and PostgreSQL.

Worked by hand:
- SEA June, Maya Arden: 3 days present x 360 min = 1080 min = 18.0000 h attended, 0.0000
  absent, 3 in-session days x 360 = 18.00 h in session; open enrollment: exit date = the
  calendar's last day 05/18/2027, exit code the tenant's default R001. Noor Bell: 360 + 180 =
  540 min = 9.0000 h attended, 180 min = 3.0000 h absent, 2 days in her span = 12.00 h,
  exit 08/14/2026 T002. Ivy Cole: 720 min = 12.0000 h, 360 = 6.0000 h absent, 18.00 h.
- SEA August (summer 2027, the summer that ends 2026-27), Arden: present 240 + 120 = 360 min
  = 6.0000 h; 2 summer days x 240 min = 8.0000 h membership; the regular-year items blank
  (not collected in August).
- ASVAB: Cole's 02/10/2027 result, AFQT 65 as the military entrance score.
- Pre-code MAP Spring (Jan 21, 2027): grades 03-08 only: Arden. ACT: grade 11 on Mar 3, 2027:
  Cole (Bell left in August).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.defaults import DefaultsError, set_default
from nexus.mosis.extract import run_extract
from tests.mosis.golden_district import RIDGE, build

YEAR = 2027


@pytest.fixture
def district(store, tenant, tmp_path):
    build(store, tenant, tmp_path / "files")
    return tmp_path


def _text(result) -> str:
    return Path(result.file).read_bytes().decode("utf-8").replace("\r\n", "\n")


def _extract(store, tenant, cycle, layout, out):
    return run_extract(store, tenant, YEAR, cycle, layout, out)


# Student Core: every column not named here is blank.
CORE_COMMON = {
    "CurrentSchoolYear": "2027",
    "DateOfBirth": "04/02/2011",
    "LunchStatus": "N",
    "Gifted": "N",
    "Homeless": "N",
    "Migrant": "N",
    "Immigrant": "N",
    "LEPELL": "NLP",
    "TitleI": "N",
    "ResidencyStatus": "R1",
    "MemberFTE": "1.00",
    "IEPDisability": "00",
    "Truant": "N",
    "FosterCare": "N",
}


def _core(district: str, school: str, state_id: str, local: str, **values: str) -> dict:
    return {
        **CORE_COMMON,
        "AttendingDistrictCode": district,
        "AttendingSchoolCode": school,
        "ReportingDistrictCode": district,
        "ReportingSchoolCode": school,
        "ResidentDistrictCode": district,
        "ResidentSchoolCode": school,
        "StateID": state_id,
        "LocalStudentID": local,
        **values,
    }


ARDEN = dict(LastName="Arden", FirstName="Maya", StudentGradeLevel="04", Gender="F")
BELL = dict(LastName="Bell", FirstName="Noor", StudentGradeLevel="11", Gender="F")
COLE = dict(LastName="Cole", FirstName="Ivy", StudentGradeLevel="11", Gender="M")


def _core_rows(store, result) -> list[dict]:
    with store.engine.begin() as conn:
        layout = mosis_layouts.get_layout(conn, "student_core", YEAR)
    lines = _text(result).splitlines()
    assert lines[0] == ",".join(f.header for f in layout.fields)
    rows = []
    for line in lines[1:]:
        cells = line.split(",")
        assert len(cells) == len(layout.fields) == 114
        rows.append({f.header: v for f, v in zip(layout.fields, cells, strict=True) if v})
    return rows


def test_student_core_golden_and_a_transfer_between_districts(store, tenant, district):
    october = _extract(store, tenant, "october", "student_core", district / "oct")
    assert Path(october.file).name == "2027Oct1.0StuCore_048078.csv"
    assert _core_rows(store, october) == [
        _core("048078", "1050", "1000000001", "0000001", **ARDEN, RaceEthnicity="W",
              EnrolledOnCntDate="Y", CollectionVersion="2027Oct1.0StuCore"),
        _core("048078", "1050", "1000000003", "0000003", **COLE, RaceEthnicity="W",
              EnrolledOnCntDate="Y", CollectionVersion="2027Oct1.0StuCore"),
    ]  # fmt: skip
    # Noor Bell left Demo on 14 August for Ridge: Ridge reports her in October ...
    ridge = _extract(store, RIDGE, "october", "student_core", district / "ridge-oct")
    assert Path(ridge.file).name == "2027Oct1.0StuCore_048079.csv"
    assert _core_rows(store, ridge) == [
        _core("048079", "4020", "1000000002", "0000002", **BELL, RaceEthnicity="H",
              EnrolledOnCntDate="Y", CollectionVersion="2027Oct1.0StuCore"),
    ]  # fmt: skip
    # ... and in June both districts report her, one record each; Demo's not enrolled then.
    june = _core_rows(store, _extract(store, tenant, "june", "student_core", district / "jun"))
    assert [(r["LastName"], r["EnrolledOnCntDate"]) for r in june] == [
        ("Arden", "Y"),
        ("Bell", "N"),
        ("Cole", "Y"),
    ]
    assert june[1] == _core(
        "048078", "1050", "1000000002", "0000002", **BELL, RaceEthnicity="H",
        EnrolledOnCntDate="N", CollectionVersion="2027Jun1.0StuCore",
    )  # fmt: skip
    ridge_june = _extract(store, RIDGE, "june", "student_core", district / "ridge-jun")
    assert [r["StateID"] for r in _core_rows(store, ridge_june)] == ["1000000002"]
    # Summer school 2027 is not a Student Core enrollment: Arden stays grade 04 in June.
    assert june[0]["StudentGradeLevel"] == "04"
    again = _extract(store, tenant, "october", "student_core", district / "oct2")
    assert Path(again.file).read_bytes() == Path(october.file).read_bytes()


SEA_HEADER = (
    "CollectionVersion,CurrentSchoolYear,AttendingDistrictCode,AttendingSchoolCode,"
    "ReportingDistrictCode,ReportingSchoolCode,ResidentDistrictCode,ResidentSchoolCode,StateID,"
    "LocalStudentID,LastName,FirstName,MiddleName,Suffix,DateOfBirth,StudentGradeLevel,SSN,"
    "ResidencyStatus,RegHrsAttended,RegHrsAbsent,RemHrsAttended,HrsInSession,SummerAttendance,"
    "SummerMembership,EntryDate,EntryCode,ExitDate,ExitCode,ExitDestDistrictCode,"
    "ExitDestSchoolCode,ExitDestComment,SchoolChoice,ExtSchlHours\n"
)
SEA_JUNE = SEA_HEADER + (
    "2027Jun1.0StuEnrlAttnd,2027,048078,1050,048078,1050,048078,1050,1000000001,0000001,"
    "Arden,Maya,,,04/02/2011,04,,R1,18.0000,0.0000,,18.00,,,08/13/2026,E100,05/18/2027,R001,"
    ",,,,\n"
    "2027Jun1.0StuEnrlAttnd,2027,048078,1050,048078,1050,048078,1050,1000000002,0000002,"
    "Bell,Noor,,,04/02/2011,11,,R1,9.0000,3.0000,,12.00,,,08/13/2026,E100,08/14/2026,T002,"
    ",,,,\n"
    "2027Jun1.0StuEnrlAttnd,2027,048078,1050,048078,1050,048078,1050,1000000003,0000003,"
    "Cole,Ivy,,,04/02/2011,11,,R1,12.0000,6.0000,,18.00,,,08/13/2026,E100,05/18/2027,R001,"
    ",,,,\n"
)
SEA_AUGUST = SEA_HEADER + (
    "2027Aug1.0StuEnrlAttnd,2027,048078,1050,048078,1050,048078,1050,1000000001,0000001,"
    "Arden,Maya,,,04/02/2011,05,,R1,,,,,6.0000,8.0000,,,,,,,,,\n"
)


def test_sea_golden_with_a_default_for_open_enrollments(store, tenant, district, nexus):
    # Without a default, the enrollments still open have no exit code: blocked and listed.
    before = _extract(store, tenant, "june", "student_enrollment_attendance", district / "a")
    assert (before.rows, before.blocking) == (1, 2)
    assert {p["column"] for p in before.problems if p["severity"] == "blocking"} == {"ExitCode"}
    shown = nexus(
        "mosis", "defaults", "set", "student_enrollment_attendance", "ExitCode", "R001",
        "--tenant", tenant, "--year", "2026-27", "--note", "open at year end: advanced", "--json",
    )  # fmt: skip
    assert json.loads(shown.stdout)["value"] == "R001"
    june = _extract(store, tenant, "june", "student_enrollment_attendance", district / "b")
    assert _text(june) == SEA_JUNE
    # T002 is not in the package's (partial) exit code set: a warning, not a blocked row.
    assert [(p["column"], p["severity"]) for p in june.problems] == [("ExitCode", "warning")]
    with store.engine.connect() as conn:
        run = conn.execute(
            sa.text(
                "SELECT input_snapshot FROM reporting.mosis_extract_runs WHERE extract_run_id = :r"
            ),
            {"r": june.extract_run_id},
        ).scalar_one()
        traces = conn.execute(
            sa.text(
                "SELECT trace FROM reporting.mosis_extract_values WHERE extract_run_id = :r "
                "AND column_name = 'ExitCode'"
            ),
            {"r": june.extract_run_id},
        ).scalars()
        trace = next(iter(traces))
    trace = trace if isinstance(trace, dict) else json.loads(trace)
    snapshot = run if isinstance(run, dict) else json.loads(run)
    assert snapshot["field_defaults"] == {"ExitCode": "R001"}
    assert "else the tenant's default 'R001'" in trace["rule"]
    assert "open at year end: advanced" in trace["rule"]
    august = _extract(store, tenant, "august", "student_enrollment_attendance", district / "c")
    assert august.count_date.isoformat() == "2027-08-15"
    assert _text(august) == SEA_AUGUST
    # Ridge has no default: its open span is blocked. The default is the tenant's own.
    ridge = _extract(store, RIDGE, "june", "student_enrollment_attendance", district / "r")
    assert (ridge.rows, ridge.blocking) == (0, 1)
    again = _extract(store, tenant, "june", "student_enrollment_attendance", district / "d")
    assert again.sha256 == june.sha256


STUDENT_LISTS = {
    ("june", "asvab"): (
        "CollectionVersion,CurrentSchoolYear,ReportingDistrictCode,ReportingSchoolCode,StateID,"
        "LocalStudentID,LastName,FirstName,MiddleName,Suffix,DateOfBirth,StudentGradeLevel,"
        "Gender,RaceEthnicity,TestDate,VerbalSkills,MathSkills,SnTSkills,"
        "Military Entrance Score\n"
        "2027ALL1.0ASVAB,2027,048078,1050,1000000003,0000003,Cole,Ivy,,,04/02/2011,11,M,W,"
        "02/10/2027,,,,65\n"
    ),
    ("mapspr", "assessment_precode"): (
        "CollectionVersion,CurrentSchoolYear,ReportingDistrictCode,ReportingSchoolCode,StateID,"
        "LocalStudentID,LastName,FirstName,MiddleName,Suffix,DateOfBirth,StudentGradeLevel,"
        "Gender,RaceEthnicity,Assessment\n"
        "2027MAPSPR1.0AsmPre,2027,048078,1050,1000000001,0000001,Arden,Maya,,,04/02/2011,04,F,"
        "W,\n"
    ),
    ("act", "assessment_precode"): (
        "CollectionVersion,CurrentSchoolYear,ReportingDistrictCode,ReportingSchoolCode,StateID,"
        "LocalStudentID,LastName,FirstName,MiddleName,Suffix,DateOfBirth,StudentGradeLevel,"
        "Gender,RaceEthnicity,Assessment\n"
        "2027ACT1.0AsmPre,2027,048078,1050,1000000003,0000003,Cole,Ivy,,,04/02/2011,11,M,W,\n"
    ),
    ("annual", "direct_certification_lookup"): (
        "CollectionVersion,StateID,LocalStudentID,LastName,FirstName,MiddleName,Suffix,"
        "DateOfBirth,StudentGradeLevel,Gender,RaceEthnicity\n"
        "ALL1.0DirectCert,1000000001,0000001,Arden,Maya,,,04/02/2011,04,F,W\n"
        "ALL1.0DirectCert,1000000002,0000002,Bell,Noor,,,04/02/2011,11,F,H\n"
        "ALL1.0DirectCert,1000000003,0000003,Cole,Ivy,,,04/02/2011,11,M,W\n"
    ),
    ("june", "summer_student_assignment"): (
        "CollectionVersion,CurrentSchoolYear,ReportingDistrictCode,ReportingSchoolCode,StateID,"
        "LocalStudentID,StudentLastName,StudentFirstName,StudentMiddleName,StudentNameSuffix,"
        "StudentDateofBirth,StudentGradeLevel,StudentGender,StudentRaceEthn\n"
        "2027Jun1.0SumStuAssign,2027,048078,1050,1000000001,0000001,Arden,Maya,,,04/02/2011,"
        "05,F,W\n"
    ),
    ("june", "ctso"): (
        "CollectionVersion,CurrentSchoolYear,ReportingDistrictCode,ReportingSchoolCode,"
        "CTSO organization,Participation level\n"
    ),
    ("annual", "postsecondary_adult_course_assignment"): (
        "CollectionVersion,CurrentSchoolYear,ReportingDistrictCode,ReportingSchoolCode,EDSSN,"
        "EDLastName,EDFirstName,PosCode,LocCourseNum,LocCourseName,LocSecNum,CIPCode,CourseSem,"
        "CTEProgramCode\n"
    ),
}


def test_student_lists_and_summer_files_golden(store, tenant, district):
    for (cycle, layout), expected in STUDENT_LISTS.items():
        result = _extract(store, tenant, cycle, layout, district / f"{layout}-{cycle}")
        assert _text(result) == expected, (cycle, layout)
        assert result.blocking == 0, (cycle, layout, result.problems)
    # EOC Exception: nobody has an EOC result from before the year.
    assert _extract(store, tenant, "eocexp", "assessment_precode", district / "x").rows == 0
    # Summer Course Assignment: Tess Teach's Summer Math, blocked only for her SSN, which no
    # canonical table holds; the value trace names what was derived.
    summer = _extract(store, tenant, "june", "summer_course_assignment", district / "sca")
    assert (summer.rows, summer.blocking) == (0, 1)
    assert [(p["column"], p["severity"]) for p in summer.problems] == [("EDSSN", "blocking")]
    with store.engine.connect() as conn:
        values = dict(
            conn.execute(
                sa.text(
                    "SELECT column_name, value FROM reporting.mosis_extract_values "
                    "WHERE extract_run_id = :r"
                ),
                {"r": summer.extract_run_id},
            ).all()
        )
    assert {k: v for k, v in values.items() if v} == {
        "CollectionVersion": "2027Jun1.0SumCrsAssign",
        "CurrentSchoolYear": "2027",
        "ReportingDistrictCode": "048078",
        "ReportingSchoolCode": "1050",
        "LastName": "Teach",
        "FirstName": "Tess",
        "PosCode": "60",
        "AssignNum": values["AssignNum"],
        "LocCourseNum": "SMATH",
    }
    # A source that gives the educator's SSN (a staff identifier of type ssn) unblocks it.
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO census.person_identifiers (tenant_id, key_scope, source_key, "
                "person_kind, identifier_type, authority, value, source_system_id, "
                "valid_from_run) SELECT tenant_id, key_scope, source_key, person_kind, 'ssn', "
                "'SSA', '123-45-6789', source_system_id, 1 FROM census.identities "
                "WHERE person_kind = 'staff' AND legal_last_name = 'Teach'"
            )
        )
    summer = _extract(store, tenant, "june", "summer_course_assignment", district / "sca2")
    assert (summer.rows, summer.blocking) == (1, 0)
    assert _text(summer) == (
        "CollectionVersion,CurrentSchoolYear,ReportingDistrictCode,ReportingSchoolCode,EDSSN,"
        "LastName,FirstName,PosCode,CTEProgType,AssignNum,LocCourseNum\n"
        f"2027Jun1.0SumCrsAssign,2027,048078,1050,123456789,Teach,Tess,60,,"
        f"{values['AssignNum']},SMATH\n"
    )


def test_calendar_header_default_and_defaults_refused(store, tenant, district, nexus):
    blocked = _extract(store, tenant, "june", "school_calendar_header", district / "a")
    assert (blocked.rows, blocked.blocking) == (0, 1)
    set_default(store, tenant, YEAR, "school_calendar_header", "dateCalendarAdopted", "06/12/2026")
    header = _extract(store, tenant, "june", "school_calendar_header", district / "b")
    # Three written days, none in a five-day week: 4DaySchoolWeek Y (the layout's rule).
    assert _text(header) == (
        "CollectionVersion,currentSchoolYear,reportingDistrictCode,reportingSchoolCode,"
        "dateCalendarAdopted,beginGrade,endGrade,4DaySchoolWeek,dateVotersApproved4DayWeek,"
        "4DayVoterAppStartYear\n"
        "2027JunSchoolCalHeader,2027,048078,1050,06/12/2026,04,11,Y,,\n"
    )
    for layout, column, value, error in (
        ("educator_core", "EDSSN", "123456789", "a person's own value"),
        ("educator_school", "Salary", "50000", "a person's own value"),
        ("student_enrollment_attendance", "ExitCode", "R0001", "longer than ExitCode's 4"),
        ("student_enrollment_attendance", "RegHrsAbsent", "none", "is a number"),
        ("student_enrollment_attendance", "ResidencyStatus", "XX", "not in ResidencyStatus's"),
        ("student_core", "NoSuchColumn", "1", "has no column 'NoSuchColumn'"),
    ):
        with pytest.raises(DefaultsError, match=error):
            set_default(store, tenant, YEAR, layout, column, value)
    refused = nexus("mosis", "defaults", "set", "educator_core", "EDSSN", "1", "--tenant", tenant)
    assert refused.exit_code == 1 and "a person's own value" in refused.stderr
    listed = json.loads(nexus("mosis", "defaults", "list", "--tenant", tenant, "--json").stdout)
    assert [(d["layout"], d["column_name"], d["value"]) for d in listed["defaults"]] == [
        ("school_calendar_header", "dateCalendarAdopted", "06/12/2026")
    ]
    nexus("mosis", "defaults", "unset", "school_calendar_header", "dateCalendarAdopted",
          "--tenant", tenant)  # fmt: skip
    again = _extract(store, tenant, "june", "school_calendar_header", district / "c")
    assert again.blocking == 1
