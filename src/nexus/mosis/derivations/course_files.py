"""Summer Course Assignment, Summer Student Assignment and Post-secondary/Adult Course
Assignment: the course files beside October's Course and Student Assignment, built on the
same section population (`course_assignment.build_assignments`).

- **Summer Course Assignment** (June): one record per section of the year's summer-school
  calendars with a primary educator, AssignNum its canonical section id (as October's);
- **Summer Student Assignment** (June): one record per student rostered at any time in such
  a section (a student rostered twice in one section is one record); the grade is that of the
  student's summer-school enrollment, else of their latest enrollment of the year;
- **Post-secondary/Adult Course Assignment** (annual): the sections of courses whose
  canonical credit level is `postsecondary`, `adult` or `dual` (no source Nexus reads fills
  the credit level yet: the file is empty until one does), reported as a whole-year
  assignment with the section's semester.

EDSSN is the educator's staff identifier of type `ssn`, which no shipped mapping writes: it is
required, so those rows are listed as blocked until a source gives it. CTE program type /
program code and the CIP code have no canonical source: blank (CTEProgramCode is required on
the post-secondary file, so its rows are blocked too). The
position code is the educator's, as October's Course Assignment reads it (as of the June 30
count date for the June files).
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
from nexus.mosis.derivations.course_assignment import (
    SECTION_SUBJECT,
    SEMESTER_SQL,
    build_assignments,
    build_semester_population,
)
from nexus.mosis.derivations.educator_core import EDSSN
from nexus.mosis.derivations.population_sql import (
    STUDENT_COLUMNS,
    load_students,
    register_student_fields,
)
from nexus.mosis.derivations.student_assignment import SECTION_ENROLLMENT_SUBJECT, STUDENT_FIELDS

POSTSECONDARY_LEVELS = ("postsecondary", "adult", "dual")


@population("summer_course_assignment")
def summer_course_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    build_assignments(db, ctx, canonical, "pop", summer=True)
    return SECTION_SUBJECT


@population("postsecondary_adult_course_assignment")
def postsecondary_course_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    return build_semester_population(db, ctx, canonical, credit_levels=POSTSECONDARY_LEVELS)


@population("summer_student_assignment")
def summer_student_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    t, y = int(ctx.tenant_id), int(ctx.school_year)
    build_assignments(db, ctx, canonical, "ca", summer=True)
    canonical.load(
        "ros",
        "SELECT DISTINCT section_id, person_id FROM education.section_enrollments "
        f"WHERE tenant_id = {t} AND person_id IS NOT NULL",
        {"section_id": "BIGINT", "person_id": "BIGINT"},
    )
    canonical.load(
        "grades",
        "SELECT e.person_id, e.grade_level, e.entry_date, e.enrollment_id, "
        "c.summer_school FROM education.enrollments e LEFT JOIN education.calendars c "
        "ON c.tenant_id = e.tenant_id AND c.calendar_id = e.calendar_id "
        f"WHERE e.tenant_id = {t} AND e.school_year = {y} AND NOT coalesce(e.no_show, false)",
        {
            "person_id": "BIGINT",
            "entry_date": "DATE",
            "enrollment_id": "BIGINT",
            "summer_school": "BOOLEAN",
        },
    )
    load_students(db, canonical, t)
    db.execute(
        f"""
        CREATE OR REPLACE TABLE pop AS
        WITH g AS (
          SELECT person_id, grade_level, row_number() OVER (
              PARTITION BY person_id
              ORDER BY coalesce(summer_school, false) DESC, entry_date DESC,
                       enrollment_id DESC) AS pick
          FROM grades
        )
        SELECT a.section_id, a.assign_num, a.school_code, a.pos_code, r.person_id,
               g.grade_level, {STUDENT_COLUMNS}
        FROM ca a JOIN ros r ON r.section_id = a.section_id
        LEFT JOIN g ON g.person_id = r.person_id AND g.pick = 1
        LEFT JOIN stu u ON u.person_id = r.person_id
        """
    ).fetchall()
    return SECTION_ENROLLMENT_SUBJECT


def _educator_fields(prefix: str, last: str, first: str) -> None:
    register_file_fields(prefix)
    derivation(prefix + "edssn", *EDSSN)
    register_district_code(prefix)
    derivation(
        prefix + "reporting_school_code",
        "school_code",
        "DESE code of the course's school",
        "education.courses -> schools",
    )
    source = "education.section_educators(primary) | sections.primary_educator_id"
    derivation(
        prefix + last,
        "educator_last_name",
        "the primary educator's legal surname",
        source + " -> census.identities",
    )
    derivation(
        prefix + first,
        "educator_first_name",
        "the primary educator's legal given name",
        source + " -> census.identities",
    )
    derivation(
        prefix + "pos_code",
        "pos_code",
        "the educator's position code (as Course Assignment reads it)",
        "education.employment_assignments.position_code",
    )
    derivation(
        prefix + "loc_course_num",
        "local_course_code",
        "the district's course number",
        "education.courses.local_course_code",
    )


def _register() -> None:
    s = "summer_course_assignment."
    _educator_fields(s, "last_name", "first_name")
    derivation(
        s + "assign_num",
        "assign_num",
        "the section's canonical id (Summer Student Assignment links to it)",
        "education.sections.section_id",
    )
    p = "postsecondary_adult_course_assignment."
    _educator_fields(p, "ed_last_name", "ed_first_name")
    derivation(
        p + "loc_course_name", "course_name", "the district's course title", "education.courses"
    )
    derivation(
        p + "loc_sec_num",
        "local_section_code",
        "the district's section number",
        "education.sections.local_section_code",
    )
    derivation(
        p + "course_sem",
        SEMESTER_SQL,
        "from the section's term: ends before January 1 → 1 (fall), starts on or after it "
        "→ 2 (winter), else 0 (full year); no term dates → blank",
        "education.sections.term_start_date/term_end_date | terms",
    )
    u = "summer_student_assignment."
    register_file_fields(u)
    register_district_code(u)
    derivation(
        u + "reporting_school_code",
        "school_code",
        "DESE code of the section's school (the course's school)",
        "education.sections -> courses -> schools",
    )
    register_student_fields(u, STUDENT_FIELDS)
    derivation(
        u + "student_grade_level",
        "grade_level",
        "grade of the student's summer-school enrollment, else their latest of the year",
        "education.enrollments.grade_level",
    )


_register()
