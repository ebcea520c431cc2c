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
from nexus.store.tables import ingestion_runs, source_entities


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
    rows = conn.execute(
        sa.text(
            "SELECT payload FROM integration.source_records "
            "WHERE tenant_id = :t AND entity_id = :e AND valid_from_run <= :r "
            "AND (valid_to_run IS NULL OR valid_to_run > :r) ORDER BY natural_key"
        ).execution_options(yield_per=10_000),
        {"t": run.tenant_id, "e": found.entity_id, "r": run_id},
    )
    columns = list((found.columns or {}).keys())
    records = (json.loads(payload) for (payload,) in rows)
    return columns, records


def write_snapshot(
    conn: sa.Connection, run_id: int, entity: str, out: TextIO, fmt: str = "csv"
) -> int:
    """Write the snapshot as CSV (the source's header) or JSON lines; returns records written."""
    columns, records = snapshot_records(conn, run_id, entity)
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    if fmt != "csv":
        raise IngestionError(f"unknown snapshot format {fmt!r}: use csv or jsonl")
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
