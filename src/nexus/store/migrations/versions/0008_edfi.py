"""edfi: built resources, send log, identity map

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("build_seq", schema="edfi")))
    op.execute(sa.schema.CreateSequence(sa.Sequence("send_seq", schema="edfi")))
    op.create_table(
        "builds",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("build_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=True),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("out_dir", sa.Text(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("skipped", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "build_id", name=op.f("pk_builds")),
        schema="edfi",
    )
    op.create_table(
        "records",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=80), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("build_id", sa.BigInteger(), nullable=False),
        sa.Column("natural_key", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "school_year", "resource", "record_key", name=op.f("pk_records")
        ),
        schema="edfi",
    )
    op.create_table(
        "record_problems",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("build_id", sa.BigInteger(), nullable=False),
        sa.Column("problem_no", sa.BigInteger(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("resource", sa.String(length=80), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=300), nullable=True),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "build_id", "problem_no", name=op.f("pk_record_problems")
        ),
        schema="edfi",
    )
    op.create_table(
        "sends",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("send_id", sa.BigInteger(), nullable=False),
        sa.Column("connection", sa.String(length=100), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("build_id", sa.BigInteger(), nullable=True),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "send_id", name=op.f("pk_sends")),
        schema="edfi",
    )
    op.create_table(
        "send_log",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("connection", sa.String(length=100), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=80), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("natural_key", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("server_id", sa.String(length=64), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("send_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "connection", "school_year", "resource", "record_key",
            name=op.f("pk_send_log"),
        ),
        schema="edfi",
    )


def downgrade() -> None:
    for table in ("send_log", "sends", "record_problems", "records", "builds"):
        op.drop_table(table, schema="edfi")
    op.execute(sa.schema.DropSequence(sa.Sequence("send_seq", schema="edfi")))
    op.execute(sa.schema.DropSequence(sa.Sequence("build_seq", schema="edfi")))
