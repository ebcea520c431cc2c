"""The bulk paths between Arrow and the store, by each engine's native route.

`bulk_load` appends Arrow data to a table: DuckDB scans the Arrow stream directly
(`INSERT … SELECT` over a registered relation); PostgreSQL receives it through
`COPY … FROM STDIN` in CSV. `bulk_read` is the way back: a query's result as an Arrow table
(DuckDB natively; PostgreSQL through `COPY … TO STDOUT`). No row-by-row loop on volume paths.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from nexus.store.scope import is_scoped

_BATCH_ROWS = 200_000


def _batches(data: pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]):
    """Arrow data as record batches of at most _BATCH_ROWS rows."""
    if isinstance(data, pa.Table):
        yield from data.to_batches(max_chunksize=_BATCH_ROWS)
    else:
        yield from data


def bulk_load(
    conn: sa.Connection,
    table: sa.Table,
    data: pa.Table | pa.RecordBatchReader,
) -> int:
    """Append `data` (columns named as `table`'s, any subset) to `table`; returns rows loaded.

    Runs inside the caller's transaction on `conn`.
    """
    columns = list(data.schema.names)
    unknown = [c for c in columns if c not in table.c]
    prep = conn.dialect.identifier_preparer
    # Quoted, so mixed-case and reserved names (a source system's "Identity", "Day") load too.
    target = prep.format_table(table)
    if unknown:
        raise ValueError(f"bulk_load into {target}: unknown columns {unknown}")
    col_list = ", ".join(prep.quote(c) for c in columns)
    if conn.dialect.name == "duckdb":
        return _duckdb_load(conn, target, data, col_list)
    if conn.dialect.name == "postgresql":
        if is_scoped(conn):
            return _postgresql_insert(conn, target, data, col_list)
        return _postgresql_copy(conn, target, data, col_list)
    # Any other engine (SQLite test sources): batched executemany, for small volumes only.
    rows = 0
    for batch in _batches(data):
        conn.execute(table.insert(), batch.to_pylist())
        rows += batch.num_rows
    return rows


def _duckdb_load(conn: sa.Connection, target: str, data, col_list: str) -> int:
    raw = conn.connection.driver_connection
    name = f"_nexus_bulk_{id(data):x}"
    raw.register(name, data)
    try:
        inserted = raw.execute(
            f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM {name}"
        ).fetchall()
    finally:
        raw.unregister(name)
    return int(inserted[0][0]) if inserted else 0


def _postgresql_copy(conn: sa.Connection, target: str, data, col_list: str) -> int:
    cursor = conn.connection.driver_connection.cursor()
    rows = 0
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    sql = f"COPY {target} ({col_list}) FROM STDIN WITH (FORMAT csv)"
    with cursor.copy(sql) as copy:
        for batch in _batches(data):
            if batch.num_rows == 0:
                continue
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue())
            rows += batch.num_rows
    if rows:
        cursor.execute(f"ANALYZE {target}")
    return rows


def _postgresql_insert(conn: sa.Connection, target: str, data, col_list: str) -> int:
    # PostgreSQL refuses COPY FROM under row-level security; a tenant-scoped transaction (a web
    # request) writes few rows, so plain INSERTs, which the policies check row by row.
    cursor = conn.connection.driver_connection.cursor()
    rows = 0
    placeholders = ", ".join(["%s"] * len(data.schema.names))
    sql = f"INSERT INTO {target} ({col_list}) VALUES ({placeholders})"
    for batch in _batches(data):
        if batch.num_rows:
            cursor.executemany(sql, [tuple(r.values()) for r in batch.to_pylist()])
            rows += batch.num_rows
    return rows


def bulk_read(conn: sa.Connection, query: str) -> pa.Table:
    """The result of `query` (plain SQL, no parameters: inline only trusted integers)."""
    if conn.dialect.name == "duckdb":
        return conn.connection.driver_connection.sql(query).to_arrow_table()
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        buffer = io.BytesIO()
        with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        buffer.seek(0)
        # Every column is read as text: the caller casts what it needs.
        header = buffer.readline().decode().rstrip("\r\n").split(",")
        buffer.seek(0)
        return pacsv.read_csv(
            buffer,
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    raise ValueError(f"no bulk read for dialect {conn.dialect.name}")
