"""Long work started from the web app (ingest, extract, the daily pipeline) as background jobs.

A job is a row of `platform.background_jobs` and a thread of the server's small pool: the
row says what it is, who started it, its live progress line, and at the end its status and
result (the same dict the CLI prints with `--json`). Pages poll the row. A server that stops
leaves no job "running" forever: the next start marks them failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from nexus.errors import NexusError
from nexus.store import Store
from nexus.store.workspace_tables import background_jobs

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# A job's work: takes a progress callback, returns its result (with a "status" when it can
# finish partially: succeeded, partial or failed).
Work = Callable[[Progress], dict]

FINISHED = ("succeeded", "partial", "failed")


def _now() -> datetime:
    return datetime.now(UTC)


class JobRunner:
    """Runs background jobs on a bounded thread pool and keeps their rows current."""

    def __init__(self, store: Store, workers: int = 2) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nexus-job")
        self._abandon_previous()

    def _abandon_previous(self) -> None:
        j = background_jobs
        with self.store.engine.begin() as conn:
            conn.execute(
                j.update()
                .where(j.c.status.in_(("queued", "running")))
                .values(
                    status="failed", error="the server stopped before it finished", ended_at=_now()
                )
            )

    def submit(self, tenant_id: int, kind: str, params: dict, user: str, work: Work) -> int:
        """Queue `work` for the tenant; returns the job id to poll."""
        with self.store.engine.begin() as conn:
            job_id = conn.execute(
                background_jobs.insert()
                .values(
                    tenant_id=tenant_id,
                    kind=kind,
                    params=params,
                    started_by=user,
                    status="queued",
                    created_at=_now(),
                )
                .returning(background_jobs.c.job_id)
            ).scalar_one()
        self._pool.submit(self._run, tenant_id, job_id, work)
        return int(job_id)

    def _update(self, tenant_id: int, job_id: int, **values: Any) -> None:
        j = background_jobs
        with self.store.engine.begin() as conn:
            conn.execute(
                j.update().where(j.c.tenant_id == tenant_id, j.c.job_id == job_id).values(**values)
            )

    def _run(self, tenant_id: int, job_id: int, work: Work) -> None:
        self._update(tenant_id, job_id, status="running", started_at=_now(), progress="starting")

        def progress(message: str) -> None:
            self._update(tenant_id, job_id, progress=message[:500])

        try:
            result = work(progress)
        except NexusError as exc:
            self._update(tenant_id, job_id, status="failed", error=str(exc), ended_at=_now())
            return
        except Exception as exc:  # the job's failure is the job's record, not the server's
            log.exception("background job %s failed", job_id)
            text = f"{type(exc).__name__}: {exc}".splitlines()[0]
            self._update(tenant_id, job_id, status="failed", error=text, ended_at=_now())
            return
        status = result.get("status") if isinstance(result, dict) else None
        self._update(
            tenant_id,
            job_id,
            status=status if status in FINISHED else "succeeded",
            result=_jsonable(result),
            progress="finished",
            ended_at=_now(),
        )

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)


def get_job(conn: sa.Connection, tenant_id: int, job_id: int) -> dict | None:
    j = background_jobs
    row = (
        conn.execute(sa.select(j).where(j.c.tenant_id == tenant_id, j.c.job_id == job_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def list_jobs(conn: sa.Connection, tenant_id: int, limit: int = 50) -> list[dict]:
    j = background_jobs
    rows = conn.execute(
        sa.select(j).where(j.c.tenant_id == tenant_id).order_by(j.c.job_id.desc()).limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))
