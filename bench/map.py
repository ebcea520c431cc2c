"""Mapping benchmark: a 25,000-student `nexus synth` district's Campus extract into canonical.

Ingests the district's Campus extract (setup, not measured), then measures `nexus map`
(`nexus.canonical.map_run`) for the first map of the run (everything new: every entity,
about 4.1M attendance rows at 25,000 students, seed 1), a second map of the same run (nothing
changes) and a daily map (the extract re-ingested with `--changed` of the attendance rows
changed). Side by side: plain DuckDB SQL doing the first map's attendance work in one process
(json_extract of the payloads, typed columns, reference lookups, row hash, insert) — the
reference — and identity matching 25,000 x 25,000 people: `match_people` on its own, and a
`link_people` pass over 25,000 unlinked vendor identities (by the match chain, and with no
identifiers, by probabilistic matching). Each measurement runs in its own process so its peak
RSS is its own.

    .venv/bin/python bench/map.py [--students 25000] [--changed 0.01] [--work DIR] \
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--json]

The synthesised district is cached under the work folder (by students and seed), so a rerun
skips `nexus synth`; every run starts from a fresh store. Targets (issue): the first map under
60 s on DuckDB, identity 25k x 25k under 30 s. Benchmarks print figures; they do not fail on
timing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

TENANT = "bench"
WORK = Path(tempfile.gettempdir()) / "nexus-bench-map"
MAP_TARGET_S = 60.0
IDENTITY_TARGET_S = 30.0
ATTENDANCE = "attendance -> attendance_days"  # how the attendance target's map label starts


# --- data ------------------------------------------------------------------------------------


def synthesise(work: Path, students: int, seed: int) -> Path:
    """The district's Campus extract folder, synthesised once per (students, seed)."""
    folder = work / f"synth-{students}-{seed}"
    done = folder / ".complete"
    if not done.exists():
        from nexus.synth import generate

        shutil.rmtree(folder, ignore_errors=True)
        generate(folder, students=students, seed=seed, formats=("campus-extract",))
        done.write_text("ok\n")
    return folder / "campus-extract"


def csv_rows(folder: Path) -> dict[str, int]:
    db = duckdb.connect()
    return {
        path.stem: db.execute(
            f"SELECT count(*) FROM read_csv('{path}', all_varchar = true, header = true)"
        ).fetchone()[0]
        for path in sorted(folder.glob("*.csv"))
    }


def daily_copy(first: Path, work: Path, share: float) -> tuple[Path, int]:
    """The next day's extract: `share` of the attendance rows changed; (folder, rows changed)."""
    daily = work / f"{first.parent.name}-daily-{share:g}" / "campus-extract"
    done = daily / ".complete"
    db = duckdb.connect()
    pick = f'hash("attendance.personID", "attendance.date") % 10000 < {int(share * 10000)}'
    path = daily / "attendance.csv"
    if not done.exists():
        shutil.rmtree(daily.parent, ignore_errors=True)
        shutil.copytree(first, daily)
        db.execute(
            f"CREATE TABLE t AS SELECT * FROM read_csv('{path}', all_varchar = true, header = true)"
        )
        db.execute(
            'UPDATE t SET "attendance.presentMinutes" = '
            f"coalesce(\"attendance.presentMinutes\", '') || '9' WHERE {pick}"
        )
        db.execute(f"COPY t TO '{path}' (HEADER)")
        done.write_text("ok\n")
    changed = db.execute(
        f"SELECT count(*) FROM read_csv('{first / 'attendance.csv'}', all_varchar = true, "
        f"header = true) WHERE {pick}"
    ).fetchone()[0]
    return daily, changed


# --- workers (each in its own process) ---------------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _open(home: str, url: str):
    os.environ["NEXUS_HOME"] = home
    os.environ["NEXUS_DATABASE_URL"] = url
    from nexus.store import open_store

    return open_store()


