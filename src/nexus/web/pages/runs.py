"""Runs: what came in and what the day did. Ingestion runs (list, detail with entities, files,
map runs and, for roles that see students, the row errors) and the daily pipeline runs (each
step's status, timing, counts and reason); an operator can map or replay a run and ingest a
connection now, both as background jobs.

Row errors carry source values (student data): only roles with VIEW_STUDENTS see them, and
each view is audited ("view.run_errors") by `integration.runs.view_errors`.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nexus import identity
from nexus.canonical import map_run
from nexus.integration import ingest
from nexus.integration import runs as ingestion_runs
from nexus.integration.errors import IngestionError
from nexus.integration.sources import Connection, list_connections
from nexus.jobs.config import NOT_INGESTED, JobsError
from nexus.jobs.pipeline import get_pipeline_run, list_pipeline_runs
from nexus.store.canonical_tables import mapping_runs
from nexus.web import permissions
from nexus.web.background import Progress, Work
from nexus.web.pages.jobs import start_job
from nexus.web.security import Tenancy, TenantContext
from nexus.web.tables import Column, TableView
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["runs"])

RUNS_LISTED = 500
ERRORS_PER_PAGE = 100

INGESTION_COLUMNS = [
    Column("run_id", "run", numeric=True),
    Column("kind", "kind"),
    Column("source", "source"),
    Column("started_at", "started"),
    Column("started_by", "by"),
    Column("status", "status"),
    Column("new", "new", numeric=True),
    Column("changed", "changed", numeric=True),
    Column("deleted", "deleted", numeric=True),
    Column("errors", "errors", numeric=True),
]
PIPELINE_COLUMNS = [
    Column("pipeline_run_id", "run", numeric=True),
    Column("trigger", "trigger"),
    Column("started_by", "by"),
    Column("started_at", "started"),
    Column("seconds", "seconds", numeric=True),
    Column("status", "status"),
    Column("steps", "steps", sortable=False),
]


# --- what the pages and the API show ------------------------------------------------------------


def _ingest_connections(conn: sa.Connection, tenant_id: int) -> list[Connection]:
    return [c for c in list_connections(conn, tenant_id) if c.kind not in NOT_INGESTED]


def ingestion_run_rows(ctx: TenantContext) -> list[dict]:
    """The tenant's ingestion runs, newest first, with their entity deltas summed."""
    keep = ("run_id", "kind", "source", "started_at", "ended_at", "started_by", "status", "reason")
    with ctx.store.engine.connect() as conn:
        runs = ingestion_runs.list_runs(conn, ctx.tenant_id, limit=RUNS_LISTED)
        totals = ingestion_runs.run_totals(conn, ctx.tenant_id, [r["run_id"] for r in runs])
    return [{k: run[k] for k in keep} | totals[run["run_id"]] for run in runs]


def runs_summary(ctx: TenantContext) -> dict:
    """Ingestion runs, daily pipeline runs and the connections an operator may ingest now."""
    with ctx.store.engine.connect() as conn:
        pipeline = list_pipeline_runs(conn, ctx.tenant_id, limit=RUNS_LISTED)
        connections = [
            {"name": c.name, "kind": c.kind} for c in _ingest_connections(conn, ctx.tenant_id)
        ]
    return {
        "tenant": ctx.code,
        "ingestion_runs": ingestion_run_rows(ctx),
        "pipeline_runs": [{k: v for k, v in r.items() if k != "tenant_id"} for r in pipeline],
        "connections": connections,
    }


def _run(conn: sa.Connection, ctx: TenantContext, run_id: int) -> dict:
    try:
        run = ingestion_runs.get_run(conn, run_id, ctx.tenant_id)
    except IngestionError:
        raise HTTPException(404, "not found") from None
    ctx.owns(run["tenant_id"])
    return run


