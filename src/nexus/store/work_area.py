"""A private DuckDB work area: one job's scratch database, filled from queries on the store.

Extracts and validation each open one, so their set-based SQL runs in one dialect whatever the
store (DuckDB or PostgreSQL). Its memory is capped at `NEXUS_WORK_MEMORY` (default 1GB); beyond
that it spills to its own temporary folder, removed on close(). It does not own what is computed
in it.
"""

from __future__ import annotations

import os
import tempfile

import duckdb

from nexus.store.bulk import bulk_read
from nexus.store.engine import Store

WORK_MEMORY_LIMIT = os.environ.get("NEXUS_WORK_MEMORY", "1GB")


def lit(value: object) -> str:
    """A SQL text literal for the work area (NULL for None)."""
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


class DuckDBWorkArea:
    """One tenant's private DuckDB (`db`); close() when done."""

    def __init__(self, store: Store, tenant_id: int, prefix: str = "nexus-work-") -> None:
        self.store, self.tenant_id = store, tenant_id
        self._tmp = tempfile.TemporaryDirectory(prefix=prefix)
        self.db = duckdb.connect()
        self.db.execute(f"SET memory_limit = '{WORK_MEMORY_LIMIT}'").fetchall()
        self.db.execute(f"SET temp_directory = {lit(self._tmp.name)}").fetchall()

    def close(self) -> None:
        self.db.close()
        self._tmp.cleanup()

    def load_sql(self, name: str, sql: str, types: dict[str, str]) -> None:
        """Keep the result of `sql` (run against the store) as table `name`, the columns named
        in `types` cast to their DuckDB type."""
        with self.store.engine.connect() as conn:
            data = bulk_read(conn, sql)
        self.db.register("load_in", data)
        columns = ", ".join(
            f'CAST("{c}" AS {types[c]}) AS "{c}"' if c in types else f'"{c}"'
            for c in data.column_names
        )
        self.db.execute(
            f"CREATE OR REPLACE TABLE {name} AS SELECT {columns} FROM load_in"
        ).fetchall()
        self.db.unregister("load_in")
