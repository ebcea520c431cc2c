"""The Campus-shaped database: docs/campus.md's tables and columns on DuckDB, SQLite, PostgreSQL."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.synth import generate
from tests.synth.conftest import campus_doc

PG_URL = "postgresql+psycopg://127.0.0.1:5432/test"


def _columns(engine: sa.Engine, schema: str | None = None) -> dict[str, set[str]]:
    if engine.dialect.name == "sqlite":
        insp = sa.inspect(engine)
        return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}
    where = "table_schema = :s" if schema else "table_schema IN ('main', 'public')"
    found: dict[str, set[str]] = {}
    with engine.connect() as c:
        rows = c.execute(
            sa.text(
                f"SELECT table_name, column_name FROM information_schema.columns WHERE {where}"
            ),
            {"s": schema} if schema else {},
        )
        for table, column in rows:
            found.setdefault(table, set()).add(column)
    return found


def _check_contract(found: dict[str, set[str]]) -> None:
    tables, _ = campus_doc()
    assert len(tables) >= 30
    for table, cols in tables.items():
        assert table in found, f"missing table {table}"
        missing = set(cols) - found[table]
        assert not missing, f"{table} lacks {sorted(missing)}"


def test_duckdb_default_file(clean) -> None:
    result, out = clean
    assert result.campus_url == f"duckdb:///{(out / 'campus.duckdb').resolve()}"
    engine = sa.create_engine(result.campus_url)
    try:
        _check_contract(_columns(engine))
        with engine.connect() as c:
            n = c.execute(sa.text('SELECT count(*) FROM "AttendanceDay"')).scalar()
            assert n == result.counts["AttendanceDay"] > 0
            active = c.execute(sa.text('SELECT endYear FROM "SchoolYear" WHERE active = 1')).all()
            assert active == [(2027,)]
            joined = c.execute(
                sa.text(
                    'SELECT count(*) FROM "Person" p JOIN "Identity" i '
                    "ON i.identityID = p.currentIdentityID"
                )
            ).scalar()
            assert joined == result.counts["Person"]
    finally:
        engine.dispose()


def test_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'campus.sqlite'}"
    result = generate(tmp_path / "out", students=100, seed=3, formats="campus-db", campus_url=url)
    engine = sa.create_engine(url)
    try:
        _check_contract(_columns(engine))
        with engine.connect() as c:
            assert (
                c.execute(sa.text('SELECT count(*) FROM "Enrollment"')).scalar()
                == (result.counts["Enrollment"])
            )
    finally:
        engine.dispose()
    assert not (tmp_path / "out" / "campus.duckdb").exists()


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _postgres_up(), reason="PostgreSQL is not reachable on 127.0.0.1:5432")
def test_postgresql(tmp_path: Path) -> None:
    schema = f"synth_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_URL)
    try:
        result = generate(
            tmp_path,
            students=100,
            seed=3,
            formats="campus-db",
            campus_url=PG_URL,
            campus_schema=schema,
        )
        _check_contract(_columns(engine, schema))
        with engine.connect() as c:
            n = c.execute(sa.text(f'SELECT count(*) FROM {schema}."AttendanceDay"')).scalar()
            assert n == result.counts["AttendanceDay"]
            gap = c.execute(
                sa.text(
                    f'SELECT count(*) FROM {schema}."Day" WHERE duration > 0 AND instruction = 0'
                )
            ).scalar()
            assert gap == 0
    finally:
        with engine.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()
