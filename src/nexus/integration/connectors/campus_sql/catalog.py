"""The shipped Campus queries: loading each `queries/<entity>.sql`, its header and its identity.

A query file is T-SQL against Campus's own table and column names (`docs/campus.md`), opened by
a header of `-- key: value` comment lines:

    -- entity: attendance
    -- version: 1
    -- natural_key: personID, calendarID, date
    -- modified: AttendanceDay.modifiedDate

`modified` names what the cheap probe watches: one or more `Table.column` (row count and newest
value) or bare `Table` (row count only), or `none` when no column shows every change, and the
entity is then reloaded in full on every run. Other comment lines are prose for the reader.
The sha256 of the file's text identifies the query in the run's record; `version` is bumped by
hand whenever the result's meaning changes. This module does not run anything.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from sqlglot import exp

from nexus.integration.connectors.campus_sql.guard import parse_select
from nexus.integration.errors import IngestionError

_HEADER_KEYS = ("entity", "version", "natural_key", "modified")
_HEADER_LINE = re.compile(r"^--\s*(\w+)\s*:\s*(.*?)\s*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Watched:
    """A table the probe watches: its row count and, when named, the newest `column` value."""

    table: str
    column: str | None = None


@dataclass(frozen=True)
class CampusQuery:
    """One versioned entity query, parsed and checked."""

    entity: str
    name: str
    version: str
    sha256: str
    text: str
    natural_key: tuple[str, ...]
    # Empty when the entity has no modification column: it is reloaded on every run.
    watched: tuple[Watched, ...]
    statement: exp.Query
    # The result's column names, as the query writes them (Campus's own names).
    columns: tuple[str, ...]
    # Lower-cased names of every table the query reads.
    tables: frozenset[str]

    def sql_for(self, dialect: str) -> str:
        """The query in a target engine's dialect, every identifier quoted."""
        return self.statement.sql(dialect=dialect, identify=True, comments=False)


def load_catalog() -> list[CampusQuery]:
    """Every shipped query, in file-name order."""
    folder = resources.files("nexus.integration.connectors.campus_sql") / "queries"
    found = sorted(
        (item for item in folder.iterdir() if item.name.endswith(".sql")), key=lambda i: i.name
    )
    return [parse_query(item.name, item.read_text(encoding="utf-8")) for item in found]


def parse_query(name: str, text: str) -> CampusQuery:
    """Read a query file's header and statement; a malformed file is an `IngestionError`."""
    header = _header(text)
    missing = [key for key in _HEADER_KEYS if not header.get(key)]
    if missing:
        raise IngestionError(f"query {name}: the header does not say {', '.join(missing)}")
    entity = header["entity"]
    if name != f"{entity}.sql":
        raise IngestionError(f"query {name}: the header names entity {entity!r}")
    statement = parse_select(text, name)
    columns = tuple(e.alias_or_name for e in statement.selects)
    if any(not c or c == "*" or not _NAME.match(c) for c in columns):
        raise IngestionError(
            f"query {name}: every result column needs a plain name (no *, alias expressions)"
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise IngestionError(f"query {name}: result column {', '.join(repeated)} appears twice")
    natural_key = tuple(k.strip() for k in header["natural_key"].split(",") if k.strip())
    absent = [k for k in natural_key if k not in columns]
    if absent:
        raise IngestionError(f"query {name}: natural key {', '.join(absent)} is not in the result")
    tables = frozenset(t.name.lower() for t in statement.find_all(exp.Table) if t.name)
    watched = _watched(header["modified"], tables, name)
    return CampusQuery(
        entity=entity,
        name=name,
        version=header["version"],
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=text,
        natural_key=natural_key,
        watched=watched,
        statement=statement,
        columns=columns,
        tables=tables,
    )


def _header(text: str) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        found = _HEADER_LINE.match(stripped)
        if found and found.group(1) in _HEADER_KEYS:
            header[found.group(1)] = found.group(2)
    return header


def _watched(value: str, tables: frozenset[str], name: str) -> tuple[Watched, ...]:
    if value.strip().lower() == "none":
        return ()
    watched = []
    for item in (part.strip() for part in value.split(",")):
        table, _, column = item.partition(".")
        if not _NAME.match(table) or (column and not _NAME.match(column)):
            raise IngestionError(f"query {name}: cannot read modified entry {item!r}")
        if table.lower() not in tables:
            raise IngestionError(
                f"query {name}: modified names {table}, which the query does not read"
            )
        watched.append(Watched(table=table, column=column or None))
    if watched[0].column is None:
        raise IngestionError(f"query {name}: the first modified entry needs a Table.column")
    return tuple(watched)
