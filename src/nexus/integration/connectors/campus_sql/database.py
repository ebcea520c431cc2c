"""Reaching a Campus database: its URL and driver, one connection per run, one-line errors.

The URL is any SQLAlchemy URL on an engine `guard.ENGINES` declares (in production
`mssql+pymssql://nexus_reader@campus-replica/campus`). The password never appears in a message:
every error names the URL with its password hidden. Statements run here have already passed
`guard.parse_select`; this module only executes them, inside `guard.read_only`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from nexus.integration.connectors.campus_sql.guard import SourceEngine, engine_for, read_only
from nexus.integration.errors import IngestionError

# The DBAPI drivers Nexus knows how to name when one is missing.
_DRIVER_HINTS = {
    "pymssql": "install pymssql (pip install pymssql) to read SQL Server",
    "pyodbc": "install pyodbc and Microsoft's ODBC driver to read SQL Server",
    "psycopg2": "use postgresql+psycopg:// (psycopg 3 ships with Nexus)",
}


def one_line(exc: BaseException) -> str:
    """The database's own message, first line only (no SQL echo, no traceback)."""
    orig = getattr(exc, "orig", None)
    source = orig if orig is not None else exc
    args = getattr(source, "args", ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], bytes):
        # pymssql: (SQL Server error number, message bytes with DB-Lib's trailer).
        text = args[1].decode("utf-8", "replace").split("DB-Lib error message")[0].strip()
    else:
        text = str(source).strip()
    return text.splitlines()[0] if text else type(source).__name__


class SourceDatabase:
    """One Campus database opened for a run: a single connection, read-only transactions."""

    def __init__(self, url: str) -> None:
        try:
            self.url = make_url(url)
        except (sa.exc.ArgumentError, ValueError):
            raise IngestionError(
                "the campus-sql source is not a database URL "
                "(for example mssql+pymssql://nexus_reader@campus-replica/campus)"
            ) from None
        self.shown = self.url.render_as_string(hide_password=True)
        self.engine_kind: SourceEngine = engine_for(self.url.get_backend_name())
        self.dialect = self.engine_kind.dialect
        if self.engine_kind.file_based:
            database = self.url.database
            if not database or database == ":memory:":
                raise IngestionError(f"{self.shown} names no database file")
            if not Path(database).expanduser().exists():
                raise IngestionError(f"no database file at {database}")
        options: dict = {"connect_args": dict(self.engine_kind.connect_args)}
        if self.engine_kind.isolation_level:
            options["isolation_level"] = self.engine_kind.isolation_level
        try:
            self.engine = sa.create_engine(self.url, poolclass=sa.NullPool, **options)
        except ImportError as exc:
            driver = self.url.get_driver_name()
            hint = _DRIVER_HINTS.get(driver, f"install the {driver} driver")
            raise IngestionError(f"cannot read {self.shown}: {hint} ({exc})") from None
        except sa.exc.NoSuchModuleError:
            raise IngestionError(
                f"cannot read {self.shown}: SQLAlchemy knows no driver {self.url.drivername}"
            ) from None
        self.conn: sa.Connection | None = None

    def __enter__(self) -> SourceDatabase:
        try:
            self.conn = self.engine.connect()
        except sa.exc.DBAPIError as exc:
            self.engine.dispose()
            raise IngestionError(f"cannot connect to {self.shown}: {self._scrub(exc)}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            self.conn.close()
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A read-only transaction on the run's connection (see `guard.read_only`)."""
        assert self.conn is not None, "open the database first"
        with read_only(self.conn, self.engine_kind) as conn:
            yield conn

    def execute(self, conn: sa.Connection, sql: str, *, stream: bool = False) -> sa.CursorResult:
        """Run a checked, transpiled statement as is (no bind parameters, no `%` formatting)."""
        if conn.dialect.paramstyle in ("format", "pyformat"):
            sql = sql.replace("%", "%%")
        options = {"stream_results": True} if stream else {}
        return conn.exec_driver_sql(sql, execution_options=options)

    def failure(self, exc: sa.exc.DBAPIError) -> str:
        """The one-line reason for an entity whose statement failed; `IngestionError` when the
        connection itself is gone, since every later entity would fail the same way."""
        message = self._scrub(exc)
        if exc.connection_invalidated or not self._alive():
            raise IngestionError(f"lost the connection to {self.shown}: {message}")
        return message

    def _alive(self) -> bool:
        assert self.conn is not None
        try:
            with self.transaction() as conn:
                conn.exec_driver_sql("SELECT 1").scalar()
        except sa.exc.DBAPIError:
            return False
        return True

    def _scrub(self, exc: BaseException) -> str:
        message = one_line(exc)
        if self.url.password:
            message = message.replace(str(self.url.password), "***")
        return message
