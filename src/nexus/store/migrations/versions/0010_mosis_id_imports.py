"""reporting: MOSIS ID response imports, tenants' field defaults (issue 5)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("mosis_id_import_seq", schema="reporting")))
    op.create_table(
        "mosis_id_imports",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("artifact_path", sa.Text(), nullable=True),
        sa.Column("records", sa.Integer(), server_default="0", nullable=False),
        sa.Column("assigned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("already_held", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("warnings", sa.Integer(), server_default="0", nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "import_id", name=op.f("pk_mosis_id_imports")),
        schema="reporting",
    )
    op.create_table(
        "mosis_field_defaults",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=60), nullable=False),
        sa.Column("column_name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "school_year",
            "layout",
            "column_name",
            name=op.f("pk_mosis_field_defaults"),
        ),
        schema="reporting",
    )


def downgrade() -> None:
    op.drop_table("mosis_field_defaults", schema="reporting")
    op.drop_table("mosis_id_imports", schema="reporting")
    op.execute(sa.schema.DropSequence(sa.Sequence("mosis_id_import_seq", schema="reporting")))
