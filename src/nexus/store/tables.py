"""SQLAlchemy Core tables of the `platform` and `integration` schemas.

Every table carries `tenant_id`, and `tenant_id` leads every primary and unique key so the
schema can be partitioned or distributed by tenant without change. Surrogate keys come from
sequences (DuckDB has no identity columns). Other layers add their schemas' tables here as
they land; migrations under `migrations/versions/` create them.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

SCHEMAS = ("platform", "integration", "census", "education", "reporting", "edfi", "mart")


def _seq(name: str, schema: str) -> sa.Sequence:
    return sa.Sequence(f"{name}_seq", schema=schema, metadata=metadata)


def _id(name: str, schema: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger, _seq(name.removesuffix("_id"), schema), nullable=False)


def _created() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


# --- platform -------------------------------------------------------------------------------

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, _seq("tenant", "platform"), primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("county_district_code", sa.String(6)),
    sa.Column("nces_id", sa.String(12)),
    _created(),
    schema="platform",
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    _id("event_id", "platform"),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_name", sa.String(200), nullable=False),
    # e.g. "export.snapshot", "view.run_errors": every export or view of student-level data.
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.JSON),
    sa.PrimaryKeyConstraint("tenant_id", "event_id"),
    schema="platform",
)

# --- integration ----------------------------------------------------------------------------

source_systems = sa.Table(
    "source_systems",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    _id("source_system_id", "integration"),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    _created(),
    sa.PrimaryKeyConstraint("tenant_id", "source_system_id"),
    sa.UniqueConstraint("tenant_id", "kind", "name"),
    schema="integration",
)

source_connections = sa.Table(
    "source_connections",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    _id("connection_id", "integration"),
    sa.Column("source_system_id", sa.BigInteger, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    # The URL never holds a password: it is split off into the secret columns on the way in.
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("client_id", sa.String(400)),
    # "env:VAR" or "file:/path"; or the secret encrypted with NEXUS_SECRET_KEY (Fernet).
    sa.Column("secret_ref", sa.String(400)),
    sa.Column("secret_encrypted", sa.Text),
    sa.Column("options", sa.JSON),
    _created(),
    sa.PrimaryKeyConstraint("tenant_id", "connection_id"),
    sa.UniqueConstraint("tenant_id", "name"),
    schema="integration",
)

ingestion_runs = sa.Table(
    "ingestion_runs",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    _id("run_id", "integration"),
    sa.Column("source_system_id", sa.BigInteger, nullable=False),
    sa.Column("connection_id", sa.BigInteger),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("started_by", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("hostname", sa.String(200)),
    sa.Column("pid", sa.Integer),
    sa.PrimaryKeyConstraint("tenant_id", "run_id"),
    schema="integration",
)

ingestion_files = sa.Table(
    "ingestion_files",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    _id("file_id", "integration"),
    sa.Column("run_id", sa.BigInteger, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("entity", sa.String(200)),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("sha256", sa.String(64)),
    sa.Column("artifact_path", sa.Text),
    sa.Column("rows_read", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("columns", sa.JSON),
    sa.Column("columns_added", sa.JSON),
    sa.Column("columns_missing", sa.JSON),
    sa.PrimaryKeyConstraint("tenant_id", "file_id"),
    schema="integration",
)

source_entities = sa.Table(
    "source_entities",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    _id("entity_id", "integration"),
    sa.Column("source_system_id", sa.BigInteger, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("natural_key", sa.JSON, nullable=False),
    # The columns (name -> type) of the last applied delivery: the yardstick for drift.
    sa.Column("columns", sa.JSON),
    _created(),
    sa.PrimaryKeyConstraint("tenant_id", "entity_id"),
    sa.UniqueConstraint("tenant_id", "source_system_id", "name"),
    schema="integration",
)

ingestion_entities = sa.Table(
    "ingestion_entities",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.BigInteger, nullable=False),
    sa.Column("entity_id", sa.BigInteger, nullable=False),
    # bulk: the delivery is the whole entity; delta: changes only; skipped: source unchanged.
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("rows_new", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_changed", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_unchanged", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_deleted", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_error", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("query_name", sa.String(200)),
    sa.Column("query_version", sa.String(40)),
    sa.Column("query_sha256", sa.String(64)),
    sa.Column("probe", sa.JSON),
    sa.PrimaryKeyConstraint("tenant_id", "run_id", "entity_id"),
    schema="integration",
)

source_records = sa.Table(
    "source_records",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    _id("record_id", "integration"),
    sa.Column("entity_id", sa.BigInteger, nullable=False),
    sa.Column("natural_key", sa.Text, nullable=False),
    sa.Column("checksum", sa.String(32), nullable=False),
    # The source's own column names and values, as a JSON object in the source's column order.
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("valid_from_run", sa.BigInteger, nullable=False),
    sa.Column("valid_to_run", sa.BigInteger),
    sa.Column("file_id", sa.BigInteger),
    sa.Column("line", sa.BigInteger),
    sa.PrimaryKeyConstraint("tenant_id", "record_id"),
    schema="integration",
)

source_record_errors = sa.Table(
    "source_record_errors",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.BigInteger, nullable=False),
    # Errors are numbered within their run, in the order the run met them.
    sa.Column("error_no", sa.BigInteger, nullable=False),
    sa.Column("file_id", sa.BigInteger),
    sa.Column("entity", sa.String(200)),
    sa.Column("file_name", sa.Text),
    sa.Column("line", sa.BigInteger),
    sa.Column("column_name", sa.Text),
    sa.Column("value", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("natural_key", sa.Text),
    sa.PrimaryKeyConstraint("tenant_id", "run_id", "error_no"),
    schema="integration",
)


# --- education ---------------------------------------------------------------------------------

districts = sa.Table(
    "districts",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    _id("district_id", "education"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("county_district_code", sa.String(6)),
    sa.Column("nces_id", sa.String(12)),
    # A vendor's id for the district (e.g. a Renaissance or ClassLink account id).
    sa.Column("account_id", sa.String(100)),
    # The district gate accepts a name at or above this rapidfuzz score (0-100).
    sa.Column("name_threshold", sa.Integer, nullable=False, server_default="85"),
    _created(),
    sa.PrimaryKeyConstraint("tenant_id", "district_id"),
    schema="education",
)

district_aliases = sa.Table(
    "district_aliases",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, nullable=False),
    sa.Column("district_id", sa.BigInteger, nullable=False),
    sa.Column("alias", sa.String(200), nullable=False),
    _created(),
    sa.PrimaryKeyConstraint("tenant_id", "district_id", "alias"),
    schema="education",
)
