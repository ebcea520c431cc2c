"""Rebuilding an entity exactly as it stood at a run: one record per natural key.

The snapshot of run R holds every version with valid_from_run <= R and no valid_to_run, or
one after R. Versions of runs that failed were never committed, so they cannot appear.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import TextIO

import sqlalchemy as sa

from nexus.integration.errors import IngestionError
from nexus.store import audit
from nexus.store.engine import current_user
from nexus.store.tables import ingestion_files, ingestion_runs, source_entities


def snapshot_records(
    conn: sa.Connection, run_id: int, entity: str
) -> tuple[list[str], Iterator[dict]]:
    """The column names (the source's own, in its order) and the records of `entity` at run."""
    run = conn.execute(
        sa.select(
            ingestion_runs.c.tenant_id, ingestion_runs.c.source_system_id, ingestion_runs.c.status
        ).where(ingestion_runs.c.run_id == run_id)
    ).first()
    if run is None:
        raise IngestionError(f"no run {run_id}")
    if run.status == "failed":
        raise IngestionError(f"run {run_id} failed: it has no snapshot of its own")
    found = conn.execute(
        sa.select(source_entities.c.entity_id, source_entities.c.columns).where(
            source_entities.c.tenant_id == run.tenant_id,
            source_entities.c.source_system_id == run.source_system_id,
            source_entities.c.name == entity,
        )
    ).first()
    if found is None:
        raise IngestionError(f"run {run_id}'s source has no entity {entity!r}")
    # Read the header first: the records below stream on this connection.
    columns = _columns_at(conn, run.tenant_id, run.source_system_id, entity, run_id)
    if columns is None:
        columns = list((found.columns or {}).keys())
    rows = conn.execute(
        sa.text(
            "SELECT payload FROM integration.source_records "
            "WHERE tenant_id = :t AND entity_id = :e AND valid_from_run <= :r "
            "AND (valid_to_run IS NULL OR valid_to_run > :r) ORDER BY natural_key"
        ).execution_options(yield_per=10_000),
        {"t": run.tenant_id, "e": found.entity_id, "r": run_id},
    )
    records = (json.loads(payload) for (payload,) in rows)
    return columns, records


def _columns_at(
    conn: sa.Connection, tenant_id: int, source_system_id: int, entity: str, run_id: int
) -> list[str] | None:
    """The header of the last delivery of `entity` applied at or before the run."""
    found = conn.execute(
        sa.select(ingestion_files.c.columns)
        .join(
            ingestion_runs,
            sa.and_(
                ingestion_runs.c.tenant_id == ingestion_files.c.tenant_id,
                ingestion_runs.c.run_id == ingestion_files.c.run_id,
            ),
        )
        .where(
            ingestion_files.c.tenant_id == tenant_id,
            ingestion_runs.c.source_system_id == source_system_id,
            ingestion_runs.c.status.in_(("succeeded", "partial")),
            ingestion_files.c.entity == entity,
            ingestion_files.c.run_id <= run_id,
            ingestion_files.c.status.in_(("succeeded", "partial")),
        )
        .order_by(ingestion_files.c.run_id.desc(), ingestion_files.c.file_id.desc())
        .limit(1)
    ).scalar()
    return list(found) if found else None


def write_snapshot(
    conn: sa.Connection,
    run_id: int,
    entity: str,
    out: TextIO,
    fmt: str = "csv",
    user: str | None = None,
) -> int:
    """Write the snapshot as CSV (the source's header) or JSON lines; returns records written.

    Source records are student-level data: the export is recorded in the audit trail (in the
    caller's transaction) under `user`.
    """
    if fmt not in ("csv", "jsonl"):
        raise IngestionError(f"unknown snapshot format {fmt!r}: use csv or jsonl")
    count = _write(conn, run_id, entity, out, fmt)
    tenant_id = conn.execute(
        sa.select(ingestion_runs.c.tenant_id).where(ingestion_runs.c.run_id == run_id)
    ).scalar_one()
    audit.record(
        conn,
        tenant_id,
        user or current_user(),
        "export.snapshot",
        {"run_id": run_id, "entity": entity, "format": fmt, "records": count},
    )
    return count


def _write(conn: sa.Connection, run_id: int, entity: str, out: TextIO, fmt: str) -> int:
    columns, records = snapshot_records(conn, run_id, entity)
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = None
    for record in records:
        if writer is None:
            header = columns + [k for k in record if k not in columns]
            writer = csv.DictWriter(
                out, fieldnames=header, extrasaction="ignore", lineterminator="\n"
            )
            writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in record.items()})
        count += 1
    if writer is None and columns:
        csv.writer(out, lineterminator="\n").writerow(columns)
    return count


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value
