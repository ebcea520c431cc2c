"""What differs between the two database engines Nexus runs on, declared in one place.

DuckDB is the embedded default and PostgreSQL the production engine; code elsewhere asks the
`Backend` what to do instead of sniffing the dialect name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class Backend:
    """Capabilities of one database engine."""

    name: str
    # PostgreSQL answers "current version of key K" from a partial index; DuckDB's ART indexes
    # slow bulk updates and do not support partial indexes, and its hash joins need none.
    indexes_current_versions: bool
    # PostgreSQL serialises concurrent appliers of one source with an advisory lock; a DuckDB
    # file admits a single writing process anyway.
    advisory_locks: bool
    # A DuckDB file admits one writing process at a time.
    single_writer: bool
    # PostgreSQL plans from statistics: a table just filled by COPY must be analysed, or the
    # planner takes it for empty and joins it by nested loop. DuckDB keeps its own.
    analyze_after_load: bool

    @property
    def is_duckdb(self) -> bool:
        return self.name == "duckdb"

    @property
    def is_postgresql(self) -> bool:
        return self.name == "postgresql"


DUCKDB = Backend(
    "duckdb",
    indexes_current_versions=False,
    advisory_locks=False,
    single_writer=True,
    analyze_after_load=False,
)
POSTGRESQL = Backend(
    "postgresql",
    indexes_current_versions=True,
    advisory_locks=True,
    single_writer=False,
    analyze_after_load=True,
)


def backend_for(engine: Engine) -> Backend:
    name = engine.dialect.name
    if name == "duckdb":
        return DUCKDB
    if name == "postgresql":
        return POSTGRESQL
    from nexus.store.errors import StoreError

    raise StoreError(f"unsupported database engine {name!r}: use DuckDB or PostgreSQL")
