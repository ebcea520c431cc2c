"""Tenants and connections: validation, and secrets that are never stored or printed plainly."""

from __future__ import annotations

import json

import sqlalchemy as sa
from cryptography.fernet import Fernet

from nexus.integration.sources import get_connection
from nexus.store.tenants import get_tenant


def test_tenant_codes_are_checked(nexus):
    assert (
        nexus(
            "tenants",
            "add",
            "springfield",
            "--name",
            "Springfield R-XII",
            "--district-code",
            "077097",
            "--nces-id",
            "2929280",
        ).exit_code
        == 0
    )
    bad = nexus("tenants", "add", "x", "--name", "X", "--district-code", "77097")
    assert bad.exit_code == 1
    assert "must be six digits" in bad.stderr
    assert nexus("tenants", "add", "charter-network", "--name", "Not a district").exit_code == 0
    again = nexus("tenants", "add", "springfield", "--name", "again")
    assert again.exit_code == 1 and "already exists" in again.stderr
    listed = json.loads(nexus("tenants", "list", "--json").stdout)
    assert [(t["code"], t["county_district_code"]) for t in listed] == [
        ("charter-network", None),
        ("springfield", "077097"),
    ]


def test_secret_by_environment_reference_is_never_printed(nexus, tenant, store, monkeypatch):
    monkeypatch.setenv("CAMPUS_OR_SECRET", "s3cr3t-value")
    result = nexus(
        "connections",
        "add",
        "campus-or",
        "--tenant",
        "demo",
        "--kind",
        "oneroster",
        "--url",
        "https://campus.example.org/campus/api/oneroster/v1p2/demo",
        "--client-id",
        "nexus",
        "--client-secret-env",
        "CAMPUS_OR_SECRET",
        "--json",
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["secret"] == "env:CAMPUS_OR_SECRET"
    listing = nexus("connections", "list", "--tenant", "demo", "--json").stdout
    assert "s3cr3t" not in listing
    with store.engine.connect() as conn:
        dump = json.dumps(
            [
                list(r)
                for r in conn.execute(sa.text("SELECT * FROM integration.source_connections")).all()
            ],
            default=str,
        )
        conn_row = get_connection(conn, get_tenant(conn, "demo").tenant_id, "campus-or")
    assert "s3cr3t" not in dump
    assert conn_row.secret(None) == "s3cr3t-value"


def test_password_in_a_database_url_is_encrypted(nexus, tenant, store, backend, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("NEXUS_SECRET_KEY", key)
    url = "mssql+pymssql://nexus_reader:Pa55word@campus-replica/campus"
    result = nexus(
        "connections",
        "add",
        "campus",
        "--tenant",
        "demo",
        "--kind",
        "campus-sql",
        "--url",
        url,
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["url"] == "mssql+pymssql://nexus_reader@campus-replica/campus"
    assert shown["secret"] == "encrypted"
    with store.engine.connect() as conn:
        dump = json.dumps(
            [
                list(r)
                for r in conn.execute(sa.text("SELECT * FROM integration.source_connections")).all()
            ],
            default=str,
        )
        row = get_connection(conn, get_tenant(conn, "demo").tenant_id, "campus")
    assert "Pa55word" not in dump
    assert row.url_with_secret(key) == url


def test_plain_password_without_a_key_is_refused(nexus, tenant, monkeypatch):
    monkeypatch.delenv("NEXUS_SECRET_KEY", raising=False)
    result = nexus(
        "connections",
        "add",
        "campus",
        "--tenant",
        "demo",
        "--kind",
        "campus-sql",
        "--url",
        "postgresql://reader:hunter2@replica/campus",
    )
    assert result.exit_code == 1
    assert "NEXUS_SECRET_KEY is not set" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_secret_from_stdin_needs_the_key_and_is_encrypted(nexus, tenant, monkeypatch, store):
    monkeypatch.setenv("NEXUS_SECRET_KEY", "a passphrase, not a Fernet key")
    result = nexus(
        "connections",
        "add",
        "classlink",
        "--tenant",
        "demo",
        "--kind",
        "oneroster",
        "--url",
        "https://classlink.example.org/ims/oneroster/v1p1",
        "--client-id",
        "abc",
        "--client-secret-stdin",
        input="from-stdin\n",
    )
    assert result.exit_code == 0, result.stderr
    with store.engine.connect() as conn:
        row = get_connection(conn, get_tenant(conn, "demo").tenant_id, "classlink")
    assert row.secret_encrypted and "from-stdin" not in row.secret_encrypted
    assert row.secret("a passphrase, not a Fernet key") == "from-stdin"


def test_a_password_in_the_source_url_is_never_recorded(nexus, tenant, tmp_path):
    url = f"duckdb:///{tmp_path}/missing.duckdb"
    masked = "postgresql+psycopg://reader:t0ps3cret@127.0.0.1:1/campus"
    for source in (url, masked):
        nexus("ingest", "campus-sql", source, "--tenant", "demo", "--entities", "students")
    listing = nexus("runs", "list", "--json").stdout
    assert "t0ps3cret" not in listing
    assert "reader:***@127.0.0.1:1/campus" in listing
