"""education.enrollments.resident_school: the building of residence (DESE code)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "enrollments",
        sa.Column("resident_school", sa.String(length=4), nullable=True),
        schema="education",
    )


def downgrade() -> None:
    op.drop_column("enrollments", "resident_school", schema="education")
