"""Student Enrollment and Attendance (SEA): one record per enrollment span, with its hours.

Population:
- **June**: every countable enrollment of the school year (not state-excluded, a no-show, in
  an excluded calendar or a summer-school calendar) that started by the count date. A
  canonical enrollment is one span: the SIS opens a new one when the student enters or exits
  a school, changes grade or changes residency, which is DESE's rule for a new SEA record;
- **August**: every summer-school enrollment (a summer-school calendar) that overlaps the
  August window (May 1 to August 15 of the school year's first calendar year).
`--school` keeps one building.

Hours are measured over the span within the cycle's window (July 1 - June 30; August: its
window), from canonical attendance and calendar days of the enrollment's calendar:
- RegHrsAttended / SummerAttendance: present minutes / 60, four decimals;
- RegHrsAbsent: absent minutes / 60, four decimals;
- HrsInSession / SummerMembership: instructional minutes of the calendar's in-session days
  in the span / 60 (two decimals for HrsInSession, four for SummerMembership).
RemHrsAttended (remedial hours), SSN, SchoolChoice, ExtSchlHours and ExitDestComment have no
canonical source: blank. ExitDate is the enrollment's end, else the calendar's last day;
ExitCode is the enrollment's end status: an enrollment still open at the end of the year has
none in canonical (DESE's "remained" R0xx codes say whether the student advances, which no
source tells), so its record is listed as blocked until the SIS closes it or the operator
sets a default (`nexus mosis defaults`).
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
    load_students,
    register_residency,
    register_student_fields,
    school_filter,
)


@population("student_enrollment_attendance")
def sea_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    t, d = int(ctx.tenant_id), ctx.dates
    summer = d.cycle == "august"
    start, end = d.window_start, d.count_date
    canonical.load(
        "spans",
        "SELECT e.enrollment_id, e.person_id, e.calendar_id, e.school_year, e.grade_level, "
        "e.entry_date, "
        "e.entry_code, e.exit_date, e.exit_code, e.service_type, e.resident_district, "
        "e.resident_school, "
        "e.residency_status, e.state_exclude, e.no_show, s.school_code, "
        "c.state_exclude AS calendar_exclude, c.summer_school, c.end_date AS calendar_end "
        "FROM education.enrollments e "
        "LEFT JOIN education.schools s ON s.tenant_id = e.tenant_id AND s.school_id = e.school_id "
        "LEFT JOIN education.calendars c ON c.tenant_id = e.tenant_id "
        f"AND c.calendar_id = e.calendar_id WHERE e.tenant_id = {t} "
        f"AND e.entry_date <= DATE '{end}' "
        f"AND (e.exit_date IS NULL OR e.exit_date >= DATE '{start}')",
        {
            "enrollment_id": "BIGINT",
            "person_id": "BIGINT",
            "calendar_id": "BIGINT",
            "school_year": "INTEGER",
            "entry_date": "DATE",
            "exit_date": "DATE",
            "resident_school": "VARCHAR",
            "state_exclude": "BOOLEAN",
            "no_show": "BOOLEAN",
            "calendar_exclude": "BOOLEAN",
            "summer_school": "BOOLEAN",
            "calendar_end": "DATE",
        },
    )
    canonical.load(
        "att",
        "SELECT person_id, calendar_id, attendance_date, present_minutes, absent_minutes "
        f"FROM education.attendance_days WHERE tenant_id = {t} "
        f"AND attendance_date BETWEEN DATE '{start}' AND DATE '{end}'",
        {
            "person_id": "BIGINT",
            "calendar_id": "BIGINT",
            "attendance_date": "DATE",
            "present_minutes": "BIGINT",
            "absent_minutes": "BIGINT",
        },
    )
    canonical.load(
        "cal_days",
        "SELECT calendar_id, calendar_date, instructional_minutes FROM education.calendar_days "
        f"WHERE tenant_id = {t} AND in_session "
        f"AND calendar_date BETWEEN DATE '{start}' AND DATE '{end}'",
        {"calendar_id": "BIGINT", "calendar_date": "DATE", "instructional_minutes": "BIGINT"},
    )
    load_students(db, canonical, t)
    school = school_filter(ctx, "e.school_code")
    kind = "" if summer else "NOT "
    # June: the year's own enrollments (one left open from an earlier year is not a span of
    # this one); August: summer enrollments by their dates, whatever year the SIS gave them.
    year = "" if summer else f"AND e.school_year = {int(ctx.school_year)}"
    db.execute(
        f"""
        CREATE OR REPLACE TABLE pop AS
        WITH e AS (
          SELECT e.*, greatest(e.entry_date, DATE '{start}') AS span_start,
                 least(coalesce(e.exit_date, DATE '{end}'), DATE '{end}') AS span_end
          FROM spans e
          WHERE NOT coalesce(e.state_exclude, false) AND NOT coalesce(e.no_show, false)
            AND NOT coalesce(e.calendar_exclude, false)
            AND {kind}coalesce(e.summer_school, false) {school} {year}
        ), hours AS (
          SELECT e.enrollment_id, sum(a.present_minutes) AS present_minutes,
                 sum(a.absent_minutes) AS absent_minutes
          FROM e JOIN att a ON a.person_id = e.person_id AND a.calendar_id = e.calendar_id
           AND a.attendance_date BETWEEN e.span_start AND e.span_end
          GROUP BY e.enrollment_id
        ), session AS (
          SELECT e.enrollment_id, sum(c.instructional_minutes) AS session_minutes
          FROM e JOIN cal_days c ON c.calendar_id = e.calendar_id
           AND c.calendar_date BETWEEN e.span_start AND e.span_end
          GROUP BY e.enrollment_id
        )
        SELECT e.enrollment_id, e.person_id, e.school_code, e.grade_level, e.entry_date,
               e.entry_code, coalesce(e.exit_date, e.calendar_end) AS exit_date, e.exit_code,
               e.resident_district, e.resident_school, e.residency_status, {STUDENT_COLUMNS},
               coalesce(h.present_minutes, 0) AS present_minutes,
               coalesce(h.absent_minutes, 0) AS absent_minutes,
               coalesce(s.session_minutes, 0) AS session_minutes
        FROM e JOIN stu u ON u.person_id = e.person_id
        LEFT JOIN hours h ON h.enrollment_id = e.enrollment_id
        LEFT JOIN session s ON s.enrollment_id = e.enrollment_id
        """
    ).fetchall()
    return (
        "enrollment",
        "CAST(enrollment_id AS VARCHAR)",
        "school_code, state_id, person_id, entry_date, enrollment_id",
    )


def _hours(column: str, decimals: int) -> str:
    return f"CAST(CAST(round({column} / 60.0, {decimals}) AS DECIMAL(12, {decimals})) AS VARCHAR)"


def _register() -> None:
    d = "student_enrollment_attendance."
    register_file_fields(d)
    register_district_code(d, "attending_district_code", "reporting_district_code")
    for name in ("attending_school_code", "reporting_school_code"):
        derivation(
            d + name,
            "school_code",
            "DESE code of the enrollment's school",
            "education.enrollments -> schools",
        )
    register_residency(d)
    register_student_fields(
        d,
        {
            "state_id": "state_id",
            "local_student_id": "local_id",
            "last_name": "last",
            "first_name": "first",
            "middle_name": "middle",
            "suffix": "suffix",
            "date_of_birth": "birth",
        },
    )
    derivation(
        d + "student_grade_level",
        "grade_level",
        "the enrollment's grade",
        "education.enrollments.grade_level",
    )
    derivation(
        d + "residency_status",
        "residency_status",
        "the enrollment's residency status",
        "education.enrollments.residency_status",
    )
    for name in ("reg_hrs_attended", "summer_attendance"):
        derivation(
            d + name,
            _hours("present_minutes", 4),
            "present minutes of the span in the window / 60, four decimals",
            "education.attendance_days.present_minutes",
        )
    derivation(
        d + "reg_hrs_absent",
        _hours("absent_minutes", 4),
        "absent minutes of the span in the window / 60, four decimals",
        "education.attendance_days.absent_minutes",
    )
    derivation(
        d + "hrs_in_session",
        _hours("session_minutes", 2),
        "instructional minutes of the calendar's in-session days in the span / 60, two decimals",
        "education.calendar_days.instructional_minutes",
    )
    derivation(
        d + "summer_membership",
        _hours("session_minutes", 4),
        "instructional minutes of the summer calendar's in-session days in the span / 60, "
        "four decimals",
        "education.calendar_days.instructional_minutes",
    )
    derivation(
        d + "entry_date",
        "strftime(entry_date, '%m/%d/%Y')",
        "the enrollment's start, MM/DD/YYYY",
        "education.enrollments.entry_date",
    )
    derivation(
        d + "entry_code",
        "entry_code",
        "the enrollment's start status",
        "education.enrollments.entry_code",
    )
    derivation(
        d + "exit_date",
        "strftime(exit_date, '%m/%d/%Y')",
        "the enrollment's end, else its calendar's last day, MM/DD/YYYY",
        "education.enrollments.exit_date | calendars.end_date",
    )
    derivation(
        d + "exit_code",
        "exit_code",
        "the enrollment's end status (none for an enrollment still open: blank)",
        "education.enrollments.exit_code",
    )


_register()
