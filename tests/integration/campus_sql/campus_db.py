"""A tiny Campus-shaped database for the campus-sql tests, on DuckDB, SQLite or PostgreSQL.

The tables carry exactly the names of `docs/campus.md` (only those the shipped queries read),
built with SQLAlchemy Core so each engine gets its own types: bits are booleans, money-like
numbers are NUMERIC, dates are DATE. `SEED` holds a few rows per table: two schools in the
active school year 2026-27 plus one calendar of 2025-26 whose rows every year-scoped query must
leave out, an inactive schedule trial whose sections and rosters must be left out, a behavior
role without a resolution, a section without term placements, a student without a Contact row.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get(
    "NEXUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ENGINES = ("duckdb", "sqlite", "postgresql")

M = dt.datetime(2026, 8, 1, 7, 30, 0)  # every row's modifiedDate unless a test moves it
ID, TEXT, DAY, STAMP, BIT = sa.Integer, sa.String(100), sa.Date, sa.DateTime, sa.Boolean

metadata = sa.MetaData()


def _table(name: str, *columns: tuple[str, object]) -> sa.Table:
    return sa.Table(name, metadata, *(sa.Column(n, t) for n, t in columns))


# fmt: off
_table("District", ("districtID", ID), ("number", TEXT), ("name", TEXT), ("ncesID", TEXT),
       ("modifiedDate", STAMP))
_table("School", ("schoolID", ID), ("districtID", ID), ("number", TEXT), ("name", TEXT),
       ("exclude", BIT), ("schoolGUID", TEXT), ("modifiedDate", STAMP))
_table("SchoolYear", ("endYear", ID), ("active", BIT), ("label", TEXT))
_table("Calendar", ("calendarID", ID), ("districtID", ID), ("schoolID", ID), ("endYear", ID),
       ("name", TEXT), ("number", TEXT), ("startDate", DAY), ("endDate", DAY), ("exclude", BIT),
       ("summerSchool", BIT), ("countDate", DAY), ("type", TEXT), ("calendarGUID", TEXT),
       ("modifiedDate", STAMP))
_table("Day", ("dayID", ID), ("calendarID", ID), ("structureID", ID), ("date", DAY),
       ("instruction", BIT), ("attendance", BIT), ("duration", ID), ("comments", TEXT),
       ("modifiedDate", STAMP))
_table("GradeLevel", ("calendarID", ID), ("structureID", ID), ("name", TEXT), ("stateGrade", TEXT),
       ("excludeEnrollment", BIT))
_table("Person", ("personID", ID), ("currentIdentityID", ID), ("stateID", TEXT),
       ("studentNumber", TEXT), ("staffNumber", TEXT), ("staffStateID", TEXT),
       ("personGUID", TEXT))
_table("Identity", ("identityID", ID), ("personID", ID), ("effectiveDate", DAY),
       ("lastName", TEXT), ("firstName", TEXT), ("middleName", TEXT), ("suffix", TEXT),
       ("gender", TEXT), ("birthdate", DAY), ("raceEthnicity", TEXT), ("raceEthnicityFed", TEXT),
       ("hispanicEthnicity", TEXT), ("homePrimaryLanguage", TEXT), ("identityGUID", TEXT),
       ("districtID", ID), ("modifiedDate", STAMP))
_table("Contact", ("personID", ID), ("email", TEXT), ("secondaryEmail", TEXT),
       ("workPhone", TEXT))
_table("Enrollment", ("enrollmentID", ID), ("personID", ID), ("calendarID", ID),
       ("structureID", ID), ("grade", TEXT), ("serviceType", TEXT), ("active", BIT),
       ("noShow", BIT), ("stateExclude", BIT), ("startDate", DAY), ("startStatus", TEXT),
       ("endDate", DAY), ("endStatus", TEXT), ("endYear", ID), ("districtID", ID),
       ("residentDistrict", TEXT), ("residentSchool", TEXT), ("residencyStatus", TEXT),
       ("mealStatus", TEXT),
       ("lep", TEXT), ("title1", BIT), ("migrant", BIT), ("immigrant", BIT), ("homeless", TEXT),
       ("fosterCare", BIT), ("giftedTalented", BIT), ("section504", BIT),
       ("specialEdStatus", TEXT), ("disability1", TEXT), ("percentEnrolled", sa.Numeric(5, 2)),
       ("cohortYear", ID), ("gradYear", ID), ("diplomaDate", DAY), ("diplomaType", TEXT),
       ("enrollmentGUID", TEXT), ("modifiedDate", STAMP))
_table("AttendanceDay", ("personID", ID), ("calendarID", ID), ("date", DAY),
       ("scheduledMinutes", ID), ("presentMinutes", ID), ("absentMinutes", ID), ("status", TEXT),
       ("excuse", TEXT), ("modifiedDate", STAMP))
_table("Course", ("courseID", ID), ("calendarID", ID), ("number", TEXT), ("name", TEXT),
       ("stateCode", TEXT), ("active", BIT), ("homeroom", BIT), ("modifiedDate", STAMP))
_table("Trial", ("trialID", ID), ("structureID", ID), ("calendarID", ID), ("active", BIT))
_table("Room", ("roomID", ID), ("name", TEXT))
_table("Term", ("termID", ID), ("termScheduleID", ID), ("name", TEXT), ("startDate", DAY),
       ("endDate", DAY))
_table("Section", ("sectionID", ID), ("courseID", ID), ("number", TEXT),
       ("teacherPersonID", ID), ("teacherDisplay", TEXT), ("roomID", ID), ("trialID", ID),
       ("modifiedDate", STAMP))
_table("SectionPlacement", ("sectionID", ID), ("termID", ID), ("periodID", ID), ("trialID", ID))
_table("Roster", ("rosterID", ID), ("personID", ID), ("sectionID", ID), ("trialID", ID),
       ("startDate", DAY), ("endDate", DAY), ("modifiedDate", STAMP))
_table("SectionStaffHistory", ("historyID", ID), ("sectionID", ID), ("personID", ID),
       ("staffType", TEXT), ("role", TEXT), ("startDate", DAY), ("endDate", DAY),
       ("trialID", ID), ("modifiedDate", STAMP))
_table("Employment", ("employmentID", ID), ("personID", ID), ("districtID", ID),
       ("startDate", DAY), ("endDate", DAY))
_table("EmploymentAssignment", ("assignmentID", ID), ("personID", ID), ("schoolID", ID),
       ("title", TEXT), ("teacher", BIT), ("positionCode", TEXT), ("fte", sa.Numeric(4, 2)),
       ("startDate", DAY), ("endDate", DAY), ("modifiedDate", STAMP))
_table("BehaviorIncident", ("incidentID", ID), ("calendarID", ID), ("timestamp", STAMP),
       ("location", TEXT), ("title", TEXT), ("status", TEXT), ("modifiedDate", STAMP))
_table("BehaviorEvent", ("eventID", ID), ("incidentID", ID), ("calendarID", ID), ("typeID", ID))
_table("BehaviorType", ("typeID", ID), ("code", TEXT), ("name", TEXT), ("stateCode", TEXT))
_table("BehaviorRole", ("roleID", ID), ("eventID", ID), ("personID", ID), ("role", TEXT))
_table("BehaviorResolution", ("resolutionID", ID), ("roleID", ID), ("typeID", ID),
       ("personID", ID), ("startDate", DAY), ("endDate", DAY),
       ("schooldaysduration", sa.Numeric(5, 1)))
_table("BehaviorResType", ("typeID", ID), ("code", TEXT), ("name", TEXT), ("stateResCode", TEXT))
_table("Test", ("testID", ID), ("parentID", ID), ("code", TEXT), ("name", TEXT))
_table("TestScore", ("scoreID", ID), ("testID", ID), ("personID", ID), ("date", DAY),
       ("scaleScore", sa.Numeric(6, 1)), ("percentile", ID), ("performanceLevel", TEXT),
       ("testingGrade", TEXT), ("modifiedDate", STAMP))
_table("TranscriptCourse", ("transcriptID", ID), ("personID", ID), ("grade", TEXT),
       ("endYear", ID), ("courseNumber", TEXT), ("courseName", TEXT), ("stateCode", TEXT),
       ("score", TEXT), ("percent", sa.Numeric(5, 2)), ("date", DAY), ("repeatCourse", BIT),
       ("actualTerm", ID), ("modifiedDate", STAMP))
_table("TranscriptCredit", ("transcriptID", ID), ("personID", ID), ("standardID", ID),
       ("creditsEarned", sa.Numeric(5, 2)), ("creditsAttempted", sa.Numeric(5, 2)))
_table("Lep", ("personID", ID), ("programStatus", TEXT), ("identifiedDate", DAY),
       ("exitDate", DAY))
_table("Section504", ("personID", ID), ("startDate", DAY), ("endDate", DAY))

D = dt.date
SEED: dict[str, list[dict]] = {
    "District": [dict(districtID=1, number="048078", name="Demo R-I", ncesID="2900001",
                      modifiedDate=M)],
    "School": [
        dict(schoolID=10, districtID=1, number="1050", name="Lincoln Elementary", exclude=False,
             schoolGUID="5C1A", modifiedDate=M),
        dict(schoolID=20, districtID=1, number="2050", name="Central High", exclude=False,
             schoolGUID="5C2B", modifiedDate=M),
    ],
    "SchoolYear": [dict(endYear=2026, active=False, label="2025-26"),
                   dict(endYear=2027, active=True, label="2026-27")],
    "Calendar": [
        dict(calendarID=100, districtID=1, schoolID=10, endYear=2027, name="26-27 Lincoln",
             number="1", startDate=D(2026, 8, 20), endDate=D(2027, 5, 21), exclude=False,
             summerSchool=False, countDate=D(2026, 10, 7), type="R", calendarGUID="CA10",
             modifiedDate=M),
        dict(calendarID=200, districtID=1, schoolID=20, endYear=2027, name="26-27 Central",
             number="2", startDate=D(2026, 8, 20), endDate=D(2027, 5, 21), exclude=False,
             summerSchool=False, countDate=D(2026, 10, 7), type="R", calendarGUID="CA20",
             modifiedDate=M),
        dict(calendarID=90, districtID=1, schoolID=10, endYear=2026, name="25-26 Lincoln",
             number="1", startDate=D(2025, 8, 21), endDate=D(2026, 5, 22), exclude=False,
             summerSchool=False, countDate=D(2025, 10, 1), type="R", calendarGUID="CA09",
             modifiedDate=M),
    ],
    "Day": [
        dict(dayID=n, calendarID=cal, structureID=cal * 10, date=day, instruction=True,
             attendance=True, duration=390, comments=None, modifiedDate=M)
        for n, (cal, day) in enumerate(
            [(100, D(2026, 8, 20)), (100, D(2026, 8, 21)), (100, D(2026, 8, 24)),
             (200, D(2026, 8, 20)), (200, D(2026, 8, 21)), (200, D(2026, 8, 24)),
             (90, D(2025, 8, 21))],
            start=1,
        )
    ],
    "GradeLevel": [dict(calendarID=100, structureID=1000, name="03", stateGrade="03",
                        excludeEnrollment=False),
                   dict(calendarID=200, structureID=2000, name="10", stateGrade="10",
                        excludeEnrollment=False)],
    "Person": [
        dict(personID=1001, currentIdentityID=11, stateID="1000000001", studentNumber="S1001",
             staffNumber=None, staffStateID=None, personGUID="P1001"),
        dict(personID=1002, currentIdentityID=12, stateID="1000000002", studentNumber="S1002",
             staffNumber=None, staffStateID=None, personGUID="P1002"),
        dict(personID=1003, currentIdentityID=13, stateID=None, studentNumber="S1003",
             staffNumber=None, staffStateID=None, personGUID="P1003"),
        dict(personID=2001, currentIdentityID=21, stateID=None, studentNumber=None,
             staffNumber="T2001", staffStateID="9000000001", personGUID="P2001"),
        dict(personID=2002, currentIdentityID=22, stateID=None, studentNumber=None,
             staffNumber="T2002", staffStateID="9000000002", personGUID="P2002"),
    ],
    "Identity": [
        dict(identityID=ident, personID=person, effectiveDate=D(2020, 7, 1), lastName=last,
             firstName=first, middleName=None, suffix=None, gender=gender, birthdate=born,
             raceEthnicity=None, raceEthnicityFed="5", hispanicEthnicity="N",
             homePrimaryLanguage="eng", identityGUID=f"I{ident}", districtID=1, modifiedDate=M)
        for ident, person, last, first, gender, born in [
            (10, 1001, "Ashford", "Mia", "F", D(2017, 3, 4)),  # an earlier name of 1001
            (11, 1001, "Ash", "Mia", "F", D(2017, 3, 4)),
            (12, 1002, "Birch", "Leo", "M", D(2011, 11, 30)),
            (13, 1003, "Cedar", "Ava", "F", D(2015, 5, 6)),
            (21, 2001, "Oak", "Ana", "F", D(1985, 1, 2)),
            (22, 2002, "Pine", "Sam", "M", D(1979, 9, 9)),
        ]
    ],
    "Contact": [
        dict(personID=1001, email="mia.ash@example.org", secondaryEmail=None, workPhone=None),
        dict(personID=1002, email="leo.birch@example.org", secondaryEmail="leo@example.com",
             workPhone=None),
        dict(personID=2001, email="ana.oak@example.org", secondaryEmail=None,
             workPhone="573-555-0101"),
    ],
    "Enrollment": [
        dict(enrollmentID=eid, personID=person, calendarID=cal, structureID=cal * 10,
             grade=grade, serviceType=service, active=True, noShow=False, stateExclude=False,
             startDate=start, startStatus="E1", endDate=None, endStatus=None, endYear=year,
             districtID=1, residentDistrict="048078", residentSchool=None, residencyStatus="R",
             mealStatus="F",
             lep=None, title1=False, migrant=False, immigrant=False, homeless=None,
             fosterCare=False, giftedTalented=False, section504=person == 1001,
             specialEdStatus=None, disability1=None, percentEnrolled=Decimal("100.00"),
             cohortYear=None, gradYear=None, diplomaDate=None, diplomaType=None,
             enrollmentGUID=f"E{eid}", modifiedDate=M)
        for eid, person, cal, grade, service, start, year in [
            (5001, 1001, 100, "03", "P", D(2026, 8, 20), 2027),
            (5002, 1002, 200, "10", "P", D(2026, 8, 20), 2027),
            (5003, 1003, 90, "05", "P", D(2025, 8, 21), 2026),
            (5004, 1002, 200, "10", "S", D(2026, 9, 1), 2027),
        ]
    ],
    "AttendanceDay": [
        dict(personID=person, calendarID=cal, date=day, scheduledMinutes=390,
             presentMinutes=present, absentMinutes=390 - present, status=None if present else "A",
             excuse=None if present else "U", modifiedDate=M)
        for person, cal, day, present in [
            (1001, 100, D(2026, 8, 20), 390), (1001, 100, D(2026, 8, 21), 390),
            (1001, 100, D(2026, 8, 24), 0), (1002, 200, D(2026, 8, 20), 390),
            (1002, 200, D(2026, 8, 21), 195), (1002, 200, D(2026, 8, 24), 390),
            (1003, 90, D(2025, 8, 21), 390),
        ]
    ],
    "Course": [
        dict(courseID=300, calendarID=200, number="0401", name="English 10", stateCode="050102",
             active=True, homeroom=False, modifiedDate=M),
        dict(courseID=301, calendarID=100, number="HR3", name="Homeroom 3", stateCode=None,
             active=True, homeroom=True, modifiedDate=M),
        dict(courseID=290, calendarID=90, number="HR2", name="Homeroom 2", stateCode=None,
             active=True, homeroom=True, modifiedDate=M),
    ],
    "Trial": [dict(trialID=1, structureID=2000, calendarID=200, active=True),
              dict(trialID=2, structureID=2000, calendarID=200, active=False),
              dict(trialID=3, structureID=1000, calendarID=100, active=True),
              dict(trialID=4, structureID=900, calendarID=90, active=True)],
    "Room": [dict(roomID=1, name="B12"), dict(roomID=2, name="A3")],
    "Term": [dict(termID=10, termScheduleID=1, name="Q1", startDate=D(2026, 8, 20),
                  endDate=D(2026, 10, 16)),
             dict(termID=11, termScheduleID=1, name="Q2", startDate=D(2026, 10, 19),
                  endDate=D(2026, 12, 18))],
    "Section": [
        dict(sectionID=400, courseID=300, number="1", teacherPersonID=2001,
             teacherDisplay="Oak, Ana", roomID=1, trialID=1, modifiedDate=M),
        dict(sectionID=401, courseID=300, number="2", teacherPersonID=2001,
             teacherDisplay="Oak, Ana", roomID=1, trialID=2, modifiedDate=M),
        dict(sectionID=402, courseID=301, number="1", teacherPersonID=2002,
             teacherDisplay="Pine, Sam", roomID=2, trialID=3, modifiedDate=M),
        dict(sectionID=390, courseID=290, number="1", teacherPersonID=2002,
             teacherDisplay="Pine, Sam", roomID=2, trialID=4, modifiedDate=M),
    ],
    "SectionPlacement": [dict(sectionID=400, termID=10, periodID=1, trialID=1),
                         dict(sectionID=400, termID=11, periodID=1, trialID=1)],
    "Roster": [
        dict(rosterID=rid, personID=person, sectionID=sec, trialID=trial,
             startDate=D(2026, 8, 20), endDate=None, modifiedDate=M)
        for rid, person, sec, trial in [(600, 1002, 400, 1), (601, 1001, 402, 3),
                                        (602, 1002, 401, 2), (590, 1003, 390, 4)]
    ],
    "SectionStaffHistory": [
        dict(historyID=hid, sectionID=sec, personID=person, staffType="P", role="T",
             startDate=D(2026, 8, 20), endDate=None, trialID=trial, modifiedDate=M)
        for hid, sec, person, trial in [(700, 400, 2001, 1), (701, 402, 2002, 3),
                                        (702, 401, 2001, 2)]
    ],
    "Employment": [dict(employmentID=1, personID=2001, districtID=1, startDate=D(2010, 8, 1),
                        endDate=None),
                   dict(employmentID=2, personID=2002, districtID=1, startDate=D(2015, 8, 1),
                        endDate=None)],
    "EmploymentAssignment": [
        dict(assignmentID=800, personID=2001, schoolID=20, title="Teacher", teacher=True,
             positionCode="51", fte=Decimal("1.00"), startDate=D(2026, 8, 1), endDate=None,
             modifiedDate=M),
        dict(assignmentID=801, personID=2002, schoolID=10, title="Teacher", teacher=True,
             positionCode="51", fte=Decimal("0.50"), startDate=D(2026, 8, 1), endDate=None,
             modifiedDate=M),
    ],
    "BehaviorIncident": [
        dict(incidentID=900, calendarID=200, timestamp=dt.datetime(2026, 9, 10, 10, 15),
             location="Hallway", title="Fight in hallway", status="CM", modifiedDate=M),
        dict(incidentID=901, calendarID=90, timestamp=dt.datetime(2025, 9, 10, 9, 0),
             location="Bus", title="Old incident", status="CM", modifiedDate=M),
    ],
    "BehaviorEvent": [dict(eventID=910, incidentID=900, calendarID=200, typeID=1),
                      dict(eventID=911, incidentID=901, calendarID=90, typeID=1)],
    "BehaviorType": [dict(typeID=1, code="FIGHT", name="Fighting", stateCode="03")],
    "BehaviorRole": [dict(roleID=920, eventID=910, personID=1002, role="Offender"),
                     dict(roleID=921, eventID=910, personID=1001, role="Participant"),
                     dict(roleID=922, eventID=911, personID=1003, role="Offender")],
    "BehaviorResolution": [dict(resolutionID=930, roleID=920, typeID=1, personID=1002,
                                startDate=D(2026, 9, 11), endDate=D(2026, 9, 12),
                                schooldaysduration=Decimal("2.0"))],
    "BehaviorResType": [dict(typeID=1, code="OSS", name="Out-of-school suspension",
                             stateResCode="10")],
    "Test": [dict(testID=1, parentID=None, code="MAP", name="MAP Growth"),
             dict(testID=2, parentID=1, code="MAP-ELA", name="MAP Growth ELA")],
    "TestScore": [
        dict(scoreID=950, testID=2, personID=1001, date=D(2026, 9, 15),
             scaleScore=Decimal("188.0"), percentile=55, performanceLevel="Proficient",
             testingGrade="03", modifiedDate=M),
        dict(scoreID=951, testID=2, personID=1002, date=D(2026, 9, 15), scaleScore=None,
             percentile=None, performanceLevel=None, testingGrade="10", modifiedDate=M),
    ],
    "TranscriptCourse": [
        dict(transcriptID=960, personID=1002, grade="09", endYear=2026, courseNumber="0401",
             courseName="English 9", stateCode="050101", score="A", percent=Decimal("94.50"),
             date=D(2026, 5, 22), repeatCourse=False, actualTerm=4, modifiedDate=M),
        dict(transcriptID=961, personID=1002, grade="09", endYear=2026, courseNumber="0701",
             courseName="Algebra I", stateCode="020052", score="B", percent=Decimal("85.00"),
             date=D(2026, 5, 22), repeatCourse=False, actualTerm=4, modifiedDate=M),
    ],
    "TranscriptCredit": [
        dict(transcriptID=960, personID=1002, standardID=1, creditsEarned=Decimal("0.50"),
             creditsAttempted=Decimal("0.50")),
        dict(transcriptID=960, personID=1002, standardID=2, creditsEarned=Decimal("0.50"),
             creditsAttempted=Decimal("0.50")),
    ],
    "Lep": [dict(personID=1002, programStatus="EL", identifiedDate=D(2025, 9, 1), exitDate=None)],
    "Section504": [dict(personID=1001, startDate=D(2026, 9, 1), endDate=None)],
}

# What each entity's query returns from SEED.
EXPECTED_ROWS = {
    "schools": 2, "calendars": 2, "days": 6, "students": 3, "enrollments": 3, "attendance": 6,
    "courses": 2, "sections": 2, "rosters": 2, "section_staff": 2, "staff": 2,
    "district_assignments": 2, "behavior": 2, "test_scores": 2, "transcripts": 2,
    "english_learners": 1, "section504": 1,
}
# fmt: on


def build(url: str) -> None:
    """Create every table of `metadata` at `url` and load `SEED`."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            for table in metadata.sorted_tables:
                rows = SEED.get(table.name)
                if rows:
                    conn.execute(table.insert(), rows)
    finally:
        engine.dispose()


