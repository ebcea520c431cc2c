"""`nexus daily`: a tenant's whole day as one pipeline run, step by step, recorded as it goes.

The steps, in order (each configured in `config.py`):
1. `ingest`, one per connection (`nexus.integration.ingest`, through the district gate);
2. `map`, one per connection, gated: a connection whose ingest failed, or whose row errors
   exceed `max_error_rate` of the rows read, is not mapped (the step is `blocked`, with why);
3. `validate`, one per open cycle (`nexus.validation.engine.validate`);
4. `marts`: the grade-card marts of the year and the operational marts;
5. `extract`, one per configured MOSIS file (`nexus.mosis.extract.run_extract`);
6. `notify`, when something failed or was blocked, or validation found new blocking
   exceptions (`notify.py`).
A failed map blocks steps 3-5 (they would describe a canonical model that is not the day's);
a failed ingest blocks only its own map, and the rest still runs on the data already mapped.

One `platform.pipeline_runs` row per run, written when it starts and after every step starts
and ends, so a web page can show it live. The run's status: `succeeded` when every step did,
`failed` when none succeeded, `partial` otherwise (the notify step does not count).

One run per tenant at a time: an in-process lock (threads of `nexus serve`), the tenant's
advisory lock on PostgreSQL (other processes), and the table itself: a `running` row is a live
run unless it is stale (its process is gone, PostgreSQL's lock was free, or it is older than
`stale_after_minutes`), in which case it is marked failed and the new run goes ahead.

Re-running after a fix resumes cleanly: ingestion versions records (unchanged ones stay
unchanged), maps and validations merge by identity, extracts are deterministic.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from nexus.canonical import map_run
from nexus.errors import NexusError
from nexus.identity import district_gate
from nexus.integration import ingest
from nexus.integration.runs import RunResult, process_alive
from nexus.integration.sources import get_connection
from nexus.jobs import notify
from nexus.jobs.config import (
    JobsError,
    PipelineConfig,
    current_school_year,
    get_config,
    ingest_connections,
    open_cycles,
)
from nexus.marts.mosis_marts import refresh_operational
from nexus.marts.refresh import refresh
from nexus.mosis.extract import run_extract
from nexus.mosis.layouts import school_year_label
from nexus.store import Store, locks
from nexus.store.engine import current_user
from nexus.store.locks import tenant_lock
from nexus.store.tenants import Tenant, find_tenant
from nexus.store.validation_tables import validation_exceptions
from nexus.store.workspace_tables import pipeline_runs
from nexus.validation.engine import validate

log = logging.getLogger(__name__)

RUNNING, SUCCEEDED, PARTIAL, FAILED = "running", "succeeded", "partial", "failed"
BLOCKED, SKIPPED = "blocked", "skipped"
TRIGGERS = ("manual", "web", "schedule")
EXIT_CODES = {SUCCEEDED: 0, PARTIAL: 3, FAILED: 1}
# While a run is running its `reason` says where, so another process can tell a dead one.

_local_locks: dict[tuple[str, int], threading.Lock] = {}
_local_guard = threading.Lock()


class PipelineBusy(JobsError):
    """Another daily run of the tenant is running."""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


@dataclass
class Step:
    """One step of a run: `status` is running, succeeded, partial, failed, blocked or skipped."""

    step: str
    target: str
    status: str = RUNNING
    started_at: datetime = field(default_factory=_now)
    ended_at: datetime | None = None
    seconds: float | None = None
    counts: dict = field(default_factory=dict)
    reason: str | None = None

    def finish(self, status: str, counts: dict | None = None, reason: str | None = None) -> None:
        self.status = status
        self.counts = counts or {}
        self.reason = reason
        self.ended_at = _now()
        self.seconds = round((self.ended_at - self.started_at).total_seconds(), 3)

    def as_dict(self) -> dict:
        return {
            "step": self.step,
            "target": self.target,
            "status": self.status,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "seconds": self.seconds,
            "counts": self.counts,
            "reason": self.reason,
        }


@dataclass
class PipelineResult:
    """What a daily run did: the `--json` contract of `nexus daily`."""

    pipeline_run_id: int
    tenant: str
    trigger: str
    started_by: str
    status: str
    reason: str | None
    steps: list[Step]
    started_at: datetime
    ended_at: datetime | None = None
    school_year: int | None = None
    cycles: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 succeeded, 3 partial, 1 failed (as `nexus ingest`)."""
        return EXIT_CODES.get(self.status, 1)

    def as_dict(self) -> dict:
        return {
            "pipeline_run_id": self.pipeline_run_id,
            "tenant": self.tenant,
            "trigger": self.trigger,
            "started_by": self.started_by,
            "status": self.status,
            "reason": self.reason,
            "school_year": self.school_year,
            "cycles": self.cycles,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "seconds": (
                round((self.ended_at - self.started_at).total_seconds(), 3)
                if self.ended_at
                else None
            ),
            "steps": [s.as_dict() for s in self.steps],
        }


