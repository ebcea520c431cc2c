"""Opens the store: one SQLAlchemy engine and the backend it runs on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from nexus.store.backend import Backend, backend_for
from nexus.store.errors import StoreError
from nexus.store.scope import install as install_tenant_scope
from nexus.store.settings import Settings


@dataclass
class Store:
    """An open Nexus database: settings, engine and backend capabilities."""

    settings: Settings
    engine: sa.Engine
    backend: Backend

    def dispose(self) -> None:
        self.engine.dispose()


def _duckdb_path(url: sa.URL) -> Path | None:
    if url.database and url.database != ":memory:":
        return Path(url.database)
    return None


def open_store(settings: Settings | None = None) -> Store:
    """Open the database named by the settings (the embedded DuckDB file by default)."""
    settings = settings or Settings.from_env()
    url = sa.engine.make_url(settings.database_url)
    if url.get_backend_name() == "duckdb":
        path = _duckdb_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    elif url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        raise StoreError(_explain_open_failure(settings, exc)) from None
    except Exception as exc:  # duckdb raises its own IOException on a locked file
        raise StoreError(_explain_open_failure(settings, exc)) from None
    install_tenant_scope(engine)  # PostgreSQL: tenant_scope() puts transactions under RLS
    return Store(settings=settings, engine=engine, backend=backend_for(engine))


def _explain_open_failure(settings: Settings, exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "lock" in text.lower() and "duckdb" in settings.database_url:
        holder = ""
        if "PID" in text:
            holder = " (" + text[text.index("PID") :].split(")")[0] + ")"
        return (
            f"the embedded database {settings.redacted_url()} is open for writing by another "
            f"process{holder}; stop it (e.g. `nexus serve`) or use PostgreSQL "
            f"(NEXUS_DATABASE_URL) where several processes must write"
        )
    return f"cannot open the database {settings.redacted_url()}: {text}"


def current_user() -> str:
    return os.environ.get("NEXUS_USER") or os.environ.get("USER") or "unknown"
