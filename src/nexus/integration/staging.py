"""Parsing and checking a delivery in a private, in-memory DuckDB before anything is stored.

The work area reads a delimited file (or a source's Arrow stream) set-based, finds row errors
(fields that do not fit the header, values that are not a date or number, missing or repeated
natural keys), and produces the staged rows of the entity: natural key, checksum and the
source's own columns as a JSON payload, each with the physical line it came from. Nothing here
touches the store.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from nexus.integration.connectors.base import (
    ColumnSpec,
    Delivery,
    DistrictClaim,
    DistrictEvidence,
)
from nexus.integration.errors import IngestionError

_UTF8 = {"utf-8", "utf8", "utf-8-sig", "utf_8"}
_CHUNK = 1 << 22
KEY_SEPARATOR = "\x1f"
WORK_MEMORY_LIMIT = os.environ.get("NEXUS_WORK_MEMORY", "1GB")
# Marks that line numbers come from the `<raw>_lines` table rather than from `rowid`.
JOIN_LINES = "join"
# How the work area types a rows column that is NULL in every row (Arrow's null type).
_NO_TYPE = ('"NULL"', "NULL")

_REJECT_REASONS = {
    "MISSING COLUMNS": "too few fields for the header",
    "TOO MANY COLUMNS": "too many fields for the header",
    "UNQUOTED VALUE": "a quote is not closed or stands inside an unquoted field",
    "INVALID UNICODE": "not valid UTF-8",
    "LINE SIZE OVER MAXIMUM": "line longer than the reader's maximum",
    "CAST": "value does not fit its column",
}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def human_format(fmt: str) -> str:
    """strftime format as an operator reads it: %m/%d/%Y -> MM/DD/YYYY."""
    for code, text in (
        ("%Y", "YYYY"),
        ("%m", "MM"),
        ("%d", "DD"),
        ("%H", "HH"),
        ("%M", "MI"),
        ("%S", "SS"),
        ("%y", "YY"),
    ):
        fmt = fmt.replace(code, text)
    return fmt


@dataclass
class StagedEntity:
    """The outcome of staging one delivery in the work area."""

    delivery: Delivery
    table: str | None = None
    errors_table: str | None = None
    rows_read: int = 0
    error_count: int = 0
    columns: list[str] = field(default_factory=list)
    column_types: dict[str, str] = field(default_factory=dict)
    columns_added: list[str] = field(default_factory=list)
    columns_missing: list[str] = field(default_factory=list)
    failure: str | None = None
    drift_note: str | None = None
    # Rows identical to their current version (set by `WorkArea.diff`).
    unchanged: int = 0
    # The entity had no current version when the work area compared (a first delivery).
    first_delivery: bool = False
    # The districts the delivery names (for the district gate).
    district_claims: list[DistrictClaim] = field(default_factory=list)
    # sha256 and size of the delivered file, computed while it was validated.
    sha256: str | None = None
    size_bytes: int | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None


class WorkArea:
    """An in-memory DuckDB where deliveries are parsed and checked, private to one run."""

    def __init__(self, temp_dir: Path | None = None) -> None:
        if temp_dir is not None:
            temp_dir.mkdir(parents=True, exist_ok=True)
        self._tmp = tempfile.TemporaryDirectory(prefix="nexus-work-", dir=temp_dir)
        self.dir = Path(self._tmp.name)
        self.db = duckdb.connect()
        self.db.execute("SET preserve_insertion_order = true")
        # The work area spills to disk beyond this rather than grow the process without bound.
        self.db.execute(f"SET memory_limit = '{WORK_MEMORY_LIMIT}'")
        # Timestamps with a zone render the same on every machine, so checksums do too.
        self.db.execute("SET TimeZone = 'UTC'")
        self.db.execute(f"SET temp_directory = {quote_literal(str(self.dir / 'spill'))}")
        self._n = 0
        self._cursors: list[duckdb.DuckDBPyConnection] = []

    def close(self) -> None:
        for cursor in self._cursors:
            cursor.close()
        self.db.close()
        self._tmp.cleanup()

    def __enter__(self) -> WorkArea:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    # --- loading -------------------------------------------------------------------------

    def stage(
        self,
        delivery: Delivery,
        previous_columns: dict | None = None,
        accept_type_changes: bool = False,
    ) -> StagedEntity:
        """Parse and check one delivery; a structural problem becomes `failure`."""
        staged = StagedEntity(delivery=delivery)
        try:
            if delivery.path is not None:
                raw, rejects, lines = self._load_file(delivery, staged)
            elif delivery.rows is not None:
                raw, rejects, lines = self._load_rows(delivery, staged)
            else:
                raise IngestionError("the connector delivered neither a file nor rows")
            self._check_columns(delivery, staged, previous_columns, accept_type_changes)
            self._build(delivery, staged, raw, rejects, lines)
        except IngestionError as exc:
            staged.failure = str(exc)
        except duckdb.Error as exc:
            staged.failure = "cannot read: " + str(exc).splitlines()[0]
        return staged

    def _load_rows(self, delivery: Delivery, staged: StagedEntity):
        assert delivery.rows is not None
        reader = delivery.rows()
        raw = self._name("raw")
        self.db.register("_incoming", reader)
        try:
            self.db.execute(f"CREATE TABLE {raw} AS SELECT * FROM _incoming")
        finally:
            self.db.unregister("_incoming")
        described = self.db.execute(f"DESCRIBE {raw}").fetchall()
        staged.columns = [row[0] for row in described]
        staged.column_types = {row[0]: row[1] for row in described}
        staged.rows_read = self.db.execute(f"SELECT count(*) FROM {raw}").fetchone()[0]
        return raw, None, "rowid + 1"

    def _load_file(self, delivery: Delivery, staged: StagedEntity):
        assert delivery.path is not None
        fmt = delivery.csv
        path = delivery.path
        if not path.exists():
            raise IngestionError(f"{delivery.name}: file not found")
        if path.stat().st_size == 0:
            raise IngestionError(f"{delivery.name}: file is empty")
        encoding = (fmt.encoding if fmt else "utf-8").lower()
        digest = hashlib.sha256()
        if encoding in _UTF8:
            newlines = _check_utf8(path, delivery.name, digest)
            source = path
        else:
            source, newlines = self._transcode(path, encoding, delivery.name, digest)
        # The original's sha256, from the same read: the artifact store need not read it again.
        staged.sha256 = digest.hexdigest()
        staged.size_bytes = path.stat().st_size
        delimiter = fmt.delimiter if fmt else ","
        has_header = fmt.header if fmt else True
        if has_header:
            header = _read_header(source, delimiter, delivery.name)
        else:
            header = list(fmt.column_names) if fmt else []
            if not header:
                raise IngestionError(
                    f"{delivery.name}: the file has no header row and the mapping names no columns"
                )
        _check_header(header, delivery.name)
        staged.columns = header
        staged.column_types = {name: "VARCHAR" for name in header}
        raw, rejects = self._name("raw"), self._name("rej")
        columns = "{" + ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in header) + "}"
        self.db.execute(
            f"CREATE TABLE {raw} AS SELECT * FROM read_csv({quote_literal(str(source))}, "
            f"delim = {quote_literal(delimiter)}, quote = '\"', escape = '\"', "
            f"header = {str(has_header).lower()}, columns = {columns}, auto_detect = false, "
            f"allow_quoted_nulls = false, ignore_errors = true, store_rejects = true, "
            f"rejects_table = '{rejects}', rejects_scan = '{rejects}_scan', "
            f"strict_mode = true, null_padding = false)"
        )
        good = self.db.execute(f"SELECT count(*) FROM {raw}").fetchone()[0]
        rejected = self.db.execute(f"SELECT count(*) FROM {rejects}").fetchone()[0]
        staged.rows_read = good + rejected
        if staged.rows_read == 0:
            raise IngestionError(f"{delivery.name}: file has a header but no rows")
        offset = 2 if has_header else 1
        lines = self._line_numbers(raw, rejects, header, good, rejected, offset, newlines)
        return raw, (rejects if rejected else None), lines

    def _transcode(self, path: Path, encoding: str, name: str, digest) -> tuple[Path, int]:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise IngestionError(f"{name}: unknown encoding {encoding!r}") from None
        target = self.dir / (self._name("utf8") + ".csv")
        newlines = 0
        line = 1
        with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
            decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line += chunk[: exc.start].count(b"\n")
                    raise IngestionError(
                        f"{name}: byte 0x{chunk[exc.start]:02x} on line {line} is not valid "
                        f"{encoding}"
                    ) from None
                count = text.count("\n")
                newlines += count
                line += count
                dst.write(text)
            dst.write(decoder.decode(b"", final=True))
        return target, newlines

    def _line_numbers(
        self,
        raw: str,
        rejects: str,
        header: list[str],
        good: int,
        rejected: int,
        offset: int,
        newlines: int,
    ) -> str:
        """A SQL expression over `raw` giving each good row's physical line (header = 1).

        The reader counts records, not lines: a quoted field may hold line breaks, and rows
        rejected by the reader are absent from `raw`. Both are rare, so the cheap form is used
        whenever the file's line count shows neither happened.
        """
        records = good + rejected + (offset - 1)
        if rejected == 0 and newlines in (records, records - 1):
            return f"rowid + {offset}"
        # Record number of each good row: the record numbers not taken by rejected rows.
        self.db.execute(
            f"CREATE TABLE {raw}_recno AS SELECT n AS recno, "
            f"row_number() OVER (ORDER BY n) - 1 AS rid FROM range({offset}, "
            f"{good + rejected + offset}) t(n) "
            f"WHERE n NOT IN (SELECT line FROM {rejects})"
        )
        joined = (
            "concat_ws('', " + ", ".join(f"coalesce({quote_ident(c)}, '')" for c in header) + ")"
        )
        self.db.execute(
            f"CREATE TABLE {raw}_lines AS "
            f"WITH recs AS ("
            f"  SELECT r.recno, length({joined}) - length(replace({joined}, chr(10), '')) AS nl, "
            f"  g.rowid AS rid FROM {raw} g JOIN {raw}_recno r ON r.rid = g.rowid "
            f"  UNION ALL "
            f"  SELECT line AS recno, length(rtrim(csv_line, chr(10) || chr(13))) - "
            f"  length(replace(rtrim(csv_line, chr(10) || chr(13)), chr(10), '')) AS nl, "
            f"  NULL AS rid FROM {rejects}) "
            f"SELECT rid, recno, recno + coalesce(sum(nl) OVER (ORDER BY recno ROWS BETWEEN "
            f"UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS line FROM recs"
        )
        return JOIN_LINES

    # --- checking ------------------------------------------------------------------------

    def _check_columns(
        self,
        delivery: Delivery,
        staged: StagedEntity,
        previous: dict | None,
        accept_type_changes: bool,
    ) -> None:
        missing_keys = [k for k in delivery.natural_key if k not in staged.columns]
        if missing_keys:
            raise IngestionError(
                f"{delivery.name}: missing key column{'s' if len(missing_keys) > 1 else ''} "
                + ", ".join(missing_keys)
            )
        expected = list(delivery.expected_columns or (previous or {}).keys())
        if expected:
            staged.columns_added = [c for c in staged.columns if c not in expected]
            staged.columns_missing = [c for c in expected if c not in staged.columns]
            parts = []
            if staged.columns_added:
                parts.append("columns added: " + ", ".join(staged.columns_added))
            if staged.columns_missing:
                parts.append("columns missing: " + ", ".join(staged.columns_missing))
            staged.drift_note = "; ".join(parts) or None
        if delivery.rows is not None and previous:
            # A column NULL in every row has no type of its own this run (Arrow's null type):
            # it is no type change, and the type on record stays the last one seen.
            for name, kind in staged.column_types.items():
                if kind in _NO_TYPE and name in previous:
                    staged.column_types[name] = previous[name]
        if delivery.rows is not None and previous and not accept_type_changes:
            changed = [
                f"{name} {previous[name]} -> {kind}"
                for name, kind in staged.column_types.items()
                if name in previous and previous[name] != kind and previous[name] not in _NO_TYPE
            ]
            if changed:
                raise IngestionError(
                    f"{delivery.name}: column types changed since the last run ("
                    + "; ".join(changed)
                    + "); check the source, then re-run with --accept-type-changes"
                )

    def _build(
        self, delivery: Delivery, staged: StagedEntity, raw: str, rejects: str | None, lines: str
    ) -> None:
        key_cols = [quote_ident(k) for k in delivery.natural_key]
        if len(key_cols) == 1:
            key_expr = f"CAST({key_cols[0]} AS VARCHAR)"
        else:
            key_expr = f"concat_ws({quote_literal(KEY_SEPARATOR)}, {', '.join(key_cols)})"
            key_expr = (
                f"CASE WHEN {' OR '.join(f'{k} IS NULL' for k in key_cols)} "
                f"THEN NULL ELSE {key_expr} END"
            )
        payload = (
            "json_object("
            + ", ".join(f"{quote_literal(c)}, {quote_ident(c)}" for c in staged.columns)
            + ")"
        )
        rows = self._name("rows")
        if lines == JOIN_LINES:
            source = f"{raw} g JOIN {raw}_lines l ON l.rid = g.rowid"
            lines = "l.line"
        else:
            source = raw
        select_cols = ", ".join(quote_ident(c) for c in staged.columns)
        self.db.execute(
            f"CREATE VIEW {rows} AS SELECT {lines} AS __line, {key_expr} AS __key, "
            f"{select_cols} FROM {source}"
        )
        # Every field check in one scan: each check is (condition, column, value, reason).
        field_checks = [
            (
                f"nullif(trim(CAST({quote_ident(key)} AS VARCHAR)), '') IS NULL",
                key,
                "NULL",
                "missing natural key value",
            )
            for key in delivery.natural_key
        ]
        if delivery.path is not None:
            field_checks += [
                _type_check(spec)
                for spec in delivery.columns.values()
                if spec.name in staged.columns and spec.type != "string"
            ]
        entries = ", ".join(
            f"CASE WHEN {cond} THEN {{'column_name': {quote_literal(column)}, "
            f"'value': {value}::VARCHAR, 'reason': {quote_literal(reason)}}} END"
            for cond, column, value, reason in field_checks
        )
        any_bad = " OR ".join(f"({cond})" for cond, *_ in field_checks)
        checks = [
            f"SELECT __line::BIGINT AS line, e.column_name::VARCHAR AS column_name, "
            f"e.value::VARCHAR AS value, e.reason::VARCHAR AS reason, "
            f"NULL::VARCHAR AS natural_key FROM ("
            f"  SELECT __line, unnest(list_filter([{entries}], lambda x: x IS NOT NULL)) AS e"
            f"  FROM {rows} WHERE {any_bad})"
        ]
        if rejects:
            checks.append(
                f"SELECT l.line AS line, r.column_name, r.csv_line AS value, "
                f"{_reject_reason_sql()} AS reason, NULL::VARCHAR AS natural_key FROM {rejects} r "
                f"JOIN (SELECT recno, line FROM {raw}_lines WHERE rid IS NULL) l "
                f"ON l.recno = r.line"
            )
        errors = self._name("err")
        union = (
            " UNION ALL ".join(checks)
            if checks
            else (
                "SELECT NULL::BIGINT AS line, NULL::VARCHAR AS column_name, "
                "NULL::VARCHAR AS value, "
                "NULL::VARCHAR AS reason, NULL::VARCHAR AS natural_key WHERE false"
            )
        )
        self.db.execute(f"CREATE TABLE {errors} AS {union}")
        # A natural key repeated in one delivery: the first row stands, each repeat is an error.
        self.db.execute(
            f"INSERT INTO {errors} SELECT line, NULL, natural_key, "
            f"'natural key repeated (first on line ' || first_line || ')', natural_key FROM ("
            f"  SELECT __line AS line, __key AS natural_key,"
            f"  min(__line) OVER (PARTITION BY __key) AS first_line"
            f"  FROM {rows} WHERE __key IS NOT NULL"
            f"  AND __line NOT IN (SELECT line FROM {errors} WHERE line IS NOT NULL)"
            f") WHERE line > first_line"
        )
        self.db.execute(
            f"UPDATE {errors} e SET natural_key = r.__key FROM {rows} r "
            f"WHERE e.natural_key IS NULL AND r.__line = e.line"
        )
        if rejects:
            self._key_rejected_rows(delivery, staged, errors)
        op = "'upsert'"
        if delivery.tombstone is not None and delivery.tombstone[0] in staged.columns:
            column, value = delivery.tombstone
            op = (
                f"CASE WHEN lower({quote_ident(column)}) = {quote_literal(value.lower())} "
                f"THEN 'delete' ELSE 'upsert' END"
            )
        staged.table = self._name("stg")
        staged.error_count = self.db.execute(f"SELECT count(*) FROM {errors}").fetchone()[0]
        select = (
            f"SELECT op, natural_key, md5(payload) AS checksum, payload, line FROM ("
            f"  SELECT {op} AS op, __line AS line, __key AS natural_key,"
            f"  {payload}::VARCHAR AS payload FROM {rows}"
        )
        if not staged.error_count:
            # The common case: no row in error, nothing to filter out or keep alive.
            self.db.execute(f"CREATE TABLE {staged.table} AS {select})")
        else:
            good = f"__line NOT IN (SELECT line FROM {errors} WHERE line IS NOT NULL)"
            self.db.execute(
                f"CREATE TABLE {staged.table} AS {select} WHERE {good}) "
                # Rows in error keep their key's current version alive in a bulk delivery.
                f"UNION ALL SELECT DISTINCT 'keep', natural_key, NULL, NULL, NULL FROM {errors} "
                f"WHERE natural_key IS NOT NULL AND natural_key NOT IN ("
                f"  SELECT __key FROM {rows} WHERE __key IS NOT NULL AND {good})"
            )
        staged.errors_table = errors
        if delivery.district_evidence is not None:
            staged.district_claims = self._district_claims(rows, delivery.district_evidence)
        # The staged rows and errors are all that is needed from here: free the rest.
        self.db.execute(f"DROP VIEW {rows}")
        for table in (f"{raw}_lines", f"{raw}_recno", raw, rejects):
            if table:
                self.db.execute(f"DROP TABLE IF EXISTS {table}")

    def _district_claims(self, rows: str, evidence: DistrictEvidence) -> list[DistrictClaim]:
        """The distinct districts a delivery names, from its evidence columns."""
        roles = list(evidence.columns)
        columns = ", ".join(
            f"nullif(trim(CAST({quote_ident(evidence.columns[r])} AS VARCHAR)), '')" for r in roles
        )
        where = f"WHERE {evidence.where}" if evidence.where else ""
        found = self.db.execute(
            f"SELECT DISTINCT {columns} FROM {rows} {where} ORDER BY ALL LIMIT 50"
        ).fetchall()
        claims = []
        for values in found:
            named = dict(zip(roles, values, strict=True))
            name = named.pop("name", None)
            identifiers = {k: v for k, v in named.items() if v}
            if name or identifiers:
                claims.append(DistrictClaim(identifiers=identifiers, name=name))
        return claims

    def diff(self, staged: StagedEntity, current: pa.Table, mode: str) -> None:
        """Keep only what changes the entity, against its current versions (key, checksum).

        New and changed rows, tombstones of current keys and, for a bulk delivery, current keys
        the delivery no longer holds (rows in error hold their key) become the rows to ship;
        the rest is counted as unchanged and never leaves the work area.
        """
        cur, ship = self._name("cur"), self._name("ship")
        self.db.register("_current", current)
        try:
            self.db.execute(
                f"CREATE TABLE {cur} AS SELECT natural_key::VARCHAR AS natural_key, "
                f"checksum::VARCHAR AS checksum FROM _current"
            )
        finally:
            self.db.unregister("_current")
        stg = staged.table
        if current.num_rows == 0:
            # Nothing current yet (a first run): every upsert is new, nothing to delete.
            self.db.execute(f"DELETE FROM {stg} WHERE op <> 'upsert'")
            self.db.execute(f"DROP TABLE {cur}")
            staged.unchanged = 0
            return
        vanished = ""
        if mode == "bulk":
            vanished = (
                f"UNION ALL SELECT 'delete', c.natural_key, NULL, NULL, NULL FROM {cur} c "
                f"WHERE NOT EXISTS (SELECT 1 FROM {stg} s WHERE s.natural_key = c.natural_key)"
            )
        self.db.execute(
            f"CREATE TABLE {ship} AS SELECT s.op, s.natural_key, s.checksum, s.payload, s.line "
            f"FROM {stg} s LEFT JOIN {cur} c ON c.natural_key = s.natural_key "
            f"WHERE (s.op = 'upsert' AND (c.checksum IS NULL OR c.checksum <> s.checksum)) "
            f"OR (s.op = 'delete' AND c.checksum IS NOT NULL) {vanished}"
        )
        staged.unchanged = self.db.execute(
            f"SELECT count(*) FROM {stg} s JOIN {cur} c ON c.natural_key = s.natural_key "
            f"WHERE s.op = 'upsert' AND s.checksum = c.checksum"
        ).fetchone()[0]
        self.db.execute(f"DROP TABLE {stg}")
        self.db.execute(f"DROP TABLE {cur}")
        staged.table = ship

    def _key_rejected_rows(self, delivery: Delivery, staged: StagedEntity, errors: str) -> None:
        """Read the natural key out of rows the reader rejected, so their record is kept."""
        positions = [staged.columns.index(k) for k in delivery.natural_key]
        delimiter = delivery.csv.delimiter if delivery.csv else ","
        reasons = ", ".join(quote_literal(r) for r in _REJECT_REASONS.values())
        found = self.db.execute(
            f"SELECT line, value FROM {errors} WHERE natural_key IS NULL AND value IS NOT NULL "
            f"AND reason IN ({reasons})"
        ).fetchall()
        for line, text in found:
            try:
                fields = next(csv.reader(io.StringIO(text), delimiter=delimiter))
            except (csv.Error, StopIteration):
                continue
            if all(p < len(fields) and fields[p].strip() for p in positions):
                key = KEY_SEPARATOR.join(fields[p] for p in positions)
                self.db.execute(f"UPDATE {errors} SET natural_key = ? WHERE line = ?", [key, line])

    # --- export --------------------------------------------------------------------------

    def staged_rows(self, staged: StagedEntity, constants: dict[str, int]) -> pa.RecordBatchReader:
        """The rows to ship (after `diff`) with the run's constant columns, as an Arrow stream."""
        consts = ", ".join(f"{int(v)}::BIGINT AS {k}" for k, v in constants.items())
        # A streaming result holds its connection until consumed: stream from a cursor.
        cursor = self.db.cursor()
        self._cursors.append(cursor)
        return cursor.sql(
            f"SELECT {consts}, op, natural_key, checksum, payload, line FROM {staged.table}"
        ).to_arrow_reader(100_000)

    def release(self, staged: StagedEntity) -> None:
        """Free the shipped rows once the store has them."""
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()
        self.db.execute(f"DROP TABLE IF EXISTS {staged.table}")

    def error_rows(self, staged: StagedEntity) -> list[dict]:
        cur = self.db.execute(
            f"SELECT line, column_name, value, reason, natural_key FROM {staged.errors_table} "
            f"ORDER BY line NULLS LAST, column_name"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _type_check(spec: ColumnSpec) -> tuple[str, str, str, str]:
    """(condition that flags a bad value, column, value expression, reason) for a typed column."""
    col = quote_ident(spec.name)
    value = f"trim({col})"
    if spec.type == "integer":
        test, reason = f"TRY_CAST({value} AS BIGINT) IS NULL", "not a whole number"
    elif spec.type == "decimal":
        test, reason = f"TRY_CAST({value} AS DOUBLE) IS NULL", "not a number"
    elif spec.type == "boolean":
        test = f"lower({value}) NOT IN ('true', 'false', '1', '0', 'y', 'n', 'yes', 'no', 't', 'f')"
        reason = "not a yes/no value"
    elif spec.type == "date":
        if spec.format:
            test = f"TRY_STRPTIME({value}, {quote_literal(spec.format)}) IS NULL"
            reason = f"not a date in the form {human_format(spec.format)}"
        else:
            test, reason = f"TRY_CAST({value} AS DATE) IS NULL", "not a date in the form YYYY-MM-DD"
    elif spec.type == "datetime":
        if spec.format:
            test = f"TRY_STRPTIME({value}, {quote_literal(spec.format)}) IS NULL"
            reason = f"not a date and time in the form {human_format(spec.format)}"
        else:
            test = f"TRY_CAST({value} AS TIMESTAMPTZ) IS NULL"
            reason = "not an ISO 8601 date and time"
    else:  # pragma: no cover - mapping loader rejects unknown types
        raise IngestionError(f"unknown column type {spec.type!r}")
    return f"{col} IS NOT NULL AND {value} <> '' AND {test}", spec.name, col, reason


def _reject_reason_sql() -> str:
    cases = " ".join(
        f"WHEN {quote_literal(kind)} THEN {quote_literal(text)}"
        for kind, text in _REJECT_REASONS.items()
    )
    return f"CASE r.error_type::VARCHAR {cases} ELSE lower(r.error_type::VARCHAR) END"


def _check_utf8(path: Path, name: str, digest) -> int:
    """Validate UTF-8 (a BOM is fine) and count line feeds; a bad byte fails the file."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    newlines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = newlines + chunk[: exc.start].count(b"\n") + 1
                raise IngestionError(
                    f"{name}: not UTF-8 (byte 0x{chunk[exc.start]:02x} on line {line}); if the "
                    f"file is Windows-1252, say `encoding: windows-1252` in its mapping"
                ) from None
            newlines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise IngestionError(f"{name}: not UTF-8 (the file ends inside a character)") from None
    return newlines


def _read_header(path: Path, delimiter: str, name: str) -> list[str]:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        head = handle.read(1 << 16)
    reader = csv.reader(io.StringIO(head), delimiter=delimiter)
    try:
        return [column.strip() for column in next(reader)]
    except StopIteration:
        raise IngestionError(f"{name}: file is empty") from None


def _check_header(header: list[str], name: str) -> None:
    if not header or all(not column for column in header):
        raise IngestionError(f"{name}: the header row is empty")
    blank = [str(i + 1) for i, column in enumerate(header) if not column]
    if blank:
        raise IngestionError(f"{name}: header column {', '.join(blank)} has no name")
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise IngestionError(f"{name}: column {column!r} appears twice in the header")
        seen.add(column)
    if len(header) == 1 and re.search(r"[,;\t|]", header[0]):
        raise IngestionError(
            f"{name}: the header has one column {header[0][:60]!r}: is the delimiter right?"
        )
