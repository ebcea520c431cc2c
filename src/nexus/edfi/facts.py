"""What the Ed-Fi rules read from the canonical model, as plain records, for one tenant and scope
year.

The rules (`transcripts.py`, `assessments.py`) take these records, never a database row, so
each rule is a function a test can call with a hand-made fact. This module is the only one that
reads `census` and `education`; it reads, never writes.

Where a seed names a Campus field the canonical model does not carry, the fact is still here,
with the value Nexus can give and a comment naming the gap (see docs/edfi.md, "Gaps").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from nexus.edfi.missouri import preferences
from nexus.store import canonical_tables as ct


@dataclass(frozen=True)
class School:
    school_id: int
    school_code: str | None  # DESE building code
    county_district_code: str | None
    name: str | None
    # Campus schoolID (canonical `local_code` carries it): "the highest schoolID" tie-break.
    local_code: str | None
    exclude: bool  # Campus School > Exclude = canonical schools.state_exclude


@dataclass(frozen=True)
class Calendar:
    calendar_id: int
    school_id: int | None
    school_year: int | None
    exclude: bool  # Campus Calendar > Exclude = canonical calendars.state_exclude
    summer_school: bool
    start_date: dt.date | None
    end_date: dt.date | None


@dataclass(frozen=True)
class Enrollment:
    enrollment_id: int
    person_id: int
    school_id: int | None
    calendar_id: int | None
    school_year: int | None
    grade_level: str | None
    entry_date: dt.date | None
    exit_date: dt.date | None
    service_type: str | None
    state_exclude: bool
    no_show: bool
    school_exclude: bool = False
    calendar_exclude: bool = False
    school_code: str | None = None


@dataclass(frozen=True)
class Person:
    person_id: int
    state_id: str | None  # MOSIS state id = Ed-Fi studentUniqueId
    first_name: str | None
    last_name: str | None
    birth_date: dt.date | None
    email: str | None


@dataclass(frozen=True)
class Course:
    course_id: int
    school_id: int | None
    school_year: int | None  # the year of the course's calendar
    local_course_code: str | None  # Campus Course Number
    state_course_code: str | None  # Campus Course > State Code
    name: str | None
    credit_level: str | None  # HS | MS; canonical courses.credit_level (no source fills it yet)
    active: bool
    homeroom: bool
    # Campus Course > State Exclude: not in the canonical model (gap); False.
    state_exclude: bool = False
    # Campus Course > Assessment Subject: from preferences.yaml by state course code (gap).
    assessment_subject: str | None = None


@dataclass(frozen=True)
class Section:
    section_id: int
    course_id: int
    term_name: str | None  # Section > Course Time Unit (Campus term name)
    term_start: dt.date | None
    term_end: dt.date | None
    room: str | None
    primary_educator_id: int | None


@dataclass(frozen=True)
class Roster:
    section_id: int
    person_id: int
    start_date: dt.date | None
    end_date: dt.date | None


@dataclass(frozen=True)
class SectionEducator:
    section_id: int
    person_id: int
    role: str | None  # primary | secondary | aide
    start_date: dt.date | None
    end_date: dt.date | None


@dataclass(frozen=True)
class Transcript:
    key: str  # key_scope/source_key of the canonical row (Campus transcriptID)
    person_id: int
    school_year: int | None
    grade_level: str | None
    local_course_code: str | None
    state_course_code: str | None
    course_name: str | None
    mark: str | None  # the transcript score
    credits_attempted: Decimal | None
    credits_earned: Decimal | None
    term: str | None
    # Campus transcriptcourse.schoolNumber: not in canonical course_transcripts (gap); None,
    # so the course ladder starts at "School Number not in the ODS".
    school_code: str | None = None
    # Campus transcriptcredit Credit Type: not in the canonical model (gap); None -> NA.
    credit_type: str | None = None


@dataclass(frozen=True)
class AssessmentResult:
    key: str
    person_id: int
    assessment_code: str | None
    assessment_name: str | None
    subject: str | None
    administration_date: dt.date | None
    grade_when_assessed: str | None
    scale_score: Decimal | None
    percentile: Decimal | None
    # The Campus Test Score "Result" field (EOCEX2/3/4 for an EOC exception).
    result: str | None


@dataclass(frozen=True)
class ProgramSpell:
    person_id: int
    program: str
    status_code: str | None
    begin_date: dt.date | None
    end_date: dt.date | None


@dataclass
class Facts:
    """Everything the Ed-Fi builders read for one tenant and scope year."""

    school_year: int
    district_code: str | None  # the tenant's county-district code (Reporting District Code)
    district_name: str | None
    year_start: dt.date
    year_end: dt.date
    schools: dict[int, School] = field(default_factory=dict)
    calendars: dict[int, Calendar] = field(default_factory=dict)
    enrollments: dict[int, list[Enrollment]] = field(default_factory=dict)  # by person
    people: dict[int, Person] = field(default_factory=dict)
    courses: dict[int, Course] = field(default_factory=dict)
    sections: dict[int, Section] = field(default_factory=dict)
    rosters: dict[int, list[Roster]] = field(default_factory=dict)  # by person
    section_educators: dict[int, list[SectionEducator]] = field(default_factory=dict)
    transcripts: list[Transcript] = field(default_factory=list)
    assessment_results: list[AssessmentResult] = field(default_factory=list)
    programs: dict[int, list[ProgramSpell]] = field(default_factory=dict)  # by person

    def year_enrollments(self, person_id: int, year: int | None = None) -> list[Enrollment]:
        year = self.school_year if year is None else year
        return [e for e in self.enrollments.get(person_id, []) if e.school_year == year]


def _b(value) -> bool:
    return bool(value) if value is not None else False


def load_facts(
    conn: sa.Connection,
    tenant_id: int,
    school_year: int,
    district_code: str | None,
    district_name: str | None = None,
) -> Facts:
    """Read the canonical rows the Ed-Fi resources of `school_year` are built from."""
    t = tenant_id
    schools = {
        r.school_id: School(
            r.school_id,
            r.school_code,
            r.county_district_code,
            r.name,
            r.local_code,
            _b(r.state_exclude),
        )
        for r in conn.execute(sa.select(ct.schools).where(ct.schools.c.tenant_id == t))
    }
    calendars = {
        r.calendar_id: Calendar(
            r.calendar_id,
            r.school_id,
            r.school_year,
            _b(r.state_exclude),
            _b(r.summer_school),
            r.start_date,
            r.end_date,
        )
        for r in conn.execute(sa.select(ct.calendars).where(ct.calendars.c.tenant_id == t))
    }
    year_cals = [c for c in calendars.values() if c.school_year == school_year]
    starts = [c.start_date for c in year_cals if c.start_date]
    ends = [c.end_date for c in year_cals if c.end_date]
    facts = Facts(
        school_year=school_year,
        district_code=district_code,
        district_name=district_name,
        year_start=min(starts) if starts else dt.date(school_year - 1, 7, 1),
        year_end=max(ends) if ends else dt.date(school_year, 6, 30),
        schools=schools,
        calendars=calendars,
    )
    e = ct.enrollments
    for r in conn.execute(sa.select(e).where(e.c.tenant_id == t)):
        if r.person_id is None:
            continue
        school_id = r.school_id
        cal = calendars.get(r.calendar_id)
        if school_id is None and cal is not None:
            school_id = cal.school_id
        school = schools.get(school_id)
        facts.enrollments.setdefault(r.person_id, []).append(
            Enrollment(
                r.enrollment_id,
                r.person_id,
                school_id,
                r.calendar_id,
                r.school_year if r.school_year is not None else (cal and cal.school_year),
                r.grade_level,
                r.entry_date,
                r.exit_date,
                r.service_type,
                _b(r.state_exclude),
                _b(r.no_show),
                school_exclude=school.exclude if school else False,
                calendar_exclude=cal.exclude if cal else False,
                school_code=school.school_code if school else None,
            )
        )
    _load_people(conn, t, facts)
    subjects = preferences().get("course_assessment_subjects", {})
    for r in conn.execute(sa.select(ct.courses).where(ct.courses.c.tenant_id == t)):
        cal = calendars.get(r.calendar_id)
        facts.courses[r.course_id] = Course(
            r.course_id,
            r.school_id,
            cal.school_year if cal else None,
            r.local_course_code,
            r.state_course_code,
            r.name,
            r.credit_level,
            True if r.active is None else bool(r.active),
            _b(r.homeroom),
            assessment_subject=subjects.get(r.state_course_code or ""),
        )
    for r in conn.execute(sa.select(ct.sections).where(ct.sections.c.tenant_id == t)):
        facts.sections[r.section_id] = Section(
            r.section_id,
            r.course_id,
            r.term_name,
            r.term_start_date,
            r.term_end_date,
            r.room,
            r.primary_educator_id,
        )
    se = ct.section_enrollments
    for r in conn.execute(sa.select(se).where(se.c.tenant_id == t)):
        facts.rosters.setdefault(r.person_id, []).append(
            Roster(r.section_id, r.person_id, r.start_date, r.end_date)
        )
    sed = ct.section_educators
    for r in conn.execute(sa.select(sed).where(sed.c.tenant_id == t)):
        facts.section_educators.setdefault(r.section_id, []).append(
            SectionEducator(r.section_id, r.person_id, r.role, r.start_date, r.end_date)
        )
    tr = ct.course_transcripts
    for r in conn.execute(
        sa.select(tr).where(tr.c.tenant_id == t).order_by(tr.c.key_scope, tr.c.source_key)
    ):
        if r.person_id is None:
            continue
        facts.transcripts.append(
            Transcript(
                f"{r.key_scope}/{r.source_key}",
                r.person_id,
                r.school_year,
                r.grade_level,
                r.local_course_code,
                r.state_course_code,
                r.course_name,
                r.mark,
                r.credits_attempted,
                r.credits_earned,
                r.term,
            )
        )
    a, ar = ct.assessments, ct.assessment_results
    query = (
        sa.select(ar, a.c.assessment_code, a.c.name.label("assessment_name"), a.c.subject)
        .select_from(
            ar.join(
                a, (a.c.tenant_id == ar.c.tenant_id) & (a.c.assessment_id == ar.c.assessment_id)
            )
        )
        .where(ar.c.tenant_id == t)
        .order_by(ar.c.key_scope, ar.c.source_key)
    )
    for r in conn.execute(query):
        if r.person_id is None:
            continue
        facts.assessment_results.append(
            AssessmentResult(
                f"{r.key_scope}/{r.source_key}",
                r.person_id,
                r.assessment_code,
                r.assessment_name,
                r.subject,
                r.administration_date,
                r.grade_when_assessed,
                r.scale_score,
                r.percentile,
                r.performance_level,
            )
        )
    pp = ct.program_participation
    for r in conn.execute(
        sa.select(pp).where(pp.c.tenant_id == t, pp.c.program == "english_learner")
    ):
        facts.programs.setdefault(r.person_id, []).append(
            ProgramSpell(r.person_id, r.program, r.status_code, r.begin_date, r.end_date)
        )
    return facts


def _load_people(conn: sa.Connection, tenant_id: int, facts: Facts) -> None:
    ids = ct.person_identifiers
    idents = ct.identities
    state_ids: dict[int, str] = {}
    emails: dict[int, str] = {}
    # Identifiers are keyed by the source person record; identities link them to people.
    link = {
        (r.key_scope, r.person_kind, r.source_key): r.person_id
        for r in conn.execute(
            sa.select(
                idents.c.key_scope, idents.c.person_kind, idents.c.source_key, idents.c.person_id
            ).where(idents.c.tenant_id == tenant_id, idents.c.person_id.is_not(None))
        )
    }
    for r in conn.execute(
        sa.select(
            ids.c.key_scope,
            ids.c.person_kind,
            ids.c.source_key,
            ids.c.identifier_type,
            ids.c.value,
        )
        .where(
            ids.c.tenant_id == tenant_id,
            ids.c.valid_to_run.is_(None),
            ids.c.identifier_type.in_(("mosis_state_id", "email")),
        )
        .order_by(ids.c.value)
    ):
        person_id = link.get((r.key_scope, r.person_kind, r.source_key))
        if person_id is None:
            continue
        target = state_ids if r.identifier_type == "mosis_state_id" else emails
        target.setdefault(person_id, r.value)
    names: dict[int, tuple] = defaultdict(tuple)
    for r in conn.execute(
        sa.select(
            idents.c.person_id,
            idents.c.legal_first_name,
            idents.c.legal_last_name,
            idents.c.birth_date,
        )
        .where(idents.c.tenant_id == tenant_id, idents.c.person_id.is_not(None))
        .order_by(idents.c.key_scope, idents.c.source_key)
    ):
        if not names[r.person_id]:
            names[r.person_id] = (r.legal_first_name, r.legal_last_name, r.birth_date)
    for person_id, (first, last, birth) in names.items():
        facts.people[person_id] = Person(
            person_id, state_ids.get(person_id), first, last, birth, emails.get(person_id)
        )
