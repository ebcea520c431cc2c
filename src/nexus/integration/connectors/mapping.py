"""Delimited-file mappings: the YAML that names each file's entity, key, format and columns.

The generic CSV connector reads a mapping written by the district; the Campus extract
connector ships one (its presets). Format, version 1:

    version: 1
    entities:
      - entity: students            # the source entity the rows belong to
        file: students.csv          # a file name or glob, relative to the source folder
        natural_key: [student_id]   # one or more columns
        delimiter: ","              # "," | tab | pipe | any single character
        header: true                # false: `columns` gives the file's columns in order
        encoding: utf-8             # utf-8 (a BOM is fine) | windows-1252 | latin-1 …
        columns:                    # the columns the file is expected to have
          student_id: string
          birth_date: {type: date, format: "%m/%d/%Y"}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from nexus.integration.connectors.base import COLUMN_TYPES, ColumnSpec, CsvFormat
from nexus.integration.errors import IngestionError

_DELIMITERS = {"tab": "\t", "\\t": "\t", "pipe": "|", "comma": ",", "semicolon": ";"}


@dataclass(frozen=True)
class EntityMapping:
    entity: str
    file: str
    natural_key: tuple[str, ...]
    csv: CsvFormat
    columns: dict[str, ColumnSpec]

    @property
    def expected_columns(self) -> tuple[str, ...] | None:
        return tuple(self.columns) or None


def load_mapping(path: Path) -> list[EntityMapping]:
    """Read and check a mapping file; every problem is reported with the file's name."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IngestionError(f"cannot read mapping {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise IngestionError(f"mapping {path.name} is not valid YAML: {exc}") from None
    return parse_mapping(document, path.name)


def parse_mapping(document: object, name: str) -> list[EntityMapping]:
    if not isinstance(document, dict) or not isinstance(document.get("entities"), list):
        raise IngestionError(f"mapping {name}: expected a mapping with an `entities` list")
    if document.get("version", 1) != 1:
        raise IngestionError(f"mapping {name}: unsupported version {document.get('version')!r}")
    found = [_entity(item, name, i) for i, item in enumerate(document["entities"], 1)]
    names = [m.entity for m in found]
    for entity in names:
        if names.count(entity) > 1:
            raise IngestionError(f"mapping {name}: entity {entity!r} is mapped twice")
    return found


def _entity(item: object, name: str, index: int) -> EntityMapping:
    where = f"mapping {name}, entity #{index}"
    if not isinstance(item, dict):
        raise IngestionError(f"{where}: expected a mapping")
    entity = item.get("entity")
    if not entity or not isinstance(entity, str):
        raise IngestionError(f"{where}: `entity` is required")
    where = f"mapping {name}, entity {entity!r}"
    key = item.get("natural_key")
    if isinstance(key, str):
        key = [key]
    if not key or not all(isinstance(k, str) for k in key):
        raise IngestionError(f"{where}: `natural_key` must name one or more columns")
    delimiter = str(item.get("delimiter", ","))
    delimiter = _DELIMITERS.get(delimiter.lower(), delimiter)
    if len(delimiter) != 1:
        raise IngestionError(f"{where}: delimiter {delimiter!r} must be one character")
    columns: dict[str, ColumnSpec] = {}
    for column, spec in (item.get("columns") or {}).items():
        if isinstance(spec, str) or spec is None:
            spec = {"type": spec or "string"}
        kind = spec.get("type", "string")
        if kind not in COLUMN_TYPES:
            raise IngestionError(
                f"{where}: column {column!r} has unknown type {kind!r} "
                f"(use {', '.join(COLUMN_TYPES)})"
            )
        columns[str(column)] = ColumnSpec(str(column), kind, spec.get("format"))
    header = bool(item.get("header", True))
    if not header and not columns:
        raise IngestionError(f"{where}: a file without a header needs its `columns` in order")
    missing = [k for k in key if columns and k not in columns]
    if missing:
        raise IngestionError(f"{where}: key column {missing[0]!r} is not among its columns")
    return EntityMapping(
        entity=entity,
        file=str(item.get("file") or f"{entity}.csv"),
        natural_key=tuple(key),
        csv=CsvFormat(
            delimiter=delimiter,
            header=header,
            encoding=str(item.get("encoding", "utf-8")),
            column_names=() if header else tuple(columns),
        ),
        columns=columns,
    )
