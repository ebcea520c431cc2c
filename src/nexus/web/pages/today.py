"""Today: is the district on track? The operator's first page.

Last ingestion run per source (status, record deltas, errors), the last daily pipeline runs,
readiness per cycle / layout / school from the newest validation of each open cycle, the
active blocking exceptions by owner, and when the schedule runs next. Aggregates only, so
every role sees it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from nexus.errors import NexusError
from nexus.integration import runs as ingestion_runs
from nexus.store.tables import ingestion_runs as ingestion_runs_table
from nexus.store.validation_tables import validation_exceptions, validation_runs
from nexus.store.workspace_tables import pipeline_runs, schedules
from nexus.validation.readiness import readiness, top_by_owner
from nexus.web.security import Tenancy, TenantContext
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["today"])

SOURCES_SHOWN = 12
CYCLES_SHOWN = 3


def _last_runs_per_source(conn: sa.Connection, tenant_id: int) -> list[dict]:
    latest: dict[tuple[str, str], dict] = {}
    for run in ingestion_runs.list_runs(conn, tenant_id, limit=200):
        latest.setdefault((run["kind"], run["source"]), run)
        if len(latest) >= SOURCES_SHOWN:
            break
    keep = ("run_id", "kind", "source", "status", "started_at", "ended_at", "reason")
    totals = ingestion_runs.run_totals(conn, tenant_id, [r["run_id"] for r in latest.values()])
    return [{k: run[k] for k in keep} | totals[run["run_id"]] for run in latest.values()]


def _validated_cycles(conn: sa.Connection, tenant_id: int) -> list[tuple[int, str]]:
    v = validation_runs
    rows = conn.execute(
        sa.select(v.c.school_year, v.c.cycle, sa.func.max(v.c.validation_run_id).label("last"))
        .where(v.c.tenant_id == tenant_id, v.c.status == "succeeded")
        .group_by(v.c.school_year, v.c.cycle)
        .order_by(sa.desc("last"))
        .limit(CYCLES_SHOWN)
    ).all()
    return [(int(r.school_year), r.cycle) for r in rows]


def _pipeline(conn: sa.Connection, tenant_id: int) -> tuple[list[dict], datetime | None]:
    p, s = pipeline_runs, schedules
    recent = [
        dict(r)
        for r in conn.execute(
            sa.select(p)
            .where(p.c.tenant_id == tenant_id)
            .order_by(p.c.pipeline_run_id.desc())
            .limit(5)
        ).mappings()
    ]
    next_fire = conn.execute(
        sa.select(sa.func.min(s.c.next_fire_at)).where(
            s.c.tenant_id == tenant_id, s.c.enabled.is_(True)
        )
    ).scalar_one()
    return recent, next_fire


def _fingerprint(conn: sa.Connection, tenant_id: int) -> tuple:
    """What the Today page is computed from, in one cheap query: a new run of any kind, an
    exception's change (assign, suppress, resolve) or a schedule's change alters it. Work
    still running is reported so the page is never served from the cache meanwhile."""
    i, v, p, e, s = (
        ingestion_runs_table,
        validation_runs,
        pipeline_runs,
        validation_exceptions,
        schedules,
    )

    def scalar(select) -> sa.ScalarSelect:
        return select.scalar_subquery()

    row = conn.execute(
        sa.select(
            scalar(sa.select(sa.func.max(i.c.run_id)).where(i.c.tenant_id == tenant_id)),
            scalar(
                sa.select(sa.func.count())
                .select_from(i)
                .where(i.c.tenant_id == tenant_id, i.c.ended_at.is_(None))
            ),
            scalar(sa.select(sa.func.max(v.c.validation_run_id)).where(v.c.tenant_id == tenant_id)),
            scalar(sa.select(sa.func.max(p.c.pipeline_run_id)).where(p.c.tenant_id == tenant_id)),
            scalar(
                sa.select(sa.func.count())
                .select_from(p)
                .where(p.c.tenant_id == tenant_id, p.c.ended_at.is_(None))
            ),
            scalar(sa.select(sa.func.max(e.c.updated_at)).where(e.c.tenant_id == tenant_id)),
            scalar(sa.select(sa.func.max(s.c.next_fire_at)).where(s.c.tenant_id == tenant_id)),
            scalar(
                sa.select(sa.func.count())
                .select_from(s)
                .where(s.c.tenant_id == tenant_id, s.c.enabled.is_(True))
            ),
        )
    ).one()
    return tuple(row)


# (database, tenant) -> (fingerprint, summary): the page's figures change only with new runs
# or exception changes, while every operator of the district opens it all day.
_CACHE: dict[tuple[str, int], tuple[tuple, dict]] = {}
_CACHE_LOCK = threading.Lock()


def today_summary(ctx: TenantContext) -> dict:
    """Everything the Today page shows, as one JSON-ready dict (cached until its inputs move)."""
    with ctx.store.engine.connect() as conn:
        fingerprint = _fingerprint(conn, ctx.tenant_id)
    key = (ctx.store.settings.database_url, ctx.tenant_id)
    running = fingerprint[1] or fingerprint[4]
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None and hit[0] == fingerprint and not running:
        summary = hit[1]
    else:
        summary = _compute(ctx)
        with _CACHE_LOCK:
            _CACHE[key] = (fingerprint, summary)
    return {**summary, "as_of": datetime.now(UTC).isoformat(timespec="seconds")}


def _compute(ctx: TenantContext) -> dict:
    store, tenant = ctx.store, ctx.tenant
    with store.engine.connect() as conn:
        sources = _last_runs_per_source(conn, tenant.tenant_id)
        cycles = _validated_cycles(conn, tenant.tenant_id)
        pipeline, next_fire = _pipeline(conn, tenant.tenant_id)
    cycle_views = []
    for year, cycle in cycles:
        try:
            ready = readiness(store, tenant.code, year, cycle)
        except NexusError:
            continue
        owners = top_by_owner(store, tenant.code, year, cycle, limit=0)
        cycle_views.append(
            {
                "school_year": year,
                "cycle": cycle,
                "ready": ready["ready"],
                "validated_at": ready["validated_at"],
                "validation_run_id": ready["validation_run_id"],
                "layouts": ready["layouts"],
                "rows": ready["rows"],
                "owners": owners,
            }
        )
    return {
        "tenant": tenant.code,
        "sources": sources,
        "pipeline_runs": [
            {
                "pipeline_run_id": r["pipeline_run_id"],
                "status": r["status"],
                "trigger": r["trigger"],
                "started_at": r["started_at"],
                "ended_at": r["ended_at"],
                "reason": r["reason"],
                "steps": r["steps"],
            }
            for r in pipeline
        ],
        "next_scheduled_run": next_fire,
        "cycles": cycle_views,
    }


@router.get("/t/{tenant}/today")
async def today_page(request: Request, ctx: Tenancy):
    summary = await run_in_threadpool(today_summary, ctx)
    return render(request, "today.html", summary=summary)


@api.get("/tenants/{tenant}/today")
def today_api(ctx: Tenancy) -> dict:
    """Last runs per source, pipeline runs, readiness per open cycle, blocking by owner."""
    return today_summary(ctx)
