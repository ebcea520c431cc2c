"""MOSIS ID batch request: the students who need a MOSIS ID, and each field's derivation.

Population (annual, any time in the school year): every student person with an enrollment of
the year that is not a no-show (state-excluded enrollments too: DESE gives an ID to every
student served, reported or not) and no current MOSIS identifier (`mosis_state_id`, from the
SIS or from an earlier `nexus mosis ids import`). One record per student: the enrollment is
chosen as Student Core chooses it (primary, then partial, then special-education only, then
the latest start). `--school` keeps the students whose chosen enrollment is in that building.

The layout is known from vendor pages only (unverified, see `layouts.yaml`): record type `ID`,
school (4), resident district (6), legal names, then birth date, gender, SSN and the local
student number. The local student number is what `nexus mosis ids import` matches DESE's
response on. No canonical table holds an SSN: it is left blank.
"""

from __future__ import annotations

import duckdb

from nexus.mosis.derivations import CanonicalReader, ExtractContext, derivation, population
from nexus.mosis.derivations.population_sql import (
    load_enrollments,
    load_students,
    primary_first,
    register_residency,
    school_filter,
)


@population("mosis_id_batch")
def mosis_id_batch_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    t, y = int(ctx.tenant_id), int(ctx.school_year)
    end = ctx.dates.count_date
    load_students(db, canonical, t)
    load_enrollments(db, canonical, t, y)
    school = school_filter(ctx, "school_code")
    db.execute(
        f"""
        CREATE OR REPLACE TABLE pop AS
        WITH e AS (
          SELECT *, row_number() OVER (
              PARTITION BY person_id
              ORDER BY {primary_first()}) AS pick
          FROM enr_all
          WHERE NOT coalesce(no_show, false) AND entry_date <= DATE '{end}'
        )
        SELECT e.person_id, e.school_code, e.resident_district, u.local_id,
               u.legal_last_name, u.legal_first_name, u.legal_middle_name, u.birth_date,
               u.gender
        FROM e JOIN stu u ON u.person_id = e.person_id
        WHERE e.pick = 1 AND u.state_id IS NULL {school}
        """
    ).fetchall()
    return "student", "CAST(person_id AS VARCHAR)", "school_code, local_id, person_id"


def _register() -> None:
    d = "mosis_id_batch."
    derivation(d + "record_type", "'ID'", "always ID on a student record", "layout")
    derivation(
        d + "current_school_code_school_number",
        "school_code",
        "DESE code of the school of the chosen enrollment",
        "education.enrollments -> schools",
    )
    register_residency(d, school_column=None)
    for column, field in (
        ("legal_last_name", "legal_last_name"),
        ("legal_first_name", "legal_first_name"),
        ("legal_middle_name", "legal_middle_name"),
    ):
        derivation(d + column, field, "legal name from the SIS", "census.identities")
    derivation(
        d + "birth_date",
        "strftime(birth_date, '%m/%d/%Y')",
        "birth date, MM/DD/YYYY (the layouts' date format)",
        "census.identities.birth_date",
    )
    derivation(d + "gender", "gender", "gender (M/F)", "census.identities.gender")
    derivation(
        d + "local_student_number",
        "local_id",
        "the district's student number: DESE's response is matched back on it",
        "census.person_identifiers(student_number)",
    )


_register()