def worker_ingest(home: str, url: str, folder: str, init: bool) -> dict:
    from nexus.integration import ingest

    store = _open(home, url)
    if init:
        from nexus.store.migrate import upgrade
        from nexus.store.tenants import add_tenant

        upgrade(store.engine)
        with store.engine.begin() as conn:
            add_tenant(conn, TENANT, "Bench R-I", "048078")
    started = time.perf_counter()
    result = ingest(store, TENANT, "campus-extract", folder)
    return {
        "seconds": time.perf_counter() - started,
        "run_id": result.run_id,
        "status": result.status,
        "peak_rss_mb": _peak_rss_mb(),
    }


def worker_map(home: str, url: str, run_id: int) -> dict:
    from nexus.canonical import map_run

    store = _open(home, url)
    marks: list[tuple[float, str]] = []
    started = time.perf_counter()
    result = map_run(
        store, TENANT, run_id, progress=lambda m: marks.append((time.perf_counter(), m))
    )
    ended = time.perf_counter()
    steps: list[dict] = []
    for i, (at, message) in enumerate(marks):
        until = marks[i + 1][0] if i + 1 < len(marks) else ended
        label = message.removeprefix("mapping ")
        if message == "linking people" and steps:
            label = f"link people ({steps[-1]['step'].split(' ')[0]})"
        steps.append({"step": label, "seconds": round(until - at, 3)})
    if marks:
        steps.insert(0, {"step": "(setup)", "seconds": round(marks[0][0] - started, 3)})
    totals = {k: 0 for k in ("rows", "inserted", "updated", "deleted", "unchanged", "errors")}
    for counts in result.targets.values():
        for k in totals:
            totals[k] += int(counts.get(k, 0))
    return {
        "seconds": ended - started,
        "peak_rss_mb": _peak_rss_mb(),
        "status": result.status,
        "reason": result.reason,
        "error_count": result.error_count,
        "totals": totals,
        "attendance": next((v for k, v in result.targets.items() if k.startswith(ATTENDANCE)), {}),
        "identity": result.identity,
        "steps": steps,
    }


def _tenant_id(store) -> int:
    from nexus.store.tenants import find_tenant

    with store.engine.connect() as conn:
        return find_tenant(conn, TENANT).tenant_id


# Vendor identities made from the campus students: `star` carries Star's StudentIdentifier (the
# student number with leading zeros) for the match chain; `vendor` carries only names and
# birth dates (10% with a first-name typo), so everything goes to probabilistic matching.
_INJECT_IDENTITIES = """
INSERT INTO census.identities (tenant_id, key_scope, source_key, source_system_id,
    source_record_id, ingestion_run_id, row_hash, person_kind, person_id, link_status,
    legal_first_name, legal_last_name, birth_date, grade_hint, school_hint)
SELECT tenant_id, '{scope}', '{scope}-' || source_key, source_system_id, source_record_id,
    ingestion_run_id, row_hash, person_kind, NULL, 'unmatched',
    CASE WHEN {typo} THEN left(legal_first_name, length(legal_first_name) - 1) || 'q'
         ELSE legal_first_name END,
    legal_last_name, birth_date, grade_hint, school_hint
FROM census.identities
WHERE tenant_id = {tenant} AND key_scope = 'campus' AND person_kind = 'student'
"""
_INJECT_STAR_IDS = """
INSERT INTO census.person_identifiers (tenant_id, key_scope, source_key, person_kind,
    identifier_type, authority, value, source_system_id, valid_from_run)
SELECT tenant_id, 'star', 'star-' || source_key, person_kind, 'star_student_identifier',
    'Renaissance', '000' || value, source_system_id, valid_from_run
FROM census.person_identifiers
WHERE tenant_id = {tenant} AND key_scope = 'campus' AND person_kind = 'student'
  AND identifier_type = 'student_number' AND valid_to_run IS NULL
"""


