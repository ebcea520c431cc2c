"""Student Assignment (October): one record per student per teaching assignment.

Population: each student rostered on the count date (roster start on or before it, no end or
an end on or after it) in a section Course Assignment reports (`build_assignments`) whose
position code is 60 (teacher) and whose AssignNum is not 0, the section's term covering the
count date (no term dates: taken as covering it), the student holding an enrollment of the
year on the count date that is not state-excluded, a no-show or in an excluded calendar. A
student rostered twice in one section is one record. AssignNum is the section's Course
Assignment number, so the two files link.

The student's grade is that of the enrollment covering the count date, preferring one at the
section's school, then the primary service type, then the latest start. Identity fields come
from the student's identity record (one per person: the first by key scope and source key).
"""

from __future__ import annotations

import duckdb

from nexus.mosis.derivations import (
    CanonicalReader,
    ExtractContext,
    derivation,
    population,
    register_district_code,
    register_file_fields,
)
from nexus.mosis.derivations.course_assignment import build_assignments
from nexus.mosis.derivations.educator_core import EDSSN
from nexus.mosis.derivations.population_sql import (
    STUDENT_COLUMNS,
    enrolled_between,
    load_enrollments,
    load_programs,
    load_students,
    primary_first,
    program_code,
    register_student_fields,
)

# The student fields of Student Assignment and Summer Student Assignment.
STUDENT_FIELDS = {
    "state_id": "state_id",
    "local_student_id": "local_id",
    "student_last_name": "last",
    "student_first_name": "first",
    "student_middle_name": "middle",
    "student_name_suffix": "suffix",
    "student_dateof_birth": "birth",
    "student_gender": "gender",
    "student_race_ethn": "race",
}

# A population of one record per student per section.
SECTION_ENROLLMENT_SUBJECT = (
    "section_enrollment",
    "assign_num || ':' || CAST(person_id AS VARCHAR)",
    "school_code, section_id, state_id, person_id",
)


@population("student_assignment")
def student_assignment_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    t, y, count = int(ctx.tenant_id), int(ctx.school_year), ctx.dates.count_date
    c = f"DATE '{count}'"
    build_assignments(db, ctx, canonical, "ca")
    canonical.load(
        "ros",
        "SELECT section_id, person_id, start_date, end_date FROM education.section_enrollments "
        f"WHERE tenant_id = {t} AND person_id IS NOT NULL",
        {"section_id": "BIGINT", "person_id": "BIGINT", "start_date": "DATE", "end_date": "DATE"},
    )
    load_students(db, canonical, t)
    load_enrollments(db, canonical, t, y)
    load_programs(canonical, t, y)
    db.execute(
        f"""
        CREATE OR REPLACE TABLE pop AS
        WITH a AS (
          SELECT * FROM ca
          WHERE pos_code = '60' AND assign_num <> '0'
            AND coalesce(term_start, {c}) <= {c} AND coalesce(term_end, {c}) >= {c}
        ), r AS (
          SELECT DISTINCT section_id, person_id FROM ros
          WHERE coalesce(start_date, {c}) <= {c} AND (end_date IS NULL OR end_date >= {c})
        ), e AS (
          SELECT r.section_id, r.person_id, e.grade_level, row_number() OVER (
              PARTITION BY r.section_id, r.person_id
              ORDER BY coalesce(e.school_code = a.school_code, false) DESC,
                       {primary_first("e")}) AS pick
          FROM r JOIN a ON a.section_id = r.section_id
          JOIN enr e ON e.person_id = r.person_id AND {enrolled_between("e", c, c)}
        )
        SELECT a.section_id, a.assign_num, a.school_code, a.local_course_code, a.course_name,
               a.local_section_code, a.state_course_code, a.pos_code, a.ssn, e.person_id,
               e.grade_level, {STUDENT_COLUMNS},
               {program_code("iep", "e.person_id", c)} AS iep_code,
               {program_code("iep", "e.person_id", c)} IS NOT NULL AS has_iep
        FROM e JOIN a ON a.section_id = e.section_id
        LEFT JOIN stu u ON u.person_id = e.person_id
        WHERE e.pick = 1
        """
    ).fetchall()
    return SECTION_ENROLLMENT_SUBJECT


def _register() -> None:
    d = "student_assignment."
    register_file_fields(d)
    derivation(d + "edssn", *EDSSN)
    register_district_code(d)
    derivation(
        d + "reporting_school_code",
        "school_code",
        "DESE code of the section's school (the course's school)",
        "education.sections -> courses -> schools",
    )
    register_student_fields(d, STUDENT_FIELDS)
    derivation(
        d + "student_grade_level",
        "grade_level",
        "grade of the enrollment covering the count date (the section's school first, then "
        "primary, then the latest start)",
        "education.enrollments.grade_level",
    )
    derivation(
        d + "assign_num",
        "assign_num",
        "the section's Course Assignment AssignNum (its canonical section id)",
        "education.sections.section_id",
    )
    derivation(
        d + "pos_code",
        "pos_code",
        "the linked educator assignment's position code (60: only teachers' sections)",
        "education.employment_assignments.position_code",
    )
    derivation(
        d + "iep_disability",
        "CASE WHEN has_iep THEN coalesce(nullif(iep_code, ''), '00') ELSE '00' END",
        "the disability code of an IEP covering the count date; 00 without an IEP",
        "education.program_participation(iep)",
    )
    derivation(
        d + "loc_course_num",
        "local_course_code",
        "the district's course number",
        "education.courses.local_course_code",
    )
    derivation(
        d + "loc_course_name", "course_name", "the district's course title", "education.courses"
    )
    derivation(
        d + "loc_sec_num",
        "local_section_code",
        "the district's section number",
        "education.sections.local_section_code",
    )
    derivation(
        d + "course_num",
        "state_course_code",
        "DESE state course code of the course",
        "education.courses.state_course_code",
    )


_register()
