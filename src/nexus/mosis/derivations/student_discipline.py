"""Student Discipline Incident (June; December and April too from 2026-27).

Population: one record per incident per offender with a state-reportable removal. An
incident counts when its date falls in the cycle's window (July 1 to the count date: June
takes the whole year; December and April report the year so far, an assumption: no source
says whether those cycles report only the incidents since the previous one). An offender is a
person with an offense of the incident whose role is `offender` (or not given); their removals
are the incident's discipline actions for them marked state-reportable.

When an offender has several removals, the most serious one is reported (DESE's rule). The
order of seriousness is an ASSUMPTION (no source ranks the codes): EXP > OSS > ISS > UR, then
any other state code; among removals of the same code the longest, then the earliest start.
Its code and length (school days, as the SIS gives them) are reported. Where an offender has
several offenses in the incident, the incident type reported is ranked W > V > N > D > A > T >
O (weapon and violence first; also an ASSUMPTION).

Where the student attends: the enrollment of the year covering the incident date (primary
first, then the latest start), else the incident's school. Residency follows Student Core:
the enrollment's resident district, else the attending one; the enrollment's building of
residence, else for residents the attending school (a non-resident without one is blank; it is
required, so the record is blocked and listed). English learner and IEP status are read as of
the incident date.
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
    STUDENT_COLUMNS,
    enrolled_between,
    load_enrollments,
    load_programs,
    load_students,
    primary_first,
    program_code,
    register_residency,
    register_student_fields,
    school_filter,
)

REMOVAL_RANK = ("EXP", "OSS", "ISS", "UR")  # most serious first (assumption)
INCIDENT_TYPE_RANK = ("W", "V", "N", "D", "A", "T", "O")  # reported first (assumption)


def _rank(column: str, codes: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN '{code}' THEN {i}" for i, code in enumerate(codes))
    return f"CASE upper({column}) {whens} ELSE {len(codes)} END"


@population("student_discipline")
def student_discipline_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    t, y, d = int(ctx.tenant_id), int(ctx.school_year), ctx.dates
    canonical.load(
        "inc",
        "SELECT i.incident_id, i.incident_date, s.school_code "
        "FROM education.discipline_incidents i "
        "LEFT JOIN education.schools s ON s.tenant_id = i.tenant_id AND s.school_id = i.school_id "
        f"WHERE i.tenant_id = {t} AND i.incident_date BETWEEN '{d.window_start}' "
        f"AND '{d.count_date}'",
        {"incident_id": "BIGINT", "incident_date": "DATE"},
    )
    canonical.load(
        "off",
        "SELECT incident_id, person_id, role, state_offense_code, source_key "
        f"FROM education.discipline_offenses WHERE tenant_id = {t} AND person_id IS NOT NULL",
        {"incident_id": "BIGINT", "person_id": "BIGINT"},
    )
    canonical.load(
        "act",
        "SELECT incident_id, person_id, state_action_code, start_date, end_date, "
        "duration_days, source_key FROM education.discipline_actions "
        f"WHERE tenant_id = {t} AND person_id IS NOT NULL AND state_reportable "
        "AND state_action_code IS NOT NULL AND state_action_code <> ''",
        {
            "incident_id": "BIGINT",
            "person_id": "BIGINT",
            "start_date": "DATE",
            "end_date": "DATE",
            "duration_days": "DECIMAL(12, 4)",
        },
    )
    load_students(db, canonical, t)
    load_enrollments(db, canonical, t, y)
    load_programs(canonical, t, y)
    school = school_filter(ctx, "x.reporting_school", "WHERE")
    on = "inc.incident_date"
    db.execute(
        f"""
        CREATE OR REPLACE TABLE pop AS
        WITH o AS (
          SELECT off.incident_id, off.person_id, off.state_offense_code, row_number() OVER (
              PARTITION BY off.incident_id, off.person_id
              ORDER BY {_rank("off.state_offense_code", INCIDENT_TYPE_RANK)},
                       off.state_offense_code NULLS LAST, off.source_key) AS pick
          FROM off JOIN inc ON inc.incident_id = off.incident_id
          WHERE coalesce(nullif(lower(trim(off.role)), ''), 'offender') = 'offender'
        ), a AS (
          SELECT act.*, row_number() OVER (
              PARTITION BY act.incident_id, act.person_id
              ORDER BY {_rank("act.state_action_code", REMOVAL_RANK)},
                       act.duration_days DESC NULLS LAST, act.start_date NULLS LAST,
                       act.source_key) AS pick
          FROM act
        ), en AS (
          SELECT o.incident_id, o.person_id, e.school_code, e.resident_district, e.resident_school,
                 row_number() OVER (
                     PARTITION BY o.incident_id, o.person_id
                     ORDER BY {primary_first("e")}) AS pick
          FROM o JOIN inc ON inc.incident_id = o.incident_id
          JOIN enr e ON e.person_id = o.person_id AND {enrolled_between("e", on, on)}
          WHERE o.pick = 1
        ), x AS (
          SELECT inc.incident_id, inc.incident_date, inc.school_code AS reporting_school,
                 coalesce(en.school_code, inc.school_code) AS attending_school,
                 en.resident_district, en.resident_school, o.person_id, o.state_offense_code,
                 upper(a.state_action_code) AS removal, a.duration_days, {STUDENT_COLUMNS},
                 {program_code("english_learner", "o.person_id", on)} AS el_status,
                 {program_code("iep", "o.person_id", on)} AS iep_code
          FROM o JOIN inc ON inc.incident_id = o.incident_id
          JOIN a ON a.incident_id = o.incident_id AND a.person_id = o.person_id AND a.pick = 1
          LEFT JOIN en ON en.incident_id = o.incident_id AND en.person_id = o.person_id
            AND en.pick = 1
          LEFT JOIN stu u ON u.person_id = o.person_id
          WHERE o.pick = 1
        )
        SELECT * FROM x {school}
        """
    ).fetchall()
    return (
        "discipline_incident",
        "CAST(incident_id AS VARCHAR) || ':' || CAST(person_id AS VARCHAR)",
        "reporting_school, incident_date, incident_id, state_id, person_id",
    )


def _register() -> None:
    d = "student_discipline."
    register_file_fields(d)
    register_district_code(d, "attending_district_code", "reporting_district_code")
    derivation(
        d + "attending_school_code",
        "attending_school",
        "school of the enrollment covering the incident date (primary, latest start), else "
        "the incident's school",
        "education.enrollments | discipline_incidents -> schools",
    )
    derivation(
        d + "reporting_school_code",
        "reporting_school",
        "the incident's school",
        "education.discipline_incidents -> schools",
    )
    register_residency(d, school_column="attending_school")
    register_student_fields(
        d,
        {
            "state_id": "state_id",
            "local_student_id": "local_id",
            "last_name": "last",
            "first_name": "first",
            "middle_name": "middle",
        },
    )
    derivation(
        d + "offense_date",
        "strftime(incident_date, '%m/%d/%Y')",
        "the incident date, MM/DD/YYYY",
        "education.discipline_incidents.incident_date",
    )
    derivation(
        d + "offense_type",
        "upper(state_offense_code)",
        "the offender's state incident type code (several: W > V > N > D > A > T > O, an "
        "assumption)",
        "education.discipline_offenses.state_offense_code",
    )
    derivation(
        d + "discipline_removal",
        "removal",
        "the most serious state-reportable removal: EXP > OSS > ISS > UR (order an "
        "assumption), then the longest",
        "education.discipline_actions.state_action_code",
    )
    derivation(
        d + "length_removed",
        "CASE WHEN duration_days IS NULL THEN NULL ELSE rtrim(rtrim(CAST(CAST(duration_days AS "
        "DECIMAL(12, 4)) AS VARCHAR), '0'), '.') END",
        "length of the reported removal in days as the SIS gives it (no trailing zeros)",
        "education.discipline_actions.duration_days",
    )
    derivation(
        d + "lepell",
        "coalesce(nullif(el_status, ''), 'NLP')",
        "English learner status code on the incident date, else NLP",
        "education.program_participation(english_learner)",
    )
    derivation(
        d + "iep_disability",
        "coalesce(nullif(iep_code, ''), '00')",
        "the disability code of an IEP covering the incident date; 00 without an IEP",
        "education.program_participation(iep)",
    )


_register()
