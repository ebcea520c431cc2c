"""The FastAPI application: pages, the JSON API under /api/v1, static files, error answers.

`create_app(store)` builds it. Each module of `nexus.web.pages` owns one page group and
exposes `router` (server-rendered pages) and `api` (its JSON routes, mounted under
`/api/v1`); both call the same service functions as the CLI. Errors are answered once here:
a layer's `NexusError` is a 400 with its one line, a missing or foreign record a 404, a role
that may not a 403, and an unsigned request a redirect to sign-in (pages) or a 401 (API).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from nexus.errors import NexusError
from nexus.store import Store
from nexus.web.background import JobRunner
from nexus.web.security import NotSignedIn, is_api
from nexus.web.sessions import purge_expired
from nexus.web.templating import render

PAGE_MODULES = (
    "auth",
    "today",
    "jobs",
    "runs",
    "exceptions",
    "compare",
    "mosis",
    "identity",
    "marts",
    "admin",
)

# Pages and fragments are built from the store at each request; none may be cached by a
# browser or a proxy (they carry student records for some roles).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _load(name: str):
    try:
        return importlib.import_module(f"nexus.web.pages.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"nexus.web.pages.{name}":
            return None  # a page group not written yet
        raise


def create_app(
    store: Store,
    *,
    job_workers: int = 2,
    scheduler_factory: Callable[[Store], object] | None = None,
) -> FastAPI:
    """The web app over an open store; `scheduler_factory` starts the daily schedules."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.jobs = JobRunner(store, workers=job_workers)
        with store.engine.begin() as conn:
            purge_expired(conn)
        app.state.scheduler = scheduler_factory(store) if scheduler_factory else None
        if app.state.scheduler is not None:
            app.state.scheduler.start()
        try:
            yield
        finally:
            if app.state.scheduler is not None:
                app.state.scheduler.shutdown()
            app.state.jobs.shutdown(wait=False)

    app = FastAPI(
        title="Nexus",
        summary="Missouri MOSIS operational data platform: the operator's workspace and API",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads from a CDN; the document itself is served
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.store = store
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
    )
    for name in PAGE_MODULES:
        module = _load(name)
        if module is None:
            continue
        if getattr(module, "router", None) is not None:
            app.include_router(module.router, include_in_schema=False)
        if getattr(module, "api", None) is not None:
            app.include_router(module.api, prefix="/api/v1")

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if is_api(request):
            return JSONResponse(
                {"error": "sign in or send Authorization: Bearer TOKEN"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/sign-in"})
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/sign-in?next={target}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if is_api(request):
            return JSONResponse({"error": message}, status_code=exc.status_code)
        return render(
            request,
            "error.html",
            status_code=exc.status_code,
            status=exc.status_code,
            message=message,
        )

    @app.exception_handler(NexusError)
    async def nexus_error(request: Request, exc: NexusError) -> Response:
        if is_api(request):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return render(request, "error.html", status_code=400, status=400, message=str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()
        )
        if is_api(request):
            return JSONResponse({"error": problems or "bad request"}, status_code=422)
        return render(request, "error.html", status_code=422, status=422, message=problems)

    return app
