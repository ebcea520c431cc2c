"""PostgreSQL row-level security keyed on the request's tenants (issue 9); nothing on DuckDB

Creates the role `nexus_tenant_scoped` (cluster-wide, NOLOGIN) if missing, lets the migrating
user switch to it, grants it the data privileges on the Nexus schemas, and enables row-level
security with the `tenant_scope` policies on every table that has a `tenant_id` column.
See `nexus.store.scope` and docs/security.md. A later migration adding a tenant table calls
`nexus.store.scope.enable_tenant_rls(op.get_bind(), schema, table)`.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from nexus.store.scope import (
    PLATFORM_READ_POLICY,
    POLICY,
    SCOPED_ROLE,
    enable_tenant_rls,
    grant_scoped_role,
    tenant_tables,
)
from nexus.store.tables import SCHEMAS

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    grant_scoped_role(conn)
    for schema, table in tenant_tables(conn):
        enable_tenant_rls(conn, schema, table)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for schema, table in tenant_tables(conn):
        name = f'"{schema}"."{table}"'
        conn.execute(sa.text(f"DROP POLICY IF EXISTS {POLICY} ON {name}"))
        conn.execute(sa.text(f"DROP POLICY IF EXISTS {PLATFORM_READ_POLICY} ON {name}"))
        conn.execute(sa.text(f"ALTER TABLE {name} DISABLE ROW LEVEL SECURITY"))
    # The role is cluster-wide (other Nexus databases may use it): only this database's grants go.
    for schema in SCHEMAS:
        for statement in (
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {SCOPED_ROLE}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"REVOKE USAGE, SELECT ON SEQUENCES FROM {SCOPED_ROLE}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {SCOPED_ROLE}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {SCOPED_ROLE}",
            f"REVOKE USAGE ON SCHEMA {schema} FROM {SCOPED_ROLE}",
        ):
            conn.execute(sa.text(statement))
