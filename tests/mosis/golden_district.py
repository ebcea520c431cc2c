"""A small hand-written district for the MOSIS golden-file tests (synthetic people only).

Tenant `demo` (048078), school 1050 (Campus school 10):
- calendar 1, the regular year 08/13/2026-05/18/2027, three school days written out
  (08/13, 08/14, 08/17/2026, 360 minutes each);
- calendar 3, summer school 2027 (06/07-07/02/2027, the summer that ends 2026-27), two days
  written out (06/07 and 06/08/2027, 240 minutes each), and one section (Summer Math, taught
  by Tess Teach, position 60).
Students (every enrollment residency status R1):
- 1 Maya Arden, grade 04, the whole year; summer school 2027 in grade 05 (present 240 + 120
  minutes, absent 120), rostered in Summer Math;
- 2 Noor Bell, Hispanic, grade 11: present 13 August (360 minutes), half of 14 August (180 /
  180), then leaves for Ridge R-II (048079), end status T002;
- 3 Ivy Cole, male, grade 11, the whole year: present 13 and 14 August, absent 17 August
  (unexcused); took the ASVAB on 02/10/2027 (AFQT 65).
Tenant `ridge` (048079) enrolls Noor Bell (same MOSIS ID) from 08/17/2026.
"""

from __future__ import annotations

from pathlib import Path

from nexus.canonical import map_run
from nexus.integration import ingest
from nexus.store.tenants import add_tenant
from tests.canonical.campus_files import enrollment as _enrollment
from tests.canonical.campus_files import student, write_extract
from tests.mosis.campus_more import assignment, calendar, day, staff
from tests.mosis.campus_rows import course, roster, section

RIDGE = "ridge"

SUMMER_2027 = {
    "calendar.name": "2027 Summer School",
    "calendar.startDate": "06/07/2027",
    "calendar.endDate": "07/02/2027",
    "calendar.summerSchool": "1",
}


def enrollment(enrollment_id: int, person_id: int, **extra: str) -> dict:
    """A resident's enrollment (residency status R1, the code vendors use for residents)."""
    return _enrollment(enrollment_id, person_id, **{"enrollment.residencyStatus": "R1", **extra})


def _attendance(person: int, calendar_id: int, date: str, present: int, absent: int) -> dict:
    return {
        "attendance.personID": str(person),
        "attendance.calendarID": str(calendar_id),
        "attendance.date": date,
        "attendance.scheduledMinutes": str(present + absent),
        "attendance.presentMinutes": str(present),
        "attendance.absentMinutes": str(absent),
        "attendance.status": "A" if absent else "P",
        "attendance.excuse": "U" if absent else "",
    }


def _run(store, tenant: str, folder: Path, entities: list[str]) -> None:
    run = ingest(store, tenant, "campus-extract", str(folder), options={"entities": entities})
    assert run.status == "succeeded", run.as_dict()
    assert map_run(store, tenant, run.run_id).status == "succeeded"


def build(store, tenant: str, folder: Path) -> None:
    """Ingest and map the district of the module docstring into `tenant` and `ridge`."""
    entities = write_extract(
        folder / "demo",
        calendars=[
            calendar(1, 10, "1050", "Test High"),
            calendar(3, 10, "1050", "Test High Summer 2027", **SUMMER_2027),
        ],
        days=[
            day(1, "08/13/2026", 360),
            day(1, "08/14/2026", 360),
            day(1, "08/17/2026", 360),
            day(3, "06/07/2027", 240),
            day(3, "06/08/2027", 240),
        ],
        students=[
            student(1, "Arden", "Maya"),
            student(2, "Bell", "Noor", **{"student.hispanicEthnicity": "Y"}),
            student(3, "Cole", "Ivy", **{"student.gender": "M"}),
        ],
        enrollments=[
            enrollment(1, 1, **{"enrollment.grade": "04"}),
            enrollment(
                12,
                1,
                **{
                    "enrollment.calendarID": "3",
                    "enrollment.grade": "05",
                    "enrollment.startDate": "06/07/2027",
                },
            ),
            enrollment(
                2,
                2,
                **{
                    "enrollment.grade": "11",
                    "enrollment.endDate": "08/14/2026",
                    "enrollment.endStatus": "T002",
                },
            ),
            enrollment(3, 3, **{"enrollment.grade": "11"}),
        ],
        attendance=[
            _attendance(1, 1, "08/13/2026", 360, 0),
            _attendance(1, 1, "08/14/2026", 360, 0),
            _attendance(1, 1, "08/17/2026", 360, 0),
            _attendance(1, 3, "06/07/2027", 240, 0),
            _attendance(1, 3, "06/08/2027", 120, 120),
            _attendance(2, 1, "08/13/2026", 360, 0),
            _attendance(2, 1, "08/14/2026", 180, 180),
            _attendance(3, 1, "08/13/2026", 360, 0),
            _attendance(3, 1, "08/14/2026", 360, 0),
            _attendance(3, 1, "08/17/2026", 0, 360),
        ],
        staff=[staff(900, "Teach", "Tess")],
        district_assignments=[assignment(90, 900, 10, "60", "1.0", "08/01/2026")],
        courses=[course(50, "SMATH", "Summer Math", **{"course.calendarID": "3"})],
        sections=[
            section(
                500,
                50,
                900,
                **{
                    "term.name": "Summer",
                    "term.startDate": "06/07/2027",
                    "term.endDate": "07/02/2027",
                },
            )
        ],
        rosters=[roster(5000, 1, 500, **{"roster.startDate": "06/07/2027"})],
        test_scores=[
            {
                "testScore.scoreID": "70",
                "testScore.personID": "3",
                "test.code": "ASVAB",
                "test.name": "Armed Services Vocational Aptitude Battery",
                "testScore.date": "02/10/2027",
                "testScore.scaleScore": "65",
                "testScore.percentile": "65",
                "testScore.performanceLevel": "II",
                "testScore.testingGrade": "11",
            }
        ],
    )
    _run(store, tenant, folder / "demo", entities)
    with store.engine.begin() as conn:
        add_tenant(conn, RIDGE, "Ridge R-II School District", "048079", "2900002")
    entities = write_extract(
        folder / "ridge",
        calendars=[calendar(1, 20, "4020", "Ridge High")],
        students=[student(2, "Bell", "Noor", **{"student.hispanicEthnicity": "Y"})],
        enrollments=[
            enrollment(
                2,
                2,
                **{"enrollment.grade": "11", "enrollment.startDate": "08/17/2026"},
            )
        ],
    )
    _run(store, RIDGE, folder / "ridge", entities)
