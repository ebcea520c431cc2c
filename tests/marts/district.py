"""A tiny hand-built district written straight into the canonical tables, so every indicator's
answer can be worked out by hand in the test that uses it (school year 2026-27)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import sqlalchemy as sa

from nexus.store.canonical_tables import (
    assessment_results,
    assessments,
    attendance_days,
    calendar_days,
    calendars,
    course_transcripts,
    courses,
    discipline_actions,
    discipline_incidents,
    discipline_offenses,
    employment_assignments,
    enrollments,
    graduation_facts,
    identities,
    people,
    program_participation,
    schools,
    section_enrollments,
    sections,
)
from nexus.store.tenants import find_tenant

YEAR = 2027
RACES = {
    "white": "race_white",
    "black": "race_black_african_american",
    "asian": "race_asian",
    "american_indian": "race_american_indian_alaska_native",
    "pacific_islander": "race_native_hawaiian_pacific_islander",
    # A source's "two or more races" that names none of them (Campus federal code 7).
    "two_or_more": "race_two_or_more",
}


class District:
    def __init__(
        self, conn: sa.Connection, tenant_code: str = "demo", run: int = 1, year: int = YEAR
    ) -> None:
        self.conn = conn
        self.year = year
        self.first_day = date(year - 1, 8, 20)
        self.tenant_id = find_tenant(conn, tenant_code).tenant_id
        self.run = run
        self._ids = itertools.count(1)
        self.schools: dict[str, tuple[int, int]] = {}
        self._day: dict[int, date] = {}

    def _lineage(self) -> dict:
        n = next(self._ids)
        return {
            "tenant_id": self.tenant_id,
            "key_scope": "test",
            "source_key": f"k{n}",
            "source_system_id": 1,
            "source_record_id": n,
            "ingestion_run_id": self.run,
            "row_hash": "h",
        }

    def school(self, code: str) -> int:
        """The school with this code (made on first use) and its calendar for the year."""
        school_id = self.conn.execute(
            sa.select(schools.c.school_id).where(
                schools.c.tenant_id == self.tenant_id, schools.c.school_code == code
            )
        ).scalar()
        if school_id is None:
            school_id = next(self._ids)
            self.conn.execute(
                schools.insert().values(
                    **self._lineage(), school_id=school_id, school_code=code, name=f"School {code}"
                )
            )
        calendar_id = next(self._ids)
        self.conn.execute(
            calendars.insert().values(
                **self._lineage(),
                calendar_id=calendar_id,
                school_id=school_id,
                school_year=self.year,
                start_date=self.first_day,
                end_date=date(self.year, 5, 28),
            )
        )
        self.schools[code] = (school_id, calendar_id)
        return school_id

    def student(self, race: str = "white", hispanic: bool = False, gender: str = "F") -> int:
        person_id = next(self._ids) + 100_000
        self.conn.execute(
            people.insert().values(
                tenant_id=self.tenant_id,
                person_id=person_id,
                person_kind="student",
                created_at=sa.func.now(),
            )
        )
        flags = {column: race == name for name, column in RACES.items()}
        self.conn.execute(
            identities.insert().values(
                **self._lineage(),
                person_kind="student",
                person_id=person_id,
                link_status="linked",
                legal_first_name="Test",
                legal_last_name=f"Student{person_id}",
                gender=gender,
                hispanic_latino=hispanic,
                **flags,
            )
        )
        return person_id

    def students(self, count: int, **kwargs) -> list[int]:
        return [self.student(**kwargs) for _ in range(count)]

    def enroll(
        self,
        person_id: int,
        code: str,
        grade: str,
        entry: date | None = None,
        exit: date | None = None,
        exit_code: str | None = None,
        entry_code: str = "R101",
    ) -> None:
        school_id, calendar_id = self.schools[code]
        self.conn.execute(
            enrollments.insert().values(
                **self._lineage(),
                enrollment_id=next(self._ids),
                person_id=person_id,
                school_id=school_id,
                calendar_id=calendar_id,
                school_year=self.year,
                grade_level=grade,
                entry_date=entry or self.first_day,
                entry_code=entry_code,
                exit_date=exit,
                exit_code=exit_code,
                service_type="P",
            )
        )

    def attend(self, person_id: int, code: str, days: list[tuple[int, int]]) -> None:
        """One attendance row per (present minutes, absent minutes), on consecutive dates."""
        _, calendar_id = self.schools[code]
        day = self._day.get(person_id, date(self.year - 1, 9, 1))
        rows = []
        for present, absent in days:
            rows.append(
                {
                    **self._lineage(),
                    "person_id": person_id,
                    "calendar_id": calendar_id,
                    "attendance_date": day,
                    "scheduled_minutes": present + absent,
                    "present_minutes": present,
                    "absent_minutes": absent,
                }
            )
            day += timedelta(days=1)
        self._day[person_id] = day
        self.conn.execute(attendance_days.insert(), rows)

    def attend_on(self, person_id: int, code: str, day: date, present: int, absent: int) -> None:
        self.conn.execute(
            attendance_days.insert().values(
                **self._lineage(),
                person_id=person_id,
                calendar_id=self.schools[code][1],
                attendance_date=day,
                scheduled_minutes=present + absent,
                present_minutes=present,
                absent_minutes=absent,
            )
        )

    def in_session(self, code: str, days: list[date]) -> None:
        self.conn.execute(
            calendar_days.insert(),
            [
                {
                    **self._lineage(),
                    "calendar_id": self.schools[code][1],
                    "calendar_date": day,
                    "in_session": True,
                    "attendance_day": True,
                    "instructional_minutes": 360,
                }
                for day in days
            ],
        )

    def program(
        self,
        person_id: int,
        program: str,
        status: str | None = None,
        begin: date | None = None,
        end: date | None = None,
    ) -> None:
        self.conn.execute(
            program_participation.insert().values(
                **self._lineage(),
                person_id=person_id,
                school_year=self.year,
                program=program,
                status_code=status,
                begin_date=begin or self.first_day,
                end_date=end,
            )
        )

    def section(self, code: str) -> int:
        school_id, calendar_id = self.schools[code]
        course_id, section_id = next(self._ids), next(self._ids)
        self.conn.execute(
            courses.insert().values(
                **self._lineage(),
                course_id=course_id,
                school_id=school_id,
                calendar_id=calendar_id,
                local_course_code=f"C{course_id}",
            )
        )
        self.conn.execute(
            sections.insert().values(**self._lineage(), section_id=section_id, course_id=course_id)
        )
        return section_id

    def schedule(
        self, person_id: int, section_id: int, start: date | None = None, end: date | None = None
    ) -> None:
        self.conn.execute(
            section_enrollments.insert().values(
                **self._lineage(),
                section_id=section_id,
                person_id=person_id,
                start_date=start or self.first_day,
                end_date=end,
            )
        )

    def transcript(self, person_id: int, attempted: float, earned: float) -> None:
        self.conn.execute(
            course_transcripts.insert().values(
                **self._lineage(),
                person_id=person_id,
                school_year=self.year,
                grade_level="10",
                local_course_code="C1",
                credits_attempted=attempted,
                credits_earned=earned,
            )
        )

    def incident(
        self,
        person_id: int,
        code: str,
        action: str,
        days: float,
        offense: str = "O",
        when: date = date(2026, 11, 3),
    ) -> None:
        school_id, calendar_id = self.schools[code]
        incident_id = next(self._ids)
        self.conn.execute(
            discipline_incidents.insert().values(
                **self._lineage(),
                incident_id=incident_id,
                school_id=school_id,
                calendar_id=calendar_id,
                incident_date=when,
            )
        )
        self.conn.execute(
            discipline_offenses.insert().values(
                **self._lineage(),
                incident_id=incident_id,
                person_id=person_id,
                role="offender",
                state_offense_code=offense,
            )
        )
        self.conn.execute(
            discipline_actions.insert().values(
                **self._lineage(),
                incident_id=incident_id,
                person_id=person_id,
                state_action_code=action,
                start_date=when,
                duration_days=days,
                state_reportable=True,
            )
        )

    def cohort(self, person_id: int, cohort_year: int = YEAR) -> None:
        self.conn.execute(
            graduation_facts.insert().values(
                **self._lineage(), person_id=person_id, cohort_year=cohort_year
            )
        )

    def test_result(self, person_id: int, code: str, level: str) -> None:
        found = self.conn.execute(
            sa.select(assessments.c.assessment_id).where(
                assessments.c.tenant_id == self.tenant_id, assessments.c.assessment_code == code
            )
        ).scalar()
        if found is None:
            found = next(self._ids)
            self.conn.execute(
                assessments.insert().values(
                    **self._lineage(), assessment_id=found, assessment_code=code
                )
            )
        self.conn.execute(
            assessment_results.insert().values(
                **self._lineage(),
                person_id=person_id,
                assessment_id=found,
                administration_date=date(2027, 4, 14),
                grade_when_assessed="05",
                performance_level=level,
                school_year=self.year,
            )
        )

    def educator(self, code: str, position: str = "60", fte: float = 1.0) -> int:
        person_id = next(self._ids) + 200_000
        self.conn.execute(
            employment_assignments.insert().values(
                **self._lineage(),
                person_id=person_id,
                school_id=self.schools[code][0],
                position_code=position,
                is_teacher=position == "60",
                fte=fte,
                start_date=self.first_day,
            )
        )
        return person_id
