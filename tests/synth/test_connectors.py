"""Each format ingests through the foundation's connector with zero errors (every backend)."""

from __future__ import annotations

import json

import pytest

from nexus.synth import generate


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("ingest")
    generate(out, students=100, seed=21)
    return out


@pytest.mark.parametrize(
    ("kind", "source"),
    [
        ("campus-extract", "campus-extract"),
        ("campus-sql", "duckdb:///{out}/campus.duckdb"),
        ("oneroster", "oneroster"),
    ],
)
def test_format_ingests_without_errors(nexus, tenant, district, kind, source) -> None:
    target = source.format(out=district) if "{out}" in source else str(district / source)
    result = nexus("ingest", kind, target, "--tenant", tenant, "--json")
    assert result.stdout, result.stderr
    run = json.loads(result.stdout)
    assert result.exit_code == 0, run
    assert run["status"] == "succeeded", run
    assert run["error_total"] == 0 and not run["errors"]
    assert all(f["status"] == "succeeded" for f in run.get("files", [])), run
    assert all(e["errors"] == 0 for e in run["entities"].values())
    assert sum(e["new"] for e in run["entities"].values()) > 1000
