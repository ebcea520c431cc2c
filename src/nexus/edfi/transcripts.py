"""courseTranscripts for Missouri v3.6 (seed 003): every rule a named function, and the builder
that applies them to the canonical facts of a scope year.

Campus names in the seed and the canonical field that carries the same fact:
- transcriptcourse.score -> course_transcripts.mark; transcriptcredit.creditsAttempted /
  creditsEarned -> credits_attempted / credits_earned; transcriptcourse.courseNumber ->
  local_course_code; Course > State Code -> courses.state_course_code (and the transcript's
  own state_course_code); Course > Credit Level -> courses.credit_level;
- School / Calendar "Exclude" check boxes -> schools.state_exclude / calendars.state_exclude;
- Section Editor > Course Time Unit -> sections.term_name;
- Student State ID -> census.person_identifiers (mosis_state_id);
- Reporting District Code -> the tenant's county-district code.
Facts the canonical model lacks (transcript School Number, course State Exclude, credit type,
grading-task State Reported / FCG postings, Semester Code) are parameters of the rules; the
builder passes what Nexus knows and docs/edfi.md names each gap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from nexus.edfi import edorgs
from nexus.edfi.enrollment_rules import priority_enrollment
from nexus.edfi.extension import course_transcript_extension
from nexus.edfi.facts import Course, Enrollment, Facts, Roster, Transcript
from nexus.edfi.missouri import dese, edfi, preferences
from nexus.edfi.records import Record

RESOURCE = "courseTranscripts"
FULL_YEAR_TERM = dese("TermDescriptor", "Full Year")  # namespace UNVERIFIED


# --- which records send -------------------------------------------------------------------------


def scope_year_association(enrollments: list[Enrollment]) -> Enrollment | None:
    """ "A valid Student School Association for the Scoped Year": the student's reporting
    enrollment of the year (priority P, S, N), not a no-show or state-excluded one."""
    return priority_enrollment(e for e in enrollments if not e.no_show and not e.state_exclude)


def course_excluded(course: Course | None) -> bool:
    """ "Do not send a record if the course is marked as inactive or state exclude."""
    return course is not None and (not course.active or course.state_exclude)


def score_missing(mark: str | None) -> bool:
    """ "Do not send a record if the transcript's score is null."""
    return mark is None or not mark.strip()


def school_or_calendar_excluded(association: Enrollment) -> str | None:
    """ "Do not send record if the School Exclude / Calendar Exclude check box is checked"
    (the school and calendar of the student's association in the scope year)."""
    if association.calendar_exclude:
        return "calendar_exclude"
    if association.school_exclude:
        return "school_exclude"
    return None


# --- the course reference ladder ----------------------------------------------------------------


@dataclass(frozen=True)
class CourseMatch:
    case: int  # 1-5: which step of seed 003's ladder matched
    school_code: str
    course: Course


def resolve_course_reference(
    transcript_school: str | None,
    course_number: str | None,
    enrolled_school: str | None,
    ods_courses: Mapping[tuple[str, str], Course],
    school_rank: Mapping[str, int],
) -> CourseMatch | None:
    """Seed 003's six cases: which (school, course) of the year's ODS the reference names.

    `ods_courses` is keyed by (school code, course number); `school_rank` gives each school's
    Campus schoolID for the "highest schoolID" tie-break. None = case 6: do not send, no error.
    """
    return CourseLadder(ods_courses, school_rank).resolve(
        transcript_school, course_number, enrolled_school
    )


class CourseLadder:
    """The year's ODS courses indexed once for `resolve` (see `resolve_course_reference`)."""

    def __init__(
        self, ods_courses: Mapping[tuple[str, str], Course], school_rank: Mapping[str, int]
    ):
        self.courses = ods_courses
        self.schools = {school for school, _ in ods_courses}
        by_number: dict[str, list[str]] = {}
        for school, number in ods_courses:
            by_number.setdefault(number, []).append(school)
        # For case 5: per course number, the school with the highest schoolID.
        self.highest = {
            number: max(schools, key=lambda s: (school_rank.get(s, -1), s))
            for number, schools in by_number.items()
        }

    def resolve(
        self, transcript_school: str | None, course_number: str | None, enrolled_school: str | None
    ) -> CourseMatch | None:
        if not course_number:
            return None
        at = self.courses.get
        if transcript_school in self.schools:
            if (found := at((transcript_school, course_number))) is not None:
                # 1: the transcript's school and course are in the ODS (the enrolled school);
                # 2: ... in the ODS but not the enrolled school: report them as they are.
                case = 1 if transcript_school == enrolled_school else 2
                return CourseMatch(case, transcript_school, found)
            if enrolled_school and (found := at((enrolled_school, course_number))) is not None:
                # 3: the school is in the ODS, the course number matches the enrolled school.
                return CourseMatch(3, enrolled_school, found)
        elif enrolled_school and (found := at((enrolled_school, course_number))) is not None:
            # 4: the school is not in the ODS; the course number matches the enrolled school.
            return CourseMatch(4, enrolled_school, found)
        school = self.highest.get(course_number)
        if school is not None:
            # 5: the course number matches other schools: the one with the highest schoolID.
            # (Also used, UNVERIFIED, when the transcript's school is in the ODS but neither it
            # nor the enrolled school offers the course: the seed does not name that case.)
            return CourseMatch(5, school, self.courses[(school, course_number)])
        return None  # 6: no course with that number in the district: do not send, no error


