"""Course Assignment (October): one record per educator assignment, from canonical sections.

Population: every section of the school year's regular calendars (not state-excluded, not
summer school, course not marked inactive) that has a primary educator, one record per
section, whatever its term: a spring section is reported in October too, its Semester saying
when it meets. `--school` keeps one building (the course's school).

- AssignNum is the canonical `section_id`: kept across re-maps of the same source section, so
  it is stable from run to run, never 0, and unique within the file. Student Assignment links
  its records to the same number (`student_assignment.py` builds on `build_assignments`).
- The primary educator: the section's `section_educators` row of role `primary` (covering the
  count date first, then the latest start, then the lowest person id); else the section's
  `primary_educator_id` (Campus extract files give only that). A section without one has no
  educator assignment and is not reported (co-teachers and aides are not reported: the file
  holds the primary educator's assignment only).
- The position code: the educator's employment assignment, preferring the section's school,
  one covering the count date, a teaching one, then the latest start. No assignment: blank
  (PosCode is required, so the record is blocked and listed, never given an invented 60).
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
from nexus.mosis.derivations.educator_core import EDSSN
from nexus.mosis.derivations.population_sql import lit, school_filter


def build_assignments(
    db: duckdb.DuckDBPyConnection,
    ctx: ExtractContext,
    canonical: CanonicalReader,
    name: str,
    *,
    summer: bool = False,
    credit_levels: tuple[str, ...] | None = None,
) -> None:
    """Create table `name`: one row per reported section with its primary educator, school,
    course, term, position code and AssignNum (see the module docstring).

    `summer`: the sections of summer-school calendars instead of the regular ones (Summer
    Course Assignment). `credit_levels`: only courses whose canonical credit level is one of
    these (Post-secondary/Adult Course Assignment)."""
    t, y, count = int(ctx.tenant_id), int(ctx.school_year), ctx.dates.count_date
    canonical.load(
        "sec",
        "SELECT s.section_id, s.key_scope, s.local_section_code, s.primary_educator_id, "
        "coalesce(s.term_start_date, tm.start_date) AS term_start, "
        "coalesce(s.term_end_date, tm.end_date) AS term_end, c.course_id, c.local_course_code, "
        "c.name AS course_name, c.state_course_code, c.active AS course_active, c.credit_level, "
        "sc.school_code, cal.state_exclude AS calendar_exclude, cal.summer_school "
        "FROM education.sections s JOIN education.courses c ON c.tenant_id = s.tenant_id "
        "AND c.course_id = s.course_id "
        "LEFT JOIN education.terms tm ON tm.tenant_id = s.tenant_id AND tm.term_id = s.term_id "
        "LEFT JOIN education.calendars cal ON cal.tenant_id = c.tenant_id "
        "AND cal.calendar_id = c.calendar_id "
        "LEFT JOIN education.schools sc ON sc.tenant_id = c.tenant_id "
        "AND sc.school_id = coalesce(c.school_id, cal.school_id) "
        f"WHERE s.tenant_id = {t} AND coalesce(cal.school_year, tm.school_year) = {y}",
        {
            "section_id": "BIGINT",
            "primary_educator_id": "BIGINT",
            "term_start": "DATE",
            "term_end": "DATE",
            "course_id": "BIGINT",
            "course_active": "BOOLEAN",
            "calendar_exclude": "BOOLEAN",
            "summer_school": "BOOLEAN",
        },
    )
    canonical.load(
        "sed",
        "SELECT section_id, person_id, role, start_date, end_date FROM "
        f"education.section_educators WHERE tenant_id = {t} AND person_id IS NOT NULL "
        "AND lower(role) = 'primary'",
        {"section_id": "BIGINT", "person_id": "BIGINT", "start_date": "DATE", "end_date": "DATE"},
    )
    canonical.load(
        "emp",
        "SELECT a.person_id, a.position_code, a.is_teacher, a.start_date, a.end_date, "
        "a.source_key, s.school_code FROM education.employment_assignments a "
        "LEFT JOIN education.schools s ON s.tenant_id = a.tenant_id AND s.school_id = a.school_id "
        f"WHERE a.tenant_id = {t} AND a.person_id IS NOT NULL",
        {"person_id": "BIGINT", "is_teacher": "BOOLEAN", "start_date": "DATE", "end_date": "DATE"},
    )
    canonical.load(
        "staff",
        "SELECT person_id, key_scope, source_key, legal_first_name, legal_last_name "
        f"FROM census.identities WHERE tenant_id = {t} AND person_kind = 'staff' "
        "AND person_id IS NOT NULL",
        {"person_id": "BIGINT"},
    )
    canonical.load(
        "staff_ssn",
        "SELECT i.person_id, min(p.value) AS ssn FROM census.person_identifiers p "
        "JOIN census.identities i ON i.tenant_id = p.tenant_id AND i.key_scope = p.key_scope "
        "AND i.person_kind = p.person_kind AND i.source_key = p.source_key "
        f"WHERE p.tenant_id = {t} AND p.valid_to_run IS NULL AND p.person_kind = 'staff' "
        "AND i.person_id IS NOT NULL AND p.identifier_type = 'ssn' GROUP BY i.person_id",
        {"person_id": "BIGINT"},
    )
    school = school_filter(ctx, "s.school_code")
    if credit_levels is not None:
        listed = ", ".join(lit(v) for v in credit_levels)
        school += f" AND lower(s.credit_level) IN ({listed})"
    calendar_kind = "" if summer else "NOT "
    c = f"DATE '{count}'"

    def covers(alias: str) -> str:
        return (
            f"(coalesce({alias}.start_date, {c}) <= {c} AND "
            f"({alias}.end_date IS NULL OR {alias}.end_date >= {c}))"
        )

    db.execute(
        f"""
        CREATE OR REPLACE TABLE {name} AS
        WITH s AS (
          SELECT * FROM sec s
          WHERE NOT coalesce(s.calendar_exclude, false)
            AND {calendar_kind}coalesce(s.summer_school, false)
            AND coalesce(s.course_active, true) {school}
        ), ed AS (
          SELECT section_id, person_id, row_number() OVER (
              PARTITION BY section_id
              ORDER BY {covers("sed")} DESC, start_date DESC NULLS LAST, person_id) AS pick
          FROM sed
        ), withed AS (
          SELECT s.*, coalesce(ed.person_id, s.primary_educator_id) AS educator_id
          FROM s LEFT JOIN ed ON ed.section_id = s.section_id AND ed.pick = 1
        ), pos AS (
          SELECT w.section_id, e.position_code, row_number() OVER (
              PARTITION BY w.section_id
              ORDER BY coalesce(e.school_code = w.school_code, false) DESC, {covers("e")} DESC,
                       coalesce(e.is_teacher, false) DESC, e.start_date DESC NULLS LAST,
                       e.source_key) AS pick
          FROM withed w JOIN emp e ON e.person_id = w.educator_id
        ), st AS (
          SELECT *, row_number() OVER (PARTITION BY person_id ORDER BY key_scope, source_key)
              AS pick
          FROM staff
        )
        SELECT w.section_id, CAST(w.section_id AS VARCHAR) AS assign_num, w.key_scope,
               w.school_code, w.local_section_code, w.local_course_code, w.course_name,
               w.state_course_code, w.term_start, w.term_end, w.educator_id,
               st.legal_last_name AS educator_last_name,
               st.legal_first_name AS educator_first_name,
               pos.position_code AS pos_code, ssn.ssn
        FROM withed w
        LEFT JOIN pos ON pos.section_id = w.section_id AND pos.pick = 1
        LEFT JOIN st ON st.person_id = w.educator_id AND st.pick = 1
        LEFT JOIN staff_ssn ssn ON ssn.person_id = w.educator_id
        WHERE w.educator_id IS NOT NULL
        """
    ).fetchall()


# A population of one record per section: (subject type, subject key, ORDER BY of the file).
SECTION_SUBJECT = ("section", "assign_num", "school_code, section_id")

# The semester from the section's term and `new_year` (January 1 of the school year).
SEMESTER_SQL = (
    "CASE WHEN term_start IS NULL OR term_end IS NULL THEN NULL "
    "WHEN term_end < new_year THEN '1' WHEN term_start >= new_year THEN '2' ELSE '0' END"
)


def build_semester_population(
    db: duckdb.DuckDBPyConnection,
    ctx: ExtractContext,
    canonical: CanonicalReader,
    *,
    credit_levels: tuple[str, ...] | None = None,
) -> tuple[str, str, str]:
    """`pop`: the sections of `build_assignments` with `new_year`, for `SEMESTER_SQL`."""
    build_assignments(db, ctx, canonical, "ca", credit_levels=credit_levels)
    db.execute(
        f"CREATE OR REPLACE TABLE pop AS SELECT *, DATE '{ctx.school_year}-01-01' AS new_year "
        "FROM ca"
    ).fetchall()
    return SECTION_SUBJECT


@population("course_assignment")
def course_assignment_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    return build_semester_population(db, ctx, canonical)


def _register() -> None:
    d = "course_assignment."
    register_file_fields(d)
    derivation(d + "edssn", *EDSSN)
    register_district_code(d)
    derivation(
        d + "reporting_school_code",
        "school_code",
        "DESE code of the course's school",
        "education.courses -> schools",
    )
    derivation(
        d + "last_name",
        "educator_last_name",
        "the primary educator's legal surname",
        "education.section_educators(primary) | sections.primary_educator_id -> census.identities",
    )
    derivation(
        d + "first_name",
        "educator_first_name",
        "the primary educator's legal given name",
        "education.section_educators(primary) | sections.primary_educator_id -> census.identities",
    )
    derivation(
        d + "pos_code",
        "pos_code",
        "the educator's position code: assignment at the section's school covering the count "
        "date, teaching first, latest start; blank when the educator has none",
        "education.employment_assignments.position_code",
    )
    derivation(
        d + "assign_num",
        "assign_num",
        "the section's canonical id (stable across re-maps; Student Assignment links to it)",
        "education.sections.section_id",
    )
    derivation(
        d + "loc_course_num",
        "local_course_code",
        "the district's course number",
        "education.courses.local_course_code",
    )
    derivation(
        d + "loc_course_name",
        "course_name",
        "the district's course title",
        "education.courses.name",
    )
    derivation(
        d + "course_number_state",
        "state_course_code",
        "DESE state course code of the course",
        "education.courses.state_course_code",
    )
    derivation(
        d + "semester",
        SEMESTER_SQL,
        "from the section's term: ends before January 1 → 1 (fall), starts on or after it "
        "→ 2 (winter), else 0 (full year); no term dates → blank (assumption: DESE's rule "
        "for this vendor-named item was not found)",
        "education.sections.term_start_date/term_end_date | terms",
    )


_register()
