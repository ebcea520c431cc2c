"""Student Course Completion (June): one record per course a student completed in the year.

Population: every `education.course_transcripts` row of the school year (its `school_year`
is the ending year), one record each. Transcripts carry no school, so the reporting school is
that of the student's enrollment of the year covering the completion date (then the primary
service type, then the latest start), else the student's latest primary enrollment of the
year; a transcript of a student without an enrollment of the year keeps a blank (required)
school and is blocked and listed. `--school` keeps one building (that reporting school).

The packaged layout holds only items 005-075 (who and where): DESE's course, grade and credit
items were not captured by the reference, so the records of one student's courses look alike
in the file; each record's trace names its transcript row (the subject key).
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
    load_students,
    primary_first,
    register_student_fields,
    school_filter,
)


@population("student_course_completion")
def student_course_completion_population(
    db: duckdb.DuckDBPyConnection, ctx: ExtractContext, canonical: CanonicalReader
) -> tuple[str, str, str]:
    t, y = int(ctx.tenant_id), int(ctx.school_year)
    canonical.load(
        "tr",
        "SELECT key_scope, source_key, person_id, grade_level, local_course_code, course_name, "
        "state_course_code, mark, credits_attempted, credits_earned, term, completed_date "
        f"FROM education.course_transcripts WHERE tenant_id = {t} AND school_year = {y} "
        "AND person_id IS NOT NULL",
        {
            "person_id": "BIGINT",
            "credits_attempted": "DECIMAL(12, 4)",
            "credits_earned": "DECIMAL(12, 4)",
            "completed_date": "DATE",
        },
    )
    load_students(db, canonical, t)
    load_enrollments(db, canonical, t, y)
    school = school_filter(ctx, "x.school_code", "WHERE")
    done = "tr.completed_date"
    db.execute(
        f"""
        CREATE OR REPLACE TABLE pop AS
        WITH s AS (
          SELECT tr.key_scope, tr.source_key, e.school_code, row_number() OVER (
              PARTITION BY tr.key_scope, tr.source_key
              ORDER BY ({done} IS NOT NULL AND {enrolled_between("e", done, done)}) DESC,
                       {primary_first("e")}) AS pick
          FROM tr JOIN enr e ON e.person_id = tr.person_id
        ), x AS (
          SELECT tr.*, s.school_code, {STUDENT_COLUMNS}
          FROM tr
          LEFT JOIN s ON s.key_scope = tr.key_scope AND s.source_key = tr.source_key
            AND s.pick = 1
          LEFT JOIN stu u ON u.person_id = tr.person_id
        )
        SELECT * FROM x {school}
        """
    ).fetchall()
    return (
        "course_transcript",
        "key_scope || ':' || source_key",
        "school_code, state_id, person_id, local_course_code, term, key_scope, source_key",
    )


def _register() -> None:
    d = "student_course_completion."
    register_file_fields(d)
    register_district_code(d)
    derivation(
        d + "reporting_school_code",
        "school_code",
        "school of the student's enrollment covering the completion date (then primary, "
        "latest start); transcripts carry no school",
        "education.course_transcripts -> enrollments -> schools",
    )
    register_student_fields(
        d,
        {
            "state_id": "state_id",
            "local_student_id": "local_id",
            "student_last_name": "last",
            "student_first_name": "first",
            "student_middle_name": "middle",
            "student_name_suffix": "suffix",
        },
    )


_register()
