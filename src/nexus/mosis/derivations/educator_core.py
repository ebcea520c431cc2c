"""Educator Core (October): one record per educator.

Population: staff persons (census identities of kind `staff` linked to a person) who hold at
least one employment assignment active on the October count date (started on or before it,
not ended before it) at a school that is not state-excluded; with `--school`, those with such
an assignment at that school. Of a person's staff identities, the one in the scope of their
assignments is read (then the lowest scope and source key).

Derived from canonical: the district, the name, race and sex. What the reference's layout
names but canonical does not hold stays blank (no derivation registered): highest degree,
years of experience, extended contract duration, career ladder, the salaries and supplements,
minimum salary days worked, late hire and early termination dates, comments. EDSSN is the
staff person's identifier of type `ssn`; no shipped mapping writes one, so it is required and
blank, and every row is listed as blocking until a source provides it.

The layout's Educator Core page was not available (its fields 005-050 come from DESE's rules,
the rest are vendor names without column names). So that an operator who imports DESE's page
(`nexus mosis spec import`, which names a field's derivation `educator_core.<snake column>`)
gets values at once, derivations are also registered under the column names DESE uses for
the same data on its student files: last_name, first_name, middle_name, date_of_birth, gender,
race_ethnicity, and educator_id (the DESE educator id). These names are guesses until DESE's
page is read; a field that names none of them stays blank.
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
    IDENTITY_TYPES,
    RACE_RULE,
    RACE_SQL,
    school_filter,
)

# EDSSN: the staff person's identifier of type `ssn`, nine digits without dashes or spaces.
# No shipped mapping writes one (the SIS extracts Nexus reads carry no SSN): a source that
# does fills every educator file's EDSSN at once.
EDSSN = (
    "nullif(regexp_replace(ssn, '[^0-9]', '', 'g'), '')",
    "the educator's SSN (staff identifier `ssn`), digits only; blank when no source gives one",
    "census.person_identifiers(ssn)",
)


# The identity columns of a staff person (alias i: census.identities).
IDENTITY_COLUMNS = (
    "i.legal_first_name, i.legal_middle_name, i.legal_last_name, i.birth_date, i.gender, "
    "i.hispanic_latino, i.race_american_indian_alaska_native, i.race_asian, "
    "i.race_black_african_american, i.race_native_hawaiian_pacific_islander, i.race_white, "
    "i.race_two_or_more"
)


def load_assignments(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> None:
    """Work-area tables the educator files share:
    - `asg_active`: employment assignments of linked staff active on the count date, at a
      school that is not excluded (and the chosen school), with the school's year span;
    - `educators`: one row per person of `asg_active`: the identity in the scope of their
      assignments (else the lowest scope and source key), their current educator state id
      (DESE)."""
    t, y, count = int(ctx.tenant_id), int(ctx.school_year), ctx.dates.count_date
    canonical.load(
        "asg",
        "SELECT a.person_id, a.key_scope, a.source_key, a.position_code, a.title, a.fte, "
        "a.start_date, a.end_date, a.school_id, s.school_code, s.county_district_code, "
        "s.state_exclude AS school_exclude FROM education.employment_assignments a "
        "LEFT JOIN education.schools s ON s.tenant_id = a.tenant_id AND s.school_id = a.school_id "
        f"WHERE a.tenant_id = {t} AND a.person_id IS NOT NULL",
        {
            "person_id": "BIGINT",
            "school_id": "BIGINT",
            "fte": "DECIMAL(12, 4)",
            "start_date": "DATE",
            "end_date": "DATE",
            "school_exclude": "BOOLEAN",
        },
    )
    canonical.load(
        "school_year_span",
        "SELECT school_id, min(start_date) AS year_start, max(end_date) AS year_end "
        f"FROM education.calendars WHERE tenant_id = {t} AND school_year = {y} "
        "AND (state_exclude IS NULL OR NOT state_exclude) "
        "AND (summer_school IS NULL OR NOT summer_school) GROUP BY school_id",
        {"school_id": "BIGINT", "year_start": "DATE", "year_end": "DATE"},
    )
    canonical.load(
        "staff_ident_in",
        "SELECT person_id, key_scope, source_key, legal_first_name, legal_middle_name, "
        "legal_last_name, birth_date, gender, hispanic_latino, "
        "race_american_indian_alaska_native, race_asian, race_black_african_american, "
        "race_native_hawaiian_pacific_islander, race_white, race_two_or_more "
        "FROM census.identities "
        f"WHERE tenant_id = {t} AND person_kind = 'staff' AND person_id IS NOT NULL",
        IDENTITY_TYPES,
    )
    canonical.load(
        "staff_ids_in",
        "SELECT i.person_id, p.identifier_type, p.value FROM census.person_identifiers p "
        "JOIN census.identities i ON i.tenant_id = p.tenant_id AND i.key_scope = p.key_scope "
        "AND i.person_kind = p.person_kind AND i.source_key = p.source_key "
        f"WHERE p.tenant_id = {t} AND p.valid_to_run IS NULL AND p.person_kind = 'staff' "
        "AND i.person_id IS NOT NULL "
        "AND p.identifier_type IN ('educator_state_id', 'ssn')",
        {"person_id": "BIGINT"},
    )
    school = school_filter(ctx, "a.school_code")
    db.execute(
        f"""
        CREATE OR REPLACE TABLE asg_active AS
        SELECT a.*, y.year_start, y.year_end
        FROM asg a LEFT JOIN school_year_span y USING (school_id)
        WHERE coalesce(a.start_date, DATE '{count}') <= DATE '{count}'
          AND (a.end_date IS NULL OR a.end_date >= DATE '{count}')
          AND NOT coalesce(a.school_exclude, false) {school}
        """
    ).fetchall()
    db.execute(
        f"""
        CREATE OR REPLACE TABLE educators AS
        WITH e AS (
          SELECT person_id, min(key_scope) AS key_scope FROM asg_active GROUP BY person_id
        ), ranked AS (
          SELECT e.person_id, {IDENTITY_COLUMNS}, row_number() OVER (
              PARTITION BY e.person_id
              ORDER BY CASE WHEN i.key_scope = e.key_scope THEN 0 ELSE 1 END,
                       i.key_scope, i.source_key) AS pick
          FROM e LEFT JOIN staff_ident_in i ON i.person_id = e.person_id
        ), ids AS (
          SELECT person_id,
                 min(value) FILTER (WHERE identifier_type = 'educator_state_id')
                     AS educator_state_id,
                 min(value) FILTER (WHERE identifier_type = 'ssn') AS ssn
          FROM staff_ids_in GROUP BY person_id
        )
        SELECT r.* EXCLUDE (pick), ids.educator_state_id, ids.ssn
        FROM ranked r LEFT JOIN ids USING (person_id) WHERE r.pick = 1
        """
    ).fetchall()


@population("educator_core")
def educator_core_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    load_assignments(db, ctx, canonical)
    db.execute("CREATE OR REPLACE TABLE pop AS SELECT * FROM educators").fetchall()
    return (
        "staff",
        "CAST(person_id AS VARCHAR)",
        "legal_last_name, legal_first_name, person_id",
    )


def register_district(layout: str) -> None:
    d = layout + "."
    register_file_fields(d)


def register_person(layout: str, names: tuple[str, ...]) -> None:
    """Person fields of `layout` under the derivation names given (see the module docstring)."""
    d = layout + "."
    columns = {
        "last_name": ("legal_last_name", "legal last name", "census.identities"),
        "first_name": ("legal_first_name", "legal first name", "census.identities"),
        "middle_name": ("legal_middle_name", "legal middle name", "census.identities"),
        "date_of_birth": (
            "strftime(birth_date, '%m/%d/%Y')",
            "birth date, MM/DD/YYYY",
            "census.identities.birth_date",
        ),
        "gender": ("gender", "gender (M/F)", "census.identities.gender"),
        "race_ethnicity": (RACE_SQL, RACE_RULE, "census.identities"),
        "educator_id": (
            "educator_state_id",
            "the educator's DESE id",
            "census.person_identifiers(educator_state_id)",
        ),
        "edssn": EDSSN,
    }
    for name in names:
        sql, rule, source = columns[name]
        derivation(d + name, sql, rule, source)


def _register() -> None:
    d = "educator_core."
    register_district("educator_core")
    register_district_code(d)
    derivation(
        d + "name",
        "nullif(concat_ws(' ', legal_first_name, legal_middle_name, legal_last_name), '')",
        "legal first, middle and last name, space-separated (the layout gives no format: "
        "vendor item without a DESE column)",
        "census.identities",
    )
    derivation(d + "race", RACE_SQL, RACE_RULE, "census.identities")
    derivation(d + "sex", "gender", "gender (M/F)", "census.identities.gender")
    register_person(
        "educator_core",
        (
            "last_name",
            "first_name",
            "middle_name",
            "date_of_birth",
            "gender",
            "race_ethnicity",
            "educator_id",
            "edssn",
        ),
    )


_register()
