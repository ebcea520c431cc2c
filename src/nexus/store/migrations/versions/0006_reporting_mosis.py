"""reporting: MOSIS layouts, fields, code sets, business rules; extract runs, rows, values

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("extract_run_seq", schema="reporting")))
    op.create_table(
        "mosis_business_rules",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("rule_id", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=4), nullable=False),
        sa.Column("item", sa.String(length=8), nullable=True),
        sa.Column("item_name", sa.String(length=200), nullable=True),
        sa.Column("short_title", sa.Text(), nullable=True),
        sa.Column("business_rule", sa.Text(), nullable=True),
        sa.Column("general_message", sa.Text(), nullable=True),
        sa.Column("detailed_message", sa.Text(), nullable=True),
        sa.Column("cycles", sa.JSON(), nullable=True),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("source_year", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "school_year", "layout", "rule_id", name=op.f("pk_mosis_business_rules")
        ),
        schema="reporting",
    )
    op.create_table(
        "mosis_code_sets",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("code_set", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=True),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "school_year", "code_set", "code", name=op.f("pk_mosis_code_sets")
        ),
        schema="reporting",
    )
    op.create_table(
        "mosis_extract_rows",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("extract_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_key", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "extract_run_id", "row_no", name=op.f("pk_mosis_extract_rows")
        ),
        schema="reporting",
    )
    op.create_table(
        "mosis_extract_runs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("extract_run_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(length=20), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("layout_version", sa.Integer(), nullable=False),
        sa.Column("school_code", sa.String(length=4), nullable=True),
        sa.Column("count_date", sa.Date(), nullable=True),
        sa.Column("input_snapshot", sa.JSON(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("artifact_path", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("blocking", sa.Integer(), server_default="0", nullable=False),
        sa.Column("warnings", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "extract_run_id", name=op.f("pk_mosis_extract_runs")),
        schema="reporting",
    )
    op.create_table(
        "mosis_extract_values",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("extract_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("field_order", sa.Integer(), nullable=False),
        sa.Column("column_name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("trace", sa.JSON(), nullable=True),
        schema="reporting",
    )
    if op.get_bind().dialect.name == "postgresql":
        # DuckDB: the extract writes each (run, row, field) once; an ART index over millions
        # of values per run would cost more than the whole write (bench/mosis.py).
        op.create_primary_key(
            "pk_mosis_extract_values",
            "mosis_extract_values",
            ["tenant_id", "extract_run_id", "row_no", "field_order"],
            schema="reporting",
        )
    op.create_table(
        "mosis_layout_fields",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("field_order", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=8), nullable=True),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("column_name", sa.String(length=100), nullable=False),
        sa.Column("requirement", sa.String(length=20), nullable=False),
        sa.Column("requirement_by_cycle", sa.JSON(), nullable=True),
        sa.Column("code_set", sa.String(length=100), nullable=True),
        sa.Column("data_type", sa.String(length=20), nullable=False),
        sa.Column("length", sa.Integer(), nullable=True),
        sa.Column("precision", sa.Integer(), nullable=True),
        sa.Column("cycles", sa.JSON(), nullable=True),
        sa.Column("derivation", sa.String(length=100), nullable=True),
        sa.Column("null_handling", sa.String(length=20), nullable=True),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("provenance_note", sa.Text(), nullable=True),
        sa.Column("source_year", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "school_year",
            "layout",
            "version",
            "field_order",
            name=op.f("pk_mosis_layout_fields"),
        ),
        schema="reporting",
    )
    op.create_table(
        "mosis_layouts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("file_code", sa.String(length=40), nullable=True),
        sa.Column("cycles", sa.JSON(), nullable=False),
        sa.Column("source_year", sa.Integer(), nullable=True),
        sa.Column("delimiter", sa.String(length=8), nullable=False),
        sa.Column("header_row", sa.Boolean(), nullable=False),
        sa.Column("date_format", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "school_year", "layout", "version", name=op.f("pk_mosis_layouts")
        ),
        schema="reporting",
    )


def downgrade() -> None:
    op.drop_table("mosis_layouts", schema="reporting")
    op.drop_table("mosis_layout_fields", schema="reporting")
    op.drop_table("mosis_extract_values", schema="reporting")
    op.drop_table("mosis_extract_runs", schema="reporting")
    op.drop_table("mosis_extract_rows", schema="reporting")
    op.drop_table("mosis_code_sets", schema="reporting")
    op.drop_table("mosis_business_rules", schema="reporting")
    op.execute(sa.schema.DropSequence(sa.Sequence("extract_run_seq", schema="reporting")))