# --- courseAttemptResultDescriptor --------------------------------------------------------------


def state_score_result(mark: str | None, state_scores: Mapping[str, dict]) -> str | None:
    """The Ed-Fi code mapped to the State Score of the score, or None (no State Score, or the
    State Score has no Ed-Fi code)."""
    entry = state_scores.get((mark or "").strip().upper())
    return entry.get("edfi") if entry else None


def credit_result(
    earned: Decimal | None, attempted: Decimal | None, codes: Mapping[str, str]
) -> str:
    """The Ed-Fi code mapped to the credits calculation, the seed's cases in its order:
    earned >= attempted (so 0 of 0 is the first case); earned blank or 0; earned not blank,
    not 0 and < attempted. A blank attempted counts as 0."""
    if earned is None:
        return codes["earned_blank_or_zero"]
    if earned >= (attempted or 0):
        return codes["earned_at_least_attempted"]
    if earned == 0:
        return codes["earned_blank_or_zero"]
    return codes["earned_partial"]


def course_attempt_result(
    mark: str | None,
    earned: Decimal | None,
    attempted: Decimal | None,
    prefs: Mapping | None = None,
) -> str:
    """courseAttemptResultDescriptor: from the State Score, else from the credits."""
    prefs = prefs or preferences()
    code = state_score_result(mark, prefs["state_scores"]) or credit_result(
        earned, attempted, prefs["credit_results"]
    )
    return edfi("CourseAttemptResultDescriptor", code)


# --- credits ------------------------------------------------------------------------------------


def credit_level(course_level: str | None, grade_level: str | None) -> str | None:
    """The course's Credit Level (HS / MS). Canonical courses.credit_level is filled by no source
    yet, so Nexus falls back to the grade the course was taken in: 09-12 HS, 06-08 MS."""
    if course_level:
        return course_level.strip().upper()
    grade = (grade_level or "").strip()
    if grade in ("09", "10", "11", "12"):
        return "HS"
    if grade in ("06", "07", "08"):
        return "MS"
    return None


def reported_attempted_credits(
    attempted: Decimal | None, rostered: bool, level: str | None, state_reported: bool
) -> Decimal | None:
    """attemptedCredits: rostered in a section of the course; Credit Level HS or MS; the credit
    is on a State Reported grading task."""
    if attempted is None or not rostered or level not in ("HS", "MS") or not state_reported:
        return None
    return attempted


def reported_earned_credits(
    earned: Decimal | None,
    rostered: bool,
    level: str | None,
    state_reported: bool,
    grade_posted: bool,
    passing_score: bool,
) -> Decimal | None:
    """earnedCredits: as attempted, and a grade is posted to the task and mapped to a State
    Score marked Passing Score."""
    if not (grade_posted and passing_score):
        return None
    return reported_attempted_credits(earned, rostered, level, state_reported)


def earned_credit_type(credit_type: str | None) -> str:
    """earnedCreditTypeDescriptor: M for Mathematics, S for Science, all else NA."""
    text = (credit_type or "").strip().lower()
    if text in ("m", "math", "mathematics"):
        code = "M"
    elif text in ("s", "science"):
        code = "S"
    else:
        code = "NA"
    return dese("CreditTypeDescriptor", code)


# --- finalLetterGradeEarned ---------------------------------------------------------------------


@dataclass(frozen=True)
class PostedGrade:
    """A grade posted to a grading task of the student's section."""

    task_code: str  # Grading Task Detail > Code (FCG = final course grade)
    term_start: dt.date | None
    task_created: int  # creation order of the grading task
    score: str | None
    mapped_to_state_score: bool
    state_reported: bool | None  # the State Reported check box (None = not set)


@dataclass(frozen=True)
class RosterFacts:
    rostered: bool
    present_one_period: bool
    dropped: bool  # the roster ended before the section did
    rostered_at_section_end: bool


