"""Tenant scope: the tenants the current request may see, enforced by PostgreSQL itself.

The web app sets the scope per request (`tenant_scope([...])`, or `set_tenant_scope(...)` where
a framework runs each request in its own context). While a scope is set, every transaction the
store begins on PostgreSQL starts with

    SET LOCAL ROLE nexus_tenant_scoped;
    SELECT set_config('nexus.tenant_ids', '<ids>', true);

and row-level security policies (migration 0014, `enable_tenant_rls`) let that role read only
rows of those tenants (plus the platform's rows under tenant 0: layouts, rule catalog,
indicator definitions) and write only rows of those tenants. A query that forgets
`WHERE tenant_id = …` therefore cannot leak another district's data. Both settings are
transaction-local: they end with the transaction, so pooled connections come back clean.

A transaction begun before the scope was set stays unscoped to its end. PostgreSQL refuses
`COPY FROM` under row-level security, so inside a scope `bulk_load` inserts instead (a
request writes few rows); the volume paths run unscoped (CLI, scheduler, background jobs).
Writing the platform's tenant-0 rows needs `unscoped()`, after the caller has checked the user
may do it.

On DuckDB the scope is a no-op: DuckDB has no roles or row-level security, and the embedded
database is owned by a single process; there the app's own `tenant_id` filters are the
isolation. The owner (the role that ran `nexus init`) is never subject to the policies: RLS is
enabled but not FORCEd, so unscoped work, migrations and bulk loads behave as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa

from nexus.store.errors import StoreError
from nexus.store.tables import SCHEMAS

SCOPED_ROLE = "nexus_tenant_scoped"
SETTING = "nexus.tenant_ids"
POLICY = "tenant_scope"
PLATFORM_READ_POLICY = "tenant_scope_platform_read"
PLATFORM_TENANT = 0

_scope: ContextVar[tuple[int, ...] | None] = ContextVar("nexus_tenant_scope", default=None)


def _normal(tenant_ids: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted({int(t) for t in tenant_ids}))


@contextmanager
def tenant_scope(tenant_ids: Iterable[int]) -> Iterator[tuple[int, ...]]:
    """Within this block, transactions see only these tenants (an empty list: none)."""
    token = _scope.set(_normal(tenant_ids))
    try:
        yield _scope.get()  # type: ignore[misc]
    finally:
        _scope.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """Within this block, transactions run as the owner again (trusted platform work)."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)


def set_tenant_scope(tenant_ids: Iterable[int] | None) -> None:
    """Set (or with None clear) the scope for the rest of the current context, without reset:
    for frameworks that run each request in a fresh context (asyncio tasks, starlette)."""
    _scope.set(None if tenant_ids is None else _normal(tenant_ids))


def current_scope() -> tuple[int, ...] | None:
    """The tenant ids in scope, or None when unscoped."""
    return _scope.get()


# --- enforcement on PostgreSQL --------------------------------------------------------------------


def _on_begin(conn: sa.Connection) -> None:
    ids = _scope.get()
    if ids is None:
        return
    raw = conn.connection.dbapi_connection
    if raw is None or getattr(raw, "autocommit", False):
        # SET LOCAL outside a transaction would be a silent no-op: refuse rather than leak.
        raise StoreError("a tenant-scoped query needs a transaction; this connection autocommits")
    # On the driver's cursor: the DBAPI opens its transaction with this first statement, and
    # SQLAlchemy's own statements (and bulk.py's COPY) then run inside it.
    with raw.cursor() as cur:
        cur.execute(f"SET LOCAL ROLE {SCOPED_ROLE}")
        cur.execute("SELECT set_config(%s, %s, true)", (SETTING, ",".join(map(str, ids))))


def install(engine: sa.Engine) -> None:
    """Make `engine` honour the tenant scope (PostgreSQL; a no-op on DuckDB). Idempotent."""
    if engine.dialect.name != "postgresql":
        return
    if not sa.event.contains(engine, "begin", _on_begin):
        sa.event.listen(engine, "begin", _on_begin)


# --- the policies (used by migrations) ------------------------------------------------------------

_IN_SCOPE = (
    f"tenant_id = ANY (string_to_array(NULLIF(current_setting('{SETTING}', true), ''), ',')"
    f"::bigint[])"
)


