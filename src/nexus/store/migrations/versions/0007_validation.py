"""reporting: validation rules, runs, results, exceptions and their history; DESE corrections

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SEQUENCES = ("validation_run_seq", "validation_exception_seq", "mosis_correction_seq")
TABLES = (
    "validation_rules",
    "validation_runs",
    "validation_row_counts",
    "mosis_validation_results",
    "validation_exceptions",
    "validation_exception_history",
    "mosis_corrections",
)


def upgrade() -> None:
    for name in SEQUENCES:
        op.execute(sa.schema.CreateSequence(sa.Sequence(name, schema="reporting")))
    op.create_table(
        "mosis_corrections",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("correction_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(length=20), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("state_id", sa.String(length=20), nullable=False),
        sa.Column("column_name", sa.String(length=100), nullable=False),
        sa.Column("corrected_value", sa.Text(), nullable=True),
        sa.Column("rule_id", sa.String(length=40), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "correction_id", name=op.f("pk_mosis_corrections")),
        schema="reporting",
    )
    op.create_table(
        "mosis_validation_results",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("validation_run_id", sa.BigInteger(), nullable=False),
        sa.Column("exception_id", sa.BigInteger(), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("school_code", sa.String(length=8), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=True),
        sa.Column("current_value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "validation_run_id",
            "exception_id",
            name=op.f("pk_mosis_validation_results"),
        ),
        schema="reporting",
    )
    op.create_table(
        "validation_exception_history",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("exception_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("validation_run_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "exception_id", "seq", name=op.f("pk_validation_exception_history")
        ),
        schema="reporting",
    )
    op.create_table(
        "validation_exceptions",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("exception_id", sa.BigInteger(), nullable=False),
        sa.Column("identity_key", sa.String(length=64), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(length=20), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("entity_type", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=True),
        sa.Column("source_system", sa.String(length=40), nullable=True),
        sa.Column("source_entity", sa.String(length=200), nullable=True),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("state_id", sa.String(length=20), nullable=True),
        sa.Column("school_code", sa.String(length=8), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("current_value", sa.Text(), nullable=True),
        sa.Column("expected", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("trace", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_to", sa.String(length=200), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("suppressed_until", sa.Date(), nullable=True),
        sa.Column("first_seen_run", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_run", sa.BigInteger(), nullable=False),
        sa.Column("resolved_run", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "exception_id", name=op.f("pk_validation_exceptions")),
        sa.UniqueConstraint(
            "tenant_id",
            "identity_key",
            name=op.f("uq_validation_exceptions_tenant_id_identity_key"),
        ),
        schema="reporting",
    )
    op.create_table(
        "validation_row_counts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("validation_run_id", sa.BigInteger(), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("school_code", sa.String(length=8), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "validation_run_id",
            "layout",
            "school_code",
            name=op.f("pk_validation_row_counts"),
        ),
        schema="reporting",
    )
    op.create_table(
        "validation_rules",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "school_year", "layout", "rule_id", name=op.f("pk_validation_rules")
        ),
        schema="reporting",
    )
    op.create_table(
        "validation_runs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("validation_run_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(length=20), nullable=False),
        sa.Column("layouts", sa.JSON(), nullable=False),
        sa.Column("count_date", sa.Date(), nullable=True),
        sa.Column("input_snapshot", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("found", sa.Integer(), server_default="0", nullable=False),
        sa.Column("new", sa.Integer(), server_default="0", nullable=False),
        sa.Column("auto_resolved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "validation_run_id", name=op.f("pk_validation_runs")),
        schema="reporting",
    )
    op.create_index(
        "ix_validation_exceptions_tenant_id_school_year_cycle_status",
        "validation_exceptions",
        ["tenant_id", "school_year", "cycle", "status"],
        schema="reporting",
    )


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name, schema="reporting")
    for name in SEQUENCES:
        op.execute(sa.schema.DropSequence(sa.Sequence(name, schema="reporting")))
