"""Educator School (October): one record per educator per building and position.

Population: the employment assignments active on the October count date of staff persons
linked to a person, at a school that is not state-excluded (see `educator_core`), grouped by
person, school and position code: their FTEs add up, the earliest start and the latest end
are kept.

Derived from canonical: district and school codes, the educator's legal last and first name,
position code, FTE (a decimal with two places: 1.00, 0.50), the late start date (the
assignment started after the school's calendar began) and the early end date (it ends before
the school's calendar ends). What canonical does not hold stays blank (no derivation
registered): EDSSN and Salary (both required: every row is listed as blocking until a source
provides them), CTE program type and CTE months (CTE positions are not marked in canonical),
and the vendor-named Baseline Salary Grant and Course Comment. `educator_school.educator_id`
(the educator's DESE id) is registered for a DESE page that names such a column.
"""

from __future__ import annotations

import duckdb

from nexus.mosis.derivations import (
    CanonicalReader,
    ExtractContext,
    derivation,
    population,
)
from nexus.mosis.derivations.educator_core import (
    load_assignments,
    register_district,
    register_person,
)


@population("educator_school")
def educator_school_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    load_assignments(db, ctx, canonical)
    db.execute(
        """
        CREATE OR REPLACE TABLE pop AS
        WITH g AS (
          SELECT person_id, school_code, county_district_code,
                 nullif(trim(position_code), '') AS position_code,
                 sum(fte) AS fte, min(start_date) AS start_date,
                 CASE WHEN count(end_date) = count(*) THEN max(end_date) END AS end_date,
                 min(year_start) AS year_start, max(year_end) AS year_end
          FROM asg_active GROUP BY ALL
        )
        SELECT g.*, e.* EXCLUDE (person_id)
        FROM g JOIN educators e USING (person_id)
        """
    ).fetchall()
    return (
        "staff_position",
        "CAST(person_id AS VARCHAR) || ':' || coalesce(school_code, '') || ':' "
        "|| coalesce(position_code, '')",
        "school_code NULLS LAST, position_code NULLS LAST, legal_last_name, legal_first_name, "
        "person_id",
    )


def _register() -> None:
    d = "educator_school."
    register_district("educator_school")
    derivation(
        d + "reporting_district_code",
        "coalesce(county_district_code, $district_code)",
        "the school's county-district code, else the tenant district's",
        "education.schools.county_district_code; education.districts",
    )
    derivation(
        d + "reporting_school_code",
        "school_code",
        "DESE code of the assignment's school (blank for an assignment without one)",
        "education.employment_assignments -> schools.school_code",
    )
    register_person("educator_school", ("last_name", "first_name", "educator_id", "edssn"))
    derivation(
        d + "pos_code",
        "position_code",
        "the assignment's state position code",
        "education.employment_assignments.position_code",
    )
    derivation(
        d + "fte",
        "CASE WHEN fte IS NULL THEN NULL "
        "ELSE CAST(CAST(round(fte, 2) AS DECIMAL(18, 2)) AS VARCHAR) END",
        "the FTE of the person's assignments at this school and position, summed, as a "
        "decimal with two places (1.00)",
        "education.employment_assignments.fte",
    )
    derivation(
        d + "late_start_date",
        "CASE WHEN start_date > year_start THEN strftime(start_date, '%m/%d/%Y') END",
        "the assignment's start date, MM/DD/YYYY, when it is after the first day of the "
        "school's calendar of the year; blank otherwise",
        "education.employment_assignments.start_date; education.calendars.start_date",
    )
    derivation(
        d + "early_end_date",
        "CASE WHEN end_date < year_end THEN strftime(end_date, '%m/%d/%Y') END",
        "the assignment's end date, MM/DD/YYYY, when it is before the last day of the "
        "school's calendar of the year; blank otherwise",
        "education.employment_assignments.end_date; education.calendars.end_date",
    )


_register()
