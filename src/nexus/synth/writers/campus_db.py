"""The Campus-shaped database, written through SQLAlchemy Core to any SQLAlchemy URL.

Tables and columns come from `campus_schema.TABLES` (the docs/campus.md contract, Campus
casing). Tables are dropped and re-created, then filled by the engine's native bulk route:
DuckDB scans registered Arrow data (`INSERT ... SELECT`), PostgreSQL takes CSV through
`COPY ... FROM STDIN`, any other engine (SQLite) gets batched executemany, fine at test sizes:
all through `nexus.store.bulk_load`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from nexus.store import bulk_load
from nexus.synth.campus_schema import TABLES, sql_table

_BATCH = 250_000
DUCKDB_MEMORY_LIMIT = "1GB"
_CSV = pacsv.WriteOptions(include_header=False, quoting_style="needed")


def default_url(out_dir: Path) -> str:
    return f"duckdb:///{(out_dir / 'campus.duckdb').resolve()}"


class CampusDatabase:
    """Create the Campus tables at `url` (optionally in `schema`) and bulk-load them."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.url = url
        self.engine = sa.create_engine(url)
        self.dialect = self.engine.dialect.name
        self.metadata = sa.MetaData(schema=schema)
        self.tables = {name: sql_table(name, self.metadata) for name in TABLES}
        self.rows: dict[str, int] = {}
        prep = self.engine.dialect.identifier_preparer
        self._names = {name: prep.format_table(t) for name, t in self.tables.items()}
        self._columns = {
            name: ", ".join(prep.quote(c.name) for c in t.columns)
            for name, t in self.tables.items()
        }
        with self.engine.begin() as conn:
            if schema and self.dialect != "sqlite":
                conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
            self.metadata.drop_all(conn, checkfirst=True)
            self.metadata.create_all(conn)
        self._conn = self.engine.connect()
        self._driver = self._conn.connection.driver_connection
        if self.dialect == "duckdb":
            self._driver.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        self._trans = self._conn.begin()

    def load(self, name: str, data: pa.Table | pa.RecordBatch) -> None:
        if data.num_rows == 0:
            self.rows.setdefault(name, 0)
            return
        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        bulk_load(self._conn, self.tables[name], table)
        # Commit each load: DuckDB keeps an open transaction's appends in memory, and the
        # attendance stream of a large district would otherwise hold all of them.
        self._trans.commit()
        self._trans = self._conn.begin()
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def close(self) -> None:
        self._trans.commit()
        self._conn.close()
        self.engine.dispose()
