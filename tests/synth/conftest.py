"""Shared synthetic districts for the synth tests (small: a few hundred students each)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nexus.synth import generate

ROOT = Path(__file__).resolve().parents[2]
CLEAN_SEED = 7
DEFECT_RATE = 0.03


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("clean")
    return generate(out, students=300, seed=CLEAN_SEED), out


@pytest.fixture(scope="session")
def larger(tmp_path_factory: pytest.TempPathFactory):
    """1,000 students, files only: enough for distribution checks."""
    out = tmp_path_factory.mktemp("larger")
    return generate(out, students=1000, seed=11, formats="campus-extract,vendors"), out


@pytest.fixture(scope="session")
def defective(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("defects")
    return generate(out, students=300, seed=CLEAN_SEED, defect_rate=DEFECT_RATE), out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def campus_doc() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(Campus tables -> columns, extract files -> header) parsed from docs/campus.md."""
    text = (ROOT / "docs" / "campus.md").read_text(encoding="utf-8")
    tables: dict[str, list[str]] = {}
    files: dict[str, list[str]] = {}
    section = None
    for line in text.splitlines():
        if line.startswith("## "):
            section = "tables" if "tables" in line.lower() else "files"
            continue
        if not line.startswith("| ") or line.startswith("|---") or line.startswith("| table"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if section == "tables" and len(cells) >= 2:
            name = cells[0].replace("*(assumed)*", "").strip()
            cols = [c.replace("*(assumed)*", "").strip() for c in cells[1].split(",")]
            tables[name] = [c for c in cols if c]
        elif section == "files" and len(cells) >= 3 and cells[0].endswith(".csv"):
            files[cells[0]] = [c.replace("**", "").strip() for c in cells[2].split(",")]
    return tables, files