def worker_link(home: str, url: str, scope: str) -> dict:
    import sqlalchemy as sa

    from nexus.identity.people import link_people

    store = _open(home, url)
    tenant = _tenant_id(store)
    typo = "false" if scope == "star" else "length(legal_first_name) > 2 AND source_key LIKE '%0'"
    with store.engine.begin() as conn:
        conn.execute(sa.text(_INJECT_IDENTITIES.format(scope=scope, typo=typo, tenant=tenant)))
        if scope == "star":
            conn.execute(sa.text(_INJECT_STAR_IDS.format(tenant=tenant)))
        if conn.dialect.name == "postgresql":
            # As a vendor map's bulk load (COPY, then ANALYZE) would leave them: with stale
            # statistics the chain's join plans a nested loop and runs for many minutes.
            conn.execute(sa.text("ANALYZE census.identities"))
            conn.execute(sa.text("ANALYZE census.person_identifiers"))
        people = conn.execute(
            sa.text(
                "SELECT count(*) FROM census.identities WHERE tenant_id = :t AND key_scope = :s"
            ),
            {"t": tenant, "s": scope},
        ).scalar_one()
    started = time.perf_counter()
    with store.engine.begin() as conn:
        outcome = link_people(conn, tenant)
    seconds = time.perf_counter() - started
    with store.engine.connect() as conn:
        right = conn.execute(
            sa.text(
                "SELECT count(*) FROM census.identities v JOIN census.identities c "
                "ON c.tenant_id = v.tenant_id AND c.key_scope = 'campus' "
                "AND c.person_kind = v.person_kind "
                "AND v.source_key = :p || c.source_key AND c.person_id = v.person_id "
                "WHERE v.tenant_id = :t AND v.key_scope = :s"
            ),
            {"t": tenant, "s": scope, "p": f"{scope}-"},
        ).scalar_one()
    return {
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "people": int(people),
        "outcome": outcome,
        "linked_right": int(right),
    }


# The incoming side of the direct match: the same students, some with the errors vendors make.
_MATCH_SQL = """
CREATE TABLE people AS
SELECT s."student.personID" AS key, s."student.firstName" AS first_name,
       s."student.lastName" AS last_name,
       CAST(strptime(s."student.birthdate", '%m/%d/%Y') AS DATE) AS birth_date,
       e."enrollment.grade" AS grade, c."school.name" AS school,
       hash(s."student.personID", 'typo') % 100 AS bucket
FROM read_csv('{folder}/students.csv', all_varchar = true, header = true) s
LEFT JOIN (SELECT * FROM read_csv('{folder}/enrollments.csv', all_varchar = true, header = true)
           QUALIFY row_number() OVER (PARTITION BY "enrollment.personID"
                                      ORDER BY "enrollment.startDate" DESC) = 1) e
  ON e."enrollment.personID" = s."student.personID"
LEFT JOIN read_csv('{folder}/calendars.csv', all_varchar = true, header = true) c
  ON c."calendar.calendarID" = e."enrollment.calendarID";
CREATE TABLE incoming AS
SELECT 'in-' || key AS key,
       CASE WHEN bucket < 8 THEN left(first_name, 1) || 'x' || substr(first_name, 3)
            WHEN bucket = 18 THEN left(first_name, 3)
            ELSE first_name END AS first_name,
       CASE WHEN bucket BETWEEN 8 AND 11
                THEN left(last_name, 1) || substr(last_name, 3, 1) || substr(last_name, 2, 1)
                     || substr(last_name, 4)
            WHEN bucket = 17 THEN reverse(last_name)
            ELSE last_name END AS last_name,
       CASE WHEN bucket BETWEEN 12 AND 14 THEN birth_date + 1
            WHEN bucket BETWEEN 15 AND 16 THEN NULL
            ELSE birth_date END AS birth_date,
       grade, school
FROM people
"""


