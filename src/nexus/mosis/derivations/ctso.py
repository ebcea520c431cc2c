"""Career and Technical Student Organization (CTSO, June): student organization membership.

The reference holds only six of the layout's fields (vendor copies of 2015/2018: the file,
year, district and school, and two items Infinite Campus names: organization and
participation level); its student items were not captured, so none is written.

Population: one record per student per organization, from canonical program participation
rows of program `ctso` active at any time in the school year, the organization code in
`status_code` (CTSO_Organization_Codes: DECA, FBLA, FFA, ...). No source Nexus reads maps
CTSO membership yet: the file is empty until a mapping (for example the neutral CSV layout)
writes such rows. The school is that of the student's latest enrollment of the year. The
participation level has no canonical source: blank.
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
from nexus.mosis.derivations.population_sql import school_filter


@population("ctso")
def ctso_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    t, y, d = int(ctx.tenant_id), int(ctx.school_year), ctx.dates
    canonical.load(
        "ctso_rows",
        "SELECT person_id, status_code, begin_date, end_date FROM "
        f"education.program_participation WHERE tenant_id = {t} AND program = 'ctso' "
        f"AND (school_year = {y} OR school_year IS NULL)",
        {"person_id": "BIGINT", "begin_date": "DATE", "end_date": "DATE"},
    )
    canonical.load(
        "ctso_enr",
        "SELECT e.person_id, e.entry_date, e.enrollment_id, s.school_code "
        "FROM education.enrollments e LEFT JOIN education.schools s "
        "ON s.tenant_id = e.tenant_id AND s.school_id = e.school_id "
        f"WHERE e.tenant_id = {t} AND e.school_year = {y} AND NOT coalesce(e.no_show, false)",
        {"person_id": "BIGINT", "entry_date": "DATE", "enrollment_id": "BIGINT"},
    )
    school = school_filter(ctx, "e.school_code")
    db.execute(
        f"""
        CREATE OR REPLACE TABLE pop AS
        WITH e AS (
          SELECT *, row_number() OVER (
              PARTITION BY person_id ORDER BY entry_date DESC, enrollment_id DESC) AS pick
          FROM ctso_enr
        )
        SELECT DISTINCT c.person_id, c.status_code AS organization, e.school_code
        FROM ctso_rows c JOIN e ON e.person_id = c.person_id AND e.pick = 1
        WHERE coalesce(c.begin_date, DATE '{d.count_date}') <= DATE '{d.count_date}'
          AND (c.end_date IS NULL OR c.end_date >= DATE '{d.window_start}') {school}
        """
    ).fetchall()
    return (
        "student",
        "CAST(person_id AS VARCHAR) || ':' || organization",
        "school_code, person_id, organization",
    )


def _register() -> None:
    d = "ctso."
    register_file_fields(d)
    register_district_code(d)
    derivation(
        d + "reporting_school_code",
        "school_code",
        "DESE code of the school of the student's latest enrollment of the year",
        "education.enrollments -> schools",
    )
    derivation(
        d + "ctso_organization",
        "organization",
        "the organization code of a ctso participation row active in the year",
        "education.program_participation(ctso).status_code",
    )


_register()
