"""The SQL the populations share, and the derivations of the fields built on it.

- `lit` and `school_filter`: literals and the `--school` filter written into population SQL;
- the student person: `load_students` (work-area `stu`, one identity per student person with
  the MOSIS ID and the district's student number), `STUDENT_COLUMNS` read from it, the
  race/ethnicity rule (`RACE_SQL`) and `register_student_fields`;
- the year's countable enrollments (`load_enrollments`: `enr_all`, and `enr` without
  state-excluded, no-show and excluded-calendar ones), `enrolled_between` and Student Core's
  order among a student's enrollments (`primary_first`), the residency fields that follow
  Student Core (`register_residency`);
- IEP and English learner spells (`load_programs`, `program_code`).

Each layout module keeps what only its file does.
"""

from __future__ import annotations

import duckdb

from nexus.mosis.derivations import CanonicalReader, ExtractContext, derivation

# A population of one record per student: (subject type, subject key, ORDER BY of the file).
STUDENT_SUBJECT = ("student", "CAST(person_id AS VARCHAR)", "school_code, state_id, person_id")


def lit(value: object) -> str:
    """A SQL literal (for the few strings written into population SQL)."""
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def school_filter(ctx: ExtractContext, column: str, keyword: str = "AND") -> str:
    """SQL keeping the rows of `--school` (`keyword column = 'code'`), or "" without it."""
    return f"{keyword} {column} = {lit(ctx.school_code)}" if ctx.school_code else ""


# Hispanic/Latino first (H, an unverified letter), then more than one race or a source's
# "two or more races" (M), else the race: one rule for students and educators.
RACE_SQL = (
    "CASE WHEN hispanic_latino THEN 'H' WHEN race_two_or_more OR ("
    "coalesce(race_american_indian_alaska_native::INT, 0)"
    " + coalesce(race_asian::INT, 0) + coalesce(race_black_african_american::INT, 0)"
    " + coalesce(race_native_hawaiian_pacific_islander::INT, 0)"
    " + coalesce(race_white::INT, 0)) > 1 THEN 'M'"
    " WHEN race_american_indian_alaska_native THEN 'I' WHEN race_asian THEN 'A'"
    " WHEN race_black_african_american THEN 'B'"
    " WHEN race_native_hawaiian_pacific_islander THEN 'P' WHEN race_white THEN 'W' END"
)
RACE_RULE = "Hispanic/Latino first (H, unverified letter), more than one race M, else the race"


# Work-area types of the census.identities columns the populations read (students and staff).
IDENTITY_TYPES = {
    "person_id": "BIGINT",
    "birth_date": "DATE",
    "hispanic_latino": "BOOLEAN",
    "race_american_indian_alaska_native": "BOOLEAN",
    "race_asian": "BOOLEAN",
    "race_black_african_american": "BOOLEAN",
    "race_native_hawaiian_pacific_islander": "BOOLEAN",
    "race_white": "BOOLEAN",
    "race_two_or_more": "BOOLEAN",
}


def load_student_identity(canonical: CanonicalReader, tenant_id: int) -> None:
    """`ident`: the student identities linked to a person; `ids`: their current MOSIS IDs and
    student numbers by person."""
    t = int(tenant_id)
    canonical.load(
        "ident",
        "SELECT person_id, key_scope, source_key, legal_first_name, legal_middle_name, "
        "legal_last_name, generation_suffix, birth_date, gender, hispanic_latino, "
        "race_american_indian_alaska_native, race_asian, race_black_african_american, "
        "race_native_hawaiian_pacific_islander, race_white, race_two_or_more "
        "FROM census.identities "
        f"WHERE tenant_id = {t} AND person_kind = 'student' AND person_id IS NOT NULL",
        IDENTITY_TYPES,
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


def identifier(person: str, identifier_type: str) -> str:
    """SQL: the person's current identifier of that type (from `ids`), or NULL."""
    return (
        f"(SELECT min(value) FROM ids WHERE ids.person_id = {person} "
        f"AND identifier_type = '{identifier_type}')"
    )


def load_students(
    db: duckdb.DuckDBPyConnection, canonical: CanonicalReader, tenant_id: int
) -> None:
    """`stu`: one row per student person: their first identity by key scope and source key,
    with the MOSIS ID (`state_id`) and the district's student number (`local_id`)."""
    load_student_identity(canonical, tenant_id)
    db.execute(
        f"""
        CREATE OR REPLACE TABLE stu AS
        SELECT i.* EXCLUDE (pick),
               {identifier("i.person_id", "mosis_state_id")} AS state_id,
               {identifier("i.person_id", "student_number")} AS local_id
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
    "u.race_native_hawaiian_pacific_islander, u.race_white, u.race_two_or_more"
)


def load_enrollments(
    db: duckdb.DuckDBPyConnection, canonical: CanonicalReader, tenant_id: int, school_year: int
) -> None:
    """`enr_all`: the year's enrollments with their school's DESE code and calendar flags;
    `enr`: those that count for the state (not state-excluded, not a no-show, not in an
    excluded calendar)."""
    t, y = int(tenant_id), int(school_year)
    canonical.load(
        "enr_all",
        "SELECT e.enrollment_id, e.person_id, e.school_year, e.grade_level, e.entry_date, "
        "e.exit_date, e.service_type, e.fte, e.resident_district, e.resident_school, "
        "e.residency_status, e.state_exclude, e.no_show, e.key_scope, s.school_code, "
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
            "resident_school": "VARCHAR",
            "state_exclude": "BOOLEAN",
            "no_show": "BOOLEAN",
            "calendar_exclude": "BOOLEAN",
            "summer_school": "BOOLEAN",
        },
    )
    db.execute(
        "CREATE OR REPLACE VIEW enr AS SELECT * FROM enr_all WHERE NOT coalesce(state_exclude, "
        "false) AND NOT coalesce(no_show, false) AND NOT coalesce(calendar_exclude, false)"
    ).fetchall()


def enrolled_between(alias: str, start: str, end: str) -> str:
    """SQL: enrollment `alias` started by `end` and had not ended before `start` (SQL dates)."""
    return (
        f"{alias}.entry_date <= {end} AND ({alias}.exit_date IS NULL OR {alias}.exit_date >= "
        f"{start})"
    )


def primary_first(alias: str = "") -> str:
    """ORDER BY terms choosing among a student's enrollments as Student Core does: primary
    (service type P), then S, then the others; then the latest start."""
    a = f"{alias}." if alias else ""
    return (
        f"CASE {a}service_type WHEN 'P' THEN 0 WHEN 'S' THEN 1 ELSE 2 END, "
        f"{a}entry_date DESC, {a}enrollment_id DESC"
    )


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


def register_residency(prefix: str, school_column: str | None = "school_code") -> None:
    """Student Core's residency: the resident district is the enrollment's, else the attending
    district; the resident school is the enrollment's building of residence, else, for a
    resident, the attending school (`school_column`; None: the file has no resident school)."""
    derivation(
        prefix + "resident_district_code",
        "coalesce(resident_district, $district_code)",
        "the enrollment's resident district, else the attending district",
        "education.enrollments.resident_district",
    )
    if school_column is None:
        return
    derivation(
        prefix + "resident_school_code",
        "coalesce(resident_school, CASE WHEN coalesce(resident_district, $district_code) "
        f"= $district_code THEN {school_column} END)",
        "the enrollment's building of residence; else residents: the attending school, "
        "non-residents: blank (their building is not known)",
        "education.enrollments.resident_school",
    )
