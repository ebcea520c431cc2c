"""Ed-Fi benchmark: build + validate every Missouri v3.6 resource of a synthetic district, and
send them to the local fake ODS/API with the concurrency bound.

Setup reuses bench/mosis.py: the district is synthesised once (`nexus synth`, default 25,000
students, Campus extract; cached under that benchmark's work folder) and ingested and mapped
into a fresh DuckDB store in a worker process (timed on its own). Then, each in its own
process so its peak RSS is its own:
- build: `nexus.edfi.run_build` for 2026-27 (read canonical, rules and validation, JSONL,
  store), records/s over all records built;
- send: `nexus.edfi.run_send` to the test suite's fake ODS/API in-process (httpx
  MockTransport: no sockets; the fake validates each POST against the schema, resolves
  references and upserts), records/s at the bound (`--concurrency`, default 8); then the
  same send again (nothing changed: every record found unchanged).
The fake runs in the sender's process, so send figures include the fake's own work.

    .venv/bin/python bench/edfi.py [--students 25000] [--seed 1] [--concurrency 8] [--keep]
        [--json]

Figures are printed, not asserted.
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
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import mosis as mosis_bench  # noqa: E402  (bench/mosis.py: synthesise, worker_setup)

TENANT = mosis_bench.TENANT
YEAR = mosis_bench.YEAR


def worker_setup(home: str, url: str, folder: str) -> dict:
    return mosis_bench.worker_setup(home, url, folder)


def worker_build(home: str, url: str, out_dir: str) -> dict:
    from nexus.edfi import run_build

    store = mosis_bench._open(home, url)
    started = time.perf_counter()
    result = run_build(store, TENANT, YEAR, out_dir)
    seconds = time.perf_counter() - started
    built = sum(c["built"] for c in result.counts.values())
    return {
        "seconds": seconds,
        "records": built,
        "valid": sum(c["valid"] for c in result.counts.values()),
        "records_per_s": built / seconds,
        "phases": result.seconds,
        "resources": result.counts,
        "problems": result.problems,
        "peak_rss_mb": mosis_bench._peak_rss_mb(),
    }


def worker_send(home: str, url: str, concurrency: int) -> dict:
    from tests.edfi.fake_ods import FakeOds

    from nexus.edfi import run_send
    from nexus.edfi.client import ApiSettings
    from nexus.store.tenants import get_tenant

    store = mosis_bench._open(home, url)
    with store.engine.connect() as conn:
        tenant = get_tenant(conn, TENANT)
    fake = FakeOds(district_lea=int(tenant.county_district_code))
    settings = ApiSettings(
        "http://ods.test", fake.client_id, fake.client_secret, concurrency=concurrency
    )
    report = {}
    for label in ("first", "again"):
        started = time.perf_counter()
        result = run_send(
            store, TENANT, YEAR, "bench-fake", transport=fake.transport, settings=settings
        )
        seconds = time.perf_counter() - started
        posted = sum(c.posted for c in result.counts.values())
        report[label] = {
            "seconds": seconds,
            "posted": posted,
            "unchanged": sum(c.unchanged for c in result.counts.values()),
            "failed": sum(c.failed for c in result.counts.values()),
            "requests": result.requests,
            "records_per_s": posted / seconds if posted else None,
            "status": result.status,
        }
    report["concurrency"] = concurrency
    report["peak_rss_mb"] = mosis_bench._peak_rss_mb()
    return report


WORKERS = {"setup": worker_setup, "build": worker_build, "send": worker_send}


def _child(name: str, *args) -> dict:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", name, json.dumps(args)],
            stdout=out,
            stderr=err,
            check=False,
        )
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{name} worker failed: {err.read()[-3000:]}")
        return json.loads(out.read().strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker")
    parser.add_argument("args", nargs="?")
    a = parser.parse_args()
    if a.worker:
        print(json.dumps(WORKERS[a.worker](*json.loads(a.args)), default=str))
        return

    def say(msg: str) -> None:
        if not a.json:
            print(msg, flush=True)

    work = mosis_bench.WORK
    work.mkdir(parents=True, exist_ok=True)
    folder = mosis_bench.synthesise(work, a.students, a.seed)
    home = work / f"edfi-{uuid.uuid4().hex[:8]}"
    url = f"duckdb:///{home / 'nexus.duckdb'}"
    try:
        say(f"setup: ingest + map {a.students:,} students ...")
        setup = _child("setup", str(home), url, str(folder))
        say(f"  {setup['seconds']:.1f} s")
        say("build + validate ...")
        build = _child("build", str(home), url, str(home / "edfi-out"))
        say(
            f"  {build['records']:,} records in {build['seconds']:.1f} s = "
            f"{build['records_per_s']:,.0f} records/s, peak RSS {build['peak_rss_mb']:,.0f} MB; "
            f"phases {build['phases']}"
        )
        say(f"send (concurrency {a.concurrency}) to the fake, twice ...")
        send = _child("send", str(home), url, a.concurrency)
        for label in ("first", "again"):
            s = send[label]
            rate = f"{s['records_per_s']:,.0f} records/s" if s["records_per_s"] else "-"
            say(
                f"  {label}: {s['posted']:,} posted, {s['unchanged']:,} unchanged, "
                f"{s['failed']:,} failed in {s['seconds']:.1f} s ({rate})"
            )
        say(f"  peak RSS {send['peak_rss_mb']:,.0f} MB")
        report = {
            "students": a.students,
            "setup": setup,
            "build": build,
            "send": send,
            "note": "taken on a shared 2-core machine under load from other agents",
        }
        if a.json:
            print(json.dumps(report, indent=2, default=str))
    finally:
        if not a.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("NEXUS_USER", "bench")
    main()
