"""Synthetic vendor files (PowerSchool, Star, ClassLink) written once per test session."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from nexus.synth import generate


@pytest.fixture(scope="session")
def vendor_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(out, students=80, seed=7, formats=("vendors",))
    return out / "vendors"


def ingest(nexus, kind: str, source: Path, *extra: str) -> tuple[int, dict]:
    result = nexus("ingest", kind, str(source), "--tenant", "demo", "--json", *extra)
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


def rows_of(text: str) -> list[tuple[str, ...]]:
    """A CSV's rows (header first, the rest sorted), so quoting and order do not matter."""
    rows = [tuple(r) for r in csv.reader(io.StringIO(text))]
    return rows[:1] + sorted(rows[1:])
