"""Grade-card marts benchmark: full and incremental refresh of a 25,000-student district.

Setup (timed on its own, reused from bench/mosis.py): `nexus synth` (cached under the work
folder), a fresh DuckDB store, ingest the Campus extract, map it. Then:

1. full refresh: every indicator of 2026-27 (facts, aggregates by school/grade/group,
   suppression) and the operational marts, forced;
2. unchanged refresh: nothing changed, every indicator skipped by its fingerprint;
3. incremental refresh after a day's ingestion: one more attendance day for every student
   enrolled that day, written under a new ingestion run (as a daily map would), so only the
   indicators that read attendance are rebuilt;
4. the same proportional attendance rate in one plain DuckDB SQL statement, as the yardstick;
5. the district grade card (HTML + XLSX).

    .venv/bin/python bench/marts.py [--students 25000] [--seed 1] [--work DIR] [--keep] [--json]
        [--postgresql ADMIN_URL]

Target (issue 8): full refresh under 60 s on DuckDB at 25,000 students, the incremental
refresh well under that. Benchmarks print figures; they do not fail on timing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mosis as mosis_bench  # noqa: E402  (bench/mosis.py: synthesise, worker_setup)

YEAR = 2027
PLAIN_PAR = """
    SELECT 100.0 * avg(CASE WHEN 10 * attended >= 9 * enrolled THEN 1 ELSE 0 END)
    FROM (SELECT a.person_id, sum(a.present_minutes) AS attended,
                 sum(a.present_minutes + a.absent_minutes) AS enrolled
          FROM education.attendance_days a
          JOIN education.calendars c ON c.tenant_id = a.tenant_id AND c.calendar_id = a.calendar_id
          JOIN (SELECT DISTINCT person_id, calendar_id FROM education.enrollments
                WHERE school_year = 2027 AND grade_level <> 'PK') e
            ON e.person_id = a.person_id AND e.calendar_id = a.calendar_id
          WHERE c.school_year = 2027
          GROUP BY a.person_id) s
    WHERE enrolled > 0
"""
# One more school day for every student with an attendance row on the last day, as a daily
# ingestion + map would add it (a new ingestion run id on the new rows).
NEXT_DAY = """
    INSERT INTO education.attendance_days
      (tenant_id, person_id, calendar_id, attendance_date, scheduled_minutes, present_minutes,
       absent_minutes, attendance_status, excuse_code, key_scope, source_key, source_system_id,
       source_record_id, ingestion_run_id, row_hash)
    SELECT tenant_id, person_id, calendar_id, CAST(attendance_date + INTERVAL '1 day' AS DATE),
           scheduled_minutes, scheduled_minutes, 0, 'present', NULL, key_scope,
           source_key || '~next', source_system_id, source_record_id,
           (SELECT max(ingestion_run_id) + 1 FROM education.attendance_days), row_hash
    FROM education.attendance_days
    WHERE attendance_date = (SELECT max(attendance_date) FROM education.attendance_days)
"""


def _timed(func):
    started = time.perf_counter()
    value = func()
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "nexus-bench")
    parser.add_argument("--keep", action="store_true", help="Keep the store afterwards.")
    parser.add_argument(
        "--postgresql",
        metavar="ADMIN_URL",
        help="run on a fresh PostgreSQL database created (and dropped) through this URL, "
        "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    folder = mosis_bench.synthesise(args.work, args.students, args.seed)
    home = args.work / f"marts-store-{args.students}-{args.seed}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    url = f"duckdb:///{home / 'nexus.duckdb'}"
    admin = None
    if args.postgresql:
        admin = sa.create_engine(args.postgresql, isolation_level="AUTOCOMMIT")
        name = f"nexus_bench_marts_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        url = sa.engine.make_url(args.postgresql).set(database=name)
        url = url.render_as_string(hide_password=False)
    setup = mosis_bench.worker_setup(str(home), url, str(folder))

    from nexus.marts.mosis_marts import refresh_operational
    from nexus.marts.refresh import refresh
    from nexus.marts.report import write_report
    from nexus.store import open_store

    store = open_store()
    tenant = mosis_bench.TENANT
    full, full_s = _timed(lambda: refresh(store, tenant, YEAR, force=True))
    _, operational_s = _timed(lambda: refresh_operational(store, tenant))
    unchanged, unchanged_s = _timed(lambda: refresh(store, tenant, YEAR))
    with store.engine.begin() as conn:
        plain, plain_s = _timed(lambda: conn.execute(sa.text(PLAIN_PAR)).scalar())
        facts = conn.execute(sa.text("SELECT count(*) FROM mart.grade_card_facts")).scalar()
        cells = conn.execute(sa.text("SELECT count(*) FROM mart.grade_card_aggregates")).scalar()
        par = conn.execute(
            sa.text(
                "SELECT value FROM mart.grade_card_aggregates WHERE indicator = "
                "'proportional_attendance' AND school_id = 0 AND grade_level = 'all' "
                "AND group_code = 'all'"
            )
        ).scalar()
    with store.engine.begin() as conn:
        added = conn.execute(sa.text(NEXT_DAY)).rowcount
    daily, daily_s = _timed(lambda: refresh(store, tenant, YEAR))
    report, report_s = _timed(lambda: write_report(store, tenant, YEAR, home / "card"))
    slowest = sorted(full.by_indicator.items(), key=lambda kv: -kv[1]["seconds"])[:8]
    figures = {
        "students": args.students,
        "setup_seconds": round(setup["seconds"], 1),
        "full_refresh_seconds": round(full_s, 2),
        "indicators": len(full.rebuilt),
        "facts": facts,
        "cells": cells,
        "facts_per_second": round(facts / full_s),
        "operational_marts_seconds": round(operational_s, 2),
        "unchanged_refresh_seconds": round(unchanged_s, 2),
        "unchanged_rebuilt": len(unchanged.rebuilt),
        "daily_attendance_rows_added": added,
        "incremental_refresh_seconds": round(daily_s, 2),
        "incremental_rebuilt": daily.rebuilt,
        "plain_sql_par_seconds": round(plain_s, 3),
        "plain_sql_par": round(float(plain), 2),
        "mart_par": round(float(par), 2),
        "report_seconds": round(report_s, 2),
        "report_charts": report.charts,
        "slowest_indicators": {k: v["seconds"] for k, v in slowest},
        "peak_rss_mb": round(mosis_bench._peak_rss_mb()),
    }
    figures["database"] = "postgresql" if admin is not None else "duckdb"
    store.dispose()
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
