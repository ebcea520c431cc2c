"""Ingestion benchmark: a 25,000-student `nexus synth` district's Campus extracts.

Reports rows/s and peak RSS for the first run and for a daily re-run with 1% of attendance and
student rows changed, on DuckDB and on PostgreSQL, side by side with plain DuckDB SQL doing
the same versioning work (payload to JSON, md5, anti-join insert, close changed versions) in
one process — the reference. Each measurement runs in its own process so its peak RSS is its own.

    .venv/bin/python bench/ingest.py [--students 25000] [--changed 0.01] \
        [--backends duckdb,postgresql]

Benchmarks print figures; they do not fail on timing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def generate(folder: Path, students: int, seed: int) -> dict[str, int]:
    """A synthetic district's Campus extract files (`nexus synth`); rows per file."""
    from nexus.synth import generate as synthesise

    synthesise(folder, students=students, seed=seed, formats=("campus-extract",))
    db = duckdb.connect()
    return {
        path.stem: db.execute(f"SELECT count(*) FROM read_csv('{path}')").fetchone()[0]
        for path in sorted((folder / "campus-extract").glob("*.csv"))
    }


def daily_copy(first: Path, daily: Path, share: float) -> int:
    """The next day's extracts: `share` of attendance and student rows changed; rows changed."""
    shutil.copytree(first, daily)
    db = duckdb.connect()
    changed = 0
    picks = {
        "attendance": ("attendance.presentMinutes", "attendance.personID", "attendance.date"),
        "students": ("student.homePrimaryLanguage", "student.personID", "student.personID"),
    }
    for entity, (column, key1, key2) in picks.items():
        path = daily / "campus-extract" / f"{entity}.csv"
        pick = f'hash("{key1}", "{key2}") % 10000 < {int(share * 10000)}'
        db.execute(
            f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{path}', all_varchar = true, "
            f"header = true)"
        )
        changed += db.execute(f"SELECT count(*) FROM t WHERE {pick}").fetchone()[0]
        db.execute(f"UPDATE t SET \"{column}\" = coalesce(\"{column}\", '') || '9' WHERE {pick}")
        db.execute(f"COPY t TO '{path}' (HEADER)")
    return changed


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_nexus(home: str, url: str, folder: str, init: bool) -> dict:
    os.environ["NEXUS_HOME"] = home
    os.environ["NEXUS_DATABASE_URL"] = url
    from nexus.integration import ingest
    from nexus.store import open_store
    from nexus.store.migrate import upgrade
    from nexus.store.tenants import add_tenant

    store = open_store()
    if init:
        upgrade(store.engine)
        with store.engine.begin() as conn:
            add_tenant(conn, "bench", "Bench R-I", "048078")
    started = time.perf_counter()
    result = ingest(store, "bench", "campus-extract", str(Path(folder) / "campus-extract"))
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "status": result.status,
        "entities": result.entities,
        "peak_rss_mb": _peak_rss_mb(),
    }


def worker_reference(db_path: str, folder: str) -> dict:
    """Plain DuckDB SQL doing the same versioning work on the same files, no Nexus code."""
    from nexus.integration.connectors.campus_extract import presets

    db = duckdb.connect(db_path)
    db.execute(
        "CREATE TABLE IF NOT EXISTS versions (entity VARCHAR, natural_key VARCHAR, "
        "checksum VARCHAR, payload VARCHAR, valid_from INTEGER, valid_to INTEGER)"
    )
    run = db.execute("SELECT coalesce(max(valid_from), 0) + 1 FROM versions").fetchone()[0]
    started = time.perf_counter()
    for mapping in presets():
        entity = mapping.entity
        path = Path(folder) / "campus-extract" / mapping.file
        source = f"read_csv('{path}', all_varchar = true, header = true)"
        cols = [d[0] for d in db.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        payload = "json_object(" + ", ".join(f"'{c}', \"{c}\"" for c in cols) + ")::VARCHAR"
        key = "concat_ws(chr(31), " + ", ".join(f'"{k}"' for k in mapping.natural_key) + ")"
        db.execute(
            f"CREATE OR REPLACE TEMP TABLE stage AS SELECT {key} AS natural_key, "
            f"md5({payload}) AS checksum, {payload} AS payload FROM {source}"
        )
        db.execute(
            f"CREATE OR REPLACE TEMP TABLE cls AS SELECT s.*, v.checksum AS cur FROM stage s "
            f"LEFT JOIN versions v ON v.entity = '{entity}' AND v.valid_to IS NULL "
            f"AND v.natural_key = s.natural_key"
        )
        db.execute(
            f"UPDATE versions SET valid_to = {run} WHERE entity = '{entity}' AND valid_to IS NULL "
            f"AND natural_key IN (SELECT natural_key FROM cls WHERE cur <> checksum)"
        )
        db.execute(
            f"INSERT INTO versions SELECT '{entity}', natural_key, checksum, payload, {run}, "
            f"NULL FROM cls WHERE cur IS NULL OR cur <> checksum"
        )
    seconds = time.perf_counter() - started
    db.close()
    return {"seconds": seconds, "status": "reference", "peak_rss_mb": _peak_rss_mb()}


def _child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"worker failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _admin():
    import sqlalchemy as sa

    return sa, sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")


def _pg_database() -> str:
    sa, admin = _admin()
    name = f"nexus_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    return name


def _drop_pg(name: str) -> None:
    sa, admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--backends", default="duckdb,postgresql")
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    first, daily = OUT / "first", OUT / "daily"
    rows = generate(first, args.students, args.seed)
    changed = daily_copy(first, daily, args.changed)
    total = sum(rows.values())
    print(
        f"{args.students:,} students: {rows.get('attendance', 0):,} attendance rows, "
        f"{total:,} rows in {len(rows)} extract files; the daily re-run changes {changed:,} rows"
    )
    results: list[tuple[str, str, dict]] = []
    reference = str(OUT / "ref.duckdb")
    results.append(
        ("reference (plain DuckDB SQL)", "first", _child("reference", reference, str(first)))
    )
    results.append(
        ("reference (plain DuckDB SQL)", "daily", _child("reference", reference, str(daily)))
    )
    for backend in args.backends.split(","):
        home = OUT / f"home-{backend}"
        pg = None
        if backend == "duckdb":
            url = f"duckdb:///{home / 'nexus.duckdb'}"
        else:
            pg = _pg_database()
            url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg}"
        try:
            results.append(
                (
                    f"nexus on {backend}",
                    "first",
                    _child("nexus", str(home), url, str(first), "init"),
                )
            )
            results.append(
                (f"nexus on {backend}", "daily", _child("nexus", str(home), url, str(daily), ""))
            )
        finally:
            if pg:
                _drop_pg(pg)
    print(f"{'engine':<30} {'run':<6} {'seconds':>8} {'rows/s':>11} {'peak RSS MB':>12}  status")
    for engine, run, r in results:
        print(
            f"{engine:<30} {run:<6} {r['seconds']:>8.1f} {total / r['seconds']:>11,.0f} "
            f"{r['peak_rss_mb']:>12,.0f}  {r['status']}"
        )
        if "entities" in r:
            att = r["entities"].get("attendance", {})
            print(
                f"{'':<38}attendance new {att.get('new', 0):,} changed "
                f"{att.get('changed', 0):,} unchanged {att.get('unchanged', 0):,}"
            )
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        if sys.argv[2] == "nexus":
            print(json.dumps(worker_nexus(*sys.argv[3:6], bool(sys.argv[6]))))
        else:
            print(json.dumps(worker_reference(sys.argv[3], sys.argv[4])))
    else:
        main()
