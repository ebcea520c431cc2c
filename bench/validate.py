"""Validation benchmark: one cycle of a 25,000-student district, every layout, on DuckDB.

Synthesises (cached) and sets up a district exactly as `bench/mosis.py` does (its `synthesise`
and `worker_setup`: Campus extract, ingest, map; timed apart), then measures `nexus validate`
(`nexus.validation.engine.validate`) for the October cycle: every layout with derivations plus
the SIS rules, the first run (every exception new) and a second, daily run on the same data
(every exception seen again: the identity merge path). Each measurement runs in its own
process so its peak RSS is its own. For reference, the SIS rules' SQL is also run as plain
DuckDB SQL straight against the store file (no work area, no exceptions written).

    .venv/bin/python bench/validate.py [--students 25000] [--seed 1] [--cycle october]
        [--defects 0.01] [--postgresql ADMIN_URL] [--keep] [--json]

`--postgresql postgresql://postgres@127.0.0.1:5432/postgres` runs the same on a fresh
PostgreSQL database (created and dropped with `bench/map.py`'s helpers) instead of DuckDB;
the plain-SQL reference is DuckDB-only and left out there.

`--defects` synthesises a district with labelled defects (not cached with the clean one), so
the run writes a realistic number of exceptions. Target (issue 6, item 7): under 30 s on
DuckDB at 25,000 students. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mosis as bench_mosis  # noqa: E402  (bench/mosis.py: synthesise, worker_setup)

TENANT = bench_mosis.TENANT
YEAR = bench_mosis.YEAR
WORK = Path(tempfile.gettempdir()) / "nexus-bench-validate"
TARGET_S = 30.0


def synthesise(work: Path, students: int, seed: int, defects: float) -> Path:
    if not defects:
        return bench_mosis.synthesise(work, students, seed)
    folder = work / f"synth-{students}-{seed}-d{defects}"
    done = folder / ".complete"
    if not done.exists():
        from nexus.synth import generate

        shutil.rmtree(folder, ignore_errors=True)
        generate(
            folder,
            students=students,
            seed=seed,
            formats=("campus-extract",),
            defect_rate=defects,
        )
        done.write_text("ok\n")
    return folder / "campus-extract"


def worker_validate(home: str, url: str, cycle: str) -> dict:
    from nexus.validation.engine import validate

    store = bench_mosis._open(home, url)
    started = time.perf_counter()
    result = validate(store, TENANT, YEAR, cycle, user="bench")
    seconds = time.perf_counter() - started
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT layout, sum(rows) FROM reporting.validation_row_counts "
            f"WHERE validation_run_id = {int(result.validation_run_id)} GROUP BY layout"
        ).all()
    return {
        "seconds": seconds,
        "run": result.validation_run_id,
        "layouts": result.layouts,
        "rows_checked": {layout: int(n) for layout, n in rows},
        "found": result.found,
        "new": result.new,
        "by_severity": result.by_severity,
        "peak_rss_mb": bench_mosis._peak_rss_mb(),
    }


def worker_reference(store_file: str) -> dict:
    """The SIS rules' SQL as plain DuckDB queries on the store (tenant filter aside)."""
    import duckdb

    from nexus.validation import catalog

    db = duckdb.connect(store_file, read_only=True)
    db.execute(
        "CREATE TEMP TABLE sis_scope AS SELECT key_scope FROM education.enrollments "
        f"WHERE school_year = {YEAR} GROUP BY key_scope ORDER BY count(*) DESC LIMIT 1"
    )
    timings = {}
    started = time.perf_counter()
    for rule in catalog.nexus_rules(YEAR):
        # Rules reading work-area tables (mapping errors, this cycle's population) need the
        # engine: left out of the reference.
        if rule.kind != "sql" or rule.rule_id == "NX-SIS-MAP" or rule.spec.get("needs"):
            continue
        sql = (
            rule.spec["sql"]
            .replace("$school_year", str(YEAR))
            .replace("$year_start", f"{YEAR - 1}-07-01")
            .replace("$year_end", f"{YEAR}-06-30")
        )
        t = time.perf_counter()
        n = len(db.execute(sql).fetchall())
        timings[rule.rule_id] = {"seconds": round(time.perf_counter() - t, 3), "rows": n}
    return {
        "seconds": time.perf_counter() - started,
        "rules": timings,
        "peak_rss_mb": bench_mosis._peak_rss_mb(),
    }