def worker_match(folder: str) -> dict:
    from nexus.identity.probabilistic import match_people

    db = duckdb.connect()
    for statement in _MATCH_SQL.format(folder=folder).split(";"):
        db.execute(statement)
    cols = "key, first_name, last_name, CAST(birth_date AS VARCHAR) AS birth_date, grade, school"
    existing = db.sql(f"SELECT {cols} FROM people").to_arrow_table()
    incoming = db.sql(f"SELECT {cols} FROM incoming").to_arrow_table()
    started = time.perf_counter()
    matches = match_people(incoming, existing)
    seconds = time.perf_counter() - started
    db.register("m", matches)
    link, review, right = db.execute(
        "SELECT count(*) FILTER (WHERE decision = 'link'), "
        "count(*) FILTER (WHERE decision = 'review'), "
        "count(*) FILTER (WHERE decision = 'link' AND incoming_key = 'in-' || person_key) FROM m"
    ).fetchone()
    return {
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "incoming": incoming.num_rows,
        "existing": existing.num_rows,
        "link": link,
        "review": review,
        "linked_right": right,
    }


# Plain DuckDB SQL doing the first map's attendance work on the store's payloads: read the
# snapshot, person and calendar ids from their snapshots, extract and type the fields, look up
# the status crosswalk, hash each row, insert into a typed table.
_REFERENCE_SQL = """
CREATE TEMP TABLE snap AS SELECT r.record_id, r.natural_key, r.payload, e.name AS entity
FROM store.integration.source_records r JOIN store.integration.source_entities e
  ON e.tenant_id = r.tenant_id AND e.entity_id = r.entity_id
WHERE e.name IN ('attendance', 'students', 'calendars') AND r.valid_from_run <= {run}
  AND (r.valid_to_run IS NULL OR r.valid_to_run > {run});
CREATE TEMP TABLE persons AS SELECT json_extract_string(payload, '$."student.personID"') AS key,
  row_number() OVER (ORDER BY record_id) AS person_id FROM snap WHERE entity = 'students';
CREATE TEMP TABLE calendars AS
  SELECT json_extract_string(payload, '$."calendar.calendarID"') AS key,
  row_number() OVER (ORDER BY record_id) AS calendar_id FROM snap WHERE entity = 'calendars';
CREATE TEMP TABLE status AS SELECT * FROM (VALUES ('P', 'present'), ('A', 'absent'),
  ('T', 'tardy')) t(code, canonical);
CREATE TABLE attendance_days AS
WITH raw AS (
  SELECT record_id, v[1] AS pid, v[2] AS cal, v[3] AS day, v[4] AS sched, v[5] AS present,
         v[6] AS absent, v[7] AS status, v[8] AS excuse
  FROM (SELECT record_id, json_extract_string(payload, ['$."attendance.personID"',
          '$."attendance.calendarID"', '$."attendance.date"', '$."attendance.scheduledMinutes"',
          '$."attendance.presentMinutes"', '$."attendance.absentMinutes"',
          '$."attendance.status"', '$."attendance.excuse"']) AS v
        FROM snap WHERE entity = 'attendance')
), typed AS (
  SELECT record_id, concat_ws('|', trim(pid), trim(cal),
           CAST(CAST(try_strptime(day, '%m/%d/%Y') AS DATE) AS VARCHAR)) AS source_key,
         p.person_id, c.calendar_id,
         CAST(try_strptime(day, '%m/%d/%Y') AS DATE) AS attendance_date,
         CAST(TRY_CAST(sched AS DECIMAL(38, 6)) AS BIGINT) AS scheduled_minutes,
         CAST(TRY_CAST(present AS DECIMAL(38, 6)) AS BIGINT) AS present_minutes,
         CAST(TRY_CAST(absent AS DECIMAL(38, 6)) AS BIGINT) AS absent_minutes,
         s.canonical AS attendance_status, nullif(trim(excuse), '') AS excuse_code
  FROM raw LEFT JOIN persons p ON p.key = trim(raw.pid)
  LEFT JOIN calendars c ON c.key = trim(raw.cal)
  LEFT JOIN status s ON s.code = upper(trim(raw.status))
)
SELECT *, md5(CAST(ROW(person_id, calendar_id, attendance_date, scheduled_minutes,
  present_minutes, absent_minutes, attendance_status, excuse_code, record_id) AS VARCHAR))
  AS row_hash
FROM typed
"""


