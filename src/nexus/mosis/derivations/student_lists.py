"""Student-list files: Direct Certification lookup, Assessment Pre-Code and ASVAB.

Each reports students with their identity, grade, gender and race, the fields of DESE's
student item numbering 050-105, from one population helper (`enrolled_students`):
- **Direct Certification lookup** (annual, `ALL1.0DirectCert`): every student enrolled at any
  time in the school year, so DESE can match them against SNAP/TANF lists;
- **Assessment Pre-Code** (per window: EOCFAL, LEPELL, EOCSPR, MAPSPR, EOCEXP, ACT): the
  students enrolled on the window's date (`cycles.COLLECTIONS`; `--count-date`) who may sit
  its test: MAP grades 03-08; EOC grades 06-12 (DESE's rule, students in an EOC course, needs
  state course codes the sources rarely carry); ACT grade 11; WIDA (LEPELL) English learners
  with status RCV or NRC then; EOC Exception: students with an EOC result before the school
  year. The Assessment item (EOC Exception only) has no canonical source and no known code
  set (ASMNT_Type_Codes was not found): it is left blank, so those rows are listed as
  blocked;
- **ASVAB** (June, `ALL1.0ASVAB`): one record per student per ASVAB administration in the
  year (assessment code ASVAB); the test date and the military entrance (AFQT) score from the
  result's scale score. Verbal, math and science/technical skills have no canonical source:
  blank (optional).

The chosen enrollment (school, grade) is Student Core's: a regular (not summer-school)
enrollment on the count date (whole year: any time), primary first, then the latest start.
"""

from __future__ import annotations

from datetime import date

import duckdb

from nexus.mosis.derivations import (
    CanonicalReader,
    ExtractContext,
    derivation,
    population,
    register_district_code,
    register_file_fields,
)
from nexus.mosis.derivations.population_sql import (
    STUDENT_COLUMNS,
    STUDENT_SUBJECT,
    enrolled_between,
    lit,
    load_enrollments,
    load_programs,
    load_students,
    primary_first,
    program_code,
    register_student_fields,
    school_filter,
)

# Grades that may sit each precode window's test (see the module docstring).
_EOC_GRADES = ("06", "07", "08", "09", "10", "11", "12")
WINDOW_GRADES: dict[str, tuple[str, ...] | None] = {
    "mapspr": ("03", "04", "05", "06", "07", "08"),
    "eocfal": _EOC_GRADES,
    "eocspr": _EOC_GRADES,
    "eocexp": _EOC_GRADES,
    "act": ("11",),
    "lepell": None,
}


def enrolled_students(
    db: duckdb.DuckDBPyConnection,
    ctx: ExtractContext,
    canonical: CanonicalReader,
    *,
    start: date,
    end: date,
    where: str = "true",
    name: str = "pop",
) -> None:
    """Table `name`: one row per student enrolled at some time in [start, end] (a
    countable enrollment: not state-excluded, no-show or excluded calendar), with the chosen
    enrollment's school and grade and the student columns; `where` filters further (SQL over
    `e` the enrollment and `u` the student)."""
    t, y = int(ctx.tenant_id), int(ctx.school_year)
    load_students(db, canonical, t)
    load_enrollments(db, canonical, t, y)
    load_programs(canonical, t, y)
    school = school_filter(ctx, "e.school_code")
    db.execute(
        f"""
        CREATE OR REPLACE TABLE {name} AS
        WITH e AS (
          SELECT e.*, row_number() OVER (
              PARTITION BY e.person_id
              ORDER BY {primary_first("e")}) AS pick
          FROM enr e
          WHERE NOT coalesce(e.summer_school, false)
            AND {enrolled_between("e", f"DATE '{start}'", f"DATE '{end}'")}
        )
        SELECT e.person_id, e.school_code, e.grade_level, {STUDENT_COLUMNS}
        FROM e JOIN stu u ON u.person_id = e.person_id
        WHERE e.pick = 1 {school} AND ({where})
        """
    ).fetchall()


@population("direct_certification_lookup")
def direct_certification_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    d = ctx.dates
    enrolled_students(db, ctx, canonical, start=d.window_start, end=d.count_date)
    return STUDENT_SUBJECT


