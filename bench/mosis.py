"""MOSIS extract benchmark: Student Core and every layout of a cycle from a synthetic district.

Synthesises a district (`nexus synth`, default 25,000 students, Campus extract), ingests and
maps it into canonical on DuckDB (setup, timed on its own), then measures `run_extract`
(`nexus.mosis.extract`) for Student Core in the October cycle and for every layout that has a
registered population (`nexus.mosis.derivations.POPULATIONS`) in the October and June
cycles and, once, the annual files (a layout/cycle combination the layout does not collect is
skipped; an `ExtractError` is reported, not raised). Each measurement runs in its own process
so its peak RSS is its own; every extract of a run writes into the same store, as an
operator's would.

    .venv/bin/python bench/mosis.py [--students 25000] [--seed 1] [--work DIR] \
        [--statewide [--copies 36] [--max-rss-gb N]] [--keep] [--json]

Peak RSS is each worker's own high-water mark (VmHWM: Linux carries `ru_maxrss` over exec,
so a worker's would show its parent's peak when that is higher).

Phases: each extract also reports where its time went, by wrapping the extract's work area
in the worker (no change to `nexus`): loading canonical tables from the store, building the
population, computing the values, the checks, fetching the values, writing and keeping the
file, storing rows and values (`reporting.mosis_extract_rows|values`).

Statewide (`--statewide`): Student Core for 900,000 students. Synthesising, ingesting and
mapping 900,000 students would take far longer than the extract itself (synth ~55 s per
250,000 students, ingest + map ~50 s per 25,000), and only the extract is measured, so the
canonical tables are built directly instead: the mapped 25,000-student district's canonical
rows that Student Core reads are replicated `--copies` times (default 36, 25,000 x 36 =
900,000) in SQL inside the DuckDB store, each copy with its ids offset (person, enrollment),
its lineage keys suffixed (`source_key || '~k'`) and its MOSIS ID and student number shifted
within their width (numeric, same length): census.people, census.identities and
census.person_identifiers (students), education.enrollments, education.program_participation
and education.attendance_days (every row, so the truancy scan reads 36x the attendance).
Schools, calendars and calendar days are shared, as 36 copies of one district's students in
the same buildings. The extract then runs on a 900,000-student canonical store exactly as on
a mapped one. The replicated store is not a mapped one (no source records, no mapping runs
for the copies), which `run_extract` does not read beyond the input snapshot. Replicating
takes about a minute (147M attendance rows; the store grows to ~3.8 GB). The statewide
extract may not fit this machine's memory: it is killed when its RSS goes over
`--max-rss-gb` (default 60% of memory) and reported with the phase it was in and the
seconds of the phases before.

The synthesised district is cached under the work folder (by students and seed), so a rerun
skips `nexus synth`; every run starts from a fresh store, deleted afterwards unless `--keep`.
Targets (issue 5, item 7): Student Core under 10 s and all layouts of one cycle under 60 s at
25,000 students; Student Core for 900,000 students under 5 minutes. Benchmarks print figures;
they do not fail on timing.
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
YEAR = 2027  # 2026-27, what `nexus synth` generates by default
WORK = Path(tempfile.gettempdir()) / "nexus-bench-mosis"
# The annual files (DESE's ALL: MOSIS ID batch, Post-secondary/Adult Course Assignment, Direct
# Certification) are measured once, as `annual`; the precode windows are not measured.
CYCLES = ("october", "june", "annual")
CORE_TARGET_S = 10.0
CYCLE_TARGET_S = 60.0
STATEWIDE_TARGET_S = 300.0
PHASE_MARK = "bench-phase: "


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


# --- workers (each in its own process) ---------------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a
    worker would report its parent's peak when that is higher."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _open(home: str, url: str):
    os.environ["NEXUS_HOME"] = home
    os.environ["NEXUS_DATABASE_URL"] = url
    from nexus.store import open_store

    return open_store()


def worker_setup(home: str, url: str, folder: str) -> dict:
    """A fresh store: migrate, add the tenant, ingest the Campus extract, map it."""
    from nexus.canonical import map_run
    from nexus.integration import ingest
    from nexus.store.migrate import upgrade
    from nexus.store.tenants import add_tenant

    # The tenant is the synthesised district (its county-district code decides residency).
    district = json.loads((Path(folder).parent / "district.json").read_text())
    store = _open(home, url)
    upgrade(store.engine)
    with store.engine.begin() as conn:
        add_tenant(conn, TENANT, district["name"], district["county_district_code"])
    started = time.perf_counter()
    run = ingest(store, TENANT, "campus-extract", folder)
    ingested = time.perf_counter()
    mapped = map_run(store, TENANT, run.run_id)
    ended = time.perf_counter()
    return {
        "ingest_seconds": ingested - started,
        "map_seconds": ended - ingested,
        "seconds": ended - started,
        "ingest_status": run.status,
        "map_status": mapped.status,
        "peak_rss_mb": _peak_rss_mb(),
        "canonical": _canonical_counts(store),
    }


def _canonical_counts(store) -> dict:
    import sqlalchemy as sa

    tables = {
        "students": "census.identities WHERE person_kind = 'student' AND key_scope = 'campus'",
        "enrollments": "education.enrollments",
        "program_participation": "education.program_participation",
        "attendance_days": "education.attendance_days",
    }
    with store.engine.connect() as conn:
        return {
            name: int(conn.execute(sa.text(f"SELECT count(*) FROM {sql}")).scalar_one())
            for name, sql in tables.items()
        }


# Statewide: replicate the canonical rows Student Core reads `copies` times (copy 0 is the
# mapped district itself). `{k}` is the copy number from range(1, copies); `{p}` and `{e}` the
# person and enrollment id strides (above the highest id, so copies never collide). MOSIS IDs
# and student numbers are shifted by k * 7654321 modulo their width: numeric and of the same
# width, so they pass the same checks (rarely unique across copies: nothing here needs it).
_REPLICATE = {
    "census.people": (
        "SELECT t.* REPLACE (t.person_id + r.k * {p} AS person_id) FROM census.people t, r "
        "WHERE t.person_kind = 'student'"
    ),
    "census.identities": (
        "SELECT t.* REPLACE (t.person_id + r.k * {p} AS person_id, "
        "t.source_key || '~' || r.k AS source_key) FROM census.identities t, r "
        "WHERE t.person_kind = 'student'"
    ),
    "census.person_identifiers": (
        "SELECT t.* EXCLUDE (lo, hi) REPLACE (t.source_key || '~' || r.k AS source_key, "
        "CASE WHEN hi IS NULL THEN t.value || '~' || r.k ELSE lpad(CAST(lo + (CAST(t.value "
        "AS BIGINT) - lo + r.k * 7654321) % (hi - lo) AS VARCHAR), length(t.value)::INT, '0') "
        "END AS value) FROM (SELECT *, CASE WHEN value LIKE '0%' THEN 0 "
        "ELSE CAST(10 ** (length(value) - 1) AS BIGINT) END AS lo, "
        "CAST(10 ** length(value) AS BIGINT) AS hi FROM census.person_identifiers "
        "WHERE person_kind = 'student' AND identifier_type IN ('mosis_state_id', "
        "'student_number') AND regexp_full_match(value, '[0-9]{{1,15}}') "
        "UNION ALL BY NAME SELECT *, NULL::BIGINT AS lo, NULL::BIGINT AS hi "
        "FROM census.person_identifiers WHERE person_kind = 'student' AND NOT ("
        "identifier_type IN ('mosis_state_id', 'student_number') "
        "AND regexp_full_match(value, '[0-9]{{1,15}}'))) t, r"
    ),
    "education.enrollments": (
        "SELECT t.* REPLACE (t.enrollment_id + r.k * {e} AS enrollment_id, "
        "t.person_id + r.k * {p} AS person_id, t.source_key || '~' || r.k AS source_key) "
        "FROM education.enrollments t, r"
    ),
    "education.program_participation": (
        "SELECT t.* REPLACE (t.person_id + r.k * {p} AS person_id, "
        "t.source_key || '~' || r.k AS source_key) FROM education.program_participation t, r"
    ),
    "education.attendance_days": (
        "SELECT t.* REPLACE (t.person_id + r.k * {p} AS person_id, "
        "t.source_key || '~' || r.k AS source_key) FROM education.attendance_days t, r"
    ),
}


def worker_replicate(store_file: str, copies: int) -> dict:
    """Grow the mapped district to `copies` x its students inside the DuckDB store."""
    db = duckdb.connect(store_file)
    started = time.perf_counter()
    p = db.execute("SELECT max(person_id) + 1 FROM census.people").fetchone()[0]
    e = db.execute("SELECT max(enrollment_id) + 1 FROM education.enrollments").fetchone()[0]
    db.execute(f"CREATE TEMP TABLE r AS SELECT range AS k FROM range(1, {int(copies)})")
    tables: dict[str, dict] = {}
    for table, sql in _REPLICATE.items():
        t0 = time.perf_counter()
        db.execute("BEGIN")
        db.execute(f"INSERT INTO {table} {sql.format(p=int(p), e=int(e))}")
        db.execute("COMMIT")
        rows = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        tables[table] = {"rows": int(rows), "seconds": round(time.perf_counter() - t0, 1)}
    db.execute("CHECKPOINT")
    db.close()
    return {
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": _peak_rss_mb(),
        "tables": tables,
        "store_mb": round(Path(store_file).stat().st_size / 2**20),
    }


class _Clock:
    """Seconds per phase of one extract, from wrappers around its work area (see the module
    docstring); what the wrappers do not see is the rest of `_Work.run` (the file's rows)."""

    # SQL the extract's work area runs, by how it starts, and the phase it belongs to.
    SQL_PHASES = (
        ("CREATE OR REPLACE TABLE vals", "values"),
        ("CREATE TABLE problems", "checks"),
        ("SELECT DISTINCT row_no FROM problems", "checks"),
        ("SELECT row_no, subject_key", "fetch values"),
        ("SELECT p.row_no", "checks"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    @staticmethod
    def mark(phase: str) -> None:
        """Say on stderr which phase starts: when the parent kills a worker over its memory
        limit, the last mark tells where it was."""
        print(f"{PHASE_MARK}{time.perf_counter():.3f} {phase}", file=sys.stderr, flush=True)

    def timed(self, phase: str, func):
        clock = self

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            if not phase.startswith("("):
                clock.mark(phase)
            try:
                return func(*args, **kwargs)
            finally:
                clock.add(phase, time.perf_counter() - started)

        return wrapper

    def install(self, layout: str) -> None:
        from nexus.mosis import extract
        from nexus.mosis.derivations import POPULATIONS, load_all

        load_all()
        clock = self
        work = extract._Work
        work.load_sql = self.timed("load canonical", work.load_sql)
        work._store = self.timed("store rows and values", work._store)
        work.run = self.timed("(work area, total)", work.run)
        extract.keep = self.timed("keep file", extract.keep)
        population = POPULATIONS[layout]

        def timed_population(db, ctx, canonical):
            clock.mark("population")
            loaded = clock.seconds.get("load canonical", 0.0)
            started = time.perf_counter()
            out = population(db._db, ctx, canonical)
            took = time.perf_counter() - started
            clock.add("population", took - (clock.seconds.get("load canonical", 0.0) - loaded))
            return out

        POPULATIONS[layout] = timed_population
        init = work.__init__

        def timed_init(self, *args, **kwargs):
            init(self, *args, **kwargs)
            self.db = _TimedDb(self.db, clock)

        work.__init__ = timed_init

    def phases(self, seconds: float) -> dict[str, float]:
        """Seconds per phase of an extract that took `seconds` in all."""
        out = dict(self.seconds)
        work = out.pop("(work area, total)", 0.0)
        out["file rows (csv)"] = max(work - sum(out.values()), 0.0)
        out["layout, tenant, snapshot"] = max(seconds - work, 0.0)
        return {k: round(v, 3) for k, v in out.items()}


class _TimedDb:
    """The work area's DuckDB connection, timing the statements `_Work.run` runs itself."""

    def __init__(self, db, clock: _Clock) -> None:
        self._db, self._clock = db, clock

    def execute(self, sql: str, *args):
        started = time.perf_counter()
        phase = self._phase(sql)
        if phase:
            self._clock.mark(phase)
        return _Fetch(self._db.execute(sql, *args), self._clock, phase, started)

    def _phase(self, sql: str) -> str | None:
        text = sql.lstrip()
        for prefix, phase in _Clock.SQL_PHASES:
            if text.startswith(prefix):
                return phase
        return None

    def __getattr__(self, name: str):
        return getattr(self._db, name)


class _Fetch:
    """A result whose fetch ends the statement's timing (DuckDB runs lazily until fetched)."""

    def __init__(self, result, clock: _Clock, phase: str | None, started: float) -> None:
        self._result, self._clock, self._phase, self._started = result, clock, phase, started

    def _done(self, value):
        if self._phase:
            self._clock.add(self._phase, time.perf_counter() - self._started)
            if self._phase == "fetch values":
                self._clock.mark("file rows (csv)")
        return value

    def fetchall(self):
        return self._done(self._result.fetchall())

    def fetchone(self):
        return self._done(self._result.fetchone())

    def __getattr__(self, name: str):
        return getattr(self._result, name)


def worker_extract(home: str, url: str, layout: str, cycle: str, out_dir: str) -> dict:
    from nexus.mosis.extract import ExtractError, run_extract

    store = _open(home, url)
    clock = _Clock()
    try:
        clock.install(layout)
    except (AttributeError, KeyError):  # the extract's internals moved: no phases
        clock = None
    started = time.perf_counter()
    try:
        result = run_extract(store, TENANT, YEAR, cycle, layout, Path(out_dir))
    except ExtractError as exc:
        return {
            "seconds": time.perf_counter() - started,
            "peak_rss_mb": _peak_rss_mb(),
            "error": str(exc),
        }
    seconds = time.perf_counter() - started
    out = {
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "rows": result.rows,
        "blocking": result.blocking,
        "warnings": result.warnings,
        "file_mb": round(Path(result.file).stat().st_size / 2**20, 1) if result.file else 0,
        "phases": clock.phases(seconds) if clock else {},
    }
    return out


WORKERS = {"setup": worker_setup, "replicate": worker_replicate, "extract": worker_extract}


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _child(name: str, *args, max_rss_mb: float = 0.0) -> dict:
    """Run a worker in its own process; with `max_rss_mb`, kill it when its RSS goes over (the
    statewide extract may not fit this machine's memory) and report that instead."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", name, json.dumps(args)], stdout=out, stderr=err
        )
        seen = 0.0
        while proc.poll() is None:
            seen = max(seen, _rss_mb(proc.pid))
            if max_rss_mb and seen > max_rss_mb:
                proc.kill()
                proc.wait()
                err.seek(0)
                return _killed(err.read(), time.perf_counter() - started, seen, max_rss_mb)
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{name} worker failed: {err.read()[-3000:]}")
        return json.loads(out.read().strip().splitlines()[-1])


def _killed(stderr: str, seconds: float, seen: float, limit: float) -> dict:
    """A worker killed over its memory limit: where it was, and its phases until then (from
    its phase marks: the time from one mark to the next, so the population's own SQL after
    its last load counts as loading)."""
    marks = []
    for line in stderr.splitlines():
        if line.startswith(PHASE_MARK):
            at, _, phase = line.removeprefix(PHASE_MARK).partition(" ")
            marks.append((float(at), phase))
    until: dict[str, float] = {}
    for (at, phase), (after, _) in zip(marks, marks[1:], strict=False):
        until[phase] = round(until.get(phase, 0.0) + after - at, 3)
    where = f" in phase {marks[-1][1]!r}" if marks else ""
    return {
        "seconds": seconds,
        "peak_rss_mb": seen,
        "error": f"killed after {seconds:.0f} s{where}: RSS over {limit:,.0f} MB",
        "phases_until_killed": until,
    }


def _memory_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 16 * 1024.0


# --- main --------------------------------------------------------------------------------------


def plan() -> list[tuple[str, str, str | None]]:
    """(layout, cycle, why skipped) for every layout with a population: October, June, annual."""
    from nexus.mosis import layouts as mosis_layouts
    from nexus.mosis.derivations import POPULATIONS, load_all

    load_all()
    out = []
    for layout in sorted(POPULATIONS):
        try:
            collected = mosis_layouts.layout_meta(layout, YEAR).get("cycles") or []
        except mosis_layouts.LayoutError as exc:
            collected, why = [], str(exc)
        for cycle in CYCLES:
            code = mosis_layouts.cycle_code(cycle)
            why = None
            if collected and code not in collected:
                why = f"not collected in {cycle} ({', '.join(collected)})"
            out.append((layout, cycle, why))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=WORK, help="cache and scratch folder")
    parser.add_argument(
        "--statewide", action="store_true", help="also Student Core at --copies x the district"
    )
    parser.add_argument("--copies", type=int, default=36, help="statewide: copies of the district")
    parser.add_argument(
        "--max-rss-gb",
        type=float,
        default=round(_memory_mb() * 0.6 / 1024),
        help="statewide: stop the extract when its RSS goes over this (default 60%% of memory)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch stores and files")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    say = (lambda m: print(m, file=sys.stderr)) if args.json else print

    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    folder = synthesise(args.work, args.students, args.seed)
    say(f"{args.students:,} students synthesised ({time.perf_counter() - started:.0f} s)")
    scratch = args.work / f"run-{uuid.uuid4().hex[:8]}"
    home = scratch / "home"
    store_file = home / "nexus.duckdb"
    url = f"duckdb:///{store_file}"
    report: dict = {"students": args.students, "seed": args.seed, "extracts": []}
    try:
        say("setup: ingest and map the Campus extract ...")
        report["setup"] = setup = _child("setup", str(home), url, str(folder))
        say(
            f"  ingest {setup['ingest_seconds']:.1f} s ({setup['ingest_status']}), map "
            f"{setup['map_seconds']:.1f} s ({setup['map_status']}): {setup['canonical']}"
        )
        # By cycle, Student Core first, then the other layouts; skipped ones last.
        runs = sorted(
            plan(),
            key=lambda r: (r[2] is not None, CYCLES.index(r[1]), r[0] != "student_core", r[0]),
        )
        for layout, cycle, why in runs:
            entry = {"layout": layout, "cycle": cycle, "students": args.students}
            if why:
                entry["skipped"] = why
            else:
                entry.update(_child("extract", str(home), url, layout, cycle, str(scratch / "out")))
                say(f"  {layout} {cycle}: {_summary(entry)}")
            report["extracts"].append(entry)
        if args.statewide:
            copies = args.copies
            say(f"statewide: replicate the district's canonical rows x{copies} ...")
            state_home = scratch / "home-statewide"
            state_file = state_home / "nexus.duckdb"
            shutil.copytree(home, state_home)
            rep = _child("replicate", str(state_file), copies)
            report["replicate"], report["copies"] = rep, copies
            say(f"  {rep['seconds']:.0f} s, store {rep['store_mb']:,} MB: {rep['tables']}")
            entry = {
                "layout": "student_core",
                "cycle": "october",
                "students": args.students * copies,
                "statewide": True,
            }
            entry.update(
                _child(
                    "extract",
                    str(state_home),
                    f"duckdb:///{state_file}",
                    "student_core",
                    "october",
                    str(scratch / "out-statewide"),
                    max_rss_mb=args.max_rss_gb * 1024,
                )
            )
            say(f"  student_core october statewide: {_summary(entry)}")
            report["extracts"].append(entry)
    finally:
        if args.keep:
            say(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


def _summary(e: dict) -> str:
    if "error" in e:
        return f"ExtractError: {e['error']}"
    return (
        f"{e['seconds']:.1f} s, {e['rows']:,} rows, {e['blocking']:,} blocking, "
        f"{e['peak_rss_mb']:,.0f} MB"
    )


# Phase columns of the printed table: (phase as the worker names it, column head).
PHASE_COLUMNS = (
    ("load canonical", "load"),
    ("population", "pop"),
    ("values", "values"),
    ("checks", "checks"),
    ("fetch values", "fetch"),
    ("file rows (csv)", "csv"),
    ("keep file", "keep"),
    ("store rows and values", "store"),
    ("layout, tenant, snapshot", "other"),
)


def print_table(report: dict) -> None:
    s = report["setup"]
    print(
        f"\nsetup ({report['students']:,} students): ingest {s['ingest_seconds']:.1f} s, "
        f"map {s['map_seconds']:.1f} s, peak RSS {s['peak_rss_mb']:,.0f} MB; canonical "
        + ", ".join(f"{k} {v:,}" for k, v in s["canonical"].items())
    )
    rep = report.get("replicate")
    if rep:
        att = rep["tables"].get("education.attendance_days", {}).get("rows", 0)
        print(
            f"statewide: canonical rows replicated x{report['copies']} in {rep['seconds']:.0f} s "
            f"({att:,} attendance rows, store {rep['store_mb']:,} MB, peak RSS "
            f"{rep['peak_rss_mb']:,.0f} MB)"
        )
    print(
        f"\n{'layout':<26} {'cycle':<8} {'students':>8} {'seconds':>8} {'rec/s':>8} "
        f"{'rows':>9} {'blocking':>8} {'warn':>6} {'RSS MB':>7}  "
        + " ".join(f"{head:>6}" for _, head in PHASE_COLUMNS)
    )
    for e in report["extracts"]:
        name = e["layout"] + (" statewide" if e.get("statewide") else "")
        lead = f"{name:<26} {e['cycle']:<8} {e['students']:>8,}"
        if "skipped" in e:
            print(f"{lead}  skipped: {e['skipped']}")
        elif "error" in e:
            print(f"{lead} {e['seconds']:>8.1f}  {e['error']}")
            if e.get("phases_until_killed"):
                print(
                    f"{'':<26} phases until then (s): "
                    + ", ".join(f"{k} {v:.1f}" for k, v in e["phases_until_killed"].items())
                )
        else:
            records = e["rows"] + e["blocking"]
            rate = records / e["seconds"] if e["seconds"] else 0.0
            phases = e.get("phases") or {}
            print(
                f"{lead} {e['seconds']:>8.1f} {rate:>8,.0f} {e['rows']:>9,} {e['blocking']:>8,} "
                f"{e['warnings']:>6,} {e['peak_rss_mb']:>7,.0f}  "
                + " ".join(f"{phases.get(name, 0.0):>6.2f}" for name, _ in PHASE_COLUMNS)
            )
    print(
        "\nrec/s: records made (rows written + rows blocked) per second; RSS: the extract "
        "process's peak; phases in seconds (load: canonical tables into the work area, pop: "
        "the population less its loads, csv: the file's rows in Python, store: "
        "reporting.mosis_extract_rows and _values, other: layout, tenant, snapshot, run row)"
    )
    done = [e for e in report["extracts"] if "rows" in e and not e.get("statewide")]
    core = next((e for e in done if (e["layout"], e["cycle"]) == ("student_core", "october")), None)
    parts = []
    if core:
        parts.append(f"Student Core {core['seconds']:.1f} s (target < {CORE_TARGET_S:.0f} s)")
    for cycle in CYCLES:
        took = sum(e["seconds"] for e in done if e["cycle"] == cycle)
        parts.append(f"all layouts of {cycle} {took:.1f} s (target < {CYCLE_TARGET_S:.0f} s)")
    state = next((e for e in report["extracts"] if e.get("statewide")), None)
    if state:
        took = f"{state['seconds']:.1f} s" if "rows" in state else "did not finish"
        parts.append(
            f"statewide Student Core ({state['students']:,}) {took} "
            f"(target < {STATEWIDE_TARGET_S:.0f} s)"
        )
    print("targets: " + "; ".join(parts))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(WORKERS[sys.argv[2]](*json.loads(sys.argv[3]))))
    else:
        main()
