"""Every row of every layout Nexus generates conforms to its layout, in every cycle it is
collected in (the six cycles, annual collections and the precode windows): column count and
header, required values, widths, numbers, code sets (a set the package knows to be partial
only warns, so it is not held against a value here).

The district is a synthetic one (`nexus synth`), ingested from its Campus extracts and mapped.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from nexus.canonical import map_run
from nexus.identity import register_district
from nexus.integration import ingest
from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.cycles import COLLECTIONS, CYCLE_CODES
from nexus.mosis.derivations import POPULATIONS, load_all
from nexus.mosis.extract import collected_in, run_extract, seen_cycles
from nexus.store.tenants import add_tenant
from nexus.synth import generate

YEAR = 2027


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("conformance")
    generate(out, students=60, seed=21, formats=("campus-extract",))
    return out


def _collections(layout) -> list[tuple[str, str]]:
    """(cycle name for `run_extract`, DESE code) of every collection the layout is in."""
    names = {code: name for name, code in CYCLE_CODES.items()} | {"ALL": "annual"}
    names |= {name.upper(): name for name in COLLECTIONS if name != "annual"}
    return [(names[code], code) for code in layout.cycles]


def _conforms(layout, cycle_code: str, path: Path, codes: dict[str, set[str]]) -> list[str]:
    problems = []
    seen = seen_cycles(layout)
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh, delimiter=layout.delimiter))
    header, body = (rows[0], rows[1:]) if layout.header_row else (None, rows)
    if header is not None and header != [f.header for f in layout.fields]:
        problems.append(f"header {header[:3]}… is not the layout's")
    for n, row in enumerate(body, start=2):
        if len(row) != len(layout.fields):
            problems.append(f"line {n}: {len(row)} columns, layout has {len(layout.fields)}")
            continue
        for f, value in zip(layout.fields, row, strict=True):
            where = f"line {n} {f.column_name or f.item_name}"
            if not collected_in(f, cycle_code, seen):
                if value != "":
                    problems.append(f"{where}: {value!r} in a cycle it is not collected in")
                continue
            if mosis_layouts.requirement_for(f, cycle_code) == "Required" and value == "":
                problems.append(f"{where}: required but empty")
            if f.length and len(value) > f.length:
                problems.append(f"{where}: {value!r} longer than {f.length}")
            if value and (f.data_type or "").lower() in ("integer", "number"):
                try:
                    float(value)
                except ValueError:
                    problems.append(f"{where}: {value!r} is not a number")
            known = codes.get(f.code_set or "")
            if value and known and value not in known:
                problems.append(f"{where}: {value!r} not in {f.code_set}")
    return problems


def test_every_generated_row_conforms_to_its_layout(store, synthetic, tmp_path):
    district = json.loads((synthetic / "district.json").read_text())
    tenant = "synthetic"
    with store.engine.begin() as conn:
        register_district(
            conn,
            add_tenant(
                conn,
                tenant,
                district["name"],
                district["county_district_code"],
                district["nces_id"],
            ),
        )
    run = ingest(store, tenant, "campus-extract", str(synthetic / "campus-extract"))
    assert run.status == "succeeded"
    assert map_run(store, tenant, run.run_id).status == "succeeded"
    load_all()
    checked = 0
    for name in sorted(POPULATIONS):
        with store.engine.begin() as conn:
            mosis_layouts.load_package(conn)
            layout = mosis_layouts.get_layout(conn, name, YEAR)
            partial = mosis_layouts.partial_code_sets(YEAR)
            codes = {
                code_set: {c.code for c in values}
                for code_set, values in layout.code_sets.items()
                if code_set not in partial
            }
        for cycle, code in _collections(layout):
            result = run_extract(store, tenant, YEAR, cycle, name, tmp_path / f"{name}-{cycle}")
            assert not _conforms(layout, code, Path(result.file), codes), (name, cycle)
            checked += 1
            if name == "student_core" and cycle == "october":
                assert result.rows > 40, result.as_dict(problem_limit=5)
    assert set(POPULATIONS) == set(mosis_layouts.layout_names())  # every layout has one
    assert checked >= 30
