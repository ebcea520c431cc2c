"""education.districts and district_aliases: what the district gate recognises

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("district_seq", schema="education")))
    op.create_table(
        "districts",
        sa.Column("tenant_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("district_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("county_district_code", sa.String(length=6), nullable=True),
        sa.Column("nces_id", sa.String(length=12), nullable=True),
        sa.Column("account_id", sa.String(length=100), nullable=True),
        sa.Column("name_threshold", sa.Integer(), server_default="85", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "district_id", name=op.f("pk_districts")),
        schema="education",
    )
    op.create_table(
        "district_aliases",
        sa.Column("tenant_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("district_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "district_id", "alias", name=op.f("pk_district_aliases")
        ),
        schema="education",
    )
    # Every existing tenant is its own district until told otherwise.
    op.execute(
        "INSERT INTO education.districts (tenant_id, district_id, name, county_district_code, "
        "nces_id, account_id, name_threshold, created_at) "
        "SELECT tenant_id, nextval('education.district_seq'), name, county_district_code, "
        "nces_id, NULL, 85, created_at FROM platform.tenants ORDER BY tenant_id"
    )


def downgrade() -> None:
    op.drop_table("district_aliases", schema="education")
    op.drop_table("districts", schema="education")
    op.execute(sa.schema.DropSequence(sa.Sequence("district_seq", schema="education")))
