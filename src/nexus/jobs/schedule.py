"""Schedules of the daily pipeline: cron expressions per tenant, and the in-process scheduler
that runs them inside `nexus serve`.

The `platform.schedules` table is the persistence: `add_schedule`, `list_schedules`,
`set_enabled` and `remove_schedule` edit it, and `Scheduler` (APScheduler 3's
`BackgroundScheduler` with its memory job store) registers one cron job per enabled row when it
starts and again on `reload()`. A firing runs `run_daily(..., trigger="schedule")` and records
`last_fired_at` / `next_fire_at`. Several server processes on PostgreSQL may each fire the same
schedule: the pipeline's tenant lock lets one run and refuses the others (`PipelineBusy`).

Cron expressions are the crontab's five fields (minute hour day-of-month month day-of-week)
with the crontab's weekday numbers (0 or 7 Sunday, 1 Monday … 6 Saturday); APScheduler 3
numbers weekdays from Monday = 0, so numbers are translated to names here (`cron_trigger`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from nexus.jobs.config import JobsError
from nexus.jobs.pipeline import PipelineBusy, run_daily
from nexus.store import Store
from nexus.store.tables import tenants
from nexus.store.workspace_tables import schedules

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "America/Chicago"
_RELOAD_JOB = "reload-schedules"
_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMERIC_DAY_ITEM = re.compile(r"^(\*|\d+(?:-\d+)?)(?:/(\d+))?$")


class ScheduleError(JobsError):
    """A schedule that cannot be used (its cron expression, its time zone) or is not there."""


def _weekdays(field: str, cron: str) -> str:
    """The crontab day-of-week field with numbers written as day names (see module doc)."""
    items = []
    for item in field.split(","):
        m = _NUMERIC_DAY_ITEM.match(item)
        if not m or (m.group(1) == "*" and not m.group(2)):
            items.append(item)  # names, `*`, or something APScheduler will judge
            continue
        span, step = m.group(1), int(m.group(2) or 1)
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (int(x) for x in span.split("-"))
        else:
            first = last = int(span)
            if m.group(2):
                last = 6
        if not (0 <= first <= 7 and 0 <= last <= 7) or first > last or step < 1:
            raise ScheduleError(
                f"cron {cron!r}: day of week {item!r}: use 0-7 (0 and 7 are Sunday) or mon-sun"
            )
        days = sorted({d % 7 for d in range(first, last + 1, step)})
        items.extend(_CRONTAB_DAYS[d] for d in days)
    return ",".join(dict.fromkeys(items))


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown time zone {timezone!r}: use an IANA name such as America/Chicago"
        ) from None


def cron_trigger(cron: str, timezone: str = DEFAULT_TIMEZONE) -> CronTrigger:
    """APScheduler's trigger for a crontab expression, or a `ScheduleError` saying what is
    wrong with it."""
    zone = _zone(timezone)
    fields = cron.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"cron {cron!r}: expected 5 fields (minute hour day-of-month month day-of-week, "
            f"e.g. '30 5 * * 1-5'), got {len(fields)}"
        )
    fields[4] = _weekdays(fields[4], cron)
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=zone)
    except ValueError as exc:
        raise ScheduleError(
            f"cron {cron!r}: {exc} (fields: minute hour day-of-month month day-of-week)"
        ) from None


def next_fire(cron: str, timezone: str, after: datetime | None = None) -> datetime | None:
    """When a schedule fires next after `after` (default now), in UTC."""
    fire = cron_trigger(cron, timezone).get_next_fire_time(None, after or datetime.now(UTC))
    return fire.astimezone(UTC) if fire else None


def _utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _row_dict(row: sa.RowMapping) -> dict:
    return {
        "schedule_id": row["schedule_id"],
        "tenant_id": row["tenant_id"],
        "tenant": row["code"],
        "cron": row["cron"],
        "timezone": row["timezone"],
        "enabled": bool(row["enabled"]),
        "last_fired_at": _utc(row["last_fired_at"]),
        "next_fire_at": _utc(row["next_fire_at"]),
        "created_by": row["created_by"],
        "created_at": _utc(row["created_at"]),
    }


def _select() -> sa.Select:
    return (
        sa.select(schedules, tenants.c.code)
        .join(tenants, tenants.c.tenant_id == schedules.c.tenant_id)
        .order_by(schedules.c.tenant_id, schedules.c.schedule_id)
    )


def list_schedules(conn: sa.Connection, tenant_id: int | None = None) -> list[dict]:
    """The schedules of a tenant (every tenant's when None)."""
    query = _select()
    if tenant_id is not None:
        query = query.where(schedules.c.tenant_id == tenant_id)
    return [_row_dict(r) for r in conn.execute(query).mappings()]


def get_schedule(conn: sa.Connection, tenant_id: int, schedule_id: int) -> dict:
    row = (
        conn.execute(
            _select().where(
                schedules.c.tenant_id == tenant_id, schedules.c.schedule_id == schedule_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ScheduleError(f"no schedule {schedule_id} for this tenant")
    return _row_dict(row)


def add_schedule(
    conn: sa.Connection,
    tenant_id: int,
    cron: str,
    timezone: str = DEFAULT_TIMEZONE,
    user: str = "unknown",
) -> dict:
    """Add an enabled schedule of the tenant's daily run; returns it (with its next firing)."""
    cron = " ".join(cron.split())
    upcoming = next_fire(cron, timezone)
    schedule_id = conn.execute(
        schedules.insert()
        .values(
            tenant_id=tenant_id,
            cron=cron,
            timezone=timezone,
            enabled=True,
            next_fire_at=upcoming,
            created_by=user,
            created_at=datetime.now(UTC),
        )
        .returning(schedules.c.schedule_id)
    ).scalar_one()
    return get_schedule(conn, tenant_id, schedule_id)


def set_enabled(conn: sa.Connection, tenant_id: int, schedule_id: int, enabled: bool) -> dict:
    """Enable or disable a schedule (a running scheduler picks it up on `reload()`)."""
    found = get_schedule(conn, tenant_id, schedule_id)
    conn.execute(
        schedules.update()
        .where(schedules.c.tenant_id == tenant_id, schedules.c.schedule_id == schedule_id)
        .values(
            enabled=enabled,
            next_fire_at=next_fire(found["cron"], found["timezone"]) if enabled else None,
        )
    )
    return get_schedule(conn, tenant_id, schedule_id)


def remove_schedule(conn: sa.Connection, tenant_id: int, schedule_id: int) -> None:
    get_schedule(conn, tenant_id, schedule_id)
    conn.execute(
        schedules.delete().where(
            schedules.c.tenant_id == tenant_id, schedules.c.schedule_id == schedule_id
        )
    )


def _job_id(tenant_id: int, schedule_id: int) -> str:
    return f"daily:{tenant_id}:{schedule_id}"


class Scheduler:
    """The schedules of every tenant, fired in this process (`nexus serve`).

    `run` is called as `run(store, tenant_code, trigger="schedule", user=...)`; it defaults to
    `run_daily`. Start it once, `reload()` after editing schedules, `shutdown()` on exit."""

    def __init__(
        self,
        store: Store,
        run: Callable[..., object] | None = None,
        reload_seconds: int | None = 60,
    ) -> None:
        self.store = store
        self.run = run or run_daily
        # The table is read again this often, so edits made elsewhere (the CLI, another server
        # process on PostgreSQL) take effect without a restart; None: only on `reload()`.
        self.reload_seconds = reload_seconds
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._guard = threading.Lock()
        self._registered: dict[str, tuple[str, str]] = {}

    def start(self) -> None:
        self._scheduler.start()
        self.reload()
        if self.reload_seconds:
            self._scheduler.add_job(
                self.reload,
                "interval",
                seconds=self.reload_seconds,
                id=_RELOAD_JOB,
                name="reload the schedules",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
            )

    def shutdown(self, wait: bool = True) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def reload(self) -> list[dict]:
        """Register a job per enabled schedule in the table, drop the others; a job whose
        cron and time zone are unchanged is left alone (so a firing that is due is not lost).
        Returns the jobs as `jobs()` does."""
        with self._guard, self.store.engine.begin() as conn:
            enabled = [s for s in list_schedules(conn) if s["enabled"]]
            wanted = {_job_id(s["tenant_id"], s["schedule_id"]): s for s in enabled}
            for job_id in list(self._registered):
                if job_id not in wanted:
                    if self._scheduler.get_job(job_id) is not None:
                        self._scheduler.remove_job(job_id)
                    del self._registered[job_id]
            for job_id, s in wanted.items():
                shape = (s["cron"], s["timezone"])
                if self._registered.get(job_id) == shape and self._scheduler.get_job(job_id):
                    continue
                job = self._scheduler.add_job(
                    self._fire,
                    cron_trigger(s["cron"], s["timezone"]),
                    args=(s["tenant_id"], s["schedule_id"], s["tenant"]),
                    id=job_id,
                    name=f"daily run of {s['tenant']} ({s['cron']} {s['timezone']})",
                    replace_existing=True,
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=3600,
                )
                self._registered[job_id] = shape
                upcoming = getattr(job, "next_run_time", None) or next_fire(*shape)
                conn.execute(
                    schedules.update()
                    .where(
                        schedules.c.tenant_id == s["tenant_id"],
                        schedules.c.schedule_id == s["schedule_id"],
                    )
                    .values(next_fire_at=upcoming)
                )
        return self.jobs()

    def jobs(self) -> list[dict]:
        """The registered jobs: id, name and next run time (UTC, ISO)."""
        return [
            {
                "job_id": job.id,
                "name": job.name,
                "next_run_time": _utc(getattr(job, "next_run_time", None)),
            }
            for job in self._scheduler.get_jobs()
            if job.id != _RELOAD_JOB
        ]

    def fire_now(self, tenant_id: int, schedule_id: int) -> None:
        """Fire a schedule's job now (through the scheduler, as at its time); its regular
        times follow as before."""
        job = self._scheduler.get_job(_job_id(tenant_id, schedule_id))
        if job is None:
            raise ScheduleError(
                f"schedule {schedule_id} is not registered: is it enabled, and was the "
                f"scheduler reloaded?"
            )
        job.modify(next_run_time=datetime.now(UTC))
        self._scheduler.wakeup()

    def _fire(self, tenant_id: int, schedule_id: int, tenant_code: str) -> None:
        now = datetime.now(UTC)
        try:
            with self.store.engine.begin() as conn:
                s = get_schedule(conn, tenant_id, schedule_id)
                conn.execute(
                    schedules.update()
                    .where(
                        schedules.c.tenant_id == tenant_id,
                        schedules.c.schedule_id == schedule_id,
                    )
                    .values(
                        last_fired_at=now,
                        next_fire_at=next_fire(
                            s["cron"], s["timezone"], now + timedelta(seconds=1)
                        ),
                    )
                )
            self.run(self.store, tenant_code, trigger="schedule", user=f"schedule {schedule_id}")
        except PipelineBusy as exc:
            log.info("schedule %s of %s: %s", schedule_id, tenant_code, exc)
        except Exception:
            log.warning(
                "schedule %s of %s: the daily run failed to start",
                schedule_id,
                tenant_code,
                exc_info=True,
            )