def _child(name: str, *args) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", name, *map(str, args)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        name, args = sys.argv[2], sys.argv[3:]
        worker = {
            "setup": bench_mosis.worker_setup,
            "validate": worker_validate,
            "reference": worker_reference,
        }[name]
        print(json.dumps(worker(*args), default=str))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cycle", default="october")
    parser.add_argument("--defects", type=float, default=0.0)
    parser.add_argument("--postgresql", metavar="ADMIN_URL", default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    say = (lambda m: None) if opts.json else (lambda m: print(m, file=sys.stderr, flush=True))
    say(f"synthesising {opts.students:,} students (cached under {WORK})")
    folder = synthesise(WORK, opts.students, opts.seed, opts.defects)
    home = WORK / f"home-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    store_file = home / "nexus.duckdb"
    url = f"duckdb:///{store_file}"
    pg_name = None
    if opts.postgresql:
        import map as bench_map  # bench/map.py: _pg_create, _pg_drop

        pg_name, url = bench_map._pg_create(opts.postgresql)
    try:
        say("setup: ingest + map (timed apart)")
        setup = _child("setup", home, url, folder)
        say(f"  {setup['seconds']:.1f} s")
        say("validate: first run")
        first = _child("validate", home, url, opts.cycle)
        say(f"  {first['seconds']:.1f} s, {first['found']:,} exceptions")
        say("validate: daily re-run on the same data")
        second = _child("validate", home, url, opts.cycle)
        say(f"  {second['seconds']:.1f} s")
        reference = None
        if pg_name is None:
            say("reference: the SIS rules as plain DuckDB SQL")
            reference = _child("reference", store_file)
    finally:
        if not opts.keep:
            shutil.rmtree(home, ignore_errors=True)
            if pg_name is not None:
                bench_map._pg_drop(opts.postgresql, pg_name)
    report = {
        "backend": "postgresql" if pg_name else "duckdb",
        "students": opts.students,
        "cycle": opts.cycle,
        "defect_rate": opts.defects,
        "setup": setup,
        "first": first,
        "second": second,
        "reference": reference,
        "target_seconds": TARGET_S,
        "note": "taken on a 2-core machine shared with other agents' work",
    }
    if opts.json:
        print(json.dumps(report, indent=2, default=str))
        return
    print(
        f"setup (ingest + map, not measured): {setup['seconds']:.1f} s "
        f"(ingest {setup['ingest_seconds']:.1f} s, map {setup['map_seconds']:.1f} s)"
    )
    rows = sum(first["rows_checked"].values())
    for label, r in (("first run", first), ("daily re-run", second)):
        print(
            f"{report['backend']} validate {opts.cycle} ({label}): {r['seconds']:.1f} s for "
            f"{rows:,} rows over "
            f"{len(r['layouts'])} layouts ({rows / r['seconds']:,.0f} rows/s), {r['found']:,} "
            f"exceptions ({r['new']:,} new), peak RSS {r['peak_rss_mb']:,.0f} MB; "
            f"target {TARGET_S:.0f} s: {'met' if r['seconds'] < TARGET_S else 'missed'}"
        )
    if reference is not None:
        print(
            f"plain DuckDB SQL of the SIS rules on the store: {reference['seconds']:.1f} s, "
            f"peak RSS {reference['peak_rss_mb']:,.0f} MB"
        )
    for layout, n in sorted(first["rows_checked"].items()):
        print(f"  {layout:24} {n:>9,} rows")


if __name__ == "__main__":
    main()