def run_daily(
    store: Store,
    tenant_code: str,
    *,
    trigger: str = "manual",
    user: str | None = None,
    progress: Callable[[str], None] | None = None,
    today: date | None = None,
) -> PipelineResult:
    """Run the tenant's daily pipeline; see the module docstring.

    Raises `PipelineBusy` when a run of the tenant is already running, `JobsError` for an
    unknown tenant or trigger; every problem inside a step is recorded in the run instead.
    `progress` receives one line per step event (no student data); `today` fixes the run's
    date (the default school year and open cycles)."""
    if trigger not in TRIGGERS:
        raise JobsError(f"unknown trigger {trigger!r}: one of {', '.join(TRIGGERS)}")
    with store.engine.connect() as conn:
        tenant = find_tenant(conn, tenant_code)
        if tenant is None:
            raise JobsError(f"no tenant {tenant_code!r}")
        config = get_config(conn, tenant.tenant_id)
    local = _local_lock(store, tenant.tenant_id)
    if not local.acquire(blocking=False):
        raise PipelineBusy(
            f"a daily run of {tenant_code} is already running in this process; "
            f"wait for it to finish"
        )
    try:
        busy = PipelineBusy(
            f"a daily run of {tenant_code} is already running in another process; "
            f"wait for it to finish"
        )
        with tenant_lock(store, tenant.tenant_id, locks.PIPELINE, busy):
            with store.engine.begin() as conn:
                reap_stale(
                    conn,
                    tenant,
                    lock_was_free=store.backend.advisory_locks,
                    stale_after=timedelta(minutes=config.stale_after_minutes),
                )
                started = _now()
                who = user or current_user()
                run_id = conn.execute(
                    pipeline_runs.insert()
                    .values(
                        tenant_id=tenant.tenant_id,
                        trigger=trigger,
                        started_by=who,
                        status=RUNNING,
                        hostname=socket.gethostname(),
                        pid=os.getpid(),
                        steps=[],
                        started_at=started,
                    )
                    .returning(pipeline_runs.c.pipeline_run_id)
                ).scalar_one()
            result = PipelineResult(run_id, tenant.code, trigger, who, RUNNING, None, [], started)
            _Run(store, tenant, config, result, progress, today or date.today()).execute()
            return result
    finally:
        local.release()


def _local_lock(store: Store, tenant_id: int) -> threading.Lock:
    key = (store.settings.database_url, tenant_id)
    with _local_guard:
        return _local_locks.setdefault(key, threading.Lock())


