"""studentAssessments for Missouri v3.6 (seed 004): every rule a named function, and the builder
that applies them to the canonical facts of a scope year.

Two kinds of records, as in Campus:
- from a student's test scores (Student Information > Assessment > Test Scores = canonical
  assessment_results): ASVAB (National Code ASVAB) with its parts as objective assessments, and
  EOC exceptions (the score's Result field EOCEX2/3/4 = canonical performance_level);
- from a student's course sections (Assessment Precode): EOCFAL / EOCSPR / EOCSUM, LEPELL and
  MAPSPR, by the section's Assessment Type and the course's Assessment Subject.
Campus names and the canonical field carrying the fact: Enrollment Service Type ->
enrollments.service_type; State Exclude / No Show -> enrollments.state_exclude / no_show;
Calendar / School Exclude -> calendars / schools.state_exclude; Enrollments > Grade ->
enrollments.grade_level; Test Score Date -> assessment_results.administration_date; Section
end date -> sections.term_end_date; roster end date -> section_enrollments.end_date; Staff
History > Primary Teacher -> section_educators (role primary) else sections.primary_educator_id;
Primary teacher's Current Identity names -> census.identities; e-mail -> person_identifiers
(email); Section room -> sections.room; Course homeroom flag -> courses.homeroom; EL record ->
program_participation (english_learner).
Missing from the canonical model (gaps, docs/edfi.md): the section's Assessment Type (derived
here by `section_assessment_type`), the course's Assessment Subject (preferences.yaml by state
course code), Section Schedule Placement (period), Test Method (platform), the Map-A flag, the
student's MAP Sort (a district setting in preferences.yaml), the ASVAB Score Type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nexus.edfi import edorgs
from nexus.edfi.enrollment_rules import (
    active_on,
    exclusion,
    grade_level_descriptor,
    priority_enrollment,
)
from nexus.edfi.extension import student_assessment_extension
from nexus.edfi.facts import AssessmentResult, Enrollment, Facts, ProgramSpell, SectionEducator
from nexus.edfi.missouri import dese, edfi, preferences
from nexus.edfi.records import Record

RESOURCE = "studentAssessments"
EOC_EXCEPTION_TYPES = ("EOCEX2", "EOCEX3", "EOCEX4")
EOC_SECTION_TYPES = ("EOCFAL", "EOCSPR", "EOCSUM")
EOC_EXCEPTION_SUBJECTS = ("ENGLI2", "ALGEB1", "BIOLO1", "AMGOV1")
MAP_SUBJECTS = ("MATH", "ELA", "SC")
# Seed 004 lists each namespace; EOCSUM's is not listed (UNVERIFIED: same pattern).
NAMESPACES = {
    t: f"uri://dese.mo.gov/{t}"
    for t in ("ASVAB", *EOC_EXCEPTION_TYPES, *EOC_SECTION_TYPES, "LEPELL", "MAPSPR")
}
ADMINISTRATOR_TYPES = (*EOC_SECTION_TYPES, "LEPELL", "MAPSPR")
PERIOD_REQUIRED_TYPES = (*EOC_SECTION_TYPES, "MAPSPR")
MISSOURI_TIME = ZoneInfo("America/Chicago")


# --- which records send -------------------------------------------------------------------------


def in_scope_year(day: dt.date | None, year_start: dt.date, year_end: dt.date) -> bool:
    """ "Test Date must occur within the Scope Year" (the configured year's start and end)."""
    return day is not None and year_start <= day <= year_end


def assessment_enrollment(enrollments: Iterable[Enrollment], day: dt.date) -> Enrollment | None:
    """The enrollment a record reports on: active on the assessment date; when several overlap,
    by service type P, S, N (then latest start, highest id); a single one whatever its type."""
    return priority_enrollment(e for e in enrollments if active_on(e, day))


def enrollment_blocks(enrollment: Enrollment | None) -> str | None:
    """Why no record sends for this enrollment: none active, State Exclude, No Show, an
    excluded calendar or an excluded school."""
    if enrollment is None:
        return "no_active_enrollment"
    return exclusion(enrollment)


# --- assessment identifier and namespace --------------------------------------------------------


def assessment_identifier(kind: str, subject: str | None, edorg_id: int | None) -> str:
    """Type-Subject-EdOrgID (ASVAB-26006, EOCFAL-ENGLI2-26006); no subject for ASVAB, LEPELL."""
    parts = [kind] + ([subject] if subject and kind not in ("ASVAB", "LEPELL") else [])
    return "-".join([*parts, str(edorg_id)])


def assessment_namespace(kind: str) -> str:
    """The hard-coded namespace of each assessment type (uri://dese.mo.gov/<TYPE>)."""
    return NAMESPACES[kind]


def is_asvab(assessment_code: str | None, national_codes: Iterable[str]) -> bool:
    """ASVAB: a Test Score whose test has the National Code ASVAB."""
    return (assessment_code or "").upper() in {c.upper() for c in national_codes}


@dataclass(frozen=True)
class EocException:
    kind: str  # EOCEX2 | EOCEX3 | EOCEX4
    subject: str
    result: AssessmentResult


def eoc_exception_subject(
    result: AssessmentResult, dictionary_state_code: str | None, subjects: Mapping[str, str]
) -> str | None:
    """The subject of an EOC exception: the test type's Dictionary Detail state code when
    entered, else the test's subject mapped to ENGLI2, ALGEB1, BIOLO1 or AMGOV1."""
    if dictionary_state_code in EOC_EXCEPTION_SUBJECTS:
        return dictionary_state_code
    mapped = subjects.get((result.assessment_code or "").upper())
    return mapped if mapped in EOC_EXCEPTION_SUBJECTS else None


def eoc_exceptions(
    results: Iterable[AssessmentResult], map_a: bool, subjects: Mapping[str, str]
) -> list[EocException]:
    """One EOC exception per subject for a student: EOCEX2/3/4 from the Result field; with
    Map-A checked, each of the four subjects; more than one for a subject -> the most recent."""
    best: dict[str, EocException] = {}
    for r in results:
        kind = (r.result or "").strip().upper()
        if kind not in EOC_EXCEPTION_TYPES:
            continue
        if map_a:
            found = list(EOC_EXCEPTION_SUBJECTS)
        else:
            subject = eoc_exception_subject(r, None, subjects)
            found = [subject] if subject else []
        for subject in found:
            current = best.get(subject)
            key = (r.administration_date or dt.date.min, r.key)
            if current is None or key > (
                current.result.administration_date or dt.date.min,
                current.result.key,
            ):
                best[subject] = EocException(kind, subject, r)
    return [best[s] for s in sorted(best)]


def section_assessment_type(
    course_subject: str | None,
    term_end: dt.date | None,
    summer_school: bool,
    english_learner: bool,
) -> str | None:
    """The section's Assessment Type. Campus keeps it on the section; the canonical model does
    not, so Nexus derives it: MAP subjects -> MAPSPR; LEP/ELL -> LEPELL (for an EL student);
    an EOC subject -> EOCSUM in a summer calendar, EOCFAL when the section ends by January,
    else EOCSPR."""
    if course_subject in MAP_SUBJECTS:
        return "MAPSPR"
    if course_subject == "LEP/ELL":
        return "LEPELL" if english_learner else None
    if not course_subject:
        return None
    if summer_school:
        return "EOCSUM"
    if term_end is not None and term_end.month in (8, 9, 10, 11, 12, 1):
        return "EOCFAL"
    return "EOCSPR"


def english_learner_in_year(
    spells: Iterable[ProgramSpell], year_start: dt.date, year_end: dt.date
) -> bool:
    """LEPELL needs an EL record with status LEP or Pending, or Exited within the current
    year (canonical english_learner status active / pending / exited)."""
    for s in spells:
        status = (s.status_code or "").lower()
        if status in ("active", "lep", "pending"):
            return True
        if status == "exited" and s.end_date is not None and year_start <= s.end_date <= year_end:
            return True
    return False


# --- fields -------------------------------------------------------------------------------------


def administration_date_for_test(test_date: dt.date) -> dt.date:
    """Tests through Test Setup: the date the assessment was taken."""
    return test_date


def administration_date_for_section(
    section_end: dt.date | None, roster_end: dt.date | None
) -> dt.date | None:
    """Assessments through a course section: the section end date, unless the student has a
    roster end date."""
    return roster_end if roster_end is not None else section_end


def administration_datetime(day: dt.date) -> str:
    """ISO-8601 with the Missouri offset (administrationDate is a date-time in Ed-Fi)."""
    return dt.datetime.combine(day, dt.time(0), MISSOURI_TIME).isoformat()


def student_assessment_identifier(state_id: str, identifier: str, school_year: int) -> str:
    """StudentUniqueId + AssessmentIdentifier + SchoolYear (seed 004's example)."""
    return f"{state_id}-{identifier}-{school_year}"


def when_assessed_grade(enrollments: Iterable[Enrollment]) -> str | None:
    """The grade of the enrollment by the usual priority (P/S/N, latest start, highest id)."""
    chosen = priority_enrollment(enrollments)
    return grade_level_descriptor(chosen.grade_level) if chosen else None


@dataclass(frozen=True)
class Administrator:
    first_name: str | None
    last_name: str | None
    email: str | None


def primary_teacher(
    educators: Iterable[SectionEducator], as_of: dt.date, fallback: int | None
) -> int | None:
    """The most recent active primary teacher of the section as of a date (Staff History),
    else the section's own primary teacher."""
    active = [
        e
        for e in educators
        if (e.role or "").lower() == "primary"
        and (e.start_date is None or e.start_date <= as_of)
        and (e.end_date is None or e.end_date >= as_of)
    ]
    if active:
        return max(active, key=lambda e: (e.start_date or dt.date.min, e.person_id)).person_id
    return fallback


def administrator(
    kind: str,
    course_subject: str | None,
    first_name: str | None,
    last_name: str | None,
    email: str | None,
) -> Administrator | None:
    """administratorFirstName / LastName / electronicMail: the primary teacher for EOCFAL,
    EOCSUM, EOCSPR, LEPELL and MAPSPR (MAPSPR only for ELA, LEP/ELL, MATH, SC courses); a blank
    name is not reported; the e-mail only when both names report. Never for EOC exceptions or
    ASVAB."""
    if kind not in ADMINISTRATOR_TYPES:
        return None
    if kind == "MAPSPR" and course_subject not in ("ELA", "LEP/ELL", "MATH", "SC"):
        return None
    first = (first_name or "").strip() or None
    last = (last_name or "").strip() or None
    mail = ((email or "").strip() or None) if first and last else None
    if not (first or last):
        return None
    return Administrator(first, last, mail)


def map_sort(
    kind: str, setting: str, room: str | None, homeroom: bool, teacher_last_name: str | None
) -> str | None:
    """sort, MAPSPR only: "1: Room Number" -> the section's room; "2: Homeroom teacher" -> the
    primary teacher's last name when the section or its course is a homeroom."""
    if kind != "MAPSPR":
        return None
    if setting == "room":
        return (room or "").strip() or None
    if setting == "homeroom" and homeroom:
        return (teacher_last_name or "").strip() or None
    return None


def asvab_objectives(
    parent: AssessmentResult,
    parts: Iterable[AssessmentResult],
    asvab_prefs: Mapping,
    identifier: str,
) -> list[dict]:
    """studentObjectiveAssessments for ASVAB: each part's name as identificationCode under the
    parent's identifier and uri://dese.mo.gov/ASVAB, with a "Number score" result of the
    ASVAB Score Type and the Grade Standard Score; the parent's percentile as the AFQT."""
    out = []
    named = asvab_prefs["parts"]
    scored = [
        (named[p.assessment_code.upper()], p.scale_score)
        for p in parts
        if (p.assessment_code or "").upper() in named and p.scale_score is not None
    ]
    if parent.percentile is not None:
        scored.append((asvab_prefs["afqt"], parent.percentile))
    for spec, value in sorted(scored, key=lambda x: x[0]["name"]):
        out.append(
            {
                "objectiveAssessmentReference": {
                    "assessmentIdentifier": identifier,
                    "identificationCode": spec["name"],
                    "namespace": assessment_namespace("ASVAB"),
                },
                "scoreResults": [
                    {
                        "assessmentReportingMethodDescriptor": edfi(
                            "AssessmentReportingMethodDescriptor", "Number score"
                        ),
                        "resultDatatypeTypeDescriptor": edfi(
                            "ResultDatatypeTypeDescriptor", spec["score_type"]
                        ),
                        "result": _score_text(value),
                    }
                ],
            }
        )
    return out


def _score_text(value) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- the builder --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentUse:
    """An assessment a student record references: the assessments resource to build."""

    kind: str
    subject: str | None
    identifier: str
    namespace: str


class AssessmentBuilder:
    def __init__(self, facts: Facts, prefs: Mapping | None = None):
        self.facts = facts
        self.prefs = prefs or preferences()
        self.skipped: dict[str, int] = {}
        self.used: dict[tuple[str, str], AssessmentUse] = {}
        self.objectives: set[tuple[str, str]] = set()
        self.lea = edorgs.lea_id(facts.district_code)

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def _use(self, kind: str, subject: str | None) -> AssessmentUse:
        identifier = assessment_identifier(kind, subject, self.lea)
        use = AssessmentUse(kind, subject, identifier, assessment_namespace(kind))
        self.used.setdefault((identifier, use.namespace), use)
        return use

    def _reporting(self, person_id: int, day: dt.date | None) -> Enrollment | None:
        f = self.facts
        if not in_scope_year(day, f.year_start, f.year_end):
            self._skip("date_outside_scope_year")
            return None
        chosen = assessment_enrollment(f.year_enrollments(person_id), day)
        if reason := enrollment_blocks(chosen):
            self._skip(reason)
            return None
        return chosen

    def build(self) -> list[Record]:
        records = self._from_test_scores() + self._from_sections()
        return sorted(records, key=lambda r: r.record_key)

    def _from_test_scores(self) -> list[Record]:
        f = self.facts
        asvab = self.prefs["asvab"]
        parts_by: dict[tuple[int, dt.date | None], list[AssessmentResult]] = {}
        for r in f.assessment_results:
            if (r.assessment_code or "").upper() in asvab["parts"]:
                parts_by.setdefault((r.person_id, r.administration_date), []).append(r)
        records: list[Record] = []
        by_person: dict[int, list[AssessmentResult]] = {}
        for r in f.assessment_results:
            code = (r.assessment_code or "").upper()
            if code in asvab["parts"]:
                continue  # a part of an ASVAB, sent inside its parent
            if is_asvab(code, asvab["national_codes"]):
                enrollment = self._reporting(r.person_id, r.administration_date)
                if enrollment is None:
                    continue
                use = self._use("ASVAB", None)
                record = self._record(
                    r.key,
                    "ASVAB",
                    None,
                    use,
                    r.person_id,
                    enrollment,
                    administration_date_for_test(r.administration_date),
                )
                objectives = asvab_objectives(
                    r,
                    parts_by.get((r.person_id, r.administration_date), []),
                    asvab,
                    use.identifier,
                )
                if objectives:
                    record.payload["studentObjectiveAssessments"] = objectives
                    for o in objectives:
                        ref = o["objectiveAssessmentReference"]
                        self.objectives.add((use.identifier, ref["identificationCode"]))
                records.append(record)
            elif (r.result or "").strip().upper() in EOC_EXCEPTION_TYPES:
                by_person.setdefault(r.person_id, []).append(r)
            else:
                self._skip("not_a_missouri_v36_assessment")
        for person_id, results in sorted(by_person.items()):
            # Map-A (Enrollments > Special Ed Fields) is not in the canonical model: False.
            for exc in eoc_exceptions(results, False, self.prefs["eoc_exception_subjects"]):
                enrollment = self._reporting(person_id, exc.result.administration_date)
                if enrollment is None:
                    continue
                use = self._use(exc.kind, exc.subject)
                records.append(
                    self._record(
                        f"eocex/{person_id}/{exc.subject}",
                        exc.kind,
                        exc.subject,
                        use,
                        person_id,
                        enrollment,
                        administration_date_for_test(exc.result.administration_date),
                    )
                )
        return records

    def _from_sections(self) -> list[Record]:
        f = self.facts
        best: dict[str, tuple[dt.date, Record]] = {}
        year_calendars = {
            c.school_id: c for c in f.calendars.values() if c.school_year == f.school_year
        }
        for person_id, rosters in sorted(f.rosters.items()):
            english_learner = english_learner_in_year(
                f.programs.get(person_id, []), f.year_start, f.year_end
            )
            for roster in rosters:
                section = f.sections.get(roster.section_id)
                course = section and f.courses.get(section.course_id)
                if not course or not course.assessment_subject:
                    continue
                if course.school_year != f.school_year:
                    continue
                calendar = year_calendars.get(course.school_id)
                kind = section_assessment_type(
                    course.assessment_subject,
                    section.term_end,
                    bool(calendar and calendar.summer_school),
                    english_learner,
                )
                if kind is None:
                    self._skip("no_section_assessment_type")
                    continue
                day = administration_date_for_section(section.term_end, roster.end_date)
                enrollment = self._reporting(person_id, day)
                if enrollment is None:
                    continue
                subject = (
                    course.assessment_subject if kind in (*EOC_SECTION_TYPES, "MAPSPR") else None
                )
                use = self._use(kind, subject)
                record = self._record(
                    f"section/{person_id}/{use.identifier}",
                    kind,
                    subject,
                    use,
                    person_id,
                    enrollment,
                    day,
                )
                teacher_id = primary_teacher(
                    f.section_educators.get(section.section_id, []),
                    day,
                    section.primary_educator_id,
                )
                teacher = f.people.get(teacher_id) if teacher_id is not None else None
                admin = administrator(
                    kind,
                    course.assessment_subject,
                    teacher.first_name if teacher else None,
                    teacher.last_name if teacher else None,
                    teacher.email if teacher else None,
                )
                sort = map_sort(
                    kind,
                    self.prefs.get("map_sort", "room"),
                    section.room,
                    course.homeroom,
                    teacher.last_name if teacher else None,
                )
                record.payload.update(
                    student_assessment_extension(
                        admin.first_name if admin else None,
                        admin.last_name if admin else None,
                        admin.email if admin else None,
                        sort,
                    )
                )
                if kind in EOC_SECTION_TYPES + ("LEPELL",) and not (
                    admin and admin.first_name and admin.last_name
                ):
                    record.problem(
                        "_ext.administratorFirstName",
                        "missouri_conditional_required",
                        f"{kind} requires the administrator's names: the section has no "
                        "active primary teacher with both names",
                        severity="warning",
                    )
                if kind in PERIOD_REQUIRED_TYPES:
                    # Section Schedule Placement is not in the canonical model.
                    record.problem(
                        "period.assessmentPeriodDescriptor",
                        "missouri_conditional_required",
                        f"{kind} requires the assessment period (the section's schedule "
                        "placement), which the canonical model does not carry",
                        severity="warning",
                    )
                previous = best.get(record.record_key)
                if previous is None or day > previous[0]:
                    best[record.record_key] = (day, record)
        return [r for _, r in best.values()]

    def _record(
        self,
        key: str,
        kind: str,
        subject: str | None,
        use: AssessmentUse,
        person_id: int,
        enrollment: Enrollment,
        day: dt.date,
    ) -> Record:
        f = self.facts
        person = f.people.get(person_id)
        state_id = person.state_id if person else None
        payload: dict = {
            "studentAssessmentIdentifier": student_assessment_identifier(
                state_id or "", use.identifier, f.school_year
            ),
            "assessmentReference": {
                "assessmentIdentifier": use.identifier,
                "namespace": use.namespace,
            },
            "studentReference": {"studentUniqueId": state_id},
            "schoolYearTypeReference": {"schoolYear": f.school_year},
            "administrationDate": administration_datetime(day),
        }
        grade = when_assessed_grade(
            e for e in f.year_enrollments(person_id) if not e.no_show and not e.state_exclude
        )
        if grade:
            payload["whenAssessedGradeLevelDescriptor"] = grade
        school = f.schools.get(enrollment.school_id)
        school_id = edorgs.school_id(
            (school.county_district_code if school else None) or f.district_code,
            enrollment.school_code,
        )
        if school_id is not None:
            payload["reportedSchoolReference"] = {"schoolId": school_id}
        record = Record(RESOURCE, key, payload)
        if state_id is None:
            record.problem(
                "studentReference.studentUniqueId",
                "missing_state_id",
                "the student has no MOSIS state id: the assessment cannot name its student",
            )
        return record


def subject_descriptor(use: AssessmentUse) -> str:
    """academicSubjects of an assessment: Missouri's subject codes; ASVAB's "Military Aptitude
    Test"; LEPELL has no Missouri subject (UNVERIFIED: Ed-Fi "English Language Arts")."""
    if use.kind == "ASVAB":
        return dese("AcademicSubjectDescriptor", "Military Aptitude Test")
    if use.subject:
        return dese("AcademicSubjectDescriptor", use.subject)
    return edfi("AcademicSubjectDescriptor", "English Language Arts")
