"""PowerSchool student export: `STUDENTS.FIELD` headers, one row per student.

The preset (`presets.yaml`) gives the columns, their types and the natural key
(`STUDENTS.DCID`). SOURCE is the export file or a folder holding it; in a folder the file is
`students.csv` or else the one file whose header carries the key column. Districts name some
export columns themselves (the e-mail is a custom field, not a PowerSchool column), so the
`columns` option renames preset columns to the district's headers:

    columns: {STUDENTS.EMAIL: "Student Email"}

given as a connection option or in a YAML file passed with `--mapping FILE`. Renamed columns
keep their type and are stored under the district's header, so the snapshot reproduces the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import yaml

from nexus.integration.connectors.base import ColumnSpec, ConnectorContext, Delivery
from nexus.integration.connectors.delimited import file_delivery
from nexus.integration.connectors.mapping import EntityMapping, load_mapping
from nexus.integration.connectors.vendor_files import read_header, source_files
from nexus.integration.errors import IngestionError

PRESETS = Path(__file__).with_name("presets.yaml")


def presets() -> list[EntityMapping]:
    return load_mapping(PRESETS)


def column_renames(options: dict) -> dict[str, str]:
    """Preset column -> district header, from `options["columns"]` or the `--mapping` YAML."""
    renames = options.get("columns")
    if renames is None and options.get("mapping"):
        path = Path(options["mapping"])
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise IngestionError(f"cannot read mapping {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise IngestionError(f"mapping {path.name} is not valid YAML: {exc}") from None
        if not isinstance(document, dict):
            raise IngestionError(f"mapping {path.name}: expected a mapping with `columns`")
        renames = document.get("columns")
    if renames is None:
        return {}
    if not isinstance(renames, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in renames.items()
    ):
        raise IngestionError(
            "PowerSchool `columns` must map preset columns to header names, "
            'e.g. {STUDENTS.EMAIL: "Student Email"}'
        )
    return {k: v.strip() for k, v in renames.items()}


def renamed(mapping: EntityMapping, renames: dict[str, str]) -> EntityMapping:
    """The preset with its columns renamed to the district's headers."""
    unknown = sorted(set(renames) - set(mapping.columns))
    if unknown:
        raise IngestionError(
            f"PowerSchool `columns` renames {', '.join(unknown)}, not a column of the "
            f"{mapping.entity} export"
        )
    names = [renames.get(c, c) for c in mapping.columns]
    for name in names:
        if names.count(name) > 1:
            raise IngestionError(f"PowerSchool `columns`: two columns would be named {name!r}")
    columns = {
        renames.get(c, c): ColumnSpec(renames.get(c, c), s.type, s.format)
        for c, s in mapping.columns.items()
    }
    key = tuple(renames.get(k, k) for k in mapping.natural_key)
    return replace(mapping, columns=columns, natural_key=key)


class PowerSchoolConnector:
    kind = "powerschool"

    def deliveries(self, source: str, context: ConnectorContext) -> Iterator[Delivery]:
        renames = column_renames(context.options)
        mapping = renamed(presets()[0], renames)
        files = source_files(source, "PowerSchool export")
        found = files[0] if len(files) == 1 and Path(source).is_file() else None
        if found is None:
            by_name = [p for p in files if p.name.lower() == mapping.file]
            by_header = [p for p in files if set(mapping.natural_key) <= set(read_header(p))]
            candidates = by_name or by_header
            if len(candidates) > 1:
                yield Delivery(
                    entity=mapping.entity,
                    name=mapping.file,
                    natural_key=mapping.natural_key,
                    failure=f"{len(candidates)} files look like the student export: "
                    + ", ".join(p.name for p in candidates[:5]),
                )
                return
            found = candidates[0] if candidates else None
        if found is None:
            yield Delivery(
                entity=mapping.entity,
                name=mapping.file,
                natural_key=mapping.natural_key,
                failure=f"expected the student export ({mapping.file}, or a file with "
                f"{', '.join(mapping.natural_key)}) was not delivered",
            )
            return
        yield file_delivery(mapping, found)
