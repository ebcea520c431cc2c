"""CSV output shared by every file writer: RFC 4180, UTF-8, CRLF line ends, unquoted header.

Text values are always quoted (Arrow's writer quotes every string), numbers and nulls are not;
both are valid RFC 4180 and keep leading zeros safe in tools that guess types. Dates are written
by each format's own convention before they reach here (the writer takes strings as given).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

_OPTIONS = pacsv.WriteOptions(
    include_header=True,
    quoting_style="needed",
    quoting_header="none",
    eol="\r\n",
    batch_size=65_536,
)


def write_table(table: pa.Table, path: Path) -> int:
    """Write `table` to `path`; return the number of data rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, str(path), _OPTIONS)
    return table.num_rows


class CsvStream:
    """A CSV file written batch by batch (the attendance volume path)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rows = 0
        self._writer = pacsv.CSVWriter(str(path), schema, write_options=_OPTIONS)

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        self._writer.close()


class DateLabels:
    """Fast date -> text for a known span of dates (strftime per row is far too slow)."""

    def __init__(self, first: np.datetime64, last: np.datetime64, fmt: str) -> None:
        self.base = int(np.datetime64(first, "D").astype(np.int64)) - 7
        span = np.arange(np.datetime64(first, "D") - 7, np.datetime64(last, "D") + 8)
        self.labels = pa.array([d.astype(object).strftime(fmt) for d in span], pa.string())

    def __call__(self, dates: pa.Array) -> pa.Array:
        idx = pc.subtract(dates.cast(pa.int32()), pa.scalar(self.base, pa.int32()))
        return self.labels.take(idx)


def format_dates(dates: np.ndarray, fmt: str) -> pa.Array:
    """datetime64 values as text in `fmt` (nulls for NaT), formatting each distinct date once."""
    days = np.asarray(dates).astype("datetime64[D]")
    missing = np.isnat(days)
    ints = np.where(missing, 0, days.astype(np.int64))
    distinct, inverse = np.unique(ints, return_inverse=True)
    labels = pa.array(
        [np.datetime64(int(v), "D").astype(object).strftime(fmt) for v in distinct], pa.string()
    )
    return labels.take(pa.array(inverse.reshape(-1), mask=missing))


def iso_millis_z(stamps: np.ndarray) -> pa.Array:
    """Timestamps as ISO 8601 with milliseconds and a Z, as Renaissance writes them."""
    text = np.datetime_as_string(np.asarray(stamps).astype("datetime64[ms]"), unit="ms")
    return pa.array(np.char.add(text, "Z"))


# Arrow text columns for the vendor files.


def yes_no(flag: np.ndarray) -> pa.Array:
    return pa.array(np.where(flag, "Yes", "No"))


def flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def constant(value: object, n: int) -> pa.Array:
    return pa.array([value], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))


def text(values: np.ndarray) -> pa.Array:
    """Numbers or text as strings (None stays null)."""
    v = np.asarray(values)
    if v.dtype == object:
        return pa.array(v, pa.string(), from_pandas=True)
    return pa.array(v).cast(pa.string())
