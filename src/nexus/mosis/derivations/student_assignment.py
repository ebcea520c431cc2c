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

The helpers `load_student_identity`, `load_enrollments`, `load_programs`, `STUDENT_COLUMNS`
and `RACE_SQL` are shared with the June layouts (course completion, discipline).
"""

from __future__ import annotations

import duckdb

from nexus.mosis.derivations import (
    DERIVATIONS,
    CanonicalReader,
    ExtractContext,
    derivation,
    population,
    register_file_fields,
)
from nexus.mosis.derivations import student_core as _student_core  # noqa: F401 (registers)
from nexus.mosis.derivations.course_assignment import build_assignments
from nexus.mosis.derivations.educator_core import EDSSN

# One rule for race/ethnicity across the files: Student Core's.
RACE_SQL = DERIVATIONS["student_core.race_ethnicity"].sql
RACE_RULE = DERIVATIONS["student_core.race_ethnicity"].rule


def load_student_identity(canonical: CanonicalReader, tenant_id: int) -> None:
    """`stu`: one identity per student person (first by key scope, source key), with the
    MOSIS ID and the district's student number."""
    t = int(tenant_id)
    canonical.load(
        "ident",
        "SELECT person_id, key_scope, source_key, legal_first_name, legal_middle_name, "
        "legal_last_name, generation_suffix, birth_date, gender, hispanic_latino, "
        "race_american_indian_alaska_native, race_asian, race_black_african_american, "
        "race_native_hawaiian_pacific_islander, race_white FROM census.identities "
        f"WHERE tenant_id = {t} AND person_kind = 'student' AND person_id IS NOT NULL",
        {
            "person_id": "BIGINT",
            "birth_date": "DATE",
            "hispanic_latino": "BOOLEAN",
            "race_american_indian_alaska_native": "BOOLEAN",
            "race_asian": "BOOLEAN",
            "race_black_african_american": "BOOLEAN",
            "race_native_hawaiian_pacific_islander": "BOOLEAN",
            "race_white": "BOOLEAN",
        },
    )
    canonical.load(
        "ids",
        "SELECT i.person_id, p.identifier_type, p.value FROM census.person_identifiers p "
        "JOIN census.identities i ON i.tenant_id = p.tenant_id AND i.key_scope = p.key_scope "
        "AND i.person_kind = p.person_kind AND i.source_key = p.source_key "
        f"WHERE p.tenant_id = {t} AND p.valid_to_run IS NULL AND p.person_kind = 'student' "
        "AND i.person_id IS NOT NULL "
        "AND p.identifier_type IN ('mosis_state_id', 'student_number')",
        {"person_id": "BIGINT"},
    )


def student_table(db: duckdb.DuckDBPyConnection) -> None:
    """`stu` from `ident` and `ids`: one row per student person."""
    db.execute(
        """
        CREATE OR REPLACE TABLE stu AS
        SELECT i.* EXCLUDE (pick),
               (SELECT min(value) FROM ids WHERE ids.person_id = i.person_id
                  AND identifier_type = 'mosis_state_id') AS state_id,
               (SELECT min(value) FROM ids WHERE ids.person_id = i.person_id
                  AND identifier_type = 'student_number') AS local_id
        FROM (SELECT *, row_number() OVER (
                  PARTITION BY person_id ORDER BY key_scope, source_key) AS pick
              FROM ident) i
        WHERE i.pick = 1
        """
    ).fetchall()


# The student columns every student file reads from `stu` (aliased `u`).
STUDENT_COLUMNS = (
    "u.state_id, u.local_id, u.legal_first_name, u.legal_middle_name, u.legal_last_name, "
    "u.generation_suffix, u.birth_date, u.gender, u.hispanic_latino, "
    "u.race_american_indian_alaska_native, u.race_asian, u.race_black_african_american, "
    "u.race_native_hawaiian_pacific_islander, u.race_white"
)


def load_enrollments(canonical: CanonicalReader, tenant_id: int, school_year: int) -> None:
    """`enr`: the year's enrollments that count for the state (not state-excluded, not a
    no-show, not in an excluded calendar), with their school's DESE code."""
    t, y = int(tenant_id), int(school_year)
    canonical.load(
        "enr_all",
        "SELECT e.enrollment_id, e.person_id, e.grade_level, e.entry_date, e.exit_date, "
        "e.service_type, e.resident_district, e.state_exclude, e.no_show, s.school_code, "
        "c.state_exclude AS calendar_exclude, c.summer_school FROM education.enrollments e "
        "LEFT JOIN education.schools s ON s.tenant_id = e.tenant_id AND s.school_id = e.school_id "
        "LEFT JOIN education.calendars c ON c.tenant_id = e.tenant_id "
        f"AND c.calendar_id = e.calendar_id WHERE e.tenant_id = {t} AND e.school_year = {y}",
        {
            "enrollment_id": "BIGINT",
            "person_id": "BIGINT",
            "entry_date": "DATE",
            "exit_date": "DATE",
            "state_exclude": "BOOLEAN",
            "no_show": "BOOLEAN",
            "calendar_exclude": "BOOLEAN",
            "summer_school": "BOOLEAN",
        },
    )


