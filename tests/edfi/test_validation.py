"""Validation of built records against the package's OpenAPI document, descriptors, natural keys
and references; the Missouri extension's shape."""

from __future__ import annotations

import copy

from nexus.edfi import schema
from nexus.edfi.extension import (
    EXTENSION,
    course_transcript_extension,
    extension_fields,
    student_assessment_extension,
)
from nexus.edfi.records import Record

EXTERNAL = {
    "stateEducationAgencies": [{"stateEducationAgencyId": 1}],
    "localEducationAgencies": [{"localEducationAgencyId": 48078}],
    "schoolYearTypes": [{"schoolYear": 2027}],
}
STUDENT = {
    "studentUniqueId": "1234567890",
    "birthDate": "2010-03-04",
    "firstName": "Ada",
    "lastSurname": "Byron",
}
COURSE = {
    "courseCode": "051000",
    "educationOrganizationReference": {"educationOrganizationId": 1},
    "courseTitle": "English I",
    "numberOfParts": 1,
    "identificationCodes": [
        {
            "courseIdentificationSystemDescriptor": (
                "uri://ed-fi.org/CourseIdentificationSystemDescriptor#State course code"
            ),
            "identificationCode": "051000",
        }
    ],
}
SAR = {
    "educationOrganizationReference": {"educationOrganizationId": 48078},
    "schoolYearTypeReference": {"schoolYear": 2027},
    "studentReference": {"studentUniqueId": "1234567890"},
    "termDescriptor": "uri://dese.mo.gov/TermDescriptor#Full Year",
}
TRANSCRIPT = {
    "courseAttemptResultDescriptor": "uri://ed-fi.org/CourseAttemptResultDescriptor#Pass",
    "courseReference": {"courseCode": "051000", "educationOrganizationId": 1},
    "studentAcademicRecordReference": {
        "educationOrganizationId": 48078,
        "schoolYear": 2027,
        "studentUniqueId": "1234567890",
        "termDescriptor": "uri://dese.mo.gov/TermDescriptor#Full Year",
    },
    "earnedCredits": 0.5,
}


def records(transcript=None, **extra) -> list[Record]:
    out = [
        Record(
            "termDescriptors",
            "term",
            {
                "codeValue": "Full Year",
                "namespace": "uri://dese.mo.gov/TermDescriptor",
                "shortDescription": "Full Year",
            },
        ),
        Record("students", "s", copy.deepcopy(STUDENT)),
        Record("courses", "c", copy.deepcopy(COURSE)),
        Record("studentAcademicRecords", "sar", copy.deepcopy(SAR)),
        Record("courseTranscripts", "t1", copy.deepcopy(transcript or TRANSCRIPT)),
    ]
    for key, payload in extra.items():
        out.append(Record("courseTranscripts", key, payload))
    schema.validate(out, EXTERNAL)
    return out


def problems(rs, key="t1"):
    return [(p.rule, p.field) for r in rs if r.record_key == key for p in r.problems]


def test_a_good_chain_of_records_is_valid():
    assert all(r.valid for r in records()), [r.problems for r in records()]


def test_null_in_an_optional_field_is_invalid_omit_it_instead():
    rs = records({**TRANSCRIPT, "finalLetterGradeEarned": None})
    assert problems(rs) == [("schema", "finalLetterGradeEarned")]
    assert not rs[-1].valid


def test_missing_required_field_names_it():
    bad = {k: v for k, v in TRANSCRIPT.items() if k != "courseAttemptResultDescriptor"}
    assert ("schema", "courseAttemptResultDescriptor") in problems(records(bad))


def test_string_too_long_and_number_out_of_range():
    rs = records({**TRANSCRIPT, "finalLetterGradeEarned": "X" * 21, "earnedCredits": -1})
    assert sorted(problems(rs)) == [
        ("schema", "earnedCredits"),
        ("schema", "finalLetterGradeEarned"),
    ]


def test_empty_required_array_is_invalid():
    rs = [Record("courses", "c", {**COURSE, "identificationCodes": []})]
    schema.validate(rs, EXTERNAL)
    assert ("empty_required_array", "identificationCodes") in [
        (p.rule, p.field) for p in rs[0].problems
    ]


def test_bad_date_format_is_invalid():
    rs = [Record("students", "s", {**STUDENT, "birthDate": "03/04/2010"})]
    schema.validate(rs, EXTERNAL)
    assert [(p.rule, p.field) for p in rs[0].problems] == [("schema", "birthDate")]


def test_unknown_descriptor_value_is_invalid():
    rs = records(
        {
            **TRANSCRIPT,
            "courseAttemptResultDescriptor": "uri://ed-fi.org/CourseAttemptResultDescriptor#Maybe",
        }
    )
    assert problems(rs) == [("unknown_descriptor", "courseAttemptResultDescriptor")]


def test_descriptor_values_inside_the_extension_are_checked_too():
    payload = {
        **TRANSCRIPT,
        **course_transcript_extension("uri://dese.mo.gov/GradingPeriodDescriptor#Q9"),
    }
    assert problems(records(payload)) == [
        ("unknown_descriptor", f"_ext.{EXTENSION}.gradingPeriodDescriptor")
    ]


