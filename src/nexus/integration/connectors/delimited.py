"""Generic delimited files (CSV, TSV, pipe) driven by a district-written mapping YAML.

SOURCE is a file or a folder; the mapping comes from `--mapping FILE` or `mapping.yaml` in the
folder. Every entity the mapping names is expected: a file that is not there is an error on
the run, never an empty success.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from nexus.integration.connectors.base import ConnectorContext, Delivery
from nexus.integration.connectors.mapping import EntityMapping, load_mapping
from nexus.integration.errors import IngestionError


def deliveries_for(
    mappings: list[EntityMapping], folder: Path, single_file: Path | None = None
) -> Iterator[Delivery]:
    """One delivery per mapped entity, found in `folder` (or the one file given)."""
    for mapping in mappings:
        if single_file is not None:
            matches = [single_file]
        else:
            matches = sorted(p for p in folder.glob(mapping.file) if p.is_file())
        if not matches:
            yield Delivery(
                entity=mapping.entity,
                name=mapping.file,
                natural_key=mapping.natural_key,
                failure=f"expected file {mapping.file} was not delivered",
            )
            continue
        if len(matches) > 1:
            yield Delivery(
                entity=mapping.entity,
                name=mapping.file,
                natural_key=mapping.natural_key,
                failure=f"{len(matches)} files match {mapping.file}: "
                + ", ".join(p.name for p in matches[:5]),
            )
            continue
        yield file_delivery(mapping, matches[0])


def file_delivery(mapping: EntityMapping, path: Path) -> Delivery:
    return Delivery(
        entity=mapping.entity,
        name=path.name,
        natural_key=mapping.natural_key,
        columns=mapping.columns,
        expected_columns=mapping.expected_columns,
        path=path,
        csv=mapping.csv,
    )


class DelimitedConnector:
    kind = "csv"

    def deliveries(self, source: str, context: ConnectorContext) -> Iterator[Delivery]:
        path = Path(source).expanduser()
        if not path.exists():
            raise IngestionError(f"source {source} does not exist")
        mapping_path = context.options.get("mapping")
        folder = path if path.is_dir() else path.parent
        if mapping_path is None:
            mapping_path = folder / "mapping.yaml"
            if not mapping_path.exists():
                raise IngestionError(
                    "no mapping: pass --mapping FILE or put mapping.yaml beside the files"
                )
        mappings = load_mapping(Path(mapping_path))
        if path.is_file():
            if len(mappings) != 1:
                raise IngestionError(
                    f"{path.name}: the mapping names {len(mappings)} entities; give the folder"
                )
            yield from deliveries_for(mappings, folder, single_file=path)
        else:
            yield from deliveries_for(mappings, folder)
