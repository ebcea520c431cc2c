"""`nexus demo`: a synthetic Missouri district, ingested end to end into the embedded store.

The demo is what an operator runs first: it synthesises a district (`nexus.synth`), creates
its tenant, ingests the district through every connector that reads what synth writes
(Campus extracts, the Campus-shaped database over direct SQL, the OneRoster bundle), maps each
run into the canonical model (the OneRoster people link onto the Campus people), generates the
October Student Core MOSIS file, validates the October cycle (readiness per layout and school,
open exceptions by owner), and returns what each step did. Run it twice: the second pass
finds every record and canonical row unchanged, and makes the same file. Later layers add
their steps here as they land.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nexus.canonical import MapResult, map_run
from nexus.identity import district_gate, register_district
from nexus.integration import RunResult, ingest
from nexus.mosis.extract import ExtractResult, run_extract
from nexus.store import Store
from nexus.store.migrate import upgrade
from nexus.store.tenants import add_tenant, find_tenant
from nexus.synth import generate
from nexus.validation.engine import validate
from nexus.validation.readiness import readiness, top_by_owner

DEMO_TENANT = "demo"


@dataclass
class DemoResult:
    district: dict
    out_dir: Path
    runs: list[tuple[str, RunResult]]
    maps: list[tuple[str, MapResult]]
    extract: ExtractResult | None = None
    # Daily readiness (validation layer): the October validation, its readiness per layout
    # and school, and the open exceptions by owner.
    validation: dict | None = None
    readiness: dict | None = None
    top_owners: list[dict] | None = None


def run_demo(
    store: Store,
    students: int = 1000,
    seed: int = 7,
    report: Callable[[str], None] | None = None,
) -> DemoResult:
    """Synthesise, register, ingest and map a district; returns what each step did."""
    say = report or (lambda message: None)
    upgrade(store.engine)
    out_dir = store.settings.home / "demo-district"
    say(f"synthesising {students:,} students into {out_dir}")
    generate(
        out_dir, students=students, seed=seed, formats=("campus-db", "campus-extract", "oneroster")
    )
    district = json.loads((out_dir / "district.json").read_text())
    with store.engine.begin() as conn:
        if find_tenant(conn, DEMO_TENANT) is None:
            tenant = add_tenant(
                conn,
                DEMO_TENANT,
                district["name"],
                district.get("county_district_code"),
                district.get("nces_id"),
            )
            register_district(conn, tenant)
    runs: list[tuple[str, RunResult]] = []
    for kind, source in (
        ("campus-extract", str(out_dir / "campus-extract")),
        ("campus-sql", f"duckdb:///{out_dir / 'campus.duckdb'}"),
        ("oneroster", str(out_dir / "oneroster")),
    ):
        say(f"ingesting {kind}")
        runs.append(
            (kind, ingest(store, DEMO_TENANT, kind, source, user="demo", gate=district_gate))
        )
    maps: list[tuple[str, MapResult]] = []
    for kind, run in runs:
        if run.status in ("succeeded", "partial"):
            say(f"mapping {kind} into the canonical model")
            maps.append((kind, map_run(store, DEMO_TENANT, run.run_id, user="demo")))
    say("generating the October Student Core MOSIS file")
    extract = run_extract(
        store,
        DEMO_TENANT,
        int(district["end_year"]),
        "october",
        "student_core",
        out_dir / "mosis",
        user="demo",
    )
    say("validating the October cycle (daily readiness)")
    year = int(district["end_year"])
    validation = validate(store, DEMO_TENANT, year, "october", user="demo")
    return DemoResult(
        district=district,
        out_dir=out_dir,
        runs=runs,
        maps=maps,
        extract=extract,
        validation=validation.as_dict(),
        readiness=readiness(store, DEMO_TENANT, year, "october"),
        top_owners=top_by_owner(store, DEMO_TENANT, year, "october"),
    )
