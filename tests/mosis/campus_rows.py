"""Hand-written Campus extract rows for the MOSIS course and discipline tests (synthetic people
only), beside `tests/canonical/campus_files.py` (calendar, student, enrollment rows)."""

from __future__ import annotations


def staff(person_id: int, last: str, first: str, **extra: str) -> dict:
    row = {
        "staff.personID": str(person_id),
        "staff.staffNumber": f"S{person_id:05d}",
        "staff.staffStateID": f"9{person_id:08d}",
        "staff.lastName": last,
        "staff.firstName": first,
        "staff.gender": "F",
        "staff.birthdate": "03/04/1985",
        "staff.raceEthnicityFed": "6",
        "staff.hispanicEthnicity": "N",
        "staff.email": f"{first.lower()}.{last.lower()}@staff.test.example",
    }
    row.update(extra)
    return row


def district_assignment(assignment_id: int, person_id: int, **extra: str) -> dict:
    row = {
        "assignment.assignmentID": str(assignment_id),
        "assignment.personID": str(person_id),
        "assignment.schoolID": "10",
        "assignment.title": "Teacher",
        "assignment.teacher": "1",
        "assignment.positionCode": "60",
        "assignment.fte": "1.0",
        "assignment.startDate": "08/01/2026",
    }
    row.update(extra)
    return row


def course(course_id: int, number: str, name: str, **extra: str) -> dict:
    row = {
        "course.courseID": str(course_id),
        "course.calendarID": "1",
        "course.number": number,
        "course.name": name,
        "course.stateCode": "",
        "course.active": "1",
        "course.homeroom": "0",
    }
    row.update(extra)
    return row


def section(section_id: int, course_id: int, teacher: int | None, **extra: str) -> dict:
    row = {
        "section.sectionID": str(section_id),
        "section.courseID": str(course_id),
        "section.number": "1",
        "section.teacherPersonID": "" if teacher is None else str(teacher),
        "room.name": "101",
        "term.name": "Year",
        "term.startDate": "08/13/2026",
        "term.endDate": "05/18/2027",
    }
    row.update(extra)
    return row


def roster(roster_id: int, person_id: int, section_id: int, **extra: str) -> dict:
    row = {
        "roster.rosterID": str(roster_id),
        "roster.personID": str(person_id),
        "roster.sectionID": str(section_id),
        "roster.startDate": "08/13/2026",
        "roster.endDate": "",
    }
    row.update(extra)
    return row


def transcript(transcript_id: int, person_id: int, **extra: str) -> dict:
    row = {
        "transcript.transcriptID": str(transcript_id),
        "transcript.personID": str(person_id),
        "transcript.endYear": "2027",
        "transcript.grade": "09",
        "transcript.courseNumber": "ENG9",
        "transcript.courseName": "English 9",
        "transcript.stateCode": "",
        "transcript.score": "A",
        "transcript.percent": "95",
        "transcript.creditsEarned": "1.0",
        "transcript.creditsAttempted": "1.0",
        "transcript.actualTerm": "S2",
        "transcript.date": "05/18/2027",
    }
    row.update(extra)
    return row


def behavior(
    role_id: int,
    resolution_id: int,
    incident_id: int,
    person_id: int,
    **extra: str,
) -> dict:
    """One Campus behavior row: a person's role in an incident with one resolution."""
    row = {
        "behavior.roleID": str(role_id),
        "behavior.resolutionID": str(resolution_id),
        "behavior.incidentID": str(incident_id),
        "behavior.eventID": str(incident_id),
        "behavior.personID": str(person_id),
        "behavior.calendarID": "1",
        "behavior.incidentDate": "10/05/2026",
        "behavior.location": "Hallway",
        "behavior.eventCode": "FIGHT",
        "behavior.stateEventCode": "N",
        "behavior.role": "Offender",
        "behavior.resolutionCode": "",
        "behavior.stateResCode": "",
        "behavior.resolutionStartDate": "",
        "behavior.resolutionEndDate": "",
        "behavior.duration": "",
    }
    row.update(extra)
    return row
