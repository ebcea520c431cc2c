"""An in-memory DuckDB holding the Campus tables, which the file writers query with SQL.

Every query a writer runs ends in an ORDER BY on its natural key, so output order never depends
on DuckDB's threads.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from nexus.synth.writers.csv_files import CsvStream

# Bounded so large districts spill sorts to disk rather than growing without limit.
MEMORY_LIMIT = "2GB"


class Workspace:
    def __init__(self, tables: dict[str, pa.Table], spill_dir: Path | None = None) -> None:
        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        if spill_dir is not None:
            self.con.execute(f"SET temp_directory = '{spill_dir}'")
        for name in sorted(tables):
            self.con.register(name, tables[name])

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def write_csv(self, sql: str, path: Path, schema: pa.Schema | None = None) -> int:
        """Stream a query's rows into a CSV file (cast to `schema` when given)."""
        reader = self.con.sql(sql).to_arrow_reader(100_000)
        out = CsvStream(path, schema or reader.schema)
        for batch in reader:
            out.write(batch.cast(schema) if schema is not None else batch)
        out.close()
        return out.rows

    def close(self) -> None:
        self.con.close()
