"""Ingestion runs: their lifecycle (running → succeeded / partial / failed) and their record.

A run row is written and committed before any work, so a run that dies still shows; a run
whose process is gone is marked failed the next time anyone starts a run for that source.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from nexus.integration.errors import IngestionError
from nexus.store import audit
from nexus.store.tables import (
    ingestion_entities,
    ingestion_files,
    ingestion_runs,
    source_entities,
    source_record_errors,
)

RUNNING, SUCCEEDED, PARTIAL, FAILED = "running", "succeeded", "partial", "failed"
EXIT_CODES = {SUCCEEDED: 0, PARTIAL: 3, FAILED: 1}


@dataclass
class FileOutcome:
    name: str
    rows: int
    status: str
    reason: str | None = None
    entity: str | None = None
    file_id: int | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "rows": self.rows, "status": self.status, "reason": self.reason}


@dataclass
class RunResult:
    """What a run did: the `--json` contract of `nexus ingest`."""

    run_id: int
    status: str
    files: list[FileOutcome] = field(default_factory=list)
    entities: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    error_total: int = 0
    reason: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def as_dict(self, error_limit: int = 1000) -> dict:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "reason": self.reason,
            "files": [f.as_dict() for f in self.files],
            "entities": self.entities,
            "errors": self.errors[:error_limit],
            "error_total": self.error_total,
        }


def _now() -> datetime:
    return datetime.now(UTC)


def process_alive(pid: int | None) -> bool:
    """Whether a process of this host with that pid still runs (a run's owner, say)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_abandoned(conn: sa.Connection, tenant_id: int, source_system_id: int) -> int | None:
    """Mark runs whose process died as failed; return the id of a live running run, if any."""
    rows = conn.execute(
        sa.select(ingestion_runs.c.run_id, ingestion_runs.c.pid, ingestion_runs.c.hostname).where(
            ingestion_runs.c.tenant_id == tenant_id,
            ingestion_runs.c.source_system_id == source_system_id,
            ingestion_runs.c.status == RUNNING,
        )
    ).all()
    host = socket.gethostname()
    live = None
    for run_id, pid, hostname in rows:
        if hostname == host and not process_alive(pid):
            conn.execute(
                ingestion_runs.update()
                .where(ingestion_runs.c.tenant_id == tenant_id, ingestion_runs.c.run_id == run_id)
                .values(
                    status=FAILED,
                    ended_at=_now(),
                    reason=f"abandoned: process {pid} ended before the run finished",
                )
            )
        else:
            live = run_id
    return live


def start_run(
    conn: sa.Connection,
    tenant_id: int,
    source_system_id: int,
    connection_id: int | None,
    kind: str,
    source: str,
    user: str,
) -> int:
    live = reap_abandoned(conn, tenant_id, source_system_id)
    if live is not None:
        raise IngestionError(f"run {live} of this source is still running; wait for it to finish")
    return conn.execute(
        ingestion_runs.insert()
        .values(
            tenant_id=tenant_id,
            source_system_id=source_system_id,
            connection_id=connection_id,
            kind=kind,
            source=source,
            started_by=user,
            started_at=_now(),
            status=RUNNING,
            hostname=socket.gethostname(),
            pid=os.getpid(),
        )
        .returning(ingestion_runs.c.run_id)
    ).scalar_one()


def finish_run(
    conn: sa.Connection, tenant_id: int, run_id: int, status: str, reason: str | None
) -> None:
    conn.execute(
        ingestion_runs.update()
        .where(ingestion_runs.c.tenant_id == tenant_id, ingestion_runs.c.run_id == run_id)
        .values(status=status, reason=reason, ended_at=_now())
    )


# --- reading runs back -------------------------------------------------------------------------


def list_runs(conn: sa.Connection, tenant_id: int | None = None, limit: int = 50) -> list[dict]:
    query = sa.select(ingestion_runs).order_by(ingestion_runs.c.run_id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(ingestion_runs.c.tenant_id == tenant_id)
    return [_jsonable(dict(r)) for r in conn.execute(query).mappings()]


def get_run(conn: sa.Connection, run_id: int, tenant_id: int | None = None) -> dict:
    query = sa.select(ingestion_runs).where(ingestion_runs.c.run_id == run_id)
    if tenant_id is not None:
        query = query.where(ingestion_runs.c.tenant_id == tenant_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise IngestionError(f"no run {run_id}")
    run = _jsonable(dict(row))
    run["entities"] = run_entities(conn, row["tenant_id"], run_id)
    run["error_total"] = conn.execute(
        sa.select(sa.func.count()).where(
            source_record_errors.c.tenant_id == row["tenant_id"],
            source_record_errors.c.run_id == run_id,
        )
    ).scalar_one()
    return run


def run_entities(conn: sa.Connection, tenant_id: int, run_id: int) -> dict[str, dict]:
    rows = conn.execute(
        sa.select(ingestion_entities, source_entities.c.name)
        .join(
            source_entities,
            sa.and_(
                source_entities.c.tenant_id == ingestion_entities.c.tenant_id,
                source_entities.c.entity_id == ingestion_entities.c.entity_id,
            ),
        )
        .where(ingestion_entities.c.tenant_id == tenant_id, ingestion_entities.c.run_id == run_id)
        .order_by(source_entities.c.name)
    ).mappings()
    out = {}
    for r in rows:
        entry = {
            "mode": r["mode"],
            "new": r["rows_new"],
            "changed": r["rows_changed"],
            "unchanged": r["rows_unchanged"],
            "deleted": r["rows_deleted"],
            "errors": r["rows_error"],
        }
        if r["query_name"]:
            entry["query"] = {
                "name": r["query_name"],
                "version": r["query_version"],
                "sha256": r["query_sha256"],
            }
        out[r["name"]] = entry
    return out


def run_totals(conn: sa.Connection, tenant_id: int, run_ids: list[int]) -> dict[int, dict]:
    """Per run: how many entities it took and its record deltas summed over them, in one query
    (lists of runs; `run_entities` gives one run's detail)."""
    e = ingestion_entities
    if not run_ids:
        return {}
    rows = conn.execute(
        sa.select(
            e.c.run_id,
            sa.func.count().label("entities"),
            sa.func.sum(e.c.rows_new).label("new"),
            sa.func.sum(e.c.rows_changed).label("changed"),
            sa.func.sum(e.c.rows_unchanged).label("unchanged"),
            sa.func.sum(e.c.rows_deleted).label("deleted"),
            sa.func.sum(e.c.rows_error).label("errors"),
        )
        .where(e.c.tenant_id == tenant_id, e.c.run_id.in_(run_ids))
        .group_by(e.c.run_id)
    ).mappings()
    found = {
        int(r["run_id"]): {k: int(v or 0) for k, v in r.items() if k != "run_id"} for r in rows
    }
    empty = dict.fromkeys(("entities", "new", "changed", "unchanged", "deleted", "errors"), 0)
    return {int(run_id): found.get(int(run_id), dict(empty)) for run_id in run_ids}


def run_files(conn: sa.Connection, run_id: int, tenant_id: int | None = None) -> list[dict]:
    query = (
        sa.select(ingestion_files)
        .where(ingestion_files.c.run_id == run_id)
        .order_by(ingestion_files.c.file_id)
    )
    if tenant_id is not None:
        query = query.where(ingestion_files.c.tenant_id == tenant_id)
    return [_jsonable(dict(r)) for r in conn.execute(query).mappings()]


def run_errors(
    conn: sa.Connection,
    run_id: int,
    tenant_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict]:
    query = (
        sa.select(
            source_record_errors.c.file_name.label("file"),
            source_record_errors.c.entity,
            source_record_errors.c.line,
            source_record_errors.c.column_name.label("column"),
            source_record_errors.c.value,
            source_record_errors.c.reason,
        )
        .where(source_record_errors.c.run_id == run_id)
        .order_by(source_record_errors.c.error_no)
        .offset(offset)
    )
    if tenant_id is not None:
        query = query.where(source_record_errors.c.tenant_id == tenant_id)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def view_errors(
    conn: sa.Connection, run_id: int, user: str, limit: int | None = None, offset: int = 0
) -> list[dict]:
    """Row errors for a person to read (values are student data): audited."""
    run = get_run(conn, run_id)
    found = run_errors(conn, run_id, run["tenant_id"], limit=limit, offset=offset)
    audit.record(
        conn,
        run["tenant_id"],
        user,
        "view.run_errors",
        {"run_id": run_id, "offset": offset, "rows": len(found)},
    )
    return found


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