def run_detail(ctx: TenantContext, run_id: int) -> dict:
    """One ingestion run: entities with deltas, files, and the map runs made of it."""
    m = mapping_runs
    with ctx.store.engine.connect() as conn:
        run = _run(conn, ctx, run_id)
        files = [
            {
                k: f[k]
                for k in ("file_id", "name", "entity", "size_bytes", "sha256", "rows_read")
                + ("status", "reason", "columns_added", "columns_missing")
            }
            for f in ingestion_runs.run_files(conn, run_id, ctx.tenant_id)
        ]
        maps = [
            {
                "map_run_id": r["map_run_id"],
                "status": r["status"],
                "replay": bool(r["replay"]),
                "mapping_version": r["mapping_version"],
                "started_by": r["started_by"],
                "started_at": r["started_at"].isoformat() if r["started_at"] else None,
                "ended_at": r["ended_at"].isoformat() if r["ended_at"] else None,
                "reason": r["reason"],
            }
            for r in conn.execute(
                sa.select(m)
                .where(m.c.tenant_id == ctx.tenant_id, m.c.ingestion_run_id == run_id)
                .order_by(m.c.map_run_id.desc())
            ).mappings()
        ]
    run.pop("tenant_id", None)
    run.pop("pid", None)
    run.pop("hostname", None)
    run["entities"] = [{"entity": name, **counts} for name, counts in run["entities"].items()]
    run["files"] = files
    run["map_runs"] = maps
    return run


