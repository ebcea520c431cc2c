"""platform.audit_events: a row for every export or view of student-level data

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("event_seq", schema="platform")))
    op.create_table(
        "audit_events",
        sa.Column("tenant_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_audit_events")),
        schema="platform",
    )


def downgrade() -> None:
    op.drop_table("audit_events", schema="platform")
    op.execute(sa.schema.DropSequence(sa.Sequence("event_seq", schema="platform")))
