"""Alembic environment: runs Nexus migrations on the connection the store hands over."""

from __future__ import annotations

from alembic import context

import nexus.store.migrate  # noqa: F401  (registers Alembic's DuckDB implementation)
from nexus.store import (
    canonical_tables,  # noqa: F401  (registers census/education)
    edfi_tables,  # noqa: F401  (registers edfi)
    mart_tables,  # noqa: F401  (registers mart)
    reporting_tables,  # noqa: F401  (registers reporting)
    validation_tables,  # noqa: F401  (registers reporting's validation tables)
    workspace_tables,  # noqa: F401  (registers accounts, pipeline runs, schedules, jobs)
)
from nexus.store.tables import metadata

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