def run_error_page(ctx: TenantContext, run_id: int, page: int) -> dict:
    """One page of a run's row errors (student values): VIEW_STUDENTS, audited."""
    ctx.require(permissions.VIEW_STUDENTS)
    with ctx.store.engine.begin() as conn:
        total = int(_run(conn, ctx, run_id)["error_total"])
        pages = max(1, -(-total // ERRORS_PER_PAGE))
        page = min(max(1, page), pages)
        rows = ingestion_runs.view_errors(
            conn,
            run_id,
            ctx.user.username,
            limit=ERRORS_PER_PAGE,
            offset=(page - 1) * ERRORS_PER_PAGE,
        )
    return {"run_id": run_id, "total": total, "page": page, "pages": pages, "errors": rows}


def daily_run(ctx: TenantContext, pipeline_run_id: int) -> dict:
    with ctx.store.engine.connect() as conn:
        try:
            run = get_pipeline_run(conn, ctx.tenant_id, pipeline_run_id)
        except JobsError:
            raise HTTPException(404, "not found") from None
    ctx.owns(run["tenant_id"])
    run.pop("tenant_id", None)
    return run


# --- long work ----------------------------------------------------------------------------------


def _map_work(ctx: TenantContext, run_id: int, replay: bool) -> Work:
    store, code, user = ctx.store, ctx.code, ctx.user.username

    def work(progress: Progress) -> dict:
        return map_run(store, code, run_id, replay=replay, user=user, progress=progress).as_dict()

    return work


def _ingest_work(ctx: TenantContext, connection: Connection) -> Work:
    store, code, user = ctx.store, ctx.code, ctx.user.username

    def work(progress: Progress) -> dict:
        def report(name: str, rows: int | None) -> None:
            progress(f"{name} ({rows:,} rows)" if rows is not None else name)

        result = ingest(
            store,
            code,
            connection.kind,
            None,
            connection_name=connection.name,
            gate=identity.district_gate,
            user=user,
            progress=report,
        )
        return result.as_dict(error_limit=100)

    return work


def start_map(request: Request, ctx: TenantContext, run_id: int, replay: bool) -> Response:
    ctx.require(permissions.OPERATE)
    with ctx.store.engine.connect() as conn:
        _run(conn, ctx, run_id)
    params = {"run_id": run_id, "replay": replay}
    return start_job(request, ctx, "map", params, _map_work(ctx, run_id, replay))


def start_ingest(request: Request, ctx: TenantContext, connection_name: str) -> Response:
    ctx.require(permissions.OPERATE)
    with ctx.store.engine.connect() as conn:
        found = [c for c in _ingest_connections(conn, ctx.tenant_id) if c.name == connection_name]
    if not found:
        raise HTTPException(404, f"no ingest connection {connection_name!r} for this tenant")
    params = {"connection": connection_name, "kind": found[0].kind}
    return start_job(request, ctx, "ingest", params, _ingest_work(ctx, found[0]))


# --- pages --------------------------------------------------------------------------------------


@router.get("/t/{tenant}/runs")
async def runs_page(request: Request, ctx: Tenancy):
    summary = await run_in_threadpool(runs_summary, ctx)
    ingestion = TableView.build(
        request, summary["ingestion_runs"], INGESTION_COLUMNS, "run_id", "desc"
    )
    pipeline = TableView.build(
        request, summary["pipeline_runs"], PIPELINE_COLUMNS, "pipeline_run_id", "desc", 20
    )
    return render(
        request,
        "runs.html",
        summary=summary,
        ingestion=ingestion,
        pipeline=pipeline,
    )


@router.get("/t/{tenant}/runs/daily/{pipeline_run_id}")
async def daily_run_page(request: Request, ctx: Tenancy, pipeline_run_id: int):
    run = await run_in_threadpool(daily_run, ctx, pipeline_run_id)
    return render(request, "runs_daily.html", run=run)


@router.post("/t/{tenant}/runs/ingest")
async def ingest_now_page(request: Request, ctx: Tenancy) -> Response:
    form = await request.form()
    name = form.get("connection")
    if not isinstance(name, str) or not name:
        raise HTTPException(400, "choose a connection to ingest")
    return await run_in_threadpool(start_ingest, request, ctx, name)


@router.get("/t/{tenant}/runs/{run_id}")
async def run_page(request: Request, ctx: Tenancy, run_id: int, errors_page: int = 1):
    def load() -> tuple[dict, dict | None]:
        run = run_detail(ctx, run_id)
        errors = None
        if ctx.can(permissions.VIEW_STUDENTS) and run["error_total"]:
            errors = run_error_page(ctx, run_id, errors_page)
        return run, errors

    run, errors = await run_in_threadpool(load)
    return render(request, "runs_detail.html", run=run, errors=errors)


@router.post("/t/{tenant}/runs/{run_id}/map")
async def map_run_page(request: Request, ctx: Tenancy, run_id: int) -> Response:
    form = await request.form()
    replay = form.get("replay") in ("on", "true", "1")
    return await run_in_threadpool(start_map, request, ctx, run_id, replay)


# --- API ----------------------------------------------------------------------------------------


class IngestRequest(BaseModel):
    connection: str


@api.get("/tenants/{tenant}/runs")
def runs_api(ctx: Tenancy) -> dict:
    """Ingestion runs (entity deltas summed), daily pipeline runs, the ingest connections."""
    return runs_summary(ctx)


@api.get("/tenants/{tenant}/runs/daily/{pipeline_run_id}")
def daily_run_api(ctx: Tenancy, pipeline_run_id: int) -> dict:
    """One daily pipeline run with each step's status, timing, counts and reason."""
    return daily_run(ctx, pipeline_run_id)


@api.post("/tenants/{tenant}/runs/ingest", status_code=202)
def ingest_now_api(request: Request, ctx: Tenancy, body: IngestRequest) -> Response:
    """Ingest one of the tenant's connections now, as a background job (operator)."""
    return start_ingest(request, ctx, body.connection)


@api.get("/tenants/{tenant}/runs/{run_id}")
def run_api(ctx: Tenancy, run_id: int) -> dict:
    """One ingestion run: entities with new/changed/unchanged/deleted/errors, files, map runs."""
    return run_detail(ctx, run_id)


@api.get("/tenants/{tenant}/runs/{run_id}/errors")
def run_errors_api(ctx: Tenancy, run_id: int, page: int = 1) -> dict:
    """A page of the run's row errors: file, line, column, value (student-level, audited)."""
    return run_error_page(ctx, run_id, page)


@api.post("/tenants/{tenant}/runs/{run_id}/map", status_code=202)
def map_run_api(request: Request, ctx: Tenancy, run_id: int, replay: bool = False) -> Response:
    """Map the run into canonical (`replay` rebuilds from an older run) as a background job."""
    return start_map(request, ctx, run_id, replay)
