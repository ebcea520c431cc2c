"""Tiny hand-written Campus extract files for the canonical tests (synthetic people only)."""

from __future__ import annotations

import csv
from pathlib import Path

from nexus.integration.connectors.campus_extract import presets

CALENDAR = {
    "calendar.calendarID": "1",
    "calendar.schoolID": "10",
    "school.number": "1050",
    "school.name": "Test High School",
    "calendar.endYear": "2027",
    "calendar.name": "2026-27 Test High",
    "calendar.startDate": "08/13/2026",
    "calendar.endDate": "05/18/2027",
    "calendar.exclude": "0",
    "calendar.summerSchool": "0",
}


def student(person_id: int, last: str, first: str, **extra: str) -> dict:
    row = {
        "student.personID": str(person_id),
        "student.stateID": f"10000000{person_id:02d}",
        "student.studentNumber": f"0{person_id:06d}",
        "student.lastName": last,
        "student.firstName": first,
        "student.gender": "F",
        "student.birthdate": "04/02/2011",
        "student.raceEthnicityFed": "6",
        "student.hispanicEthnicity": "N",
        "student.email": f"{first.lower()}.{last.lower()}@students.test.example",
    }
    row.update(extra)
    return row


def enrollment(enrollment_id: int, person_id: int, **extra: str) -> dict:
    row = {
        "enrollment.enrollmentID": str(enrollment_id),
        "enrollment.personID": str(person_id),
        "enrollment.calendarID": "1",
        "enrollment.grade": "09",
        "enrollment.serviceType": "P",
        "enrollment.startDate": "08/13/2026",
        "enrollment.startStatus": "E100",
        "enrollment.noShow": "0",
        "enrollment.stateExclude": "0",
        "enrollment.mealStatus": "N",
        "enrollment.lep": "NLP",
        "enrollment.homeless": "N",
        "enrollment.specialEdStatus": "N",
        "enrollment.percentEnrolled": "100",
    }
    row.update(extra)
    return row


def write_extract(folder: Path, **entities: list[dict]) -> list[str]:
    """Write one CSV per entity (headers from the Campus presets); returns the entity names."""
    folder.mkdir(parents=True, exist_ok=True)
    by_name = {p.entity: p for p in presets()}
    for entity, rows in entities.items():
        preset = by_name[entity]
        with (folder / preset.file).open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(preset.columns))
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
    return list(entities)
