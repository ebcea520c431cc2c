"""School Calendar Days (new for 2026-27; August and June): one record per calendar date.

Population: the in-session days of every calendar the header reports (see
`school_calendar_header`: calendars of the school year, not excluded, not summer school), one
record per calendar and date. Days that are not in session (weekends, holidays) are not
reported: canonical does not tell a planned holiday from a day school was called off, which is
what EventHours is for.

StandardDayLength is the day's instructional minutes in hours, four decimals (375 minutes →
6.2500; the reference's format facts: Number(8,4)). EventHours has no canonical source and
stays blank (no derivation is registered for it).
"""

from __future__ import annotations

import duckdb

from nexus.mosis.derivations import (
    CanonicalReader,
    ExtractContext,
    derivation,
    population,
)
from nexus.mosis.derivations.school_calendar_header import load_calendars, register_common


@population("school_calendar_days")
def school_calendar_days_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    load_calendars(db, ctx, canonical)
    db.execute(
        """
        CREATE OR REPLACE TABLE pop AS
        SELECT c.*, d.calendar_date, d.instructional_minutes
        FROM cals c JOIN cal_days d USING (calendar_id)
        WHERE d.in_session
        """
    ).fetchall()
    return (
        "calendar_day",
        "CAST(calendar_id AS VARCHAR) || ':' || strftime(calendar_date, '%Y-%m-%d')",
        "school_code, begin_rank NULLS LAST, name, calendar_id, calendar_date",
    )


def _register() -> None:
    d = "school_calendar_days."
    register_common("school_calendar_days")
    derivation(
        d + "date",
        "strftime(calendar_date, '%m/%d/%Y')",
        "the in-session calendar date, MM/DD/YYYY",
        "education.calendar_days.calendar_date",
    )
    derivation(
        d + "standard_day_length",
        "CAST(CAST(round(instructional_minutes / 60, 4) AS DECIMAL(18, 4)) AS VARCHAR)",
        "the day's instructional minutes in hours, four decimals (6 h 15 min is 6.2500); "
        "blank when the day has no minutes",
        "education.calendar_days.instructional_minutes",
    )


_register()