def test_duplicate_natural_key_is_invalid_the_first_stays_valid():
    rs = records(t2={**TRANSCRIPT, "earnedCredits": 1.0})
    assert problems(rs, "t1") == []
    assert problems(rs, "t2") == [("duplicate_natural_key", None)]


def test_unresolved_reference_is_invalid():
    bad = copy.deepcopy(TRANSCRIPT)
    bad["courseReference"]["courseCode"] = "999999"
    assert problems(records(bad)) == [("unresolved_reference", "courseReference")]


def test_a_reference_to_an_invalid_record_is_unresolved():
    rs = [
        Record("students", "s", {**STUDENT, "birthDate": None}),
        Record("studentAcademicRecords", "sar", copy.deepcopy(SAR)),
    ]
    schema.validate(rs, EXTERNAL)
    assert not rs[0].valid
    assert [(p.rule, p.field) for p in rs[1].problems] == [
        ("unresolved_reference", "studentReference")
    ]


def test_references_to_items_dese_loads_resolve():
    rs = [
        Record("studentAcademicRecords", "sar", copy.deepcopy(SAR)),
        Record("students", "s", copy.deepcopy(STUDENT)),
    ]
    schema.validate(rs, EXTERNAL)
    assert all(r.valid for r in rs)
    schema.validate(rs, {})  # without the LEA and school years: both unresolved
    fields = sorted(p.field for p in rs[0].problems)
    assert fields == ["educationOrganizationReference", "schoolYearTypeReference"]


def test_natural_keys_follow_the_document():
    assert schema.identity_fields("courseTranscripts") == (
        "courseAttemptResultDescriptor",
        "courseReference",
        "studentAcademicRecordReference",
    )
    assert schema.identity_fields("studentAssessments") == (
        "studentAssessmentIdentifier",
        "assessmentReference",
        "studentReference",
    )


def test_load_order_descriptors_first_transcripts_last():
    order = schema.sort_by_load_order(
        [
            "courseTranscripts",
            "students",
            "studentAssessments",
            "creditTypeDescriptors",
            "studentAcademicRecords",
            "courses",
            "assessments",
            "objectiveAssessments",
            "schools",
        ]
    )
    assert order[0] == "creditTypeDescriptors"
    assert order.index("assessments") < order.index("objectiveAssessments")
    assert order.index("objectiveAssessments") < order.index("studentAssessments")
    assert order.index("studentAcademicRecords") < order.index("courseTranscripts")
    assert order[-1] == "courseTranscripts"


def test_missouri_extension_shape_is_isolated_and_omits_empty_fields():
    assert course_transcript_extension(None) == {}
    assert student_assessment_extension(None, None, None, None) == {}
    ext = student_assessment_extension("Ada", "Byron", "ada@x.example", "101")
    fields = extension_fields(ext)
    assert fields["administratorFirstName"] == "Ada"
    assert fields["electronicMail"] == {
        "electronicMailTypeDescriptor": "uri://ed-fi.org/ElectronicMailTypeDescriptor#Work",
        "electronicMailAddress": "ada@x.example",
    }
    assert fields["sort"] == "101"
    assert set(ext) == {"_ext"} and set(ext["_ext"]) == {EXTENSION}


def test_the_fast_schema_check_agrees_with_jsonschema():
    from jsonschema import Draft4Validator

    cases = {
        "students": [
            STUDENT,
            {**STUDENT, "birthDate": None},
            {**STUDENT, "birthDate": "2010-13-01"},
            {**STUDENT, "firstName": 5},
            {**STUDENT, "firstName": "x" * 76},
            {k: v for k, v in STUDENT.items() if k != "lastSurname"},
        ],
        "courses": [
            COURSE,
            {**COURSE, "numberOfParts": 1.5},
            {**COURSE, "numberOfParts": True},
            {**COURSE, "identificationCodes": [{"identificationCode": "x"}]},
            {**COURSE, "identificationCodes": "x"},
            {**COURSE, "courseCode": ""},
        ],
        "courseTranscripts": [
            TRANSCRIPT,
            {**TRANSCRIPT, "earnedCredits": -0.5},
            {**TRANSCRIPT, "earnedCredits": "1"},
            {**TRANSCRIPT, "earnedCredits": 1000000},
            {**TRANSCRIPT, "_ext": {"mo": {"x": None}}},
            {**TRANSCRIPT, "courseReference": {"courseCode": "1"}},
        ],
        "studentAcademicRecords": [SAR, {**SAR, "schoolYearTypeReference": {"schoolYear": "2027"}}],
    }
    for resource, payloads in cases.items():
        full = Draft4Validator(
            schema._inline(schema.resource_schema(resource)), format_checker=schema._formats()
        )
        for payload in payloads:
            expected = not list(full.iter_errors(payload))
            assert schema.conforms(schema._inlined(resource), payload) == expected, payload
            assert (schema.schema_errors(resource, payload) == []) == expected
