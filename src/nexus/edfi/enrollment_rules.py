"""Enrollment rules both Missouri resources share: the reporting priority, activity on a date,
the exclusions, and the Ed-Fi grade level."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from nexus.edfi.facts import Enrollment

_SERVICE_PRIORITY = {"P": 0, "S": 1, "N": 2}

GRADE_LEVELS = {
    "PK": "Preschool/Prekindergarten",
    "K": "Kindergarten",
    "01": "First grade",
    "02": "Second grade",
    "03": "Third grade",
    "04": "Fourth grade",
    "05": "Fifth grade",
    "06": "Sixth grade",
    "07": "Seventh grade",
    "08": "Eighth grade",
    "09": "Ninth grade",
    "10": "Tenth grade",
    "11": "Eleventh grade",
    "12": "Twelfth grade",
}


def priority_enrollment(enrollments: Iterable[Enrollment]) -> Enrollment | None:
    """The "typical priority list" of seed 004: service type Primary, Partial, Special
    Education (P, S, N), then the latest start date, then the highest enrollment id."""
    candidates = list(enrollments)
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda e: (
            _SERVICE_PRIORITY.get((e.service_type or "").upper(), 3),
            -(e.entry_date.toordinal() if e.entry_date else 0),
            -e.enrollment_id,
        ),
    )


def active_on(enrollment: Enrollment, day: dt.date) -> bool:
    """Enrolled on `day`: started on or before it and not ended before it."""
    if enrollment.entry_date is None or enrollment.entry_date > day:
        return False
    return enrollment.exit_date is None or enrollment.exit_date >= day


def exclusion(enrollment: Enrollment) -> str | None:
    """Why an enrollment may not report (state exclude, no show, calendar or school Exclude)."""
    if enrollment.state_exclude:
        return "enrollment_state_exclude"
    if enrollment.no_show:
        return "enrollment_no_show"
    if enrollment.calendar_exclude:
        return "calendar_exclude"
    if enrollment.school_exclude:
        return "school_exclude"
    return None


def grade_level_descriptor(grade_level: str | None) -> str | None:
    """The Ed-Fi GradeLevelDescriptor for a canonical grade (PK, K, 01-12)."""
    name = GRADE_LEVELS.get((grade_level or "").upper())
    return f"uri://ed-fi.org/GradeLevelDescriptor#{name}" if name else None
