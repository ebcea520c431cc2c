"""School Calendar Header (new for 2026-27; August and June): one record per calendar.

Population: every calendar of the school year that is not state-excluded (nor its school), and
not a summer-school calendar (summer school is reported in SEA, not in the school calendar),
optionally one school only. August reports the calendar as planned, June as held: both read
the same canonical calendar, so the cycle only changes the CollectionVersion.

What canonical does not hold stays blank (no derivation is registered for it):
- dateCalendarAdopted (the board's adoption date): required, so every header row is listed as
  blocking until a source provides it;
- dateVotersApproved4DayWeek and 4DayVoterAppStartYear (voter approval under 171.028 RSMo).

Begin and end grade are not a property of a canonical calendar: they are read from the grades
of the calendar's enrollments of the year (the lowest and the highest, in DESE's grade order).
The four-day-week flag is read from the calendar's days (Y when no week holds five in-session
days).
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
from nexus.mosis.derivations.population_sql import school_filter

# DESE's grade order (code set Student_Grade_Level_Codes): PK, KA, KP, K, 01 … 12.
GRADE_ORDER = (
    "CASE {g} WHEN 'PK' THEN 0 WHEN 'KA' THEN 1 WHEN 'KP' THEN 2 WHEN 'K' THEN 3 ELSE "
    "CASE WHEN {g} IN ('01','02','03','04','05','06','07','08','09','10','11','12') "
    "THEN 3 + CAST({g} AS INTEGER) END END"
)


def load_calendars(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> None:
    """Work-area table `cals`: the calendars the calendar files report, one row each, with
    their school, grade range (from enrollments) and the most in-session days in one week."""
    t, y = int(ctx.tenant_id), int(ctx.school_year)
    canonical.load(
        "cal_in",
        "SELECT c.calendar_id, c.name, c.start_date, c.end_date, c.state_exclude, "
        "c.summer_school, s.school_code, s.county_district_code, "
        "s.state_exclude AS school_exclude FROM education.calendars c "
        "LEFT JOIN education.schools s ON s.tenant_id = c.tenant_id AND s.school_id = c.school_id "
        f"WHERE c.tenant_id = {t} AND c.school_year = {y}",
        {
            "calendar_id": "BIGINT",
            "start_date": "DATE",
            "end_date": "DATE",
            "state_exclude": "BOOLEAN",
            "summer_school": "BOOLEAN",
            "school_exclude": "BOOLEAN",
        },
    )
    canonical.load(
        "cal_grades",
        "SELECT e.calendar_id, e.grade_level FROM education.enrollments e "
        "JOIN education.calendars c ON c.tenant_id = e.tenant_id "
        f"AND c.calendar_id = e.calendar_id WHERE e.tenant_id = {t} AND c.school_year = {y} "
        "AND (e.state_exclude IS NULL OR NOT e.state_exclude) "
        "AND (e.no_show IS NULL OR NOT e.no_show) "
        "GROUP BY e.calendar_id, e.grade_level",
        {"calendar_id": "BIGINT"},
    )
    canonical.load(
        "cal_days",
        "SELECT d.calendar_id, d.calendar_date, d.in_session, d.instructional_minutes "
        "FROM education.calendar_days d JOIN education.calendars c "
        "ON c.tenant_id = d.tenant_id AND c.calendar_id = d.calendar_id "
        f"WHERE d.tenant_id = {t} AND c.school_year = {y}",
        {
            "calendar_id": "BIGINT",
            "calendar_date": "DATE",
            "in_session": "BOOLEAN",
            "instructional_minutes": "INTEGER",
        },
    )
    school = school_filter(ctx, "c.school_code")
    order = GRADE_ORDER.format(g="g.grade_level")
    db.execute(
        f"""
        CREATE OR REPLACE TABLE cals AS
        WITH graded AS (
          SELECT g.calendar_id, g.grade_level, {order} AS grade_rank
          FROM cal_grades g
        ), ranges AS (
          SELECT calendar_id, arg_min(grade_level, grade_rank) AS begin_grade,
                 arg_max(grade_level, grade_rank) AS end_grade,
                 min(grade_rank) AS begin_rank
          FROM graded WHERE grade_rank IS NOT NULL GROUP BY calendar_id
        ), weeks AS (
          SELECT calendar_id, max(n) AS most_days_in_a_week FROM (
            SELECT calendar_id, date_trunc('week', calendar_date) AS week, count(*) AS n
            FROM cal_days WHERE in_session GROUP BY ALL
          ) GROUP BY calendar_id
        )
        SELECT c.calendar_id, c.name, c.start_date, c.end_date, c.school_code,
               c.county_district_code, r.begin_grade, r.end_grade, r.begin_rank,
               w.most_days_in_a_week
        FROM cal_in c
        LEFT JOIN ranges r USING (calendar_id)
        LEFT JOIN weeks w USING (calendar_id)
        WHERE NOT coalesce(c.state_exclude, false) AND NOT coalesce(c.summer_school, false)
          AND NOT coalesce(c.school_exclude, false) {school}
        """
    ).fetchall()


@population("school_calendar_header")
def school_calendar_header_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    load_calendars(db, ctx, canonical)
    db.execute("CREATE OR REPLACE TABLE pop AS SELECT * FROM cals").fetchall()
    return (
        "calendar",
        "CAST(calendar_id AS VARCHAR)",
        "school_code, begin_rank NULLS LAST, name, calendar_id",
    )


def register_common(layout: str) -> None:
    """The fields the header and the days files share, for `layout`."""
    d = layout + "."
    register_file_fields(d, "the cycle's CollectionVersion string (calendar files carry no '1.0')")
    derivation(
        d + "reporting_district_code",
        "coalesce(county_district_code, $district_code)",
        "the school's county-district code, else the tenant district's",
        "education.schools.county_district_code; education.districts",
    )
    derivation(
        d + "reporting_school_code",
        "school_code",
        "DESE code of the calendar's school",
        "education.calendars -> schools.school_code",
    )
    derivation(
        d + "begin_grade",
        "begin_grade",
        "lowest grade (DESE order PK, KA, KP, K, 01-12) of the calendar's enrollments of the "
        "year, leaving out state-excluded and no-show enrollments",
        "education.enrollments.grade_level",
    )
    derivation(
        d + "end_grade",
        "end_grade",
        "highest grade (DESE order PK, KA, KP, K, 01-12) of the calendar's enrollments of the "
        "year, leaving out state-excluded and no-show enrollments",
        "education.enrollments.grade_level",
    )


def _register() -> None:
    register_common("school_calendar_header")
    derivation(
        "school_calendar_header.4_day_school_week",
        "CASE WHEN most_days_in_a_week IS NULL THEN NULL "
        "WHEN most_days_in_a_week <= 4 THEN 'Y' ELSE 'N' END",
        "Y when no week (Monday to Sunday) of the calendar holds more than four in-session "
        "days, N when one holds five or more; blank without in-session days (inferred from "
        "the days: the district's plan under 171.029 RSMo is not in canonical)",
        "education.calendar_days.in_session",
    )


_register()
