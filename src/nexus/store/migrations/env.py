"""Alembic environment: runs Nexus migrations on the connection the store hands over."""

from __future__ import annotations

from alembic import context
from alembic.ddl.impl import DefaultImpl

from nexus.store.tables import metadata


class DuckDBImpl(DefaultImpl):
    """Lets Alembic migrate DuckDB through duckdb_engine."""

    __dialect__ = "duckdb"
    transactional_ddl = True


connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` on the command line
    raise RuntimeError("run migrations through `nexus init`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    include_schemas=True,
    version_table_schema="platform",
)
with context.begin_transaction():
    context.run_migrations()
