"""Web benchmark: the operator's workspace under 20 concurrent users, and the daily pipeline.

On a 25,000-student synthetic district (cached, with labelled defects so the exception queue
is realistic) this sets a tenant up as a site would (a Campus-extract connection, a pipeline
config with the October cycle, the marts and the October Student Core file), then:

1. times `nexus daily` end to end (`nexus.jobs.pipeline.run_daily`: ingest → map → validate
   → marts → extract), the first run (everything new) and a second, unchanged daily run;
2. starts `nexus serve` as its own process on 127.0.0.1 and runs a load generator in another
   process: `--users` virtual users (20), each with its own signed-in session, cycling over the
   Today, Exceptions and Marts pages and their JSON API routes for `--seconds`, waiting
   `--think` seconds between requests (an operator reading the page; `--think 0` is a closed
   loop, the worst case). p50 / p95 / p99 latency per route and overall are printed.

    .venv/bin/python bench/web.py [--students 25000] [--postgresql ADMIN_URL] [--users 20]
        [--seconds 60] [--think 1.0] [--defects 0.01] [--keep] [--json]

Target (issue 9): p95 under 300 ms on PostgreSQL. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import validate as bench_validate  # noqa: E402  (bench/validate.py: synthesise with defects)

import mosis as bench_mosis  # noqa: E402  (bench/mosis.py: _open, _peak_rss_mb)

TENANT = bench_mosis.TENANT
YEAR = bench_mosis.YEAR
WORK = Path(tempfile.gettempdir()) / "nexus-bench-web"
PASSWORD = "bench-password-long-enough"
TARGET_P95_MS = 300.0


def worker_setup(home: str, url: str, folder: str) -> dict:
    """A fresh store with the tenant, its connection, pipeline config and two accounts."""
    from nexus.identity import register_district
    from nexus.integration import sources
    from nexus.jobs.config import set_config
    from nexus.store.accounts import add_user
    from nexus.store.migrate import upgrade
    from nexus.store.tenants import add_tenant

    district = json.loads((Path(folder).parent / "district.json").read_text())
    store = bench_mosis._open(home, url)
    upgrade(store.engine)
    with store.engine.begin() as conn:
        tenant = add_tenant(
            conn, TENANT, district["name"], district["county_district_code"], district["nces_id"]
        )
        register_district(conn, tenant)
        sources.add_connection(conn, tenant.tenant_id, "campus", "campus-extract", folder)
        set_config(
            conn,
            tenant.tenant_id,
            {
                "school_year": YEAR,
                "cycles": ["october"],
                "marts": True,
                "extracts": [{"cycle": "october", "layout": "student_core"}],
            },
            "bench",
        )
        add_user(conn, "bench-operator", "operator", PASSWORD, [TENANT])
        add_user(conn, "bench-analyst", "analyst", PASSWORD, [TENANT])
    return {"tenant_id": tenant.tenant_id}


def worker_daily(home: str, url: str, today: str) -> dict:
    from datetime import date

    from nexus.jobs.pipeline import run_daily

    store = bench_mosis._open(home, url)
    started = time.perf_counter()
    result = run_daily(store, TENANT, user="bench", today=date.fromisoformat(today)).as_dict()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "status": result["status"],
        "steps": [
            {k: s.get(k) for k in ("step", "target", "status", "seconds", "counts", "reason")}
            for s in result["steps"]
        ],
        "peak_rss_mb": bench_mosis._peak_rss_mb(),
    }


# --- load -------------------------------------------------------------------------------------

ROUTES = (
    ("page: today", "/t/{t}/today"),
    ("page: exceptions", "/t/{t}/exceptions?year={y}&cycle=october"),
    (
        "page: exceptions blocking p2",
        "/t/{t}/exceptions?year={y}&cycle=october&severity=blocking&page=2",
    ),
    ("page: marts", "/t/{t}/marts?year={y}"),
    ("api: today", "/api/v1/tenants/{t}/today"),
    ("api: exceptions", "/api/v1/tenants/{t}/exceptions?year={y}&cycle=october&limit=50"),
    (
        "api: marts cells",
        "/api/v1/tenants/{t}/marts/cells?year={y}&indicator=proportional_attendance&level=school",
    ),
)


async def _sign_in(client, username: str) -> None:
    form = await client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = await client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
    )
    if answer.status_code != 303:
        raise SystemExit(f"sign-in of {username} failed: {answer.status_code}")


async def _user(base: str, index: int, urls, until: float, think: float, samples: dict) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await _sign_in(client, "bench-operator")
        step = index  # users start at different routes
        while time.monotonic() < until:
            name, url = urls[step % len(urls)]
            step += 1
            started = time.perf_counter()
            response = await client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            bucket = samples.setdefault(name, {"ms": [], "errors": 0})
            if response.status_code == 200:
                bucket["ms"].append(elapsed)
            else:
                bucket["errors"] += 1
            if think:
                await asyncio.sleep(think)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def worker_load(base: str, users: str, seconds: str, think: str) -> dict:
    urls = [(name, path.format(t=TENANT, y=YEAR)) for name, path in ROUTES]
    samples: dict = {}

    async def run() -> None:
        # Warm-up, not counted: one user requests every route once (caches filled, pools open).
        import httpx

        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            await _sign_in(client, "bench-operator")
            for _, url in urls:
                await client.get(url)
        until = time.monotonic() + float(seconds)
        await asyncio.gather(
            *(_user(base, i, urls, until, float(think), samples) for i in range(int(users)))
        )

    started = time.perf_counter()
    asyncio.run(run())
    wall = time.perf_counter() - started
    every = [ms for s in samples.values() for ms in s["ms"]]
    routes = {
        name: {
            "requests": len(s["ms"]),
            "errors": s["errors"],
            "p50_ms": _percentile(s["ms"], 0.5),
            "p95_ms": _percentile(s["ms"], 0.95),
            "p99_ms": _percentile(s["ms"], 0.99),
            "mean_ms": statistics.fmean(s["ms"]) if s["ms"] else None,
        }
        for name, s in samples.items()
    }
    return {
        "wall_seconds": wall,
        "requests": len(every),
        "errors": sum(s["errors"] for s in samples.values()),
        "throughput_rps": len(every) / wall if wall else 0.0,
        "p50_ms": _percentile(every, 0.5),
        "p95_ms": _percentile(every, 0.95),
        "p99_ms": _percentile(every, 0.99),
        "routes": routes,
    }


# --- orchestration ----------------------------------------------------------------------------


def _child(name: str, *args) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", name, *map(str, args)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(home: Path, url: str) -> tuple[subprocess.Popen, str]:
    import httpx

    port = _free_port()
    env = {**os.environ, "NEXUS_HOME": str(home), "NEXUS_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "nexus.cli", "serve", "--port", str(port), "--no-scheduler"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/sign-in", timeout=2)
            return server, base
        except httpx.HTTPError:
            if server.poll() is not None:
                raise SystemExit(f"nexus serve exited: {server.stderr.read()[-2000:]}") from None
            time.sleep(0.5)
    server.kill()
    raise SystemExit("nexus serve did not answer within 120 s")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        name, args = sys.argv[2], sys.argv[3:]
        worker = {"setup": worker_setup, "daily": worker_daily, "load": worker_load}[name]
        print(json.dumps(worker(*args), default=str))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--defects", type=float, default=0.01)
    parser.add_argument("--postgresql", metavar="ADMIN_URL", default=None)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--today", default=f"{YEAR - 1}-10-20", help="the daily run's date")
    parser.add_argument("--keep", action="store_true", help="keep the store (printed) to --reuse")
    parser.add_argument(
        "--reuse",
        nargs=2,
        metavar=("HOME", "DATABASE_URL"),
        help="skip setup and the daily runs: load-test a store kept with --keep",
    )
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    say = (lambda m: None) if opts.json else (lambda m: print(m, file=sys.stderr, flush=True))
    say(f"synthesising {opts.students:,} students (cached under {bench_validate.WORK})")
    folder = bench_validate.synthesise(bench_validate.WORK, opts.students, opts.seed, opts.defects)
    home = WORK / f"home-{os.getpid()}"
    url = f"duckdb:///{home / 'nexus.duckdb'}"
    pg_name = None
    first = second = None
    if opts.reuse:
        home, url = Path(opts.reuse[0]), opts.reuse[1]
        opts.keep = True
    else:
        shutil.rmtree(home, ignore_errors=True)
        if opts.postgresql:
            import map as bench_map  # bench/map.py: _pg_create, _pg_drop

            pg_name, url = bench_map._pg_create(opts.postgresql)
    server = None
    try:
        if not opts.reuse:
            _child("setup", home, url, folder)
            say("daily pipeline, first run (ingest, map, validate, marts, extract)")
            first = _child("daily", home, url, opts.today)
            say(f"  {first['seconds']:.1f} s, {first['status']}")
            say("daily pipeline, second run on unchanged data")
            second = _child("daily", home, url, opts.today)
            say(f"  {second['seconds']:.1f} s, {second['status']}")
        if opts.keep:
            say(f"kept: --reuse {home} {url}")
        server, base = _serve(home, url)
        say(f"load: {opts.users} users for {opts.seconds:.0f} s, think {opts.think} s, on {base}")
        load = _child("load", base, opts.users, opts.seconds, opts.think)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if not opts.keep:
            shutil.rmtree(home, ignore_errors=True)
            if pg_name is not None:
                bench_map._pg_drop(opts.postgresql, pg_name)
    report = {
        "backend": "duckdb" if url.startswith("duckdb") else "postgresql",
        "students": opts.students,
        "daily_first": first,
        "daily_second": second,
        "load": {"users": opts.users, "seconds": opts.seconds, "think": opts.think, **load},
        "target_p95_ms": TARGET_P95_MS,
        "note": "server and load generator on one 2-core machine shared with other work",
    }
    if opts.json:
        print(json.dumps(report, indent=2, default=str))
        return
    print(f"\n{report['backend']}, {opts.students:,} students")
    for label, run in (("first", first), ("second", second)):
        if run is None:
            continue
        print(f"daily pipeline ({label} run): {run['seconds']:.1f} s, {run['status']}")
        for s in run["steps"]:
            print(
                f"  {s['step']:<10} {str(s['target'] or ''):<28} {s['status']:<10} "
                f"{(s['seconds'] or 0):7.1f} s"
            )
    print(
        f"\nload: {opts.users} users, {opts.seconds:.0f} s, think {opts.think} s: "
        f"{load['requests']:,} requests, {load['errors']} errors, "
        f"{load['throughput_rps']:.1f} req/s"
    )
    print(f"{'route':<32} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, r in load["routes"].items():
        print(
            f"{name:<32} {r['requests']:>6} {r['p50_ms'] or 0:>8.0f} {r['p95_ms'] or 0:>8.0f} "
            f"{r['p99_ms'] or 0:>8.0f}"
        )
    print(
        f"{'overall':<32} {load['requests']:>6} {load['p50_ms'] or 0:>8.0f} "
        f"{load['p95_ms'] or 0:>8.0f} {load['p99_ms'] or 0:>8.0f}   target p95 < "
        f"{TARGET_P95_MS:.0f} ms"
    )


if __name__ == "__main__":
    main()
