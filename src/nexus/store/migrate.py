"""Creates or upgrades the database to the newest schema (`nexus init`)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from nexus.store.tables import SCHEMAS

MIGRATIONS = Path(__file__).parent / "migrations"


class DuckDBImpl(DefaultImpl):
    """Lets Alembic migrate DuckDB through duckdb_engine (registered by being defined)."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def _config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version", schema="platform"):
            return None
        ctx = MigrationContext.configure(conn, opts={"version_table_schema": "platform"})
        return ctx.get_current_revision()


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the database to the head revision; returns (revision before, revision after)."""
    before = current_revision(engine)
    with engine.begin() as conn:
        for schema in SCHEMAS:
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    with engine.begin() as conn:
        command.upgrade(_config(conn), "head")
    return before, head_revision()
