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
    # PostgreSQL serialises concurrent appliers of one source with an advisory lock; a DuckDB
    # file admits a single writing process anyway.
    advisory_locks: bool
    # PostgreSQL plans from statistics: a table just filled by COPY must be analysed, or the
    # planner takes it for empty and joins it by nested loop. DuckDB keeps its own.
    analyze_after_load: bool
    # Two transactions updating one row at once: PostgreSQL makes the second wait, DuckDB
    # aborts it (a write-write conflict). Threads of one process that may touch the same row
    # (the web app's sign-ins) take a lock first where this is False.
    waits_on_row_locks: bool


DUCKDB = Backend(
    "duckdb",
    advisory_locks=False,
    analyze_after_load=False,
    waits_on_row_locks=False,
)
POSTGRESQL = Backend(
    "postgresql",
    advisory_locks=True,
    analyze_after_load=True,
    waits_on_row_locks=True,
)


def backend_for(engine: Engine) -> Backend:
    name = engine.dialect.name
    if name == "duckdb":
        return DUCKDB
    if name == "postgresql":
        return POSTGRESQL
    from nexus.store.errors import StoreError

    raise StoreError(f"unsupported database engine {name!r}: use DuckDB or PostgreSQL")
