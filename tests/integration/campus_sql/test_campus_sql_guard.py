"""Read-only by construction: the statement guard, the engines' read-only transactions, and
the shipped queries' names against the Campus contract in docs/campus.md."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlglot import exp

from nexus.integration.connectors.campus_sql.catalog import load_catalog, parse_query
from nexus.integration.connectors.campus_sql.database import SourceDatabase, one_line
from nexus.integration.connectors.campus_sql.guard import parse_select
from nexus.integration.connectors.campus_sql.probe import _SCOPES
from nexus.integration.connectors.campus_sql.spool import spool
from nexus.integration.errors import IngestionError
from tests.integration.campus_sql.campus_db import ENGINES

CAMPUS_DOC = Path(__file__).resolve().parents[3] / "docs" / "campus.md"


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DELETE FROM Person", "only a single SELECT may run, not DELETE"),
        ("SELECT personID INTO Copy FROM Person", "SELECT … INTO writes a table"),
        ("SELECT personID FROM Person; SELECT 1", "holds 2 statements"),
        ("SELECT personID FROM Person; DROP TABLE Person", "holds 2 statements"),
        ("EXEC sp_who", "only a single SELECT may run, not EXEC"),
        ("EXECUTE ('DELETE FROM Person')", "only a single SELECT may run, not EXEC"),
        ("UPDATE Person SET stateID = NULL", "not UPDATE"),
        ("MERGE INTO Person USING Identity ON 1 = 1 WHEN MATCHED THEN DELETE;", "not MERGE"),
        ("TRUNCATE TABLE Person", "not TRUNCATE"),
        ("WITH d AS (DELETE FROM Person RETURNING personID) SELECT personID FROM d", "DELETE"),
        ("SELECT * FROM OPENQUERY(srv, 'DELETE FROM Person')", "OPENQUERY reaches outside"),
        ("SELEC personID FROM Person", "cannot parse as T-SQL"),
    ],
)
def test_parser_refuses_anything_but_one_select(sql, reason):
    with pytest.raises(IngestionError, match=re.escape(reason)):
        parse_select(sql, "bad.sql")


def test_query_file_needs_its_header_and_named_columns():
    body = "SELECT p.personID FROM Person p"
    good = "-- entity: x\n-- version: 1\n-- natural_key: personID\n-- modified: none\n" + body
    assert parse_query("x.sql", good).columns == ("personID",)
    with pytest.raises(IngestionError, match="the header does not say natural_key"):
        parse_query("x.sql", good.replace("-- natural_key: personID\n", ""))
    with pytest.raises(IngestionError, match="natural key stateID is not in the result"):
        parse_query("x.sql", good.replace("natural_key: personID", "natural_key: stateID"))
    with pytest.raises(IngestionError, match="plain name"):
        parse_query("x.sql", good.replace("p.personID", "p.personID, p.a + 1"))
    with pytest.raises(IngestionError, match="modified names Identity, which the query does"):
        parse_query("x.sql", good.replace("modified: none", "modified: Identity.modifiedDate"))
    with pytest.raises(IngestionError, match="only a single SELECT may run, not DELETE"):
        parse_query("x.sql", good.replace(body, "DELETE FROM Person"))


@pytest.mark.parametrize("engine", ENGINES)
def test_read_only_transaction_blocks_writes(campus, engine):
    source = campus(engine)
    with SourceDatabase(source.url) as db:
        with pytest.raises(sa.exc.DBAPIError) as refused, db.transaction() as conn:
            conn.exec_driver_sql(
                'INSERT INTO "SchoolYear" ("endYear", "label") VALUES (2030, \'2029-30\')'
            )
        assert re.search(r"read.?only", str(refused.value.orig), re.I), refused.value.orig
        with pytest.raises(sa.exc.DBAPIError), db.transaction() as conn:
            conn.exec_driver_sql('DROP TABLE "Lep"')
        with db.transaction() as conn:
            assert conn.exec_driver_sql('SELECT count(*) FROM "SchoolYear"').scalar() == 2
            assert conn.exec_driver_sql('SELECT count(*) FROM "Lep"').scalar() == 1


def _contract() -> dict[str, set[str]]:
    """docs/campus.md's direct-SQL table: table -> columns, lower-cased, *(assumed)* dropped."""
    text = CAMPUS_DOC.read_text(encoding="utf-8")
    section = text.split("## Campus tables (direct SQL)", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] in ("table", "") or set(cells[0]) <= {"-"}:
            continue
        name = cells[0].replace("*(assumed)*", "").strip().lower()
        columns = cells[1].replace("*(assumed)*", "").split(",")
        tables[name] = {c.strip().lower() for c in columns if c.strip()}
    return tables


def test_queries_use_only_the_campus_names_of_docs_campus_md():
    contract = _contract()
    statements = [(q.name, q.statement) for q in load_catalog()]
    statements += [("probe", parse_select(sql)) for _, _, sql in _SCOPES]
    for name, statement in statements:
        aliases = {}
        for table in statement.find_all(exp.Table):
            assert table.name.lower() in contract, f"{name}: table {table.name} is not in the doc"
            aliases[(table.alias or table.name).lower()] = table.name.lower()
        subqueries = {s.alias.lower() for s in statement.find_all(exp.Subquery) if s.alias}
        for column in statement.find_all(exp.Column):
            qualifier = column.table.lower()
            if qualifier in subqueries:
                continue
            table = aliases.get(qualifier) if qualifier else (next(iter(aliases.values())))
            assert table, f"{name}: column {column.sql()} has no table"
            assert column.name.lower() in contract[table], f"{name}: {table}.{column.name}"
    for query in load_catalog():
        for watched in query.watched:
            assert watched.table.lower() in contract
            if watched.column:
                assert watched.column.lower() in contract[watched.table.lower()]


def test_spool_gives_one_schema_when_batches_disagree(tmp_path):
    batches = [
        [(1, None, 2), (2, None, 3)],  # b is NULL throughout the first batch, c whole numbers
        [(3, "x", 2.5)],
    ]
    kept = spool(batches, ["a", "b", "c"], tmp_path / "out.parquet")
    table = kept.reader().read_all()
    assert kept.rows == 3
    assert table.schema.types == [pa.int64(), pa.string(), pa.float64()]
    assert table.column("b").to_pylist() == [None, None, "x"]
    assert not list(tmp_path.glob("*.part*"))


def test_database_messages_are_one_line():
    class DriverError(Exception):
        pass

    class Wrapped(Exception):
        orig = DriverError(
            208, b"Invalid object name 'Lep'.DB-Lib error message 20018, severity 16:\nGeneral"
        )

    assert one_line(Wrapped()) == "Invalid object name 'Lep'."
    Wrapped.orig = DriverError('relation "Lep" does not exist\nLINE 1: SELECT ...')
    assert one_line(Wrapped()) == 'relation "Lep" does not exist'
