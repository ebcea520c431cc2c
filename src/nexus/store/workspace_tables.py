"""SQLAlchemy Core tables of the operator's workspace, in the `platform` schema.

Accounts (issue 9): `users` (local accounts: an argon2 hash, a role, lockout state),
`user_tenants` (which tenants a user may see), `api_tokens` (revocable bearer tokens for
scripts, stored as sha256), `web_sessions` (server-side sessions, the cookie holds a random
token whose sha256 is the key; each carries its CSRF token).

The daily pipeline: `pipeline_configs` (a tenant's steps and notification hooks),
`pipeline_runs` (one record per `nexus daily`, each step's status, timing and counts),
`schedules` (cron expressions run by `nexus serve`), and `background_jobs` (long work the
web app started: ingest, extract, daily, with its live progress).

Migration `0013_workspace.py` creates them.
"""

from __future__ import annotations

import sqlalchemy as sa

from nexus.store.tables import metadata


def _seq(name: str) -> sa.Sequence:
    return sa.Sequence(f"{name}_seq", schema="platform", metadata=metadata)


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


# --- accounts ---------------------------------------------------------------------------------

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.BigInteger, _seq("user"), primary_key=True),
    sa.Column("username", sa.String(120), nullable=False, unique=True),
    # None for an account that signs in only through single sign-on.
    sa.Column("password_hash", sa.Text),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("failed_attempts", sa.Integer, nullable=False),
    _ts("locked_until"),
    _ts("last_sign_in_at"),
    _ts("created_at", nullable=False),
    schema="platform",
)

user_tenants = sa.Table(
    "user_tenants",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "user_id"),
    schema="platform",
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_id", sa.BigInteger, _seq("api_token"), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(200)),
    _ts("created_at", nullable=False),
    _ts("last_used_at"),
    _ts("revoked_at"),
    schema="platform",
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("session_sha256", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    _ts("created_at", nullable=False),
    _ts("last_seen_at", nullable=False),
    _ts("expires_at", nullable=False),
    sa.Column("client", sa.String(64)),
    schema="platform",
)

# --- the daily pipeline -------------------------------------------------------------------------

pipeline_configs = sa.Table(
    "pipeline_configs",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("config", sa.JSON, nullable=False),
    _ts("updated_at", nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    schema="platform",
)

pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    sa.Column("pipeline_run_id", sa.BigInteger, _seq("pipeline_run"), nullable=False),
    # manual (CLI), web, schedule
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("started_by", sa.String(200), nullable=False),
    # running, succeeded, partial, failed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    # [{"step", "target", "status", "started_at", "ended_at", "seconds", "counts", "reason"}]
    sa.Column("steps", sa.JSON, nullable=False),
    # Where it runs: a run left `running` by a process that has ended is reaped (jobs.pipeline).
    sa.Column("hostname", sa.String(200)),
    sa.Column("pid", sa.Integer),
    _ts("started_at", nullable=False),
    _ts("ended_at"),
    sa.PrimaryKeyConstraint("tenant_id", "pipeline_run_id"),
    schema="platform",
)

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    sa.Column("schedule_id", sa.BigInteger, _seq("schedule"), nullable=False),
    sa.Column("cron", sa.String(120), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    _ts("last_fired_at"),
    _ts("next_fire_at"),
    sa.Column("created_by", sa.String(200), nullable=False),
    _ts("created_at", nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "schedule_id"),
    schema="platform",
)

background_jobs = sa.Table(
    "background_jobs",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    sa.Column("job_id", sa.BigInteger, _seq("background_job"), nullable=False),
    # ingest, extract, daily, validate, marts-refresh, …
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("started_by", sa.String(200), nullable=False),
    # queued, running, succeeded, partial, failed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.Text),
    sa.Column("result", sa.JSON),
    sa.Column("error", sa.Text),
    _ts("created_at", nullable=False),
    _ts("started_at"),
    _ts("ended_at"),
    sa.PrimaryKeyConstraint("tenant_id", "job_id"),
    schema="platform",
)
