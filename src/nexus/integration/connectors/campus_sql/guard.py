"""Read-only by construction: what may run against a Campus database, and how.

Two locks, both required. First, a statement runs only if sqlglot parses it as exactly one
SELECT (or a UNION / INTERSECT / EXCEPT of SELECTs) with nothing inside that writes: no
`SELECT … INTO`, no DML or DDL in a CTE, no `EXEC`, no second statement, no row locks, no
`OPENQUERY`-style pass-through. Second, it runs inside a transaction the engine itself keeps
read-only, declared here once per engine:

- PostgreSQL: `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY` (one snapshot for
  the probe and the query; any write fails inside the database).
- SQLite: `PRAGMA query_only = ON` on the connection.
- DuckDB: the file is opened read-only (`read_only=True`).
- SQL Server (Campus in production): the connection's isolation level is SNAPSHOT (one
  consistent snapshot, no shared locks on Campus's tables; SQLAlchemy sets it on the connection
  before any transaction starts, as SQL Server requires) and a least-privileged login that can
  only SELECT the tables Nexus reads (see `docs/campus.md`). Nothing inside the engine can prove
  the login's rights from here, so the login is the operator's half of the guarantee.

A source on any other engine is refused. This module does not open connections.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError

from nexus.integration.errors import IngestionError

# Nodes that write, change the session, lock rows or run other code: refused anywhere.
_REFUSED_NODES: tuple[type[exp.Expression], ...] = tuple(
    node
    for node in (
        getattr(exp, name, None)
        for name in (
            "Insert",
            "Update",
            "Delete",
            "Merge",
            "Create",
            "Drop",
            "Alter",
            "TruncateTable",
            "Command",
            "Execute",
            "Into",
            "Lock",
            "Set",
            "Use",
            "Transaction",
            "Commit",
            "Rollback",
            "Declare",
            "Pragma",
            "Copy",
            "LoadData",
            "Grant",
            "Revoke",
        )
    )
    if isinstance(node, type)
)
# T-SQL functions that send text to another server or the file system.
_REFUSED_FUNCTIONS = frozenset({"openquery", "openrowset", "opendatasource", "openxml"})


def parse_select(sql: str, name: str = "query") -> exp.Query:
    """The single SELECT in `sql` (T-SQL), or `IngestionError` saying why it may not run."""
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    # sqlglot logs a warning for statements it keeps as raw commands (EXEC): we refuse those.
    sqlglot_log.setLevel(logging.ERROR)
    try:
        statements = [s for s in sqlglot.parse(sql, read="tsql", error_level=ErrorLevel.RAISE) if s]
    except (ParseError, TokenError) as exc:
        raise IngestionError(f"{name}: cannot parse as T-SQL: {str(exc).splitlines()[0]}") from None
    finally:
        sqlglot_log.setLevel(level)
    if not statements:
        raise IngestionError(f"{name}: holds no statement")
    if len(statements) > 1:
        raise IngestionError(
            f"{name}: refused: holds {len(statements)} statements; only a single SELECT may run"
        )
    statement = statements[0]
    if not isinstance(statement, (exp.Select, exp.SetOperation)):
        raise IngestionError(
            f"{name}: refused: only a single SELECT may run, not {_keyword(statement)}"
        )
    for node in statement.walk():
        if isinstance(node, exp.Into):
            raise IngestionError(
                f"{name}: refused: SELECT … INTO writes a table; only a plain SELECT may run"
            )
        if isinstance(node, _REFUSED_NODES):
            raise IngestionError(
                f"{name}: refused: the SELECT holds {_keyword(node)}; only a plain SELECT may run"
            )
        if isinstance(node, exp.Anonymous) and node.name.lower() in _REFUSED_FUNCTIONS:
            raise IngestionError(f"{name}: refused: {node.name.upper()} reaches outside Campus")
    return statement


def _keyword(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    words = {"truncatetable": "TRUNCATE", "execute": "EXEC", "lock": "FOR UPDATE / row locks"}
    return words.get(node.key, node.key.upper())


@dataclass(frozen=True)
class SourceEngine:
    """How one engine keeps a Campus query read-only, and the sqlglot dialect it speaks."""

    dialect: str
    # Passed to the DBAPI connect (DuckDB opens the file read-only).
    connect_args: dict = field(default_factory=dict)
    # The connection's isolation level, set by SQLAlchemy outside any transaction.
    isolation_level: str | None = None
    # Run first in every transaction, before the probe or the query.
    begin: tuple[str, ...] = ()
    # A query whose single value shows the guard is in force, and that value.
    check: str | None = None
    expect: object = None
    # The database is a file that must exist (opening a missing SQLite file creates it).
    file_based: bool = False


ENGINES: dict[str, SourceEngine] = {
    "mssql": SourceEngine(dialect="tsql", isolation_level="SNAPSHOT"),
    "postgresql": SourceEngine(
        dialect="postgres",
        begin=("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",),
        check="SHOW transaction_read_only",
        expect="on",
    ),
    "sqlite": SourceEngine(
        dialect="sqlite",
        begin=("PRAGMA query_only = ON",),
        check="PRAGMA query_only",
        expect=1,
        file_based=True,
    ),
    "duckdb": SourceEngine(
        dialect="duckdb",
        connect_args={"read_only": True},
        # DuckDB draws a progress bar on long queries: not on the operator's terminal.
        begin=("SET enable_progress_bar = false",),
        check="SELECT current_setting('access_mode')",
        expect="read_only",
        file_based=True,
    ),
}


def engine_for(backend: str) -> SourceEngine:
    """The declaration for a SQLAlchemy backend name, or `IngestionError` if there is none."""
    try:
        return ENGINES[backend]
    except KeyError:
        raise IngestionError(
            f"campus-sql reads SQL Server, PostgreSQL, DuckDB or SQLite; {backend} has no "
            "read-only guard declared"
        ) from None


@contextmanager
def read_only(conn: sa.Connection, engine: SourceEngine) -> Iterator[sa.Connection]:
    """A transaction the engine keeps read-only; rolled back at the end (nothing to commit)."""
    transaction = conn.begin()
    try:
        for statement in engine.begin:
            conn.exec_driver_sql(statement)
        if engine.check is not None:
            found = conn.exec_driver_sql(engine.check).scalar()
            if found != engine.expect:
                raise IngestionError(
                    f"the source connection is not read-only ({engine.check} gives {found!r}); "
                    "refusing to query"
                )
        yield conn
    finally:
        if transaction.is_active:
            transaction.rollback()
