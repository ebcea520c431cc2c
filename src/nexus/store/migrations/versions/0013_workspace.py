"""platform: accounts, sessions and API tokens; the daily pipeline's configs, runs and
schedules; the web app's background jobs (issue 9)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SEQUENCES = ("user_seq", "api_token_seq", "pipeline_run_seq", "schedule_seq", "background_job_seq")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    for name in SEQUENCES:
        op.execute(sa.schema.CreateSequence(sa.Sequence(name, schema="platform")))
    op.create_table(
        "users",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        _ts("locked_until"),
        _ts("last_sign_in_at"),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        schema="platform",
    )
    op.create_table(
        "user_tenants",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name=op.f("pk_user_tenants")),
        schema="platform",
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        _ts("created_at", nullable=False),
        _ts("last_used_at"),
        _ts("revoked_at"),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
        schema="platform",
    )
    op.create_table(
        "web_sessions",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        _ts("created_at", nullable=False),
        _ts("last_seen_at", nullable=False),
        _ts("expires_at", nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("session_sha256", name=op.f("pk_web_sessions")),
        schema="platform",
    )
    op.create_table(
        "pipeline_configs",
        sa.Column("tenant_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        _ts("updated_at", nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_pipeline_configs")),
        schema="platform",
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("pipeline_run_id", sa.BigInteger(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("hostname", sa.String(length=200), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        _ts("started_at", nullable=False),
        _ts("ended_at"),
        sa.PrimaryKeyConstraint("tenant_id", "pipeline_run_id", name=op.f("pk_pipeline_runs")),
        schema="platform",
    )
    op.create_table(
        "schedules",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("cron", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _ts("last_fired_at"),
        _ts("next_fire_at"),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "schedule_id", name=op.f("pk_schedules")),
        schema="platform",
    )
    op.create_table(
        "background_jobs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("started_at"),
        _ts("ended_at"),
        sa.PrimaryKeyConstraint("tenant_id", "job_id", name=op.f("pk_background_jobs")),
        schema="platform",
    )


def downgrade() -> None:
    for table in (
        "background_jobs",
        "schedules",
        "pipeline_runs",
        "pipeline_configs",
        "web_sessions",
        "api_tokens",
        "user_tenants",
        "users",
    ):
        op.drop_table(table, schema="platform")
    for name in SEQUENCES:
        op.execute(sa.schema.DropSequence(sa.Sequence(name, schema="platform")))
