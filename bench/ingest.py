"""Ingestion benchmark: a 25,000-student district's Campus extracts (~4.5M attendance rows).

Reports rows/s and peak RSS for the first run and for a daily re-run with 1% of rows changed,
on DuckDB and on PostgreSQL, side by side with plain DuckDB SQL doing the same versioning work
(payload to JSON, md5, anti-join insert; close changed versions) in one process — the
reference. Each measurement runs in its own process so peak RSS is its own.

    .venv/bin/python bench/ingest.py [--students 25000] [--days 180] [--backends duckdb,postgresql]

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


def generate(folder: Path, students: int, days: int, changed_share: float, seed: int) -> int:
    """Campus extract files for `students` × `days`; a share of attendance rows changed."""
    folder.mkdir(parents=True, exist_ok=True)
    db = duckdb.connect()
    db.execute(f"SELECT setseed({seed / 1000})")
    db.execute(
        f"COPY (SELECT i AS \"student.personID\", lpad((1000000000 + i)::VARCHAR, 10, '0') "
        f"AS \"student.stateID\", 'S' || i AS \"student.studentNumber\", 'Last' || i AS "
        f'"student.lastName", \'First\' || (i % 997) AS "student.firstName", strftime('
        f"DATE '2010-01-01' + (i % 4000)::INTEGER, '%m/%d/%Y') AS \"student.birthdate\" "
        f"FROM range(1, {students} + 1) t(i)) TO '{folder / 'students.csv'}' (HEADER)"
    )
    db.execute(
        f'COPY (SELECT i AS "enrollment.enrollmentID", i AS "enrollment.personID", '
        f"100 + i % 20 AS \"enrollment.calendarID\", lpad((i % 13)::VARCHAR, 2, '0') AS "
        f'"enrollment.grade", \'08/20/2026\' AS "enrollment.startDate" '
        f"FROM range(1, {students} + 1) t(i)) TO '{folder / 'enrollments.csv'}' (HEADER)"
    )
    # Changed rows are picked by a hash of the key, so the same rows change in every re-run.
    db.execute(
        f'COPY (SELECT s AS "attendance.personID", 100 + s % 20 AS "attendance.calendarID", '
        f"strftime(DATE '2026-08-20' + d::INTEGER, '%m/%d/%Y') AS \"attendance.date\", "
        f'390 AS "attendance.scheduledMinutes", '
        f"CASE WHEN hash(s, d) % 10000 < {int(changed_share * 10000)} THEN 195 "
        f'WHEN hash(s, d, 7) % 100 < 5 THEN 0 ELSE 390 END AS "attendance.presentMinutes", '
        f"CASE WHEN hash(s, d) % 10000 < {int(changed_share * 10000)} THEN 195 "
        f'WHEN hash(s, d, 7) % 100 < 5 THEN 390 ELSE 0 END AS "attendance.absentMinutes", '
        f"'' AS \"attendance.status\", '' AS \"attendance.excuse\" "
        f"FROM range(1, {students} + 1) a(s), range(0, {days}) b(d)) "
        f"TO '{folder / 'attendance.csv'}' (HEADER)"
    )
    return students * days


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
    result = ingest(
        store,
        "bench",
        "campus-extract",
        folder,
        options={"entities": ["students", "enrollments", "attendance"]},
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "status": result.status,
        "entities": result.entities,
        "peak_rss_mb": _peak_rss_mb(),
    }


def worker_reference(db_path: str, folder: str) -> dict:
    """Plain DuckDB SQL doing the same versioning work, no Nexus code."""
    db = duckdb.connect(db_path)
    db.execute(
        "CREATE TABLE IF NOT EXISTS versions (entity VARCHAR, natural_key VARCHAR, "
        "checksum VARCHAR, payload VARCHAR, valid_from INTEGER, valid_to INTEGER)"
    )
    run = db.execute("SELECT coalesce(max(valid_from), 0) + 1 FROM versions").fetchone()[0]
    started = time.perf_counter()
    for entity, key in (
        ("students", ['"student.personID"']),
        ("enrollments", ['"enrollment.enrollmentID"']),
        ("attendance", ['"attendance.personID"', '"attendance.calendarID"', '"attendance.date"']),
    ):
        path = Path(folder) / f"{entity}.csv"
        cols = [
            d[0]
            for d in db.execute(
                f"DESCRIBE SELECT * FROM read_csv('{path}', all_varchar = true)"
            ).fetchall()
        ]
        payload = "json_object(" + ", ".join(f"'{c}', \"{c}\"" for c in cols) + ")::VARCHAR"
        key_expr = "concat_ws(chr(31), " + ", ".join(key) + ")"
        db.execute(
            f"CREATE OR REPLACE TEMP TABLE stage AS SELECT {key_expr} AS natural_key, "
            f"md5({payload}) AS checksum, {payload} AS payload "
            f"FROM read_csv('{path}', all_varchar = true)"
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


def _pg_database() -> str:
    import sqlalchemy as sa

    name = f"nexus_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    return name


def _drop_pg(name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=25_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--backends", default="duckdb,postgresql")
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    first, daily = OUT / "first", OUT / "daily"
    rows = generate(first, args.students, args.days, 0.0, 1)
    generate(daily, args.students, args.days, 0.01, 1)
    total = rows + 2 * args.students
    print(f"{args.students:,} students, {rows:,} attendance rows ({total:,} rows in all)")
    results: list[tuple[str, str, dict]] = []
    results.append(
        (
            "reference (plain DuckDB SQL)",
            "first",
            _child("reference", str(OUT / "ref.duckdb"), str(first)),
        )
    )
    results.append(
        (
            "reference (plain DuckDB SQL)",
            "daily 1%",
            _child("reference", str(OUT / "ref.duckdb"), str(daily)),
        )
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
                (f"nexus on {backend}", "daily 1%", _child("nexus", str(home), url, str(daily), ""))
            )
        finally:
            if pg:
                _drop_pg(pg)
    print(f"{'engine':<30} {'run':<9} {'seconds':>8} {'rows/s':>11} {'peak RSS MB':>12}  status")
    for engine, run, r in results:
        print(
            f"{engine:<30} {run:<9} {r['seconds']:>8.1f} {total / r['seconds']:>11,.0f} "
            f"{r['peak_rss_mb']:>12,.0f}  {r['status']}"
        )
        if "entities" in r:
            print(f"{'':<41}attendance: {r['entities'].get('attendance')}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind = sys.argv[2]
        if kind == "nexus":
            print(
                json.dumps(worker_nexus(sys.argv[3], sys.argv[4], sys.argv[5], bool(sys.argv[6])))
            )
        else:
            print(json.dumps(worker_reference(sys.argv[3], sys.argv[4])))
    else:
        main()
