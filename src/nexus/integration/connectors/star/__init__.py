"""Renaissance Star data extracts: `SR.csv` (Reading), `SM.csv` (Math), `SEL.csv` (Early Literacy).

SOURCE is a folder of extract files or one file. A file named `SR`, `SM` or `SEL` (with or
without `_v2`, any case) is that product; any other file is recognised by its header or else
left alone (companion files such as `SR_Dashboard_Standards_v2.csv` are not taken). The layout,
v2 or the older (legacy) one, is detected from the header row: the layout whose key column the
header carries and which misses at most a tenth of its columns, fewest missing first. A named
file that fits neither layout fails, and the reason lists the nearest layout's missing columns.

Entities are `star_reading`, `star_math` and `star_early_literacy`, one row per test event,
keyed by `AssessmentID` (v2) or `StudentAssessmentID` (legacy). Only the products delivered are
expected, since districts license them separately; `--entities` names the ones that must come.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from nexus.integration.connectors.base import (
    ConnectorContext,
    CsvFormat,
    Delivery,
    DistrictEvidence,
)
from nexus.integration.connectors.star.layouts import (
    HEADERS,
    NATURAL_KEY,
    PRODUCTS,
    column_specs,
)
from nexus.integration.connectors.vendor_files import read_header, source_files
from nexus.integration.errors import IngestionError

# A header may miss this share of a layout's columns and still be read as that layout (drift).
TOLERANCE = 0.1
_SHOWN = 12
_FILE = {entity: f"{code}.csv" for code, entity in PRODUCTS.items()}


def product_of(path: Path) -> str | None:
    """SR / SM / SEL from the file name (`SR.csv`, `sm_v2.csv`), or None."""
    stem = path.stem.upper()
    stem = stem.removesuffix("_V2")
    return stem if stem in PRODUCTS else None


def detect(header: list[str], product: str | None) -> tuple[str, str] | str:
    """(layout, product) the header fits, or the reason it fits none."""
    present = set(header)
    candidates = [k for k in HEADERS if product is None or k[1] == product]
    scored = []
    for layout, prod in candidates:
        columns = HEADERS[(layout, prod)]
        missing = [c for c in columns if c not in present]
        scored.append((len(missing), layout, prod, missing))
    # Nearest: the smallest share of the layout's columns missing (layouts differ in width).
    scored.sort(key=lambda s: s[0] / len(HEADERS[(s[1], s[2])]))
    for n, layout, prod, _missing in scored:
        key_ok = set(NATURAL_KEY[layout]) <= present
        if key_ok and n <= TOLERANCE * len(HEADERS[(layout, prod)]):
            return layout, prod
    n, layout, prod, missing = scored[0]
    shown = ", ".join(missing[:_SHOWN]) + (f" and {n - _SHOWN} more" if n > _SHOWN else "")
    return (
        f"header matches neither Star layout (v2, legacy); nearest is {layout} {prod}, "
        f"missing {n} of its {len(HEADERS[(layout, prod)])} columns: {shown}"
    )


def district_evidence(header: tuple[str, ...]) -> DistrictEvidence | None:
    """Star rows carry their district: name, state id (DESE code) and Renaissance id."""
    roles = {
        "name": "DistrictName",
        "county_district_code": "DistrictStateID",
        "account_id": "DistrictRenaissanceID",
    }
    present = {role: column for role, column in roles.items() if column in header}
    return DistrictEvidence(columns=present) if present else None


class StarConnector:
    kind = "star"

    def deliveries(self, source: str, context: ConnectorContext) -> Iterator[Delivery]:
        wanted = context.options.get("entities")
        if wanted:
            unknown = set(wanted) - set(PRODUCTS.values())
            if unknown:
                raise IngestionError(
                    f"no Star entity {', '.join(sorted(unknown))}: "
                    f"use {', '.join(PRODUCTS.values())}"
                )
        single = Path(source).expanduser().is_file()
        found: dict[str, list[Delivery]] = {}
        for path in source_files(source, "Star"):
            product = product_of(path)
            detected = detect(read_header(path), product)
            if isinstance(detected, str):
                if product is None and not single:
                    continue  # not a Star extract: a companion file or something else
                entity = PRODUCTS[product] if product else "star"
                delivery = Delivery(
                    entity=entity,
                    name=path.name,
                    natural_key=NATURAL_KEY["v2"],
                    failure=f"{path.name}: {detected}",
                )
            else:
                layout, prod = detected
                delivery = Delivery(
                    entity=PRODUCTS[prod],
                    name=path.name,
                    natural_key=NATURAL_KEY[layout],
                    columns=column_specs(layout, prod),
                    expected_columns=HEADERS[(layout, prod)],
                    path=path,
                    csv=CsvFormat(),
                    district_evidence=district_evidence(HEADERS[(layout, prod)]),
                )
            found.setdefault(delivery.entity, []).append(delivery)
        if not found and not wanted:
            raise IngestionError(f"source {source} holds no Star extract (SR, SM or SEL)")
        for entity in [*PRODUCTS.values(), "star"]:
            deliveries = found.get(entity)
            if wanted and entity not in wanted:
                continue
            if not deliveries:
                if wanted:
                    yield Delivery(
                        entity=entity,
                        name=_FILE.get(entity, "star.csv"),
                        natural_key=NATURAL_KEY["v2"],
                        failure=f"expected Star extract for {entity} was not delivered",
                    )
                continue
            if len(deliveries) > 1:
                yield Delivery(
                    entity=entity,
                    name=deliveries[0].name,
                    natural_key=deliveries[0].natural_key,
                    failure=f"{len(deliveries)} files hold {entity}: "
                    + ", ".join(d.name for d in deliveries[:5]),
                )
                continue
            yield deliveries[0]