def enrollment_view(db: duckdb.DuckDBPyConnection) -> None:
    db.execute(
        "CREATE OR REPLACE VIEW enr AS SELECT * FROM enr_all WHERE NOT coalesce(state_exclude, "
        "false) AND NOT coalesce(no_show, false) AND NOT coalesce(calendar_exclude, false)"
    ).fetchall()


def load_programs(canonical: CanonicalReader, tenant_id: int, school_year: int) -> None:
    """`prog`: IEP and English learner spells of the year (or without a year)."""
    t, y = int(tenant_id), int(school_year)
    canonical.load(
        "prog",
        "SELECT person_id, program, status_code, begin_date, end_date "
        f"FROM education.program_participation WHERE tenant_id = {t} "
        f"AND (school_year = {y} OR school_year IS NULL) "
        "AND program IN ('iep', 'english_learner')",
        {"person_id": "BIGINT", "begin_date": "DATE", "end_date": "DATE"},
    )


def program_code(program: str, person: str, on: str) -> str:
    """SQL: the lowest status code of a `program` spell of `person` covering date `on`, or
    NULL (and `has_<program>` is its EXISTS)."""
    return (
        f"(SELECT min(coalesce(p.status_code, '')) FROM prog p WHERE p.person_id = {person} "
        f"AND p.program = '{program}' AND coalesce(p.begin_date, {on}) <= {on} "
        f"AND (p.end_date IS NULL OR p.end_date >= {on}))"
    )


def register_student_fields(prefix: str, names: dict[str, str]) -> None:
    """The identity fields shared by student files: `names` maps a derivation suffix to one
    of state_id, local_id, last, first, middle, suffix, birth, grade, gender, race."""
    rules = {
        "state_id": ("state_id", "MOSIS ID (DESE)", "census.person_identifiers(mosis_state_id)"),
        "local_id": (
            "local_id",
            "the district's student number",
            "census.person_identifiers(student_number)",
        ),
        "last": ("legal_last_name", "legal surname from the SIS", "census.identities"),
        "first": ("legal_first_name", "legal given name from the SIS", "census.identities"),
        "middle": ("legal_middle_name", "legal middle name from the SIS", "census.identities"),
        "suffix": ("generation_suffix", "legal name suffix from the SIS", "census.identities"),
        "birth": (
            "strftime(birth_date, '%m/%d/%Y')",
            "birth date, MM/DD/YYYY",
            "census.identities.birth_date",
        ),
        "gender": ("gender", "gender (M/F)", "census.identities.gender"),
        "race": (RACE_SQL, RACE_RULE, "census.identities"),
    }
    for suffix, key in names.items():
        sql, rule, source = rules[key]
        derivation(prefix + suffix, sql, rule, source)


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
    load_student_identity(canonical, t)
    load_enrollments(canonical, t, y)
    load_programs(canonical, t, y)
    student_table(db)
    enrollment_view(db)
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
                       CASE e.service_type WHEN 'P' THEN 0 WHEN 'S' THEN 1 ELSE 2 END,
                       e.entry_date DESC, e.enrollment_id DESC) AS pick
          FROM r JOIN a ON a.section_id = r.section_id
          JOIN enr e ON e.person_id = r.person_id AND e.entry_date <= {c}
            AND (e.exit_date IS NULL OR e.exit_date >= {c})
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
    return (
        "section_enrollment",
        "assign_num || ':' || CAST(person_id AS VARCHAR)",
        "school_code, section_id, state_id, person_id",
    )


def _register() -> None:
    d = "student_assignment."
    register_file_fields(d)
    derivation(d + "edssn", *EDSSN)
    derivation(
        d + "reporting_district_code",
        "$district_code",
        "the tenant district's DESE county-district code",
        "education.districts",
    )
    derivation(
        d + "reporting_school_code",
        "school_code",
        "DESE code of the section's school (the course's school)",
        "education.sections -> courses -> schools",
    )
    register_student_fields(
        d,
        {
            "state_id": "state_id",
            "local_student_id": "local_id",
            "student_last_name": "last",
            "student_first_name": "first",
            "student_middle_name": "middle",
            "student_name_suffix": "suffix",
            "student_dateof_birth": "birth",
            "student_gender": "gender",
            "student_race_ethn": "race",
        },
    )
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
