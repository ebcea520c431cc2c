"""mart: grade-card indicators, student groups, facts, aggregates, refresh state; SIS quality
and MOSIS extract/readiness marts

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = (
    "mosis_exception_trend",
    "grade_card_aggregates",
    "grade_card_facts",
    "grade_card_indicators",
    "grade_card_refresh_state",
    "grade_card_student_groups",
    "mosis_extract_problems",
    "mosis_extract_summary",
    "mosis_readiness_latest",
    "sis_quality_runs",
)


def upgrade() -> None:
    op.create_table(
        "grade_card_aggregates",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=80), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("grade_level", sa.String(length=4), nullable=False),
        sa.Column("group_code", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("numerator_count", sa.Integer(), nullable=False),
        sa.Column("numerator", sa.Float(), nullable=False),
        sa.Column("denominator", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("suppression_reason", sa.String(length=20), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "school_year",
            "indicator",
            "school_id",
            "grade_level",
            "group_code",
            name=op.f("pk_grade_card_aggregates"),
        ),
        schema="mart",
    )
    op.create_table(
        "grade_card_facts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=80), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("grade_level", sa.String(length=4), nullable=True),
        sa.Column("in_denominator", sa.Boolean(), nullable=False),
        sa.Column("in_numerator", sa.Boolean(), nullable=False),
        sa.Column("numerator_value", sa.Float(), nullable=False),
        sa.Column("denominator_value", sa.Float(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        schema="mart",
    )
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL reads one indicator's facts by index (refresh, drill); on DuckDB an ART
        # index over millions of facts would cost more than the build, and zone maps suffice
        # (an indicator's facts are written together).
        op.create_index(
            "ix_grade_card_facts_indicator",
            "grade_card_facts",
            ["tenant_id", "school_year", "indicator", "school_id"],
            schema="mart",
        )
    op.create_table(
        "grade_card_indicators",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=80), nullable=False),
        sa.Column("family", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("framework", sa.Text(), nullable=True),
        sa.Column("source_tag", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "school_year", "indicator", name=op.f("pk_grade_card_indicators")
        ),
        schema="mart",
    )
    op.create_table(
        "grade_card_refresh_state",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=80), nullable=False),
        sa.Column("definition_sha256", sa.String(length=64), nullable=False),
        sa.Column("input_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("facts", sa.Integer(), nullable=False),
        sa.Column("aggregates", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "school_year", "indicator", name=op.f("pk_grade_card_refresh_state")
        ),
        schema="mart",
    )
    op.create_table(
        "grade_card_student_groups",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("group_code", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "school_year",
            "person_id",
            "group_code",
            name=op.f("pk_grade_card_student_groups"),
        ),
        schema="mart",
    )
    op.create_table(
        "mosis_extract_problems",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("extract_run_id", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("problem", sa.String(length=200), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "extract_run_id",
            "field",
            "problem",
            name=op.f("pk_mosis_extract_problems"),
        ),
        schema="mart",
    )
    op.create_table(
        "mosis_extract_summary",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("extract_run_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(length=20), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("school_code", sa.String(length=4), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.Column("rows_blocked", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "extract_run_id", name=op.f("pk_mosis_extract_summary")
        ),
        schema="mart",
    )
    op.create_table(
        "mosis_readiness_latest",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(length=20), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("school_code", sa.String(length=4), nullable=False),
        sa.Column("extract_run_id", sa.BigInteger(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.Column("rows_blocked", sa.Integer(), nullable=False),
        sa.Column("ready_percent", sa.Float(), nullable=True),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "school_year",
            "cycle",
            "layout",
            "school_code",
            name=op.f("pk_mosis_readiness_latest"),
        ),
        schema="mart",
    )
    op.create_table(
        "sis_quality_runs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_record_errors", sa.Integer(), nullable=False),
        sa.Column("mapping_errors", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", name=op.f("pk_sis_quality_runs")),
        schema="mart",
    )

    op.create_table(
        "mosis_exception_trend",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("validation_run_id", sa.BigInteger(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(length=20), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("school_code", sa.String(length=8), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("exceptions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "validation_run_id",
            "layout",
            "rule_id",
            "field",
            "school_code",
            "owner",
            "severity",
            name=op.f("pk_mosis_exception_trend"),
        ),
        schema="mart",
    )


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name, schema="mart")
