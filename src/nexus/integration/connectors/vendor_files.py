"""File helpers shared by the vendor connectors (PowerSchool, Star, ClassLink)."""

from __future__ import annotations

import csv
from pathlib import Path

from nexus.integration.errors import IngestionError

SUFFIXES = (".csv", ".txt", ".tsv")


def read_header(path: Path) -> list[str]:
    """The first row of a delimited file, trimmed (a BOM is fine); [] when unreadable."""
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
            return [c.strip() for c in next(csv.reader(handle), [])]
    except OSError:
        return []


def source_files(source: str, what: str) -> list[Path]:
    """The delimited files of SOURCE: the file itself, or the folder's files sorted by name."""
    path = Path(source).expanduser()
    if not path.exists():
        raise IngestionError(f"source {source} does not exist")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise IngestionError(f"source {source} holds no {what} files (.csv, .txt, .tsv)")
    return files
