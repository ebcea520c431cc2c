"""Schedules: cron expressions checked with clear errors, the crontab's weekday numbers kept
(APScheduler 3 counts from Monday), the table's CRUD, and the in-process scheduler firing a
real daily run through APScheduler."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from nexus.jobs import (
    ScheduleError,
    Scheduler,
    add_schedule,
    list_pipeline_runs,
    list_schedules,
    remove_schedule,
    set_enabled,
)
from nexus.jobs.schedule import get_schedule, next_fire
from nexus.store.tenants import add_tenant
from tests.jobs.conftest import INGEST_ONLY, make_tenant

SATURDAY_NOON = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)  # 12:00 in Chicago


@pytest.mark.parametrize(
    ("cron", "fires"),
    [
        ("30 5 * * 1-5", "2026-12-07T11:30:00+00:00"),  # Monday 05:30 Chicago, not Tuesday
        ("0 6 * * 0", "2026-12-06T12:00:00+00:00"),  # Sunday
        ("0 6 * * 7", "2026-12-06T12:00:00+00:00"),  # 7 is Sunday too
        ("0 13 * * 6", "2026-12-05T19:00:00+00:00"),  # Saturday, one hour on
        ("0 6 * * mon-fri", "2026-12-07T12:00:00+00:00"),
        ("15 4 1 * *", "2027-01-01T10:15:00+00:00"),
        ("0 7 * * */2", "2026-12-06T13:00:00+00:00"),  # Sun, Tue, Thu, Sat: next is Sunday
    ],
)
def test_crontab_weekdays_are_the_crontab_s(cron, fires):
    assert next_fire(cron, "America/Chicago", SATURDAY_NOON).isoformat() == fires


@pytest.mark.parametrize(
    ("cron", "timezone", "message"),
    [
        ("every day", "America/Chicago", "cron 'every day': expected 5 fields (minute hour "
         "day-of-month month day-of-week, e.g. '30 5 * * 1-5'), got 2"),
        ("61 5 * * *", "America/Chicago", "cron '61 5 * * *': Error validating expression '61'"),
        ("30 5 * * 9", "America/Chicago", "cron '30 5 * * 9': day of week '9': use 0-7"),
        ("30 5 * * 1-5", "America/Springfield", "unknown time zone 'America/Springfield'"),
    ],
)  # fmt: skip
def test_bad_cron_or_time_zone_is_refused_clearly(store, tenant, cron, timezone, message):
    with store.engine.begin() as conn, pytest.raises(ScheduleError) as refused:
        add_schedule(conn, 1, cron, timezone, user="admin")
    assert str(refused.value).startswith(message)
    with store.engine.connect() as conn:
        assert list_schedules(conn) == []


def test_schedules_are_kept_per_tenant(store):
    with store.engine.begin() as conn:
        a = add_tenant(conn, "a", "A R-I").tenant_id
        b = add_tenant(conn, "b", "B R-II").tenant_id
        first = add_schedule(conn, a, "30  5 * * 1-5", user="admin")
        add_schedule(conn, b, "0 22 * * *", "UTC", user="admin")
    assert first["cron"] == "30 5 * * 1-5" and first["timezone"] == "America/Chicago"
    assert first["enabled"] and first["tenant"] == "a" and first["created_by"] == "admin"
    assert first["next_fire_at"] > datetime.now(UTC).isoformat()
    with store.engine.begin() as conn:
        assert [s["tenant"] for s in list_schedules(conn)] == ["a", "b"]
        assert [s["tenant"] for s in list_schedules(conn, b)] == ["b"]
        off = set_enabled(conn, a, first["schedule_id"], False)
        assert off["enabled"] is False and off["next_fire_at"] is None
        assert set_enabled(conn, a, first["schedule_id"], True)["next_fire_at"]
        # Tenant b cannot reach a's schedule.
        with pytest.raises(ScheduleError, match=f"no schedule {first['schedule_id']} for this"):
            remove_schedule(conn, b, first["schedule_id"])
        remove_schedule(conn, a, first["schedule_id"])
        assert [s["tenant"] for s in list_schedules(conn)] == ["b"]


def _wait_for(check, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_the_scheduler_fires_a_daily_run_through_apscheduler(store, synthetic, tmp_path):
    tenant_id = make_tenant(store, synthetic, tmp_path / "missing", config=INGEST_ONLY)
    with store.engine.begin() as conn:
        kept = add_schedule(conn, tenant_id, "30 5 * * 1-5", user="admin")
        later = add_schedule(conn, tenant_id, "0 23 * * *", user="admin")
        set_enabled(conn, tenant_id, later["schedule_id"], False)
    scheduler = Scheduler(store, reload_seconds=None)
    scheduler.start()
    try:
        jobs = scheduler.jobs()
        assert [j["job_id"] for j in jobs] == [f"daily:{tenant_id}:{kept['schedule_id']}"]
        assert jobs[0]["next_run_time"] == kept["next_fire_at"]
        before = datetime.now(UTC)
        scheduler.fire_now(tenant_id, kept["schedule_id"])

        def fired() -> list[dict]:
            with store.engine.connect() as conn:
                runs = list_pipeline_runs(conn, tenant_id)
            return [r for r in runs if r["status"] != "running"]

        [run] = _wait_for(fired)
        assert run["trigger"] == "schedule"
        assert run["started_by"] == f"schedule {kept['schedule_id']}"
        assert [s["step"] for s in run["steps"]] == ["ingest", "map", "marts"]
        with store.engine.connect() as conn:
            after = get_schedule(conn, tenant_id, kept["schedule_id"])
        assert before.isoformat() <= after["last_fired_at"] <= run["started_at"]
        assert after["next_fire_at"] == kept["next_fire_at"]
        # The regular times go on after a firing by hand.
        assert scheduler.jobs()[0]["next_run_time"] == kept["next_fire_at"]

        with store.engine.begin() as conn:
            set_enabled(conn, tenant_id, later["schedule_id"], True)
            remove_schedule(conn, tenant_id, kept["schedule_id"])
        assert [j["job_id"] for j in scheduler.reload()] == [
            f"daily:{tenant_id}:{later['schedule_id']}"
        ]
        with pytest.raises(ScheduleError, match="is not registered"):
            scheduler.fire_now(tenant_id, kept["schedule_id"])
    finally:
        scheduler.shutdown()
    assert not scheduler.running
