"""Campus-shaped source databases for the campus-sql tests.

DuckDB and SQLite sources are built once per session and copied per test, so a test may change
its copy freely. The PostgreSQL source is one fresh database per session, used read-only by
the tests that take it; it is skipped cleanly when PostgreSQL is unreachable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.campus_sql.campus_db import (
    CampusSource,
    file_source,
    file_template,
    pg_admin,
    pg_drop,
    pg_source,
)


@pytest.fixture(scope="session")
def campus_templates(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("campus-templates")
    return {kind: file_template(kind, folder) for kind in ("duckdb", "sqlite")}


@pytest.fixture(scope="session")
def pg_campus() -> Iterator[CampusSource | None]:
    admin = pg_admin()
    if admin is None:
        yield None
        return
    source = pg_source(admin)
    yield source
    pg_drop(admin, source)
    admin.dispose()


@pytest.fixture
def campus(campus_templates, pg_campus, tmp_path) -> Callable[[str], CampusSource]:
    """campus("duckdb" | "sqlite") -> a private copy; campus("postgresql") -> the shared one."""

    def make(kind: str) -> CampusSource:
        if kind == "postgresql":
            if pg_campus is None:
                pytest.skip("PostgreSQL is not reachable")
            return pg_campus
        return file_source(kind, campus_templates[kind], tmp_path)

    return make
