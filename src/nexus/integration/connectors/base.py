"""The connector interface: what every source hands to the ingestion run.

A connector turns a source (a folder, a zip, a database URL, a REST endpoint) into
`Delivery` objects, one per entity. A delivery is either a delimited file to parse or an Arrow
stream of rows already typed by the source, plus what the run needs to version it: the natural
key, bulk or delta, declared column types, and the expected columns for drift reports. A
connector never writes to the store; the run does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import pyarrow as pa

ColumnType = Literal["string", "integer", "decimal", "date", "datetime", "boolean"]
COLUMN_TYPES: tuple[str, ...] = ("string", "integer", "decimal", "date", "datetime", "boolean")


@dataclass(frozen=True)
class ColumnSpec:
    """A declared column: its type and, for dates, the format the source writes."""

    name: str
    type: ColumnType = "string"
    format: str | None = None


@dataclass(frozen=True)
class CsvFormat:
    """How a delimited file is written."""

    delimiter: str = ","
    header: bool = True
    encoding: str = "utf-8"
    # Column names, in order, when the file has no header row.
    column_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DistrictEvidence:
    """Where a delivery says which district it belongs to: columns by role, and a row filter.

    Roles: `name`, `county_district_code` (DESE), `nces_id`, `account_id` (a vendor's id for
    the district). `where` is a SQL condition on the file's columns selecting the rows that
    describe the district (e.g. OneRoster orgs of type district).
    """

    columns: dict[str, str]
    where: str | None = None


@dataclass(frozen=True)
class DistrictClaim:
    """One district a delivery names: identifiers by role, and its name as written."""

    identifiers: dict[str, str]
    name: str | None = None


@dataclass(frozen=True)
class QueryIdentity:
    """Which versioned query produced a SQL delivery."""

    name: str
    version: str
    sha256: str


@dataclass
class Delivery:
    """One entity as delivered by a source in one run."""

    entity: str
    name: str
    natural_key: tuple[str, ...]
    mode: Literal["bulk", "delta"] = "bulk"
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    # The columns the source is expected to deliver (a preset or spec header): drift yardstick.
    expected_columns: tuple[str, ...] | None = None
    path: Path | None = None
    csv: CsvFormat | None = None
    rows: Callable[[], pa.RecordBatchReader] | None = None
    # For delta deliveries: the column and value that mark a row as deleted.
    tombstone: tuple[str, str] | None = None
    query: QueryIdentity | None = None
    probe: dict | None = None
    # The source says nothing changed since the last run (cheap probe): keep what we have.
    skipped: bool = False
    # The source was expected to deliver this entity and could not: the reason.
    failure: str | None = None
    # The bytes to keep as this delivery's original when it is not a file (e.g. a SQL snapshot).
    original: Path | None = None
    # Which columns name the district the data belongs to (the district gate reads them).
    district_evidence: DistrictEvidence | None = None


@dataclass
class ConnectorContext:
    """What a connector may know about the run: previous probes, secrets, options."""

    tenant_code: str
    previous_probes: dict[str, dict] = field(default_factory=dict)
    previous_columns: dict[str, dict] = field(default_factory=dict)
    url: str | None = None
    client_id: str | None = None
    secret: str | None = None
    options: dict = field(default_factory=dict)
    work_dir: Path | None = None


class Connector(Protocol):
    """A source kind: `csv`, `campus-extract`, `campus-sql`, `oneroster`, or a vendor's."""

    kind: str

    def deliveries(self, source: str, context: ConnectorContext) -> Iterator[Delivery]:
        """Yield one delivery per entity the source holds or is expected to hold."""
        ...
