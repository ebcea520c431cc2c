"""Infinite Campus extract files: ad hoc / data-extract CSVs with `object.field` headers.

The shipped presets (`presets.yaml`) say which entity each extract holds, its natural key and
column types. A file is matched to its preset by name, or else by its header (the preset whose
key columns it carries and whose columns it shares most), since districts name extract files
as they like. Every preset is expected unless the run names the entities it wants.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from nexus.integration.connectors.base import ConnectorContext, Delivery
from nexus.integration.connectors.delimited import file_delivery
from nexus.integration.connectors.mapping import EntityMapping, load_mapping
from nexus.integration.errors import IngestionError

PRESETS = Path(__file__).with_name("presets.yaml")


def presets() -> list[EntityMapping]:
    return load_mapping(PRESETS)


def _header(path: Path) -> list[str]:
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
            return [c.strip() for c in next(csv.reader(handle), [])]
    except OSError:
        return []


def match_files(folder: Path, mappings: list[EntityMapping]) -> dict[str, Path]:
    """Which file in `folder` holds which preset's entity."""
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".txt", ".tsv")
    )
    matched: dict[str, Path] = {}
    by_name = {p.name.lower(): p for p in files}
    for mapping in mappings:
        if mapping.file.lower() in by_name:
            matched[mapping.entity] = by_name[mapping.file.lower()]
    taken = set(matched.values())
    for path in files:
        if path in taken:
            continue
        header = set(_header(path))
        best, score = None, 0
        for mapping in mappings:
            if mapping.entity in matched or not set(mapping.natural_key) <= header:
                continue
            overlap = len(header & set(mapping.columns))
            if overlap > score:
                best, score = mapping, overlap
        if best is not None:
            matched[best.entity] = path
    return matched


class CampusExtractConnector:
    kind = "campus-extract"

    def deliveries(self, source: str, context: ConnectorContext) -> Iterator[Delivery]:
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise IngestionError(f"source {source} is not a folder of Campus extract files")
        mappings = presets()
        wanted = context.options.get("entities")
        if wanted:
            unknown = set(wanted) - {m.entity for m in mappings}
            if unknown:
                raise IngestionError(f"no Campus extract preset for {', '.join(sorted(unknown))}")
            mappings = [m for m in mappings if m.entity in wanted]
        matched = match_files(folder, mappings)
        for mapping in mappings:
            path = matched.get(mapping.entity)
            if path is None:
                yield Delivery(
                    entity=mapping.entity,
                    name=mapping.file,
                    natural_key=mapping.natural_key,
                    failure=f"expected extract {mapping.file} ({mapping.entity}) was not delivered",
                )
            else:
                yield file_delivery(mapping, path)