def reap_stale(
    conn: sa.Connection, tenant: Tenant, *, lock_was_free: bool, stale_after: timedelta
) -> list[int]:
    """Mark the tenant's dead `running` runs failed; raise `PipelineBusy` for a live one.

    Called holding the tenant's locks: `lock_was_free` says PostgreSQL's advisory lock was
    free, so whoever left a row running is gone. Otherwise a row is dead when its process (on
    this host) has ended, when it is this process's own (its lock is held by the caller), or
    when it is older than `stale_after`. Returns the ids marked failed."""
    p = pipeline_runs
    rows = conn.execute(
        sa.select(p.c.pipeline_run_id, p.c.hostname, p.c.pid, p.c.started_at).where(
            p.c.tenant_id == tenant.tenant_id, p.c.status == RUNNING
        )
    ).all()
    now = _now()
    reaped = []
    for run_id, host, pid, started_at in rows:
        if started_at.tzinfo is None:
            started_at = started_at.replace(tzinfo=UTC)
        owner = host is not None
        if lock_was_free:
            why = "abandoned: its process ended before the run finished (its lock was free)"
        elif host == socket.gethostname() and pid == os.getpid():
            why = "abandoned: it stopped before the run finished"
        elif host == socket.gethostname() and not process_alive(pid):
            why = f"abandoned: process {pid} ended before the run finished"
        elif now - started_at > stale_after:
            minutes = int(stale_after.total_seconds() // 60)
            why = f"abandoned: still running after {minutes} minutes (stale_after_minutes)"
        else:
            where = f" on {host} (process {pid})" if owner else ""
            raise PipelineBusy(
                f"daily run {run_id} of {tenant.code} is running{where} since "
                f"{started_at:%Y-%m-%d %H:%M} UTC; wait for it to finish"
            )
        steps = _steps_of(
            conn.execute(
                sa.select(pipeline_runs.c.steps).where(
                    pipeline_runs.c.tenant_id == tenant.tenant_id,
                    pipeline_runs.c.pipeline_run_id == run_id,
                )
            ).scalar_one()
        )
        for step in steps:
            if step.get("status") == RUNNING:
                step["status"] = FAILED
                step["reason"] = "abandoned"
        conn.execute(
            pipeline_runs.update()
            .where(
                pipeline_runs.c.tenant_id == tenant.tenant_id,
                pipeline_runs.c.pipeline_run_id == run_id,
            )
            .values(status=FAILED, reason=why, ended_at=now, steps=steps)
        )
        log.info("daily run %s of %s marked failed: %s", run_id, tenant.code, why)
        reaped.append(run_id)
    return reaped


def _steps_of(value: object) -> list[dict]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


class _Run:
    """One run's steps, in order, each recorded in the run's row as it starts and ends."""

    def __init__(
        self,
        store: Store,
        tenant: Tenant,
        config: PipelineConfig,
        result: PipelineResult,
        progress: Callable[[str], None] | None,
        today: date,
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.config = config
        self.result = result
        self.say = progress or (lambda message: None)
        self.today = today
        self.user = result.started_by

    # --- recording ---

    def _save(self, **values: object) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(
                pipeline_runs.update()
                .where(
                    pipeline_runs.c.tenant_id == self.tenant.tenant_id,
                    pipeline_runs.c.pipeline_run_id == self.result.pipeline_run_id,
                )
                .values(steps=[s.as_dict() for s in self.result.steps], **values)
            )

    def _tell(self, message: str) -> None:
        try:
            self.say(message)
        except Exception:  # a broken progress display must not stop the day's work
            log.debug("progress callback failed", exc_info=True)

    def step(
        self, name: str, target: str, work: Callable[[Step], tuple[str, dict, str | None]]
    ) -> Step:
        """Run one step: its outcome, or `failed` with the error's message; never raises."""
        step = Step(name, target)
        self.result.steps.append(step)
        self._save()
        self._tell(f"{name} {target}: started")
        try:
            status, counts, reason = work(step)
        except NexusError as exc:
            status, counts, reason = FAILED, {}, str(exc)
        except Exception as exc:
            log.debug("step %s %s failed", name, target, exc_info=True)
            status, counts, reason = FAILED, {}, f"internal error: {type(exc).__name__}: {exc}"
        step.finish(status, counts, reason)
        self._save()
        self._tell(f"{name} {target}: {status}" + (f" ({reason})" if reason else ""))
        return step

    def settled(self, name: str, target: str, status: str, reason: str) -> Step:
        """A step that does not run: blocked by an earlier failure, or skipped by the config."""
        step = Step(name, target)
        step.finish(status, {}, reason)
        self.result.steps.append(step)
        self._save()
        self._tell(f"{name} {target}: {status} ({reason})")
        return step

    # --- the day ---

    def execute(self) -> None:
        try:
            self._steps()
            self.result.status, self.result.reason = overall(self.result.steps)
        except Exception as exc:  # a fault of the pipeline itself, not of a step
            log.debug("daily run %s failed", self.result.pipeline_run_id, exc_info=True)
            self.result.status = FAILED
            self.result.reason = f"internal error: {type(exc).__name__}: {exc}"
        self.result.ended_at = _now()
        self._save(
            status=self.result.status, reason=self.result.reason, ended_at=self.result.ended_at
        )
        self._tell(f"daily run {self.result.pipeline_run_id}: {self.result.status}")
        try:
            self._notify()
        except Exception:
            log.debug("notification of run %s failed", self.result.pipeline_run_id, exc_info=True)

    def _steps(self) -> None:
        config = self.config
        with self.store.engine.connect() as conn:
            names = (
                config.connections
                if config.connections is not None
                else ingest_connections(conn, self.tenant.tenant_id)
            )
        ingested: dict[str, RunResult | None] = {}
        for name in names:
            ingested[name] = None
            self.step("ingest", name, lambda s, name=name: self._ingest(name, ingested))
        map_failed: list[str] = []
        for name in names:
            run = ingested[name]
            blocked = self._gate(name, run)
            if blocked:
                self.settled("map", name, BLOCKED, blocked)
                continue
            step = self.step("map", name, lambda s, run=run: self._map(run))
            if step.status == FAILED:
                map_failed.append(name)
        downstream_blocked = (
            f"the map of {', '.join(map_failed)} failed: the canonical data is not the day's"
            if map_failed
            else None
        )
        year = config.school_year or current_school_year(self.today)
        cycles = config.cycles if config.cycles is not None else open_cycles(year, self.today)
        self.result.school_year, self.result.cycles = year, list(cycles)
        label = school_year_label(year)
        for cycle in cycles:
            target = f"{label} {cycle}"
            if downstream_blocked:
                self.settled("validate", target, BLOCKED, downstream_blocked)
            else:
                self.step("validate", target, lambda s, c=cycle: self._validate(year, c))
        if not config.marts:
            self.settled("marts", label, SKIPPED, "marts refresh is off in the pipeline config")
        elif downstream_blocked:
            self.settled("marts", label, BLOCKED, downstream_blocked)
        else:
            self.step("marts", label, lambda s: self._marts(year))
        folder = config.output_folder(self.store.settings, self.tenant.code)
        for spec in config.extracts:
            target = f"{label} {spec.target}"
            if downstream_blocked:
                self.settled("extract", target, BLOCKED, downstream_blocked)
            else:
                self.step("extract", target, lambda s, spec=spec: self._extract(year, spec, folder))

    def _ingest(self, name: str, ingested: dict) -> tuple[str, dict, str | None]:
        with self.store.engine.connect() as conn:
            connection = get_connection(conn, self.tenant.tenant_id, name)

        def report(entity: str, rows: int | None) -> None:
            done = f" ({rows:,} rows)" if rows is not None else ""
            self._tell(f"ingest {name}: {entity}{done}")

        run = ingest(
            self.store,
            self.tenant.code,
            connection.kind,
            None,
            connection_name=name,
            gate=district_gate,
            user=self.user,
            progress=report,
        )
        ingested[name] = run
        totals = {k: 0 for k in ("new", "changed", "unchanged", "deleted")}
        for counts in run.entities.values():
            for key in totals:
                totals[key] += counts.get(key, 0)
        counts = {
            "run_id": run.run_id,
            "files": len(run.files),
            "rows": sum(f.rows for f in run.files),
            **totals,
            "errors": run.error_total,
        }
        return run.status, counts, run.reason

    def _gate(self, name: str, run: RunResult | None) -> str | None:
        """Why this connection's run must not be mapped, or None."""
        if run is None or run.status == FAILED:
            which = f" (run {run.run_id})" if run is not None else ""
            return f"the ingest of {name}{which} failed: nothing new to map"
        rows = sum(f.rows for f in run.files)
        share = run.error_total / rows if rows else (1.0 if run.error_total else 0.0)
        if share > self.config.max_error_rate:
            return (
                f"row errors are {share:.1%} of the {rows:,} rows read, above max_error_rate "
                f"{self.config.max_error_rate:.1%}: fix the source and re-run "
                f"(`nexus runs errors {run.run_id}`)"
            )
        return None

    def _map(self, run: RunResult) -> tuple[str, dict, str | None]:
        result = map_run(
            self.store,
            self.tenant.code,
            run.run_id,
            user=self.user,
            progress=lambda message: self._tell(f"map: {message}"),
        )
        totals = {k: 0 for k in ("inserted", "updated", "deleted", "unchanged", "errors")}
        for counts in result.targets.values():
            for key in totals:
                totals[key] += counts.get(key, 0)
        counts = {"map_run_id": result.map_run_id, "ingestion_run_id": run.run_id, **totals}
        return result.status, counts, result.reason

    def _validate(self, year: int, cycle: str) -> tuple[str, dict, str | None]:
        found = validate(self.store, self.tenant.code, year, cycle, user=self.user).as_dict()
        run_id = found["validation_run_id"]
        with self.store.engine.connect() as conn:
            new_blocking = conn.execute(
                sa.select(sa.func.count()).where(
                    validation_exceptions.c.tenant_id == self.tenant.tenant_id,
                    validation_exceptions.c.first_seen_run == run_id,
                    validation_exceptions.c.severity == "blocking",
                )
            ).scalar_one()
        counts = {
            "validation_run_id": run_id,
            "found": found["found"],
            "new": found["new"],
            "new_blocking": int(new_blocking),
            "blocking": found["by_severity"].get("blocking", 0),
            "warning": found["by_severity"].get("warning", 0),
            "reopened": found["reopened"],
            "auto_resolved": found["auto_resolved"],
        }
        return SUCCEEDED, counts, None

    def _marts(self, year: int) -> tuple[str, dict, str | None]:
        built = refresh(
            self.store,
            self.tenant.code,
            year,
            progress=lambda message: self._tell(f"marts: {message}"),
        )
        operational = refresh_operational(self.store, self.tenant.code)
        counts = {
            "rebuilt": len(built.rebuilt),
            "unchanged": len(built.unchanged),
            "facts": built.facts,
            "aggregates": built.aggregates,
            "operational_rows": sum(v for v in operational.values() if isinstance(v, int)),
        }
        return SUCCEEDED, counts, None

    def _extract(self, year: int, spec, folder) -> tuple[str, dict, str | None]:
        made = run_extract(
            self.store,
            self.tenant.code,
            year,
            spec.cycle,
            spec.layout,
            folder,
            school_code=spec.school,
            user=self.user,
        )
        counts = {
            "extract_run_id": made.extract_run_id,
            "rows": made.rows,
            "blocking": made.blocking,
            "warnings": made.warnings,
            "file": made.file,
        }
        if made.blocking:
            reason = f"{made.blocking:,} row(s) with blocking problems"
            return PARTIAL, counts, reason
        return SUCCEEDED, counts, None

    def _notify(self) -> None:
        channels = notify.channels(self.config.notify)
        if not channels:
            return
        message = notify.message_for(self.result.as_dict(), self.config.notify)
        if message is None:
            return
        for channel in channels:
            self.step(
                "notify",
                channel,
                lambda s, channel=channel: notify.send(channel, self.config.notify, message),
            )


def overall(steps: list[Step]) -> tuple[str, str | None]:
    """The run's status and, unless it succeeded, why: `succeeded` when every step succeeded
    (or was skipped by the config), `failed` when none succeeded, `partial` otherwise."""
    counted = [s for s in steps if s.step != "notify"]
    if all(s.status in (SUCCEEDED, SKIPPED) for s in counted):
        return SUCCEEDED, None
    worked = any(s.status in (SUCCEEDED, PARTIAL) for s in counted)
    problems = [
        f"{s.step} {s.target} {s.status}" + (f": {s.reason}" if s.reason else "")
        for s in counted
        if s.status not in (SUCCEEDED, SKIPPED)
    ]
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    reason = "; ".join(problems[:5]) + more
    return (PARTIAL if worked else FAILED), reason


# --- reading runs back ---------------------------------------------------------------------------


def _row_dict(row: sa.RowMapping) -> dict:
    started, ended = row["started_at"], row["ended_at"]
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    if ended is not None and ended.tzinfo is None:
        ended = ended.replace(tzinfo=UTC)
    return {
        "pipeline_run_id": row["pipeline_run_id"],
        "tenant_id": row["tenant_id"],
        "trigger": row["trigger"],
        "started_by": row["started_by"],
        "status": row["status"],
        "reason": row["reason"],
        "started_at": _iso(started),
        "ended_at": _iso(ended),
        "seconds": round((ended - started).total_seconds(), 3) if ended else None,
        "steps": _steps_of(row["steps"]),
    }


def list_pipeline_runs(conn: sa.Connection, tenant_id: int, limit: int = 50) -> list[dict]:
    """The tenant's daily runs, newest first (each with its steps)."""
    rows = (
        conn.execute(
            sa.select(pipeline_runs)
            .where(pipeline_runs.c.tenant_id == tenant_id)
            .order_by(pipeline_runs.c.pipeline_run_id.desc())
            .limit(limit)
        )
        .mappings()
        .all()
    )
    return [_row_dict(r) for r in rows]


def get_pipeline_run(conn: sa.Connection, tenant_id: int, run_id: int) -> dict:
    """One daily run of the tenant (a `JobsError` when the tenant has no such run)."""
    row = (
        conn.execute(
            sa.select(pipeline_runs).where(
                pipeline_runs.c.tenant_id == tenant_id,
                pipeline_runs.c.pipeline_run_id == run_id,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise JobsError(f"no daily run {run_id} for this tenant")
    return _row_dict(row)
