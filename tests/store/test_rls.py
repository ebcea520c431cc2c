"""Tenant scope: on PostgreSQL, row-level security keeps a scoped request inside its tenants
even when a query forgets `WHERE tenant_id = …`; on DuckDB the scope is a harmless no-op."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
import sqlalchemy as sa

from nexus.store import audit, bulk_load
from nexus.store.mart_tables import grade_card_aggregates, grade_card_indicators
from nexus.store.reporting_tables import mosis_layouts
from nexus.store.scope import (
    current_scope,
    is_scoped,
    rls_gaps,
    set_tenant_scope,
    tenant_scope,
    tenant_tables,
    unscoped,
)
from nexus.store.tables import audit_events, ingestion_runs, tenants
from nexus.store.tenants import add_tenant
from nexus.store.validation_tables import validation_exceptions

NOW = datetime(2026, 10, 7, 9, 0, tzinfo=UTC)
# Tenant tables with a row per tenant; the layout and indicator tables also hold platform rows.
TABLES = [audit_events, ingestion_runs, validation_exceptions, grade_card_aggregates, mosis_layouts]
PLATFORM_TABLES = [mosis_layouts, grade_card_indicators]


def _row(table: sa.Table, tenant_id: int) -> dict:
    """A row with every required column filled by type (sequences fill the surrogate keys)."""
    row: dict = {}
    for col in table.columns:
        if col.name == "tenant_id":
            row[col.name] = tenant_id
        elif col.nullable or isinstance(col.default, sa.Sequence):
            continue
        elif isinstance(col.type, sa.Boolean):
            row[col.name] = False
        elif isinstance(col.type, sa.DateTime):
            row[col.name] = NOW
        elif isinstance(col.type, sa.Date):
            row[col.name] = date(2026, 10, 7)
        elif isinstance(col.type, sa.JSON):
            row[col.name] = {}
        elif isinstance(col.type, sa.Integer | sa.Float | sa.Numeric):
            row[col.name] = 1
        else:
            row[col.name] = "x"
    return row


@pytest.fixture
def pg(store, backend):
    if backend.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    return store


@pytest.fixture
def two_districts(pg) -> tuple[int, int]:
    with pg.engine.begin() as conn:
        a = add_tenant(conn, "alpha", "Alpha R-I").tenant_id
        b = add_tenant(conn, "beta", "Beta R-II").tenant_id
        for table in TABLES:
            conn.execute(table.insert(), [_row(table, a), _row(table, b)])
        for table in PLATFORM_TABLES:
            conn.execute(table.insert(), [_row(table, 0)])
    return a, b


def _count(conn: sa.Connection, table: sa.Table) -> int:
    # Deliberately unfiltered: the forgotten WHERE clause.
    return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_every_tenant_table_has_row_level_security(pg):
    with pg.engine.connect() as conn:
        found = tenant_tables(conn)
        assert len(found) > 40 and ("platform", "tenants") in found
        assert ("platform", "users") not in found
        assert rls_gaps(conn) == []
        forced = conn.execute(
            sa.text(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relrowsecurity AND c.relforcerowsecurity"
            )
        ).all()
    assert forced == []  # the owner keeps COPY FROM for bulk loads


def test_a_table_without_policies_is_reported(pg):
    with pg.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE mart.forgotten (tenant_id BIGINT NOT NULL)"))
        assert rls_gaps(conn) == [
            "mart.forgotten: row-level security not enabled",
            "mart.forgotten: no policy tenant_scope, tenant_scope_platform_read",
        ]


def test_scoped_reads_see_only_their_tenants_and_the_platform(pg, two_districts):
    a, b = two_districts
    with tenant_scope([a]), pg.engine.connect() as conn:  # autobegin
        assert conn.execute(sa.select(tenants.c.code)).scalars().all() == ["alpha"]
        for table in TABLES:
            owners = set(conn.execute(sa.select(table.c.tenant_id)).scalars())
            platform = {0} if table in PLATFORM_TABLES else set()
            assert owners == {a} | platform, table.name
        assert _count(conn, grade_card_indicators) == 1
        assert current_scope() == (a,)
    with tenant_scope([b]), pg.engine.begin() as conn:
        assert {e["tenant_id"] for e in audit.events(conn)} == {b}
    with pg.engine.connect() as conn:  # unscoped: the owner sees everything
        assert _count(conn, tenants) == 2
        assert [_count(conn, t) for t in TABLES] == [2, 2, 2, 2, 3]
    with tenant_scope([a, b]), pg.engine.connect() as conn:
        assert _count(conn, tenants) == 2
    with tenant_scope([]), pg.engine.connect() as conn:
        assert _count(conn, tenants) == 0 and _count(conn, mosis_layouts) == 1


def _refused(store, statement) -> None:
    refused = pytest.raises(sa.exc.ProgrammingError, match="row-level security")
    with refused, store.engine.begin() as conn:
        conn.execute(statement)


def test_scoped_writes_stay_in_their_tenants(pg, two_districts):
    a, b = two_districts
    with tenant_scope([a]):
        _refused(pg, audit_events.insert().values(_row(audit_events, b)))
        # nor the platform's rows, nor moving a row to another tenant
        _refused(pg, mosis_layouts.insert().values(_row(mosis_layouts, 0)))
        _refused(pg, audit_events.update().values(tenant_id=b))
        with pg.engine.begin() as conn:
            audit.record(conn, a, "registrar.jones", "view.test", {"students": 1})
            moved = conn.execute(
                validation_exceptions.update()
                .where(validation_exceptions.c.tenant_id == b)
                .values(status="resolved")
            )
            assert moved.rowcount == 0
            unfiltered = conn.execute(validation_exceptions.update().values(status="assigned"))
            assert unfiltered.rowcount == 1
            assert conn.execute(mosis_layouts.delete()).rowcount == 1  # its own, not tenant 0
            assert conn.execute(grade_card_indicators.delete()).rowcount == 0
            assert (
                conn.execute(
                    ingestion_runs.delete().where(ingestion_runs.c.tenant_id == b)
                ).rowcount
                == 0
            )
    with pg.engine.connect() as conn:
        statuses = dict(
            conn.execute(
                sa.select(validation_exceptions.c.tenant_id, validation_exceptions.c.status)
            ).all()
        )
        assert statuses == {a: "assigned", b: "x"}
        assert _count(conn, audit_events) == 3 and _count(conn, grade_card_indicators) == 1
        assert _count(conn, mosis_layouts) == 2  # B's and the platform's


def test_bulk_loads_copy_as_the_owner_and_insert_under_the_scope(pg, two_districts):
    a, b = two_districts
    theirs = pa.Table.from_pylist([_row(grade_card_aggregates, b) | {"school_id": 7}])
    ours = pa.Table.from_pylist([_row(grade_card_aggregates, a) | {"school_id": s} for s in (7, 8)])
    with tenant_scope([a]):
        with unscoped(), pg.engine.begin() as conn:
            assert current_scope() is None and _count(conn, tenants) == 2
            assert not is_scoped(conn)
            assert bulk_load(conn, grade_card_aggregates, theirs) == 1  # COPY, as the owner
        # PostgreSQL refuses COPY FROM under row-level security: scoped loads are INSERTs,
        # checked by the policy row by row.
        with pg.engine.begin() as conn:
            assert is_scoped(conn)
            assert bulk_load(conn, grade_card_aggregates, ours) == 2
        with pytest.raises(Exception, match="row-level security"), pg.engine.begin() as conn:
            more_of_theirs = [_row(grade_card_aggregates, b) | {"school_id": 9}]
            bulk_load(conn, grade_card_aggregates, pa.Table.from_pylist(more_of_theirs))
    with pg.engine.connect() as conn:
        owners = conn.execute(sa.select(grade_card_aggregates.c.tenant_id)).scalars().all()
    assert sorted(owners) == sorted([a, b, b, a, a])


def test_a_transaction_begun_in_scope_stays_scoped(pg, two_districts):
    a, _ = two_districts
    with pg.engine.connect() as conn:
        with tenant_scope([a]):
            conn.execute(sa.text("SELECT 1"))  # the transaction begins here, scoped
        assert _count(conn, tenants) == 1
        assert conn.execute(sa.text("SELECT current_user")).scalar() == "nexus_tenant_scoped"
        conn.commit()
        assert _count(conn, tenants) == 2  # a new transaction, unscoped again


def test_an_autocommit_connection_is_refused_in_scope(pg, two_districts):
    a, _ = two_districts
    autocommit = pg.engine.execution_options(isolation_level="AUTOCOMMIT")
    with (
        autocommit.connect() as conn,
        tenant_scope([a]),
        pytest.raises(Exception, match="needs a transaction"),
    ):
        _count(conn, tenants)


def test_scope_is_a_context_variable_and_a_no_op_on_duckdb(store, backend):
    assert current_scope() is None
    with tenant_scope([3, 1, 3]) as ids:
        assert ids == (1, 3) == current_scope()
        with unscoped():
            assert current_scope() is None
        assert current_scope() == (1, 3)
    assert current_scope() is None
    set_tenant_scope([5])
    try:
        assert current_scope() == (5,)
    finally:
        set_tenant_scope(None)
    if backend.name == "duckdb":
        with store.engine.begin() as conn:
            add_tenant(conn, "alpha", "Alpha R-I")
            add_tenant(conn, "beta", "Beta R-II")
        with tenant_scope([999]), store.engine.connect() as conn:
            assert _count(conn, tenants) == 2  # DuckDB: the app's filters are the isolation