def final_letter_grade(grades: list[PostedGrade], roster: RosterFacts | None) -> str | None:
    """finalLetterGradeEarned: the FCG grade (latest term by start; among FCG tasks of one term
    the latest created), only when mapped to a State Score and State Reported; without an FCG,
    WD (dropped after attending) or IC (still rostered); not reported when the FCG task is not
    State Reported or the grade is not mapped."""
    fcg = [g for g in grades if g.task_code.upper() == "FCG" and g.score]
    if fcg:
        latest = max(fcg, key=lambda g: (g.term_start or dt.date.min, g.task_created))
        if latest.state_reported and latest.mapped_to_state_score:
            return latest.score
        return None
    if roster is None or not roster.rostered or not roster.present_one_period:
        return None
    if roster.dropped and not roster.rostered_at_section_end:
        return "WD"
    if roster.rostered_at_section_end:
        return "IC"
    return None


# --- gradingPeriodDescriptor (Missouri extension) ------------------------------------------------


def grading_period(
    rostered: bool,
    course_time_unit: str | None,
    semester_code: str | None,
    mapping: Mapping[str, Mapping[str, str]] | None = None,
) -> str | None:
    """The Section's Course Time Unit when mapped, else its Semester Code when mapped; the
    student must be rostered in a section of the course."""
    if not rostered:
        return None
    mapping = mapping or preferences()["grading_periods"]
    code = mapping["course_time_unit"].get((course_time_unit or "").strip())
    if code is None:
        code = mapping["semester_code"].get((semester_code or "").strip())
    return dese("GradingPeriodDescriptor", code) if code else None


# --- studentAcademicRecordReference -------------------------------------------------------------


def student_academic_record_reference(
    district_code: str | None, school_year: int, state_id: str | None
) -> dict:
    """Reporting District Code, the ending school year, the Student State ID, "Full Year"."""
    return {
        "educationOrganizationId": edorgs.lea_id(district_code),
        "schoolYear": school_year,
        "studentUniqueId": state_id,
        "termDescriptor": FULL_YEAR_TERM,
    }


