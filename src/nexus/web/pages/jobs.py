"""Background jobs: start the day's pipeline (or any long work), watch it live, see the result.

`start_job` is how every page starts long work (ingest, extract, daily): it queues the work on
the server's job runner and answers with the job page (a browser) or 202 and the job's URL
(the API). The job page polls a small fragment with htmx until the job has finished.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nexus.web import permissions
from nexus.web.background import Work, get_job, list_jobs
from nexus.web.security import Tenancy, TenantContext, is_api
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["jobs"])


def start_job(
    request: Request, ctx: TenantContext, kind: str, params: dict, work: Work
) -> Response:
    """Queue `work` as a background job of the tenant; answer with where to watch it."""
    ctx.require(permissions.OPERATE)
    job_id = request.app.state.jobs.submit(ctx.tenant_id, kind, params, ctx.user.username, work)
    if is_api(request):
        return JSONResponse(
            {
                "job_id": job_id,
                "status": "queued",
                "url": f"/api/v1/tenants/{ctx.code}/jobs/{job_id}",
            },
            status_code=202,
        )
    return RedirectResponse(f"/t/{ctx.code}/jobs/{job_id}", status_code=303)


def _daily_work(ctx: TenantContext) -> Work:
    store, code, user = ctx.store, ctx.code, ctx.user.username

    def work(progress) -> dict:
        from nexus.jobs.pipeline import run_daily

        return run_daily(store, code, trigger="web", user=user, progress=progress).as_dict()

    return work


def _job(ctx: TenantContext, job_id: int) -> dict:
    with ctx.store.engine.connect() as conn:
        job = get_job(conn, ctx.tenant_id, job_id)
    if job is None:
        raise HTTPException(404, "not found")
    ctx.owns(job["tenant_id"])
    return job


def _public(job: dict) -> dict:
    return {
        "job_id": job["job_id"],
        "kind": job["kind"],
        "params": job["params"],
        "started_by": job["started_by"],
        "status": job["status"],
        "progress": job["progress"],
        "result": job["result"],
        "error": job["error"],
        "created_at": job["created_at"],
        "started_at": job["started_at"],
        "ended_at": job["ended_at"],
    }


@router.post("/t/{tenant}/daily")
def start_daily_page(request: Request, ctx: Tenancy) -> Response:
    return start_job(request, ctx, "daily", {}, _daily_work(ctx))


@router.get("/t/{tenant}/jobs")
async def jobs_page(request: Request, ctx: Tenancy):
    def load() -> list[dict]:
        with ctx.store.engine.connect() as conn:
            return list_jobs(conn, ctx.tenant_id)

    return render(request, "jobs.html", jobs=await run_in_threadpool(load))


@router.get("/t/{tenant}/jobs/{job_id}")
async def job_page(request: Request, ctx: Tenancy, job_id: int):
    job = await run_in_threadpool(_job, ctx, job_id)
    return render(request, "job.html", job=job)


@router.get("/t/{tenant}/jobs/{job_id}/status")
async def job_status_fragment(request: Request, ctx: Tenancy, job_id: int):
    job = await run_in_threadpool(_job, ctx, job_id)
    return render(request, "_job_status.html", job=job)


@api.post("/tenants/{tenant}/daily", status_code=202)
def start_daily_api(request: Request, ctx: Tenancy) -> Response:
    """Start the tenant's daily pipeline as a background job (operator); poll the job."""
    return start_job(request, ctx, "daily", {}, _daily_work(ctx))


@api.get("/tenants/{tenant}/jobs")
def jobs_api(ctx: Tenancy) -> list[dict]:
    with ctx.store.engine.connect() as conn:
        return [_public(j) for j in list_jobs(conn, ctx.tenant_id)]


@api.get("/tenants/{tenant}/jobs/{job_id}")
def job_api(ctx: Tenancy, job_id: int) -> dict:
    """A background job: status, live progress line, and its result once finished."""
    return _public(_job(ctx, job_id))
