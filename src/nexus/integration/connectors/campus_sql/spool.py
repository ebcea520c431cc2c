"""A query's result, streamed in batches into Arrow and kept as one Parquet file.

Rows arrive from the driver as Python values, `BATCH_ROWS` at a time; each batch becomes an
Arrow record batch whose column types are read off the values (so the types are the source's
own, whatever the engine). The batches are written to a Parquet file: the run's compact
original of the snapshot, and the stream the run stages from. A column that is NULL in every
row of a batch has no type there; a later batch gives it one. When batches disagree (a NULL
column that gets values, whole numbers that turn fractional), the file is rewritten once with
the widened types, so the delivery has a single schema. Nothing here knows about entities.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 50_000
_PLAIN = (bool, int, float, decimal.Decimal, str, bytes, dt.date, dt.datetime, dt.time)


@dataclass(frozen=True)
class Spooled:
    """A result kept on disk: its Parquet file, row count and schema."""

    path: Path
    rows: int
    schema: pa.Schema

    def reader(self, batch_rows: int = BATCH_ROWS) -> pa.RecordBatchReader:
        """The kept rows as an Arrow stream (the file is closed once the stream is read)."""
        return pa.RecordBatchReader.from_batches(self.schema, _read(self.path, batch_rows))


def spool(batches: Iterable[Sequence[Sequence]], names: Sequence[str], path: Path) -> Spooled:
    """Write row batches (sequences of tuples) to `path` as Parquet; one schema in the end."""
    parts: list[tuple[Path, pa.Schema]] = []
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    rows = 0
    try:
        for chunk in batches:
            batch = record_batch(chunk, names)
            rows += batch.num_rows
            if schema is not None:
                fitted = _fit(batch, schema)
                if fitted is not None:
                    assert writer is not None
                    writer.write_batch(fitted)
                    continue
                assert writer is not None
                writer.close()
            schema = batch.schema
            part = path.with_name(f"{path.stem}.part{len(parts)}.parquet")
            parts.append((part, schema))
            writer = pq.ParquetWriter(part, schema, compression="zstd")
            writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()
    if not parts:
        empty = record_batch([], names)
        pq.write_table(pa.Table.from_batches([empty]), path, compression="zstd")
        return Spooled(path, 0, empty.schema)
    if len(parts) == 1:
        parts[0][0].replace(path)
        return Spooled(path, rows, parts[0][1])
    final = _widest([s for _, s in parts])
    with pq.ParquetWriter(path, final, compression="zstd") as out:
        for part, _ in parts:
            for batch in _read(part, BATCH_ROWS):
                out.write_batch(_cast(batch, final))
            part.unlink()
    return Spooled(path, rows, final)


def record_batch(rows: Sequence[Sequence], names: Sequence[str]) -> pa.RecordBatch:
    """One Arrow batch from driver rows, each column typed by its values."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.RecordBatch.from_arrays([_array(list(c)) for c in columns], names=list(names))


def _array(values: list) -> pa.Array:
    sample = next((v for v in values if v is not None), None)
    if sample is None:
        return pa.nulls(len(values))
    if not isinstance(sample, _PLAIN):
        # Driver-specific objects (a SQL Server uniqueidentifier's UUID, …) are kept as text.
        return _text(values)
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return _text(values)
    if pa.types.is_decimal(array.type):
        # Precision follows the values, not the column: fix it so runs compare equal.
        if array.type.precision > 38:
            return _text(values)
        return array.cast(pa.decimal128(38, array.type.scale))
    return array


def _text(values: list) -> pa.Array:
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _fit(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch | None:
    """`batch` in `schema`'s types when that loses nothing, else None."""
    if batch.schema == schema:
        return batch
    arrays = []
    for array, target in zip(batch.columns, schema.types, strict=True):
        if array.type == target:
            arrays.append(array)
        elif pa.types.is_null(array.type) or _widen(array.type, target) == target:
            arrays.append(array.cast(target))
        else:
            return None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _widest(schemas: list[pa.Schema]) -> pa.Schema:
    fields = []
    for i, first in enumerate(schemas[0]):
        kind = first.type
        for schema in schemas[1:]:
            kind = _widen(kind, schema.field(i).type)
        fields.append(pa.field(first.name, kind))
    return pa.schema(fields)


def _widen(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The narrowest type holding values of both `a` and `b` (text when nothing else does)."""
    if a == b or pa.types.is_null(b):
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_decimal(a) and pa.types.is_decimal(b):
        return pa.decimal128(38, max(a.scale, b.scale))
    if {a, b} == {pa.int64(), pa.float64()}:
        return pa.float64()
    if pa.types.is_integer(a) and pa.types.is_decimal(b):
        return b
    if pa.types.is_decimal(a) and pa.types.is_integer(b):
        return a
    stamps = {t for t in (a, b) if pa.types.is_timestamp(t)}
    if len(stamps) == 1 and all(pa.types.is_date(t) or pa.types.is_timestamp(t) for t in (a, b)):
        return stamps.pop()
    return pa.string()


def _cast(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [a.cast(t) for a, t in zip(batch.columns, schema.types, strict=True)], schema=schema
    )


def _read(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
    with pq.ParquetFile(path) as handle:
        yield from handle.iter_batches(batch_size=batch_rows)