# --- the builder --------------------------------------------------------------------------------


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class TranscriptBuilder:
    """Applies the rules to a scope year's facts. `skipped` counts records that do not send
    by rule (not errors): per reason."""

    def __init__(self, facts: Facts, prefs: Mapping | None = None):
        self.facts = facts
        self.prefs = prefs or preferences()
        self.skipped: dict[str, int] = {}
        year = facts.school_year
        self.ods_courses: dict[tuple[str, str], Course] = {}
        for c in sorted(facts.courses.values(), key=lambda c: c.course_id):
            school = facts.schools.get(c.school_id)
            if c.school_year != year or not school or not school.school_code:
                continue
            if c.local_course_code and c.state_course_code and not course_excluded(c):
                self.ods_courses.setdefault((school.school_code, c.local_course_code), c)
        self.school_rank = {
            s.school_code: int(s.local_code) if (s.local_code or "").isdigit() else -1
            for s in facts.schools.values()
            if s.school_code
        }
        self.ladder = CourseLadder(self.ods_courses, self.school_rank)
        self.course_sections: dict[int, list[int]] = {}
        for s in facts.sections.values():
            self.course_sections.setdefault(s.course_id, []).append(s.section_id)

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def roster_for(self, person_id: int, local_code: str | None, year: int | None):
        """The student's roster row in a section of the course (same number, same year)."""
        for r in self.facts.rosters.get(person_id, []):
            section = self.facts.sections.get(r.section_id)
            course = section and self.facts.courses.get(section.course_id)
            if course and course.local_course_code == local_code and course.school_year == year:
                return r, section
        return None, None

    def build(self) -> list[Record]:
        f = self.facts
        records = []
        for t in f.transcripts:
            association = scope_year_association(f.year_enrollments(t.person_id))
            if association is None:
                self._skip("no_student_school_association")
                continue
            record = self.build_one(t, association)
            if record is not None:
                records.append((t, record))
        return combine_same_natural_key(records)

    def build_one(self, t: Transcript, association: Enrollment) -> Record | None:
        f = self.facts
        if score_missing(t.mark):
            self._skip("score_null")
            return None
        if reason := school_or_calendar_excluded(association):
            self._skip(reason)
            return None
        match = resolve_course_reference(
            t.school_code,
            t.local_course_code,
            association.school_code,
            self.ods_courses,
            self.school_rank,
        )
        if match is None:
            self._skip("course_not_in_ods")
            return None
        if course_excluded(match.course):
            self._skip("course_inactive_or_state_exclude")
            return None
        person = f.people.get(t.person_id)
        state_id = person.state_id if person else None
        roster, section = self.roster_for(t.person_id, t.local_course_code, t.school_year)
        rostered = roster is not None
        level = credit_level(match.course.credit_level, t.grade_level)
        score = self.prefs["state_scores"].get((t.mark or "").strip().upper())
        # Grading-task facts the canonical model does not carry: the transcript mark is the
        # posted final grade and its task is taken as State Reported (docs/edfi.md, gaps).
        state_reported = True
        attempted = reported_attempted_credits(t.credits_attempted, rostered, level, True)
        earned = reported_earned_credits(
            t.credits_earned,
            rostered,
            level,
            state_reported,
            True,
            bool(score and score.get("passing")),
        )
        grade = final_letter_grade(
            [
                PostedGrade(
                    "FCG",
                    section.term_start if section else None,
                    0,
                    t.mark,
                    score is not None,
                    state_reported,
                )
            ],
            _roster_facts(roster, section),
        )
        period = grading_period(rostered, section.term_name if section else None, None)
        end_year = t.school_year or f.school_year
        payload: dict = {
            "courseAttemptResultDescriptor": course_attempt_result(
                t.mark, t.credits_earned, t.credits_attempted, self.prefs
            ),
            "courseReference": {
                "courseCode": match.course.state_course_code,
                "educationOrganizationId": edorgs.COURSE_EDUCATION_ORGANIZATION_ID,
            },
            "studentAcademicRecordReference": student_academic_record_reference(
                f.district_code, end_year, state_id
            ),
            "earnedCreditTypeDescriptor": earned_credit_type(t.credit_type),
        }
        optional = {
            "attemptedCredits": _num(attempted),
            "earnedCredits": _num(earned),
            "finalLetterGradeEarned": grade,
            "courseTitle": (match.course.name or t.course_name or "")[:60] or None,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        payload.update(course_transcript_extension(period))
        record = Record(RESOURCE, t.key, payload)
        if state_id is None:
            record.problem(
                "studentAcademicRecordReference.studentUniqueId",
                "missing_state_id",
                "the student has no MOSIS state id: the transcript cannot name its student",
            )
        if period is None:
            record.problem(
                "_ext.gradingPeriodDescriptor",
                "missouri_required",
                "Missouri requires gradingPeriodDescriptor: the student is not rostered in a "
                "section of this course, or its term is not mapped (preferences.yaml)",
                section.term_name if section else None,
                severity="warning",
            )
        return record


def combine_same_natural_key(built: list[tuple[Transcript, Record]]) -> list[Record]:
    """One courseTranscript per natural key. Two transcript rows can share one (the semesters
    of a course with the same result, under the one "Full Year" academic record); the ODS/API
    keeps one, so sending both would let the last overwrite the first. They are combined:
    attempted and earned credits summed (the seed speaks of "the sum of credits"), the other
    fields (and problems) from the latest row (by term, then transcript key). The record is
    keyed by its natural key, so it stays the same record when a row joins it (its credits
    change: the seed's delete/post)."""
    groups: dict[str, list[tuple[Transcript, Record]]] = {}
    out: list[Record] = []
    for t, record in built:
        ref = record.payload["studentAcademicRecordReference"]
        if ref["studentUniqueId"] is None:
            out.append(record)  # invalid anyway: kept on its own, under its transcript key
            continue
        key = "/".join(
            str(x)
            for x in (
                ref["studentUniqueId"],
                ref["schoolYear"],
                record.payload["courseReference"]["courseCode"],
                record.payload["courseAttemptResultDescriptor"].rsplit("#", 1)[-1],
            )
        )
        groups.setdefault(key, []).append((t, record))
    for key, members in groups.items():
        members.sort(key=lambda m: ((m[0].term or ""), m[0].key))
        latest = members[-1][1]
        payload = dict(latest.payload)
        for name in ("attemptedCredits", "earnedCredits"):
            values = [m[1].payload[name] for m in members if name in m[1].payload]
            payload.pop(name, None)
            if values:
                payload[name] = round(sum(values), 3)
        combined = Record(RESOURCE, f"transcript/{key}", payload)
        for p in latest.problems:  # the fields come from the latest row, so its problems
            combined.problem(p.field, p.rule, p.message, p.value, p.severity)
        out.append(combined)
    return out


def _roster_facts(roster: Roster | None, section) -> RosterFacts | None:
    if roster is None:
        return None
    end = section.term_end if section else None
    dropped = roster.end_date is not None and end is not None and roster.end_date < end
    present = (
        roster.start_date is None
        or roster.end_date is None
        or (roster.end_date >= roster.start_date)
    )
    return RosterFacts(True, present, dropped, not dropped)
