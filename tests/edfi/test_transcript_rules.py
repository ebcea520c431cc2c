"""Seed 003 (Course Transcripts, Missouri v3.6): one test per rule, or per row of a rule table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from nexus.edfi import transcripts as ct
from nexus.edfi.facts import Course, Enrollment
from nexus.edfi.missouri import preferences

D = dt.date


def enrollment(eid=1, service="P", **kw) -> Enrollment:
    base = dict(
        enrollment_id=eid,
        person_id=7,
        school_id=1,
        calendar_id=1,
        school_year=2027,
        grade_level="10",
        entry_date=D(2026, 8, 13),
        exit_date=None,
        service_type=service,
        state_exclude=False,
        no_show=False,
        school_code="1050",
    )
    base.update(kw)
    return Enrollment(**base)


def course(cid=1, school=1, number="1001", state="051000", **kw) -> Course:
    base = dict(
        course_id=cid,
        school_id=school,
        school_year=2027,
        local_course_code=number,
        state_course_code=state,
        name="English I",
        credit_level="HS",
        active=True,
        homeroom=False,
    )
    base.update(kw)
    return Course(**base)


# --- which records send -------------------------------------------------------------------------


def test_posts_only_with_a_valid_student_school_association_in_the_scope_year():
    assert ct.scope_year_association([]) is None
    assert ct.scope_year_association([enrollment(no_show=True)]) is None
    assert ct.scope_year_association([enrollment(state_exclude=True)]) is None
    chosen = ct.scope_year_association([enrollment(1, "S"), enrollment(2, "P"), enrollment(3, "N")])
    assert chosen.enrollment_id == 2


def test_inactive_or_state_excluded_course_does_not_send():
    assert ct.course_excluded(course(active=False))
    assert ct.course_excluded(course(state_exclude=True))
    assert not ct.course_excluded(course())


@pytest.mark.parametrize("mark", [None, "", "  "])
def test_null_score_does_not_send(mark):
    assert ct.score_missing(mark)


def test_a_score_sends():
    assert not ct.score_missing("B")


def test_school_exclude_and_calendar_exclude_do_not_send():
    assert ct.school_or_calendar_excluded(enrollment(school_exclude=True)) == "school_exclude"
    assert ct.school_or_calendar_excluded(enrollment(calendar_exclude=True)) == ("calendar_exclude")
    assert ct.school_or_calendar_excluded(enrollment()) is None


# --- the course reference ladder (six cases) ----------------------------------------------------

ODS = {
    ("1050", "1001"): course(1, 1, "1001", "051000"),
    ("2050", "1001"): course(2, 2, "1001", "051001"),
    ("2050", "2002"): course(3, 2, "2002", "052000"),
    ("3050", "2002"): course(4, 3, "2002", "052001"),
    ("2050", "7007"): course(5, 2, "7007", "057000"),
}
RANK = {"1050": 10, "2050": 20, "3050": 30}


def test_ladder_case_1_transcript_school_and_course_in_the_ods():
    m = ct.resolve_course_reference("1050", "1001", "1050", ODS, RANK)
    assert (m.case, m.school_code, m.course.state_course_code) == (1, "1050", "051000")


def test_ladder_case_2_in_the_ods_but_not_the_enrolled_school():
    m = ct.resolve_course_reference("2050", "1001", "1050", ODS, RANK)
    assert (m.case, m.school_code, m.course.state_course_code) == (2, "2050", "051001")


def test_ladder_case_3_school_in_ods_course_matches_the_enrolled_school():
    # 3050 is in the ODS but has no course 1001; the enrolled school 1050 has it.
    m = ct.resolve_course_reference("3050", "1001", "1050", ODS, RANK)
    assert (m.case, m.school_code) == (3, "1050")


def test_ladder_case_4_school_not_in_ods_course_matches_the_enrolled_school():
    m = ct.resolve_course_reference("9999", "1001", "2050", ODS, RANK)
    assert (m.case, m.school_code, m.course.state_course_code) == (4, "2050", "051001")


def test_ladder_case_5_course_at_other_schools_highest_school_id_wins():
    m = ct.resolve_course_reference("9999", "2002", "1050", ODS, RANK)
    assert (m.case, m.school_code, m.course.state_course_code) == (5, "3050", "052001")
    # The tie-break is the Campus schoolID, not the building code.
    m = ct.resolve_course_reference("9999", "2002", "1050", ODS, {**RANK, "2050": 99})
    assert m.school_code == "2050"


def test_ladder_case_5_also_without_a_transcript_school():
    m = ct.resolve_course_reference(None, "7007", "1050", ODS, RANK)
    assert (m.case, m.school_code) == (5, "2050")


def test_ladder_case_6_no_course_anywhere_does_not_send_and_is_no_error():
    assert ct.resolve_course_reference("9999", "4040", "1050", ODS, RANK) is None


# --- courseAttemptResultDescriptor ---------------------------------------------------------------

CODES = preferences()["credit_results"]


def test_attempt_result_from_the_state_score_mapped_to_an_edfi_code():
    assert ct.course_attempt_result("F", Decimal("0.5"), Decimal("0.5")).endswith("#Fail")
    assert ct.course_attempt_result("a", None, None).endswith("#Pass")
    assert ct.course_attempt_result("WD", None, None).endswith("#Withdrawn")


def test_attempt_result_falls_back_to_credits_when_the_state_score_has_no_edfi_code():
    # AU has a State Score without an Ed-Fi code; Z has no State Score at all.
    assert ct.course_attempt_result("AU", Decimal("1"), Decimal("1")).endswith("#Pass")
    assert ct.course_attempt_result("Z", Decimal("0"), Decimal("1")).endswith("#Fail")


@pytest.mark.parametrize(
    ("earned", "attempted", "code"),
    [
        (Decimal("1"), Decimal("1"), "Pass"),  # earned >= attempted
        (Decimal("1.5"), Decimal("1"), "Pass"),
        (None, Decimal("1"), "Fail"),  # earned blank
        (Decimal("0"), Decimal("1"), "Fail"),  # earned 0
        (Decimal("0.25"), Decimal("1"), "Incomplete"),  # earned not 0 and < attempted
    ],
)
def test_credit_calculation_rows(earned, attempted, code):
    assert ct.credit_result(earned, attempted, CODES) == code


# --- credits --------------------------------------------------------------------------------------


def test_attempted_credits_need_roster_hs_or_ms_credit_level_and_state_reported():
    one = Decimal("1")
    assert ct.reported_attempted_credits(one, True, "HS", True) == one
    assert ct.reported_attempted_credits(one, True, "MS", True) == one
    assert ct.reported_attempted_credits(one, False, "HS", True) is None
    assert ct.reported_attempted_credits(one, True, "EL", True) is None
    assert ct.reported_attempted_credits(one, True, "HS", False) is None


def test_earned_credits_also_need_a_posted_grade_mapped_to_a_passing_state_score():
    one = Decimal("1")
    assert ct.reported_earned_credits(one, True, "HS", True, True, True) == one
    assert ct.reported_earned_credits(one, True, "HS", True, False, True) is None
    assert ct.reported_earned_credits(one, True, "HS", True, True, False) is None
    assert ct.reported_earned_credits(one, False, "HS", True, True, True) is None


def test_credit_level_from_the_course_else_from_the_grade_taken():
    assert ct.credit_level("hs", "05") == "HS"
    assert ct.credit_level(None, "11") == "HS"
    assert ct.credit_level(None, "07") == "MS"
    assert ct.credit_level(None, "04") is None


@pytest.mark.parametrize(
    ("credit_type", "code"),
    [("Mathematics", "M"), ("science", "S"), ("English", "NA"), (None, "NA")],
)
def test_earned_credit_type_m_s_else_na(credit_type, code):
    assert ct.earned_credit_type(credit_type) == f"uri://dese.mo.gov/CreditTypeDescriptor#{code}"


# --- finalLetterGradeEarned -----------------------------------------------------------------------

G = ct.PostedGrade
ROSTERED = ct.RosterFacts(True, True, False, True)


def test_final_grade_fcg_latest_term_by_start_date():
    grades = [
        G("FCG", D(2026, 8, 13), 1, "B", True, True),
        G("FCG", D(2027, 1, 5), 1, "A", True, True),
    ]
    assert ct.final_letter_grade(grades, ROSTERED) == "A"


def test_final_grade_two_fcg_tasks_in_one_term_latest_created():
    grades = [
        G("FCG", D(2027, 1, 5), 1, "C", True, True),
        G("FCG", D(2027, 1, 5), 2, "B", True, True),
    ]
    assert ct.final_letter_grade(grades, ROSTERED) == "B"


def test_final_grade_only_fcg_tasks_count():
    grades = [
        G("Q1", D(2027, 1, 5), 3, "A", True, True),
        G("FCG", D(2026, 8, 13), 1, "C", True, True),
    ]
    assert ct.final_letter_grade(grades, ROSTERED) == "C"


def test_final_grade_not_reported_when_not_state_reported_or_not_mapped():
    assert ct.final_letter_grade([G("FCG", None, 1, "A", True, False)], ROSTERED) is None
    assert ct.final_letter_grade([G("FCG", None, 1, "A", True, None)], ROSTERED) is None
    assert ct.final_letter_grade([G("FCG", None, 1, "A", False, True)], ROSTERED) is None


def test_no_fcg_wd_when_dropped_after_attending_and_not_rostered_at_section_end():
    assert ct.final_letter_grade([], ct.RosterFacts(True, True, True, False)) == "WD"


def test_no_fcg_ic_when_still_rostered_at_section_end():
    assert ct.final_letter_grade([], ct.RosterFacts(True, True, False, True)) == "IC"


def test_no_fcg_nothing_when_never_present_or_not_rostered():
    assert ct.final_letter_grade([], ct.RosterFacts(True, False, True, False)) is None
    assert ct.final_letter_grade([], None) is None


# --- gradingPeriodDescriptor ----------------------------------------------------------------------


def test_grading_period_from_course_time_unit_else_semester_code():
    assert ct.grading_period(True, "S1", None).endswith("GradingPeriodDescriptor#S1")
    assert ct.grading_period(True, "Year", "2").endswith("#YL")
    assert ct.grading_period(True, "unmapped", "2").endswith("#S2")
    assert ct.grading_period(True, "unmapped", "x") is None


def test_grading_period_needs_the_student_rostered():
    assert ct.grading_period(False, "S1", "1") is None


# --- studentAcademicRecordReference ---------------------------------------------------------------


def test_student_academic_record_reference_district_end_year_state_id_full_year():
    assert ct.student_academic_record_reference("048078", 2027, "1234567890") == {
        "educationOrganizationId": 48078,
        "schoolYear": 2027,
        "studentUniqueId": "1234567890",
        "termDescriptor": "uri://dese.mo.gov/TermDescriptor#Full Year",
    }


# --- one record per natural key -----------------------------------------------------------------


def _built(key, term, result, attempted, earned, grade):
    from nexus.edfi.facts import Transcript
    from nexus.edfi.records import Record

    t = Transcript(key, 7, 2027, "10", "1001", "051000", "English I", grade, None, None, term)
    payload = {
        "courseAttemptResultDescriptor": f"uri://ed-fi.org/CourseAttemptResultDescriptor#{result}",
        "courseReference": {"courseCode": "051000", "educationOrganizationId": 1},
        "studentAcademicRecordReference": ct.student_academic_record_reference(
            "048078", 2027, "1234567890"
        ),
        "finalLetterGradeEarned": grade,
    }
    if attempted is not None:
        payload["attemptedCredits"] = attempted
    if earned is not None:
        payload["earnedCredits"] = earned
    return t, Record(ct.RESOURCE, key, payload)


def test_semesters_with_one_natural_key_become_one_record_with_summed_credits():
    (one,) = ct.combine_same_natural_key(
        [_built("t2", "2", "Pass", 0.5, 0.5, "B"), _built("t1", "1", "Pass", 0.5, 0.5, "A")]
    )
    assert (one.payload["attemptedCredits"], one.payload["earnedCredits"]) == (1.0, 1.0)
    assert one.payload["finalLetterGradeEarned"] == "B"  # from the latest term
    assert one.record_key == "transcript/1234567890/2027/051000/Pass"


def test_a_different_result_is_a_different_record():
    found = ct.combine_same_natural_key(
        [_built("t1", "1", "Pass", 0.5, 0.5, "A"), _built("t2", "2", "Fail", 0.5, None, "F")]
    )
    assert sorted(r.record_key.rsplit("/", 1)[-1] for r in found) == ["Fail", "Pass"]
    fail = next(r for r in found if r.record_key.endswith("Fail"))
    assert "earnedCredits" not in fail.payload
