"""SQLAlchemy Core tables of the `mart` schema: grade-card facts, aggregates, quality marts.

Every table carries `tenant_id`, leading its primary and unique keys; surrogate keys come
from sequences. The migration that creates them is `migrations/versions/0009_marts.py`.

Grade card:
- `grade_card_indicators`: the indicator definitions of a year as loaded (platform tenant 0);
- `grade_card_student_groups`: one row per student, year and student group (defined once in
  `nexus/marts/groups.yaml`, shared by every indicator);
- `grade_card_facts`: student (or educator) grain, one row per subject per indicator per year
  and per unit (a school, or `school_id = 0` for the district), with the numerator and
  denominator membership of that subject, so every aggregate drills back to its people;
- `grade_card_aggregates`: by district / school x all grades / grade x student group, with
  the suppression decided at refresh (the n below the year's minimum, or complementary);
- `grade_card_refresh_state`: what each indicator was last built from (incremental refresh).

Quality and MOSIS: `sis_quality_runs`, `mosis_extract_summary`, `mosis_readiness_latest`,
`mosis_extract_problems`.
"""

from __future__ import annotations

import sqlalchemy as sa

from nexus.store.tables import metadata

DISTRICT_UNIT = 0  # school_id of a district-level fact or aggregate
ALL = "all"  # grade_level / group_code of a cell over every grade / every student


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.BigInteger, nullable=False)


grade_card_indicators = sa.Table(
    "grade_card_indicators",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("indicator", sa.String(80), nullable=False),
    sa.Column("family", sa.String(60), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("framework", sa.Text),
    sa.Column("source_tag", sa.String(40), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "indicator"),
    schema="mart",
)

grade_card_student_groups = sa.Table(
    "grade_card_student_groups",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("person_id", sa.BigInteger, nullable=False),
    sa.Column("group_code", sa.String(40), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "person_id", "group_code"),
    schema="mart",
)

# No primary key: refresh rewrites an indicator's facts as a whole (delete + insert ... select)
# and an index over millions of rows would cost more than the build on DuckDB.
grade_card_facts = sa.Table(
    "grade_card_facts",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("indicator", sa.String(80), nullable=False),
    sa.Column("school_id", sa.BigInteger, nullable=False),  # 0: the district
    sa.Column("subject_type", sa.String(20), nullable=False),  # student | educator
    sa.Column("person_id", sa.BigInteger, nullable=False),
    sa.Column("grade_level", sa.String(4)),
    sa.Column("in_denominator", sa.Boolean, nullable=False),
    sa.Column("in_numerator", sa.Boolean, nullable=False),
    sa.Column("numerator_value", sa.Float, nullable=False),
    sa.Column("denominator_value", sa.Float, nullable=False),
    # The facts that put the subject in (e.g. "minutes_attended=52200; minutes_enrolled=58000").
    sa.Column("detail", sa.Text),
    schema="mart",
)

grade_card_aggregates = sa.Table(
    "grade_card_aggregates",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("indicator", sa.String(80), nullable=False),
    sa.Column("level", sa.String(12), nullable=False),  # district | school
    sa.Column("school_id", sa.BigInteger, nullable=False),  # 0: the district
    sa.Column("grade_level", sa.String(4), nullable=False),  # 'all' or a grade
    sa.Column("group_code", sa.String(40), nullable=False),  # 'all' or a student group
    # n: subjects in the denominator (for a count, in the numerator).
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("numerator_count", sa.Integer, nullable=False),
    sa.Column("numerator", sa.Float, nullable=False),
    sa.Column("denominator", sa.Float, nullable=False),
    sa.Column("value", sa.Float),  # unrounded; rounded only for display
    sa.Column("suppressed", sa.Boolean, nullable=False),
    sa.Column("suppression_reason", sa.String(20)),  # small_n | complementary
    sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint(
        "tenant_id", "school_year", "indicator", "school_id", "grade_level", "group_code"
    ),
    schema="mart",
)

grade_card_refresh_state = sa.Table(
    "grade_card_refresh_state",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("indicator", sa.String(80), nullable=False),
    sa.Column("definition_sha256", sa.String(64), nullable=False),
    # sha256 over the inputs' row counts and newest ingestion runs (see nexus.marts.refresh).
    sa.Column("input_fingerprint", sa.String(64), nullable=False),
    sa.Column("facts", sa.Integer, nullable=False),
    sa.Column("aggregates", sa.Integer, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "indicator"),
    schema="mart",
)

sis_quality_runs = sa.Table(
    "sis_quality_runs",
    metadata,
    _tenant(),
    sa.Column("run_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source_record_errors", sa.Integer, nullable=False),
    sa.Column("mapping_errors", sa.Integer, nullable=False),
    sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "run_id"),
    schema="mart",
)

mosis_extract_summary = sa.Table(
    "mosis_extract_summary",
    metadata,
    _tenant(),
    sa.Column("extract_run_id", sa.BigInteger, nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("cycle", sa.String(20), nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("school_code", sa.String(4), nullable=False),  # '' for the whole district
    sa.Column("run_date", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows_written", sa.Integer, nullable=False),
    sa.Column("rows_blocked", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
    sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "extract_run_id"),
    schema="mart",
)

mosis_readiness_latest = sa.Table(
    "mosis_readiness_latest",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("cycle", sa.String(20), nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("school_code", sa.String(4), nullable=False),
    sa.Column("extract_run_id", sa.BigInteger, nullable=False),
    sa.Column("run_date", sa.Date, nullable=False),
    sa.Column("rows_written", sa.Integer, nullable=False),
    sa.Column("rows_blocked", sa.Integer, nullable=False),
    # Share of rows that would be written (written / (written + blocked)), 0-100.
    sa.Column("ready_percent", sa.Float),
    sa.Column("ready", sa.Boolean, nullable=False),  # no blocked rows, run succeeded
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "cycle", "layout", "school_code"),
    schema="mart",
)

mosis_extract_problems = sa.Table(
    "mosis_extract_problems",
    metadata,
    _tenant(),
    sa.Column("extract_run_id", sa.BigInteger, nullable=False),
    sa.Column("field", sa.String(200), nullable=False),
    sa.Column("problem", sa.String(200), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "extract_run_id", "field", "problem"),
    schema="mart",
)

# MOSIS exception trend: per validation run, the exceptions found by cycle, layout, rule,
# field, school, owner and severity (built from the validation layer's reporting tables).
mosis_exception_trend = sa.Table(
    "mosis_exception_trend",
    metadata,
    _tenant(),
    sa.Column("validation_run_id", sa.BigInteger, nullable=False),
    sa.Column("run_date", sa.Date, nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("cycle", sa.String(20), nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("rule_id", sa.String(40), nullable=False),
    sa.Column("field", sa.String(100), nullable=False),
    sa.Column("school_code", sa.String(8), nullable=False),
    sa.Column("owner", sa.String(40), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("exceptions", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint(
        "tenant_id",
        "validation_run_id",
        "layout",
        "rule_id",
        "field",
        "school_code",
        "owner",
        "severity",
    ),
    schema="mart",
)