@dataclass
class CampusSource:
    """A built Campus database: its URL, and a writable engine for tests that change it."""

    kind: str
    url: str

    def execute(self, *statements: sa.Executable | str) -> None:
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                for statement in statements:
                    if isinstance(statement, str):
                        conn.exec_driver_sql(statement)
                    else:
                        conn.execute(statement)
        finally:
            engine.dispose()

    def table(self, name: str) -> sa.Table:
        return metadata.tables[name]


def file_template(kind: str, folder: Path) -> Path:
    """A built DuckDB or SQLite file to copy per test (building is the slow part)."""
    path = folder / f"campus.{kind}"
    build(f"{kind}:///{path}")
    return path


def file_source(kind: str, template: Path, folder: Path) -> CampusSource:
    path = folder / f"campus-{uuid.uuid4().hex[:8]}.{kind}"
    shutil.copyfile(template, path)
    return CampusSource(kind, f"{kind}:///{path}")


def pg_admin() -> sa.Engine | None:
    """An AUTOCOMMIT engine on PostgreSQL's admin database, or None when it is unreachable."""
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            return engine
    except sa.exc.OperationalError:
        engine.dispose()
        if os.environ.get("NEXUS_TEST_REQUIRE_PG"):
            raise
        return None


def pg_source(admin: sa.Engine) -> CampusSource:
    """A fresh, uniquely named PostgreSQL database built as Campus; drop it with `pg_drop`."""
    name = f"campus_src_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    source = CampusSource("postgresql", url.render_as_string(hide_password=False))
    build(source.url)
    return source


def pg_drop(admin: sa.Engine, source: CampusSource) -> None:
    name = sa.engine.make_url(source.url).database
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