def worker_reference(store_path: str, db_path: str, run_id: int) -> dict:
    db = duckdb.connect(db_path)
    db.execute("SET preserve_insertion_order = false")
    started = time.perf_counter()
    db.execute(f"ATTACH '{store_path}' AS store (READ_ONLY)")
    for statement in _REFERENCE_SQL.format(run=int(run_id)).split(";"):
        if statement.strip():
            db.execute(statement)
    rows = db.execute("SELECT count(*) FROM attendance_days").fetchone()[0]
    db.close()
    return {"seconds": time.perf_counter() - started, "rows": rows, "peak_rss_mb": _peak_rss_mb()}


WORKERS = {
    "ingest": worker_ingest,
    "map": worker_map,
    "link": worker_link,
    "match": worker_match,
    "reference": worker_reference,
}


def _child(name: str, *args) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", name, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{name} worker failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_create(admin_url: str) -> tuple[str, str]:
    import sqlalchemy as sa

    name = f"nexus_bench_map_{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(admin_url)
    if url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return name, url.set(database=name).render_as_string(hide_password=False)


def _pg_drop(admin_url: str, name: str) -> None:
    import sqlalchemy as sa

    url = sa.engine.make_url(admin_url)
    if url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


# --- main --------------------------------------------------------------------------------------