@population("assessment_precode")
def assessment_precode_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    d, t = ctx.dates, int(ctx.tenant_id)
    window = d.cycle
    grades = WINDOW_GRADES.get(window)
    where = "true"
    if grades is not None:
        where = f"e.grade_level IN ({', '.join(lit(g) for g in grades)})"
    on = f"DATE '{d.count_date}'"
    if window == "lepell":
        where = f"{program_code('english_learner', 'e.person_id', on)} IN ('RCV', 'NRC')"
    if window == "eocexp":
        canonical.load(
            "eoc_before",
            "SELECT DISTINCT r.person_id FROM education.assessment_results r "
            "JOIN education.assessments a ON a.tenant_id = r.tenant_id "
            "AND a.assessment_id = r.assessment_id "
            f"WHERE r.tenant_id = {t} AND upper(a.assessment_code) LIKE 'EOC%' "
            f"AND r.administration_date < DATE '{d.window_start}'",
            {"person_id": "BIGINT"},
        )
        where += " AND e.person_id IN (SELECT person_id FROM eoc_before)"
    enrolled_students(db, ctx, canonical, start=d.count_date, end=d.count_date, where=where)
    return STUDENT_SUBJECT


@population("asvab")
def asvab_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    d, t = ctx.dates, int(ctx.tenant_id)
    year_end = date(ctx.school_year, 6, 30)
    canonical.load(
        "asvab_results",
        "SELECT r.person_id, r.administration_date, max(r.scale_score) AS scale_score "
        "FROM education.assessment_results r JOIN education.assessments a "
        "ON a.tenant_id = r.tenant_id AND a.assessment_id = r.assessment_id "
        f"WHERE r.tenant_id = {t} AND upper(a.assessment_code) = 'ASVAB' "
        f"AND r.administration_date BETWEEN DATE '{d.window_start}' AND DATE '{year_end}' "
        "GROUP BY r.person_id, r.administration_date",
        {"person_id": "BIGINT", "administration_date": "DATE", "scale_score": "DOUBLE"},
    )
    enrolled_students(
        db,
        ctx,
        canonical,
        start=d.window_start,
        end=year_end,
        where="e.person_id IN (SELECT person_id FROM asvab_results)",
        name="students",
    )
    db.execute(
        "CREATE OR REPLACE TABLE pop AS SELECT s.*, r.administration_date, r.scale_score "
        "FROM students s JOIN asvab_results r ON r.person_id = s.person_id"
    ).fetchall()
    return (
        "assessment_result",
        "CAST(person_id AS VARCHAR) || ':' || CAST(administration_date AS VARCHAR)",
        "school_code, state_id, person_id, administration_date",
    )


_IDENTITY = {
    "state_id": "state_id",
    "local_student_id": "local_id",
    "last_name": "last",
    "first_name": "first",
    "middle_name": "middle",
    "suffix": "suffix",
    "date_of_birth": "birth",
    "gender": "gender",
    "race_ethnicity": "race",
}


def _register() -> None:
    grade = (
        "grade_level",
        "grade of the chosen enrollment (primary first, then the latest start)",
        "education.enrollments.grade_level",
    )
    derivation(
        "direct_certification_lookup.collection_version",
        "$collection_version",
        "the fixed CollectionVersion string",
        "layout",
    )
    register_student_fields("direct_certification_lookup.", _IDENTITY)
    derivation("direct_certification_lookup.student_grade_level", *grade)
    for prefix in ("assessment_precode.", "asvab."):
        register_file_fields(prefix)
        register_district_code(prefix)
        derivation(
            prefix + "reporting_school_code",
            "school_code",
            "DESE code of the school of the chosen enrollment",
            "education.enrollments -> schools",
        )
        register_student_fields(prefix, _IDENTITY)
        derivation(prefix + "student_grade_level", *grade)
    derivation(
        "asvab.test_date",
        "strftime(administration_date, '%m/%d/%Y')",
        "the ASVAB administration date, MM/DD/YYYY",
        "education.assessment_results.administration_date",
    )
    derivation(
        "asvab.military_entrance_score",
        "CAST(CAST(round(scale_score) AS BIGINT) AS VARCHAR)",
        "the ASVAB result's scale score (the AFQT percentile), whole number",
        "education.assessment_results.scale_score (assessment ASVAB)",
    )


_register()
