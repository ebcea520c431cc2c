"""The store: init and upgrade, and a clear word when the embedded database is busy."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from nexus.cli import app
from nexus.store.migrate import head_revision


def test_init_is_idempotent_and_reports_the_schema(nexus):
    head = head_revision()
    result = nexus("init", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["to"] == head
    assert nexus("init").stdout.strip().endswith(f"is up to date (schema {head})")


def test_commands_on_an_uninitialised_database_say_so(tmp_path):
    env = {"NEXUS_HOME": str(tmp_path), "NEXUS_DATABASE_URL": f"duckdb:///{tmp_path}/n.duckdb"}
    result = CliRunner().invoke(app, ["tenants", "list"], env=env)
    assert result.exit_code == 1
    assert "the database is not initialised: run `nexus init`" in result.stderr


def test_a_second_process_on_the_embedded_database_is_named(backend, nexus):
    if backend.name != "duckdb":
        pytest.skip("PostgreSQL admits several writing processes")
    path = backend.settings.database_url.removeprefix("duckdb:///")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({path!r}); print('ready', flush=True); "
            "time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        result = nexus("tenants", "list")
        assert result.exit_code == 1
        assert f"is open for writing by another process (PID {holder.pid})" in result.stderr
        assert "use PostgreSQL" in result.stderr
    finally:
        holder.kill()
        holder.wait()
