"""Source systems and connections: where a tenant's data comes from and how to reach it.

A source system is one kind of source for one tenant (its Campus database, its OneRoster
feed, a CSV drop); a connection is how Nexus reaches it (URL, client id, secret reference).
Passwords and client secrets are never stored in plain text (see `nexus.store.secrets`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from nexus.integration.errors import IngestionError
from nexus.store import secrets
from nexus.store.tables import source_connections, source_systems

KINDS = (
    "csv",
    "campus-extract",
    "campus-sql",
    "oneroster",
    "powerschool",
    "star",
    "classlink",
    # Not a source: an Ed-Fi ODS/API that `nexus edfi send` writes to (base URL, client id,
    # secret), kept with the other connections so its secret is held the same way.
    "edfi",
)


@dataclass(frozen=True)
class Connection:
    connection_id: int
    tenant_id: int
    source_system_id: int
    name: str
    kind: str
    url: str
    client_id: str | None
    secret_ref: str | None
    secret_encrypted: str | None
    options: dict

    @property
    def secret_held_as(self) -> str:
        return secrets.describe(self.secret_ref, self.secret_encrypted)

    def secret(self, secret_key: str | None) -> str | None:
        return secrets.resolve(self.secret_ref, self.secret_encrypted, secret_key)

    def url_with_secret(self, secret_key: str | None) -> str:
        """The URL to connect with: a database URL gets its password back from the secret."""
        secret = self.secret(secret_key)
        if secret is None or self.kind != "campus-sql":
            return self.url
        return make_url(self.url).set(password=secret).render_as_string(hide_password=False)


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise IngestionError(f"unknown source kind {kind!r}: use one of {', '.join(KINDS)}")


def ensure_source_system(conn: sa.Connection, tenant_id: int, kind: str, name: str) -> int:
    """The id of the tenant's source system of this kind and name, created on first use.

    The kind is not checked against `KINDS`: a source system may also be one that is not a
    connection (DESE's MOSIS ID assignment); callers that take a kind from the operator check
    it first (`add_connection`, and ingestion through its connector)."""
    found = conn.execute(
        sa.select(source_systems.c.source_system_id).where(
            source_systems.c.tenant_id == tenant_id,
            source_systems.c.kind == kind,
            source_systems.c.name == name,
        )
    ).scalar()
    if found is not None:
        return found
    return conn.execute(
        source_systems.insert()
        .values(tenant_id=tenant_id, kind=kind, name=name, created_at=datetime.now(UTC))
        .returning(source_systems.c.source_system_id)
    ).scalar_one()


def add_connection(
    conn: sa.Connection,
    tenant_id: int,
    name: str,
    kind: str,
    url: str,
    *,
    client_id: str | None = None,
    secret_ref: str | None = None,
    secret_value: str | None = None,
    secret_key: str | None = None,
    options: dict | None = None,
) -> Connection:
    """Register a connection; a password inside a database URL is split off and protected."""
    check_kind(kind)
    if conn.execute(
        sa.select(source_connections.c.connection_id).where(
            source_connections.c.tenant_id == tenant_id, source_connections.c.name == name
        )
    ).first():
        raise IngestionError(f"connection {name!r} already exists for this tenant")
    url, secret_value = _split_password(url, kind, secret_value)
    if secret_value is not None and secret_ref is not None:
        raise IngestionError("give the secret once: as a reference or as a value, not both")
    encrypted = secrets.encrypt(secret_value, secret_key) if secret_value is not None else None
    source_system_id = ensure_source_system(conn, tenant_id, kind, name)
    connection_id = conn.execute(
        source_connections.insert()
        .values(
            tenant_id=tenant_id,
            source_system_id=source_system_id,
            name=name,
            kind=kind,
            url=url,
            client_id=client_id,
            secret_ref=secret_ref,
            secret_encrypted=encrypted,
            options=options or {},
            created_at=datetime.now(UTC),
        )
        .returning(source_connections.c.connection_id)
    ).scalar_one()
    return get_connection(conn, tenant_id, name, _id=connection_id)


def _split_password(url: str, kind: str, secret_value: str | None) -> tuple[str, str | None]:
    """Take a password out of a URL so it is stored as a protected secret, never as text."""
    parts = urlsplit(url)
    if not parts.password:
        return url, secret_value
    if secret_value is not None:
        raise IngestionError("the URL holds a password and a secret was also given: give one")
    if kind != "campus-sql":
        raise IngestionError(
            "the URL holds a password: give the client secret with --client-secret-env VAR"
        )
    password = unquote(parts.password)
    netloc = parts.netloc.replace(f":{parts.password}@", "@", 1)
    return urlunsplit(parts._replace(netloc=netloc)), password


def _row_to_connection(row) -> Connection:
    return Connection(
        connection_id=row["connection_id"],
        tenant_id=row["tenant_id"],
        source_system_id=row["source_system_id"],
        name=row["name"],
        kind=row["kind"],
        url=row["url"],
        client_id=row["client_id"],
        secret_ref=row["secret_ref"],
        secret_encrypted=row["secret_encrypted"],
        options=row["options"] or {},
    )


def get_connection(
    conn: sa.Connection, tenant_id: int, name: str, _id: int | None = None
) -> Connection:
    query = sa.select(source_connections).where(source_connections.c.tenant_id == tenant_id)
    if _id is not None:
        query = query.where(source_connections.c.connection_id == _id)
    else:
        query = query.where(source_connections.c.name == name)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise IngestionError(
            f"no connection {name!r} for this tenant: add it with `nexus connections add`"
        )
    return _row_to_connection(row)


def list_connections(conn: sa.Connection, tenant_id: int | None = None) -> list[Connection]:
    query = sa.select(source_connections).order_by(
        source_connections.c.tenant_id, source_connections.c.name
    )
    if tenant_id is not None:
        query = query.where(source_connections.c.tenant_id == tenant_id)
    return [_row_to_connection(row) for row in conn.execute(query).mappings()]
