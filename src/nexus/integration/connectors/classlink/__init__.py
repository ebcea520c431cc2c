"""ClassLink rosters as OneRoster 1.1 CSV: `users.csv`, and `orgs.csv` when delivered.

ClassLink's roster export is OneRoster 1.1 files without the bundle's `manifest.csv`, so this
connector reads the files directly. SOURCE is a folder holding them or the `users.csv` file.
Every file is keyed by `sourcedId`; its expected columns are the OneRoster 1.1 spec header
(`oneroster/spec.py`) plus any `metadata.*` / `ext_*` extension columns present, and the spec's
typed columns (dates, flags) are checked. `users.csv` is always expected; `orgs.csv` is taken
when present and expected only when `--entities` names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from nexus.integration.connectors.base import ConnectorContext, CsvFormat, Delivery
from nexus.integration.connectors.oneroster.spec import (
    DISTRICT_EVIDENCE,
    NATURAL_KEY,
    column_specs,
    expected_columns,
    spec_header,
)
from nexus.integration.connectors.vendor_files import read_header
from nexus.integration.errors import IngestionError

VERSION = "1.1"
ENTITIES: tuple[str, ...] = ("users", "orgs")
REQUIRED: tuple[str, ...] = ("users",)


def file_delivery(entity: str, path: Path) -> Delivery:
    present = read_header(path)
    return Delivery(
        entity=entity,
        name=path.name,
        natural_key=NATURAL_KEY,
        columns=column_specs(spec_header(VERSION, entity) or ()),
        expected_columns=expected_columns(VERSION, entity, present),
        path=path,
        csv=CsvFormat(),
        district_evidence=DISTRICT_EVIDENCE if entity == "orgs" else None,
    )


class ClassLinkConnector:
    kind = "classlink"

    def deliveries(self, source: str, context: ConnectorContext) -> Iterator[Delivery]:
        path = Path(source).expanduser()
        if not path.exists():
            raise IngestionError(f"source {source} does not exist")
        wanted = context.options.get("entities")
        if wanted:
            unknown = set(wanted) - set(ENTITIES)
            if unknown:
                raise IngestionError(
                    f"no ClassLink entity {', '.join(sorted(unknown))}: use {', '.join(ENTITIES)}"
                )
        if path.is_file():
            if path.stem.lower() not in ENTITIES:
                raise IngestionError(
                    f"{path.name}: give users.csv or orgs.csv, or the folder holding them"
                )
            files = {path.stem.lower(): path}
        else:
            files = {
                p.stem.lower(): p
                for p in sorted(path.iterdir())
                if p.is_file() and p.suffix.lower() == ".csv" and p.stem.lower() in ENTITIES
            }
        expected = set(wanted) if wanted else set(REQUIRED) | set(files)
        if path.is_file() and not wanted:
            expected = set(files)
        for entity in ENTITIES:
            if entity not in expected:
                continue
            found = files.get(entity)
            if found is None:
                yield Delivery(
                    entity=entity,
                    name=f"{entity}.csv",
                    natural_key=NATURAL_KEY,
                    failure=f"expected file {entity}.csv was not delivered",
                )
            else:
                yield file_delivery(entity, found)
