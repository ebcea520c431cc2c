"""census.identities.race_two_or_more: a source's "two or more races" without the races

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "identities", sa.Column("race_two_or_more", sa.Boolean(), nullable=True), schema="census"
    )


def downgrade() -> None:
    op.drop_column("identities", "race_two_or_more", schema="census")
