"""Seed 004 (Student Assessments, Missouri v3.6): one test per rule, or per row of a rule table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from nexus.edfi import assessments as sa
from nexus.edfi.facts import AssessmentResult, Enrollment, ProgramSpell, SectionEducator
from nexus.edfi.missouri import preferences

D = dt.date
ASVAB = preferences()["asvab"]
EOC_SUBJECTS = preferences()["eoc_exception_subjects"]


def enrollment(eid=1, service="P", entry=D(2026, 8, 13), exit=None, **kw) -> Enrollment:
    base = dict(
        enrollment_id=eid,
        person_id=7,
        school_id=1,
        calendar_id=1,
        school_year=2027,
        grade_level="10",
        entry_date=entry,
        exit_date=exit,
        service_type=service,
        state_exclude=False,
        no_show=False,
        school_code="1050",
    )
    base.update(kw)
    return Enrollment(**base)


def result(key="r1", code="EOC-ENG2", day=D(2027, 4, 1), res=None, **kw) -> AssessmentResult:
    base = dict(
        key=key,
        person_id=7,
        assessment_code=code,
        assessment_name=code,
        subject=None,
        administration_date=day,
        grade_when_assessed="10",
        scale_score=None,
        percentile=None,
        result=res,
    )
    base.update(kw)
    return AssessmentResult(**base)


# --- triggering, enrollment selection, exclusions, scope year ---------------------------------


def test_test_date_must_be_within_the_scope_year():
    assert sa.in_scope_year(D(2027, 4, 1), D(2026, 8, 13), D(2027, 5, 20))
    assert not sa.in_scope_year(D(2027, 6, 1), D(2026, 8, 13), D(2027, 5, 20))
    assert not sa.in_scope_year(None, D(2026, 8, 13), D(2027, 5, 20))


def test_no_active_enrollment_on_the_assessment_date_does_not_send():
    gone = enrollment(exit=D(2027, 1, 10))
    assert sa.assessment_enrollment([gone], D(2027, 4, 1)) is None
    assert sa.enrollment_blocks(None) == "no_active_enrollment"


@pytest.mark.parametrize(
    ("services", "chosen"), [(("N", "S", "P"), "P"), (("N", "S"), "S"), (("N",), "N")]
)
def test_overlapping_enrollments_report_by_service_type_p_s_n(services, chosen):
    found = sa.assessment_enrollment(
        [enrollment(i, s) for i, s in enumerate(services, 1)], D(2027, 4, 1)
    )
    assert found.service_type == chosen


def test_a_single_enrollment_reports_whatever_its_service_type():
    assert sa.assessment_enrollment([enrollment(1, "N")], D(2027, 4, 1)).service_type == "N"


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("state_exclude", "enrollment_state_exclude"),
        ("no_show", "enrollment_no_show"),
        ("calendar_exclude", "calendar_exclude"),
        ("school_exclude", "school_exclude"),
    ],
)
def test_excluded_enrollment_calendar_or_school_does_not_send(flag, reason):
    assert sa.enrollment_blocks(enrollment(**{flag: True})) == reason
    assert sa.enrollment_blocks(enrollment()) is None


# --- identifier and namespace -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "subject", "identifier"),
    [
        ("ASVAB", None, "ASVAB-26006"),
        ("EOCFAL", "ENGLI2", "EOCFAL-ENGLI2-26006"),
        ("EOCEX3", "ALGEB1", "EOCEX3-ALGEB1-26006"),
        ("LEPELL", None, "LEPELL-26006"),
        ("MAPSPR", "MATH", "MAPSPR-MATH-26006"),
    ],
)
def test_assessment_identifier_type_subject_edorg(kind, subject, identifier):
    assert sa.assessment_identifier(kind, subject, 26006) == identifier


@pytest.mark.parametrize(
    "kind",
    ["ASVAB", "EOCEX2", "EOCEX3", "EOCEX4", "EOCFAL", "EOCSPR", "EOCSUM", "LEPELL", "MAPSPR"],
)
def test_namespace_hardcoded_per_type(kind):
    assert sa.assessment_namespace(kind) == f"uri://dese.mo.gov/{kind}"


def test_asvab_by_national_code():
    assert sa.is_asvab("asvab", ASVAB["national_codes"])
    assert not sa.is_asvab("MAP-ELA", ASVAB["national_codes"])


# --- EOC exception ----------------------------------------------------------------------------


def test_eoc_exception_type_from_the_result_field_and_subject_from_the_test():
    found = sa.eoc_exceptions([result(res="EOCEX3")], False, EOC_SUBJECTS)
    assert [(e.kind, e.subject) for e in found] == [("EOCEX3", "ENGLI2")]


def test_eoc_exception_dictionary_state_code_wins_over_the_test_subject():
    r = result(code="EOC-ENG2", res="EOCEX2")
    assert sa.eoc_exception_subject(r, "ALGEB1", EOC_SUBJECTS) == "ALGEB1"
    assert sa.eoc_exception_subject(r, None, EOC_SUBJECTS) == "ENGLI2"


def test_eoc_exception_subjects_limited_to_the_four():
    assert sa.eoc_exceptions([result(code="EOC-ALG2", res="EOCEX2")], False, EOC_SUBJECTS) == []


def test_eoc_exception_map_a_reports_each_of_the_four_subjects():
    found = sa.eoc_exceptions([result(res="EOCEX4")], True, EOC_SUBJECTS)
    assert sorted(e.subject for e in found) == ["ALGEB1", "AMGOV1", "BIOLO1", "ENGLI2"]


def test_eoc_exception_one_per_subject_the_most_recent_date():
    found = sa.eoc_exceptions(
        [
            result("a", day=D(2027, 3, 1), res="EOCEX2"),
            result("b", day=D(2027, 4, 1), res="EOCEX4"),
            result("c", day=D(2027, 2, 1), res="EOCEX3"),
        ],
        False,
        EOC_SUBJECTS,
    )
    assert [(e.kind, e.result.key) for e in found] == [("EOCEX4", "b")]


def test_non_exception_results_are_not_eoc_exceptions():
    assert sa.eoc_exceptions([result(res="Proficient")], False, EOC_SUBJECTS) == []


# --- course-section types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "term_end", "summer", "el", "kind"),
    [
        ("MATH", D(2027, 5, 20), False, False, "MAPSPR"),
        ("ELA", D(2027, 5, 20), False, False, "MAPSPR"),
        ("SC", D(2027, 5, 20), False, False, "MAPSPR"),
        ("ENGLI2", D(2026, 12, 18), False, False, "EOCFAL"),
        ("ENGLI2", D(2027, 5, 20), False, False, "EOCSPR"),
        ("BIOLO1", D(2027, 7, 1), True, False, "EOCSUM"),
        ("LEP/ELL", D(2027, 5, 20), False, True, "LEPELL"),
        ("LEP/ELL", D(2027, 5, 20), False, False, None),
        (None, D(2027, 5, 20), False, True, None),
    ],
)
def test_section_assessment_type(subject, term_end, summer, el, kind):
    assert sa.section_assessment_type(subject, term_end, summer, el) == kind


def test_lepell_needs_an_el_record_lep_pending_or_exited_this_year():
    start, end = D(2026, 8, 13), D(2027, 5, 20)

    def spell(status, ended=None):
        return ProgramSpell(7, "english_learner", status, D(2020, 1, 1), ended)

    assert sa.english_learner_in_year([spell("active")], start, end)
    assert sa.english_learner_in_year([spell("pending")], start, end)
    assert sa.english_learner_in_year([spell("exited", D(2026, 10, 1))], start, end)
    assert not sa.english_learner_in_year([spell("exited", D(2025, 10, 1))], start, end)
    assert not sa.english_learner_in_year([], start, end)


# --- fields -----------------------------------------------------------------------------------


def test_administration_date_test_date_for_tests():
    assert sa.administration_date_for_test(D(2027, 4, 1)) == D(2027, 4, 1)


def test_administration_date_section_end_unless_roster_end():
    assert sa.administration_date_for_section(D(2027, 5, 20), None) == D(2027, 5, 20)
    assert sa.administration_date_for_section(D(2027, 5, 20), D(2027, 2, 2)) == D(2027, 2, 2)


def test_administration_date_is_an_iso_datetime_with_the_missouri_offset():
    assert sa.administration_datetime(D(2027, 1, 5)) == "2027-01-05T00:00:00-06:00"
    assert sa.administration_datetime(D(2027, 5, 5)) == "2027-05-05T00:00:00-05:00"


def test_student_assessment_identifier_state_id_identifier_year():
    assert sa.student_assessment_identifier("1234567890", "ASVAB-26006", 2027) == (
        "1234567890-ASVAB-26006-2027"
    )


def test_when_assessed_grade_by_priority_then_latest_start_then_highest_id():
    e1 = enrollment(1, "S", grade_level="09")
    e2 = enrollment(2, "P", entry=D(2026, 8, 13), grade_level="10")
    e3 = enrollment(3, "P", entry=D(2026, 9, 1), grade_level="11")
    e4 = enrollment(4, "P", entry=D(2026, 9, 1), grade_level="12")
    assert sa.when_assessed_grade([e1, e2, e3, e4]).endswith("#Twelfth grade")
    assert sa.when_assessed_grade([e1, e2]).endswith("#Tenth grade")


def test_primary_teacher_most_recent_active_as_of_the_date():
    educators = [
        SectionEducator(1, 10, "primary", D(2026, 8, 1), D(2026, 12, 31)),
        SectionEducator(1, 11, "primary", D(2027, 1, 1), None),
        SectionEducator(1, 12, "aide", D(2027, 2, 1), None),
    ]
    assert sa.primary_teacher(educators, D(2027, 4, 1), None) == 11
    assert sa.primary_teacher(educators, D(2026, 9, 1), None) == 10
    assert sa.primary_teacher([], D(2027, 4, 1), 99) == 99


@pytest.mark.parametrize("kind", ["EOCFAL", "EOCSPR", "EOCSUM", "LEPELL"])
def test_administrator_names_and_email_for_eoc_and_lepell(kind):
    a = sa.administrator(kind, "ENGLI2", "Ada", "Byron", "ada@x.example")
    assert (a.first_name, a.last_name, a.email) == ("Ada", "Byron", "ada@x.example")


@pytest.mark.parametrize("kind", ["ASVAB", "EOCEX2", "EOCEX3", "EOCEX4"])
def test_no_administrator_for_asvab_or_eoc_exceptions(kind):
    assert sa.administrator(kind, "ENGLI2", "Ada", "Byron", "ada@x.example") is None


def test_mapspr_administrator_only_for_ela_lep_math_sc_courses():
    assert sa.administrator("MAPSPR", "MATH", "Ada", "Byron", None).last_name == "Byron"
    assert sa.administrator("MAPSPR", "PERSFN", "Ada", "Byron", None) is None


def test_blank_teacher_name_not_reported_and_no_email_without_both_names():
    a = sa.administrator("EOCFAL", "ENGLI2", "  ", "Byron", "b@x.example")
    assert (a.first_name, a.last_name, a.email) == (None, "Byron", None)
    assert sa.administrator("EOCFAL", "ENGLI2", "Ada", "Byron", " ").email is None
    assert sa.administrator("EOCFAL", "ENGLI2", "", "", "b@x.example") is None


def test_map_sort_room_number_or_homeroom_teacher_mapspr_only():
    assert sa.map_sort("MAPSPR", "room", "101", False, "Byron") == "101"
    assert sa.map_sort("MAPSPR", "homeroom", "101", True, "Byron") == "Byron"
    assert sa.map_sort("MAPSPR", "homeroom", "101", False, "Byron") is None
    for kind in ("EOCEX2", "LEPELL", "ASVAB"):
        assert sa.map_sort(kind, "room", "101", True, "Byron") is None


def test_asvab_objective_assessments_with_number_score_results():
    parent = result("p", code="ASVAB", percentile=Decimal("66"))
    parts = [
        result("ar", code="ASVAB-AR", scale_score=Decimal("54")),
        result("wk", code="ASVAB-WK", scale_score=Decimal("61.0")),
        result("xx", code="OTHER", scale_score=Decimal("10")),
    ]
    found = sa.asvab_objectives(parent, parts, ASVAB, "ASVAB-26006")
    codes = [o["objectiveAssessmentReference"]["identificationCode"] for o in found]
    assert codes == [
        "Arithmetic Reasoning",
        "Military Entrance Score OR Armed Forces Qualification Test",
        "Word Knowledge",
    ]
    first = found[0]
    assert first["objectiveAssessmentReference"]["namespace"] == "uri://dese.mo.gov/ASVAB"
    assert first["objectiveAssessmentReference"]["assessmentIdentifier"] == "ASVAB-26006"
    score = first["scoreResults"][0]
    assert score["assessmentReportingMethodDescriptor"].endswith("#Number score")
    assert score["resultDatatypeTypeDescriptor"].endswith("#Integer")
    assert score["result"] == "54"
    assert found[2]["scoreResults"][0]["result"] == "61"
