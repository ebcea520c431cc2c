"""Shared fixtures: a real store on every backend, a tenant, and the CLI.

Every store-touching test runs on DuckDB and on PostgreSQL (`store` is parametrised). The
PostgreSQL store is a fresh database cloned from a migrated template, so tests never see each
other's rows. Set NEXUS_TEST_BACKENDS=duckdb (or postgresql) to run one backend only; set
NEXUS_TEST_REQUIRE_PG=1 (CI does) to fail instead of skipping when PostgreSQL is unreachable.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from nexus.store import Settings, Store, open_store
from nexus.store.migrate import upgrade
from nexus.store.tenants import add_tenant

PG_ADMIN_URL = os.environ.get(
    "NEXUS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    b.strip() for b in os.environ.get("NEXUS_TEST_BACKENDS", "duckdb,postgresql").split(",")
]
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _pg_admin() -> sa.Engine | None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            return engine
    except sa.exc.OperationalError:
        if os.environ.get("NEXUS_TEST_REQUIRE_PG"):
            raise
        return None


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated PostgreSQL database to clone per test (None when PostgreSQL is absent)."""
    if "postgresql" not in BACKENDS:
        yield None
        return
    admin = _pg_admin()
    if admin is None:
        yield None
        return
    name = f"nexus_tpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    engine = sa.create_engine(url)
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@dataclass
class Backend:
    name: str
    settings: Settings

    def env(self) -> dict[str, str]:
        return {
            "NEXUS_HOME": str(self.settings.home),
            "NEXUS_DATABASE_URL": self.settings.database_url,
        }


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path: Path, pg_template, monkeypatch) -> Iterator[Backend]:
    """Settings for a fresh, migrated database on one backend; the environment points at it."""
    home = tmp_path / "nexus-home"
    if request.param == "duckdb":
        settings = Settings(home=home, database_url=f"duckdb:///{home / 'nexus.duckdb'}")
        store = open_store(settings)
        upgrade(store.engine)
        store.dispose()
        dropper = None
    else:
        if pg_template is None:
            pytest.skip("PostgreSQL is not reachable")
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"nexus_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {pg_template}"))
        url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
        settings = Settings(home=home, database_url=url.render_as_string(hide_password=False))

        def dropper() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()

    result = Backend(request.param, settings)
    for key, value in result.env().items():
        monkeypatch.setenv(key, value)
    yield result
    if dropper is not None:
        dropper()


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    opened = open_store(backend.settings)
    yield opened
    opened.dispose()


@pytest.fixture
def tenant(store: Store) -> str:
    """A tenant `demo` (a Missouri district) in the store; returns its code."""
    with store.engine.begin() as conn:
        add_tenant(conn, "demo", "Demo R-I School District", "048078", "2900001")
    return "demo"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def nexus(backend: Backend):
    """Run the `nexus` CLI in-process against the test backend: nexus("runs", "list")."""
    from nexus.cli import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> CliResult:
        result = runner.invoke(app, list(args), env=backend.env(), input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def shared_data() -> Path:
    """`../shared/data`, or a clean skip when the shared folder is absent (fresh clone)."""
    path = SHARED / "data"
    if not path.exists():
        pytest.skip("../shared/data is not present")
    return path
