"""The resources courseTranscripts and studentAssessments reference, built as far as needed to
load them: Missouri descriptors, students, schools, courses, studentAcademicRecords,
assessments and objectiveAssessments."""

from __future__ import annotations

from collections.abc import Iterable

from nexus.edfi import edorgs
from nexus.edfi.assessments import AssessmentUse, subject_descriptor
from nexus.edfi.enrollment_rules import grade_level_descriptor
from nexus.edfi.facts import Course, Facts
from nexus.edfi.missouri import edfi, missouri_descriptors
from nexus.edfi.records import Record

TITLES = {
    "ASVAB": "Armed Services Vocational Aptitude Battery",
    "EOCEX2": "End-of-Course Exception 2",
    "EOCEX3": "End-of-Course Exception 3",
    "EOCEX4": "End-of-Course Exception 4",
    "EOCFAL": "End-of-Course Fall",
    "EOCSPR": "End-of-Course Spring",
    "EOCSUM": "End-of-Course Summer",
    "LEPELL": "English Language Proficiency (ELL)",
    "MAPSPR": "MAP Grade-Level Spring",
}


def descriptor_records() -> list[Record]:
    """Every uri://dese.mo.gov descriptor the seeds list, one record per code."""
    out = []
    for d in missouri_descriptors():
        for code, short in d.codes.items():
            out.append(
                Record(
                    d.endpoint,
                    f"{d.namespace}#{code}",
                    {
                        "codeValue": code,
                        "namespace": d.namespace,
                        "shortDescription": short,
                        "description": short,
                    },
                )
            )
    return out


def student_records(facts: Facts, person_ids: Iterable[int]) -> list[Record]:
    """Students referenced by the built records (those with a MOSIS state id)."""
    out = []
    for pid in sorted(set(person_ids)):
        p = facts.people.get(pid)
        if p is None or not p.state_id:
            continue
        payload = {"studentUniqueId": p.state_id}
        if p.birth_date:
            payload["birthDate"] = p.birth_date.isoformat()
        if p.first_name:
            payload["firstName"] = p.first_name
        if p.last_name:
            payload["lastSurname"] = p.last_name
        out.append(Record("students", f"person/{pid}", payload))
    return out


def school_records(facts: Facts) -> list[Record]:
    """Schools with enrollments in the scope year, with the grade levels enrolled."""
    grades: dict[int, set[str]] = {}
    for enrollments in facts.enrollments.values():
        for e in enrollments:
            if e.school_year == facts.school_year and e.school_id is not None:
                grades.setdefault(e.school_id, set())
                if d := grade_level_descriptor(e.grade_level):
                    grades[e.school_id].add(d)
    out = []
    lea = edorgs.lea_id(facts.district_code)
    for sid in sorted(grades):
        s = facts.schools.get(sid)
        if s is None:
            continue
        school_id = edorgs.school_id(s.county_district_code or facts.district_code, s.school_code)
        payload: dict = {
            "schoolId": school_id,
            "nameOfInstitution": s.name or s.school_code,
            "gradeLevels": [{"gradeLevelDescriptor": g} for g in sorted(grades[sid])],
            "educationOrganizationCategories": [
                {
                    "educationOrganizationCategoryDescriptor": edfi(
                        "EducationOrganizationCategoryDescriptor", "School"
                    )
                }
            ],
        }
        if lea is not None:
            payload["localEducationAgencyReference"] = {"localEducationAgencyId": lea}
        record = Record("schools", f"school/{sid}", payload)
        if school_id is None:
            record.problem(
                "schoolId",
                "missing_school_code",
                "the school has no DESE building code or county-district code",
                s.school_code,
            )
        out.append(record)
    return out


def course_records(ods_courses: Iterable[Course]) -> list[Record]:
    """One course per state course code (the reference names courseCode = Course > State Code
    under educationOrganizationId 1, so local courses sharing a state code are one course)."""
    by_code: dict[str, Course] = {}
    for c in sorted(ods_courses, key=lambda c: c.course_id):
        if c.state_course_code:
            by_code.setdefault(c.state_course_code, c)
    out = []
    for code, c in sorted(by_code.items()):
        out.append(
            Record(
                "courses",
                f"course/{code}",
                {
                    "courseCode": code,
                    "educationOrganizationReference": {
                        "educationOrganizationId": edorgs.COURSE_EDUCATION_ORGANIZATION_ID
                    },
                    "courseTitle": (c.name or code)[:60],
                    "numberOfParts": 1,
                    "identificationCodes": [
                        {
                            "courseIdentificationSystemDescriptor": edfi(
                                "CourseIdentificationSystemDescriptor", "State course code"
                            ),
                            "identificationCode": code,
                        }
                    ],
                },
            )
        )
    return out


def academic_record_records(transcripts: Iterable[Record]) -> list[Record]:
    """One studentAcademicRecord per reference the transcripts make."""
    seen: dict[tuple, dict] = {}
    for t in transcripts:
        ref = t.payload["studentAcademicRecordReference"]
        key = (
            ref["educationOrganizationId"],
            ref["schoolYear"],
            ref["studentUniqueId"],
            ref["termDescriptor"],
        )
        seen.setdefault(key, ref)
    out = []
    for _key, ref in sorted(seen.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        if ref["studentUniqueId"] is None or ref["educationOrganizationId"] is None:
            continue
        out.append(
            Record(
                "studentAcademicRecords",
                f"sar/{ref['studentUniqueId']}/{ref['schoolYear']}",
                {
                    "educationOrganizationReference": {
                        "educationOrganizationId": ref["educationOrganizationId"]
                    },
                    "schoolYearTypeReference": {"schoolYear": ref["schoolYear"]},
                    "studentReference": {"studentUniqueId": ref["studentUniqueId"]},
                    "termDescriptor": ref["termDescriptor"],
                },
            )
        )
    return out


def assessment_records(uses: Iterable[AssessmentUse]) -> list[Record]:
    out = []
    for use in sorted(uses, key=lambda u: u.identifier):
        title = TITLES.get(use.kind, use.kind)
        if use.subject:
            title = f"{title} {use.subject}"
        out.append(
            Record(
                "assessments",
                f"assessment/{use.namespace}/{use.identifier}",
                {
                    "assessmentIdentifier": use.identifier,
                    "namespace": use.namespace,
                    "assessmentTitle": title,
                    "academicSubjects": [{"academicSubjectDescriptor": subject_descriptor(use)}],
                },
            )
        )
    return out


def objective_assessment_records(objectives: Iterable[tuple[str, str]]) -> list[Record]:
    """ASVAB parts: identificationCode = the part's name under the parent's identifier."""
    out = []
    for identifier, code in sorted(objectives):
        out.append(
            Record(
                "objectiveAssessments",
                f"objective/{identifier}/{code}",
                {
                    "identificationCode": code,
                    "assessmentReference": {
                        "assessmentIdentifier": identifier,
                        "namespace": "uri://dese.mo.gov/ASVAB",
                    },
                    "description": code,
                },
            )
        )
    return out