def run_backend(backend: str, url: str, home: Path, first: Path, daily: Path, say) -> dict:
    """Setup ingest, then first map, re-map and daily map on one store; identity links."""
    out: dict = {"backend": backend}

    def step(name: str, worker: str, *args) -> dict:
        out[name] = _child(worker, str(home), url, *args)
        say(f"  {backend} {name}: {out[name]['seconds']:.1f} s")
        return out[name]

    run1 = step("ingest_first", "ingest", str(first), True)["run_id"]
    step("first", "map", run1)
    step("remap", "map", run1)
    step("daily", "map", step("ingest_daily", "ingest", str(daily), False)["run_id"])
    step("link_chain", "link", "star")
    step("link_probabilistic", "link", "vendor")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--work", type=Path, default=WORK, help="cache and scratch folder")
    parser.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (admin URL)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    say = (lambda m: print(m, file=sys.stderr)) if args.json else print

    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    first = synthesise(args.work, args.students, args.seed)
    daily, changed = daily_copy(first, args.work, args.changed)
    rows = csv_rows(first)
    say(
        f"{args.students:,} students: {rows.get('attendance', 0):,} attendance rows, "
        f"{sum(rows.values()):,} rows in {len(rows)} extract files; the daily run changes "
        f"{changed:,} attendance rows (data ready in {time.perf_counter() - started:.0f} s)"
    )
    scratch = args.work / f"run-{uuid.uuid4().hex[:8]}"
    report: dict = {
        "students": args.students,
        "attendance_rows": rows.get("attendance", 0),
        "extract_rows": sum(rows.values()),
        "daily_changed_rows": changed,
        "backends": [],
    }
    try:
        home = scratch / "home-duckdb"
        store_file = home / "nexus.duckdb"
        say("duckdb: ingest, first map, re-map, daily ingest and map, identity links ...")
        report["backends"].append(
            run_backend("duckdb", f"duckdb:///{store_file}", home, first, daily, say)
        )
        say("reference: plain DuckDB SQL, attendance first map ...")
        run1 = report["backends"][0]["ingest_first"]["run_id"]
        report["reference"] = _child(
            "reference", str(store_file), str(scratch / "ref.duckdb"), run1
        )
        say(f"identity: match_people {args.students:,} x {args.students:,} ...")
        report["match_people"] = _child("match", str(first))
        say(
            f"  reference {report['reference']['seconds']:.1f} s, "
            f"match_people {report['match_people']['seconds']:.1f} s"
        )
        if args.postgres:
            name, url = _pg_create(args.postgres)
            try:
                say(f"postgresql ({name}): the same ...")
                report["backends"].append(
                    run_backend("postgresql", url, scratch / "home-pg", first, daily, say)
                )
            finally:
                _pg_drop(args.postgres, name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


def print_table(report: dict) -> None:
    att = report["attendance_rows"]
    print(f"\n{'engine':<22} {'run':<16} {'seconds':>8} {'rows/s':>11} {'peak RSS MB':>12}  result")

    def line(engine: str, run: str, r: dict, rows: int, result: str) -> None:
        rate = rows / r["seconds"] if r["seconds"] else 0.0
        print(
            f"{engine:<22} {run:<16} {r['seconds']:>8.1f} {rate:>11,.0f} "
            f"{r['peak_rss_mb']:>12,.0f}  {result}"
        )

    for b in report["backends"]:
        engine = f"nexus on {b['backend']}"
        for run, label in (("first", "first map"), ("remap", "re-map"), ("daily", "daily map")):
            r = b[run]
            t, a = r["totals"], r["attendance"]
            line(
                engine,
                label,
                r,
                t["rows"],
                f"{r['status']}: {t['rows']:,} rows, +{t['inserted']:,} ~{t['updated']:,} "
                f"-{t['deleted']:,}, {r['error_count']:,} errors; attendance "
                f"+{a.get('inserted', 0):,} ~{a.get('updated', 0):,}",
            )
        for run, label in (("link_chain", "link chain"), ("link_probabilistic", "link prob.")):
            r = b[run]
            o = r["outcome"]
            line(
                engine,
                label,
                r,
                r["people"],
                f"{r['people']:,} people: chain {o['linked_by_chain']:,}, probabilistic "
                f"{o['linked_probabilistic']:,}, review {o['sent_to_review']:,}; "
                f"right {r['linked_right']:,}",
            )
    ref = report["reference"]
    line("plain DuckDB SQL", "attendance", ref, att, f"{ref['rows']:,} rows")
    m = report["match_people"]
    line(
        "match_people",
        f"{m['incoming']:,} x {m['existing']:,}",
        m,
        m["incoming"],
        f"link {m['link']:,} (right {m['linked_right']:,}), review {m['review']:,}",
    )
    for b in report["backends"]:
        first = b["first"]
        print(f"\nfirst map on {b['backend']}, per step (seconds):")
        for step in sorted(first["steps"], key=lambda s: -s["seconds"])[:12]:
            print(f"  {step['step']:<52} {step['seconds']:>7.1f}")
        nexus_att = next(
            (s["seconds"] for s in first["steps"] if s["step"].startswith(ATTENDANCE)), None
        )
        if nexus_att and b["backend"] == "duckdb":
            print(
                f"  attendance: nexus {nexus_att:.1f} s vs plain SQL {ref['seconds']:.1f} s "
                f"(x{nexus_att / ref['seconds']:.1f})"
            )
    duck = report["backends"][0]
    print(
        f"\ntargets: first map {duck['first']['seconds']:.1f} s (target < {MAP_TARGET_S:.0f} s), "
        f"match_people {m['seconds']:.1f} s and link_people probabilistic "
        f"{duck['link_probabilistic']['seconds']:.1f} s (target < {IDENTITY_TARGET_S:.0f} s)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(WORKERS[sys.argv[2]](*json.loads(sys.argv[3]))))
    else:
        main()