def enable_tenant_rls(conn: sa.Connection, schema: str, table: str) -> None:
    """Row-level security on one tenant table: the scoped role reads its tenants' rows and the
    platform's (tenant 0), and writes only its tenants' rows. Later migrations call this for
    every new table with a `tenant_id`; re-running it is harmless."""
    name = f'"{schema}"."{table}"'
    for statement in (
        f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {name}",
        f"CREATE POLICY {POLICY} ON {name} FOR ALL TO {SCOPED_ROLE} "
        f"USING ({_IN_SCOPE}) WITH CHECK ({_IN_SCOPE})",
        f"DROP POLICY IF EXISTS {PLATFORM_READ_POLICY} ON {name}",
        f"CREATE POLICY {PLATFORM_READ_POLICY} ON {name} FOR SELECT TO {SCOPED_ROLE} "
        f"USING (tenant_id = {PLATFORM_TENANT})",
    ):
        conn.execute(sa.text(statement))


def tenant_tables(conn: sa.Connection) -> list[tuple[str, str]]:
    """Every base table in the Nexus schemas with a `tenant_id` column, as (schema, table)."""
    rows = conn.execute(
        sa.text(
            "SELECT c.table_schema, c.table_name FROM information_schema.columns c "
            "JOIN information_schema.tables t "
            "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' "
            "  AND c.table_schema = ANY(:schemas) "
            "ORDER BY 1, 2"
        ),
        {"schemas": list(SCHEMAS)},
    )
    return [(r[0], r[1]) for r in rows]


def rls_gaps(conn: sa.Connection) -> list[str]:
    """Tenant tables missing row-level security or one of its policies (empty when sound)."""
    gaps = []
    for schema, table in tenant_tables(conn):
        enabled = conn.execute(
            sa.text(
                "SELECT c.relrowsecurity FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :schema AND c.relname = :table"
            ),
            {"schema": schema, "table": table},
        ).scalar_one()
        policies = set(
            conn.execute(
                sa.text(
                    "SELECT policyname FROM pg_policies "
                    "WHERE schemaname = :schema AND tablename = :table "
                    "  AND :role = ANY(roles)"
                ),
                {"schema": schema, "table": table, "role": SCOPED_ROLE},
            ).scalars()
        )
        missing = {POLICY, PLATFORM_READ_POLICY} - policies
        if not enabled:
            gaps.append(f"{schema}.{table}: row-level security not enabled")
        if missing:
            gaps.append(f"{schema}.{table}: no policy {', '.join(sorted(missing))}")
    return gaps


def grant_scoped_role(conn: sa.Connection) -> None:
    """Create the scoped role if missing, let the current user switch to it, and grant it the
    data privileges on the Nexus schemas (now and for tables created later by this user)."""
    # Roles are cluster-wide: parallel test workers migrating their templates race here.
    conn.execute(
        sa.text(
            f"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SCOPED_ROLE}') THEN
                BEGIN
                  CREATE ROLE {SCOPED_ROLE} NOLOGIN NOINHERIT NOBYPASSRLS;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END;
              END IF;
              IF NOT pg_has_role(current_user, '{SCOPED_ROLE}', 'MEMBER') THEN
                BEGIN
                  EXECUTE format('GRANT {SCOPED_ROLE} TO %I', current_user);
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END;
              END IF;
            END
            $$
            """
        )
    )
    for schema in SCHEMAS:
        for statement in (
            f"GRANT USAGE ON SCHEMA {schema} TO {SCOPED_ROLE}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} "
            f"TO {SCOPED_ROLE}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {SCOPED_ROLE}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {SCOPED_ROLE}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {SCOPED_ROLE}",
        ):
            conn.execute(sa.text(statement))
    # A scoped request may read the schema revision, never change it.
    conn.execute(
        sa.text(f"REVOKE INSERT, UPDATE, DELETE ON platform.alembic_version FROM {SCOPED_ROLE}")
    )


def is_scoped(conn: sa.Connection) -> bool:
    """True when `conn`'s current transaction runs under the tenant scope (PostgreSQL)."""
    if conn.dialect.name != "postgresql":
        return False
    return conn.exec_driver_sql("SELECT current_user").scalar() == SCOPED_ROLE
