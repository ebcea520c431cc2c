"""`nexus serve`: the operator's workspace (web pages and the JSON API) and the schedules.

With the embedded DuckDB the server process owns the database file: it holds it open for as
long as it runs, and a CLI command started beside it is refused with a message naming it. With
PostgreSQL, several servers and CLI commands may work at once (the daily pipeline's tenant lock
keeps two runs of one tenant apart).
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from nexus.cli_common import checked_store, err, handles_errors


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


@handles_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    scheduler: Annotated[
        bool,
        typer.Option("--scheduler/--no-scheduler", help="Run the tenants' daily schedules."),
    ] = True,
    workers: Annotated[int, typer.Option("--job-workers", help="Background jobs run at once.")] = 2,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers",
            help="Trust X-Forwarded-Proto/For from a TLS proxy on this host (cookies then Secure).",
        ),
    ] = False,
) -> None:
    """Serve the web app and its API; run the daily schedules unless --no-scheduler."""
    import uvicorn

    from nexus.web import create_app

    store = checked_store()
    held = store.engine.connect() if store.backend.name == "duckdb" else None
    factory = None
    if scheduler:
        from nexus.jobs.schedule import Scheduler

        def factory(s):
            return Scheduler(s)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web_app = create_app(store, job_workers=workers, scheduler_factory=factory)
    err.print(
        f"Nexus on http://{host}:{port}/ (database {store.settings.redacted_url()}; "
        f"schedules {'on' if scheduler else 'off'})",
        highlight=False,
    )
    try:
        uvicorn.run(
            web_app,
            host=host,
            port=port,
            proxy_headers=proxy_headers,
            forwarded_allow_ips="127.0.0.1" if proxy_headers else None,
            log_level="info",
            access_log=False,  # paths carry record ids; the audit trail says who saw what
        )
    finally:
        if held is not None:
            held.close()
        store.dispose()
