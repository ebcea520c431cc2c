"""More hand-written Campus extract rows (synthetic people only): calendars, days, staff and
district assignments, beside `tests/canonical/campus_files.py`."""

from __future__ import annotations

from tests.canonical.campus_files import CALENDAR


def calendar(calendar_id: int, school_id: int, number: str, name: str, **extra: str) -> dict:
    row = {
        **CALENDAR,
        "calendar.calendarID": str(calendar_id),
        "calendar.schoolID": str(school_id),
        "school.number": number,
        "school.name": name,
        "calendar.name": f"2026-27 {name}",
    }
    row.update(extra)
    return row


def day(calendar_id: int, date: str, minutes: int | None, instruction: bool = True) -> dict:
    return {
        "day.calendarID": str(calendar_id),
        "day.date": date,
        "day.instruction": "1" if instruction else "0",
        "day.attendance": "1" if instruction else "0",
        "day.duration": "" if minutes is None else str(minutes),
        "day.comments": "",
    }


def staff(person_id: int, last: str, first: str, **extra: str) -> dict:
    row = {
        "staff.personID": str(person_id),
        "staff.staffNumber": f"S{person_id}",
        "staff.staffStateID": f"E{person_id:07d}",
        "staff.lastName": last,
        "staff.firstName": first,
        "staff.middleName": "",
        "staff.gender": "F",
        "staff.birthdate": "03/14/1980",
        "staff.raceEthnicityFed": "6",
        "staff.hispanicEthnicity": "N",
        "staff.email": f"{first.lower()}.{last.lower()}@staff.test.example",
    }
    row.update(extra)
    return row


def assignment(
    assignment_id: int,
    person_id: int,
    school_id: int,
    position: str,
    fte: str,
    start: str,
    end: str = "",
    **extra: str,
) -> dict:
    row = {
        "assignment.assignmentID": str(assignment_id),
        "assignment.personID": str(person_id),
        "assignment.schoolID": str(school_id),
        "assignment.title": "Teacher" if position == "60" else "Staff",
        "assignment.teacher": "1" if position == "60" else "0",
        "assignment.positionCode": position,
        "assignment.fte": fte,
        "assignment.startDate": start,
        "assignment.endDate": end,
    }
    row.update(extra)
    return row
