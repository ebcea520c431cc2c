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
    register_file_fields,
)


def _lit(value: object) -> str:
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


@population("student_core")
def student_core_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    t, y, d = int(ctx.tenant_id), int(ctx.school_year), ctx.dates
    canonical.load(
        "enr",
        "SELECT e.enrollment_id, e.person_id, e.school_year, e.grade_level, e.entry_date, "
        "e.exit_date, e.service_type, e.fte, e.resident_district, e.residency_status, "
        "e.state_exclude, e.no_show, e.key_scope, s.school_code, "
        "c.state_exclude AS calendar_exclude, c.summer_school FROM education.enrollments e "
        "LEFT JOIN education.schools s ON s.tenant_id = e.tenant_id AND s.school_id = e.school_id "
        "LEFT JOIN education.calendars c ON c.tenant_id = e.tenant_id "
        f"AND c.calendar_id = e.calendar_id WHERE e.tenant_id = {t} AND e.school_year = {y}",
        {
            "enrollment_id": "BIGINT",
            "person_id": "BIGINT",
            "school_year": "INTEGER",
            "entry_date": "DATE",
            "exit_date": "DATE",
            "fte": "DECIMAL(12, 4)",
            "state_exclude": "BOOLEAN",
            "no_show": "BOOLEAN",
            "calendar_exclude": "BOOLEAN",
            "summer_school": "BOOLEAN",
        },
    )
    canonical.load(
        "ident",
        "SELECT person_id, key_scope, legal_first_name, legal_middle_name, legal_last_name, "
        "generation_suffix, birth_date, gender, hispanic_latino, "
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
    end = d.count_date
    school = f"AND e.school_code = {_lit(ctx.school_code)}" if ctx.school_code else ""

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
              ORDER BY CASE e.service_type WHEN 'P' THEN 0 WHEN 'S' THEN 1 ELSE 2 END,
                       e.entry_date DESC, e.enrollment_id DESC) AS pick
          FROM enr e
          WHERE NOT coalesce(e.state_exclude, false) AND NOT coalesce(e.no_show, false)
            AND NOT coalesce(e.calendar_exclude, false) AND NOT coalesce(e.summer_school, false)
            AND e.entry_date <= DATE '{end}'
            AND (e.exit_date IS NULL OR e.exit_date >= DATE '{start}') {school}
        ), c AS (SELECT * FROM cand WHERE pick = 1)
        SELECT c.enrollment_id, c.person_id, c.school_code, c.grade_level, c.entry_date,
               c.exit_date, c.service_type, c.fte, c.resident_district, c.residency_status,
               i.legal_first_name, i.legal_middle_name, i.legal_last_name,
               i.generation_suffix, i.birth_date, i.gender, i.hispanic_latino,
               i.race_american_indian_alaska_native, i.race_asian,
               i.race_black_african_american, i.race_native_hawaiian_pacific_islander,
               i.race_white,
               (SELECT min(value) FROM ids WHERE ids.person_id = c.person_id
                  AND identifier_type = 'mosis_state_id') AS state_id,
               (SELECT min(value) FROM ids WHERE ids.person_id = c.person_id
                  AND identifier_type = 'student_number') AS local_id,
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
               (c.entry_date <= DATE '{d.count_date}' AND (c.exit_date IS NULL
                  OR c.exit_date >= DATE '{d.count_date}')) AS enrolled_on_count_date
        FROM c
        LEFT JOIN ident i ON i.person_id = c.person_id AND i.key_scope = c.key_scope
        WHERE true {iep_only}
        """
    ).fetchall()
    return "student", "CAST(person_id AS VARCHAR)", "school_code, state_id, person_id"


def _yn(expr: str) -> str:
    return f"CASE WHEN {expr} THEN 'Y' ELSE 'N' END"


def _register() -> None:
    d = "student_core."
    register_file_fields(d)
    for name in ("attending_district_code", "reporting_district_code"):
        derivation(
            d + name,
            "$district_code",
            "the tenant district's DESE county-district code",
            "education.districts",
        )
    for name in ("attending_school_code", "reporting_school_code"):
        derivation(
            d + name,
            "school_code",
            "DESE code of the school of the chosen enrollment",
            "education.enrollments -> schools",
        )
    derivation(
        d + "resident_district_code",
        "coalesce(resident_district, $district_code)",
        "the enrollment's resident district, else the attending district",
        "education.enrollments.resident_district",
    )
    derivation(
        d + "resident_school_code",
        "CASE WHEN coalesce(resident_district, $district_code) = $district_code "
        "THEN school_code END",
        "residents: the attending school; non-residents: blank (their building is not known)",
        "education.enrollments",
    )
    derivation(
        d + "state_id", "state_id", "MOSIS ID (DESE)", "census.person_identifiers(mosis_state_id)"
    )
    derivation(
        d + "local_student_id",
        "local_id",
        "the district's student number",
        "census.person_identifiers(student_number)",
    )
    for column, field in (
        ("last_name", "legal_last_name"),
        ("first_name", "legal_first_name"),
        ("middle_name", "legal_middle_name"),
        ("suffix", "generation_suffix"),
    ):
        derivation(d + column, field, "legal name from the SIS", "census.identities")
    derivation(
        d + "date_of_birth",
        "strftime(birth_date, '%m/%d/%Y')",
        "birth date, MM/DD/YYYY",
        "census.identities.birth_date",
    )
    derivation(
        d + "student_grade_level",
        "grade_level",
        "grade of the chosen enrollment",
        "education.enrollments.grade_level",
    )
    derivation(d + "gender", "gender", "gender (M/F)", "census.identities.gender")
    derivation(
        d + "race_ethnicity",
        "CASE WHEN hispanic_latino THEN 'H' WHEN ("
        "coalesce(race_american_indian_alaska_native::INT, 0)"
        " + coalesce(race_asian::INT, 0) + coalesce(race_black_african_american::INT, 0)"
        " + coalesce(race_native_hawaiian_pacific_islander::INT, 0)"
        " + coalesce(race_white::INT, 0)) > 1 THEN 'M'"
        " WHEN race_american_indian_alaska_native THEN 'I' WHEN race_asian THEN 'A'"
        " WHEN race_black_african_american THEN 'B'"
        " WHEN race_native_hawaiian_pacific_islander THEN 'P' WHEN race_white THEN 'W' END",
        "Hispanic/Latino first (H, unverified letter), more than one race M, else the race",
        "census.identities",
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
