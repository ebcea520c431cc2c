"""Student Core: who is reported in a cycle, and each field's derivation from canonical data.

Population (one record per student per district per cycle):
- October, February, April: students enrolled on the count date;
- December: students enrolled on December's count date who have an IEP then (the child count);
- June: every student enrolled at any time in the year;
leaving out state-excluded enrollments, no-shows, excluded calendars and summer-school
calendars (summer school is reported in SEA and the summer files). Where a student has
several enrollments that qualify, the primary one wins (service type P, then S, then N), then
the latest start. Program flags, grade and residency are read as of the count date (June: at
any time in the year).
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
from nexus.mosis.derivations.population_sql import (
    STUDENT_SUBJECT,
    enrolled_between,
    identifier,
    load_enrollments,
    load_student_identity,
    primary_first,
    register_residency,
    register_student_fields,
    school_filter,
)


@population("student_core")
def student_core_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    t, y, d = int(ctx.tenant_id), int(ctx.school_year), ctx.dates
    load_enrollments(db, canonical, t, y)
    load_student_identity(canonical, t)
    canonical.load(
        "prog",
        "SELECT person_id, program, status_code, begin_date, end_date "
        f"FROM education.program_participation WHERE tenant_id = {t} "
        f"AND (school_year = {y} OR school_year IS NULL)",
        {"person_id": "BIGINT", "begin_date": "DATE", "end_date": "DATE"},
    )
    canonical.load(
        "truancy",
        "SELECT person_id, count(*) AS unexcused_days FROM education.attendance_days "
        f"WHERE tenant_id = {t} AND attendance_date BETWEEN '{d.window_start}' "
        f"AND '{d.count_date}' AND attendance_status = 'absent' AND excuse_code = 'U' "
        "GROUP BY person_id",
        {"person_id": "BIGINT", "unexcused_days": "BIGINT"},
    )
    start = d.window_start if d.whole_year else d.count_date
    count = f"DATE '{d.count_date}'"
    end = d.count_date
    school = school_filter(ctx, "e.school_code")

    def active(alias: str) -> str:
        return (
            f"coalesce({alias}.begin_date, DATE '{end}') <= DATE '{end}' AND "
            f"({alias}.end_date IS NULL OR {alias}.end_date >= DATE '{start}')"
        )

    def program(name: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM prog p WHERE p.person_id = c.person_id "
            f"AND p.program = '{name}' AND {active('p')})"
        )

    def program_code(name: str) -> str:
        return (
            f"(SELECT min(p.status_code) FROM prog p WHERE p.person_id = c.person_id "
            f"AND p.program = '{name}' AND {active('p')})"
        )

    iep_only = f"AND {program('iep')}" if d.cycle == "december" else ""
    db.execute(
        f"""
        CREATE OR REPLACE TABLE pop AS
        WITH cand AS (
          SELECT e.*, row_number() OVER (
              PARTITION BY e.person_id
              ORDER BY {primary_first("e")}) AS pick
          FROM enr e
          WHERE NOT coalesce(e.summer_school, false)
            AND {enrolled_between("e", f"DATE '{start}'", f"DATE '{end}'")} {school}
        ), c AS (SELECT * FROM cand WHERE pick = 1)
        SELECT c.enrollment_id, c.person_id, c.school_code, c.grade_level, c.entry_date,
               c.exit_date, c.service_type, c.fte, c.resident_district, c.resident_school,
               c.residency_status,
               i.legal_first_name, i.legal_middle_name, i.legal_last_name,
               i.generation_suffix, i.birth_date, i.gender, i.hispanic_latino,
               i.race_american_indian_alaska_native, i.race_asian,
               i.race_black_african_american, i.race_native_hawaiian_pacific_islander,
               i.race_white, i.race_two_or_more,
               {identifier("c.person_id", "mosis_state_id")} AS state_id,
               {identifier("c.person_id", "student_number")} AS local_id,
               {program_code("lunch")} AS lunch_status,
               {program("gifted")} AS gifted,
               {program("homeless")} AS homeless,
               {program("migrant")} AS migrant,
               {program("title_i")} AS title_i,
               {program("foster")} AS foster_care,
               {program("immigrant")} AS immigrant,
               {program_code("english_learner")} AS el_status,
               {program("iep")} AS has_iep,
               {program_code("iep")} AS iep_code,
               coalesce((SELECT t.unexcused_days FROM truancy t
                         WHERE t.person_id = c.person_id), 0) AS unexcused_days,
               ({enrolled_between("c", count, count)}) AS enrolled_on_count_date
        FROM c
        LEFT JOIN ident i ON i.person_id = c.person_id AND i.key_scope = c.key_scope
        WHERE true {iep_only}
        """
    ).fetchall()
    return STUDENT_SUBJECT


def _yn(expr: str) -> str:
    return f"CASE WHEN {expr} THEN 'Y' ELSE 'N' END"


def _register() -> None:
    d = "student_core."
    register_file_fields(d)
    register_district_code(d, "attending_district_code", "reporting_district_code")
    for name in ("attending_school_code", "reporting_school_code"):
        derivation(
            d + name,
            "school_code",
            "DESE code of the school of the chosen enrollment",
            "education.enrollments -> schools",
        )
    register_residency(d)
    register_student_fields(
        d,
        {
            "state_id": "state_id",
            "local_student_id": "local_id",
            "date_of_birth": "birth",
            "gender": "gender",
            "race_ethnicity": "race",
        },
    )
    for column, field in (
        ("last_name", "legal_last_name"),
        ("first_name", "legal_first_name"),
        ("middle_name", "legal_middle_name"),
        ("suffix", "generation_suffix"),
    ):
        derivation(d + column, field, "legal name from the SIS", "census.identities")
    derivation(
        d + "student_grade_level",
        "grade_level",
        "grade of the chosen enrollment",
        "education.enrollments.grade_level",
    )
    derivation(
        d + "lunch_status",
        "CASE lunch_status WHEN 'free' THEN 'F' WHEN 'reduced' THEN 'R' ELSE 'N' END",
        "free F, reduced R, else N (DESE's codes were not found: unverified)",
        "education.program_participation(lunch)",
    )
    for column, flag in (
        ("gifted", "gifted"),
        ("homeless", "homeless"),
        ("migrant", "migrant"),
        ("title_i", "title_i"),
        ("foster_care", "foster_care"),
        ("immigrant", "immigrant"),
    ):
        derivation(
            d + column,
            _yn(flag),
            f"Y when a {flag.replace('_', ' ')} spell covers the count date (June: the year)",
            "education.program_participation",
        )
    derivation(
        d + "lepell",
        "coalesce(el_status, 'NLP')",
        "English learner status code as of the count date, else NLP",
        "education.program_participation(english_learner)",
    )
    derivation(
        d + "residency_status",
        "residency_status",
        "the enrollment's residency status",
        "education.enrollments.residency_status",
    )
    derivation(
        d + "member_fte",
        "CASE WHEN fte IS NULL THEN NULL ELSE CAST(CAST(round(fte / 100, 2) AS DECIMAL(4, 2)) "
        "AS VARCHAR) END",
        "percent enrolled / 100, two decimals",
        "education.enrollments.fte",
    )
    derivation(
        d + "enrolled_on_cnt_date",
        _yn("enrolled_on_count_date"),
        "Y when the chosen enrollment covers the count date",
        "education.enrollments",
    )
    derivation(
        d + "iep_disability",
        "CASE WHEN has_iep THEN coalesce(iep_code, '00') ELSE '00' END",
        "the IEP's disability code; 00 without an IEP",
        "education.program_participation(iep)",
    )
    derivation(
        d + "truant",
        _yn("unexcused_days >= 10"),
        "Y at 10 or more unexcused absence days in the window",
        "education.attendance_days",
    )


_register()
