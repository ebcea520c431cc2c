"""Validation runs (`reporting.validation_runs`): a run's row is written when it starts, then
marked succeeded with what `exceptions.merge` counted, or failed with the reason.

`nexus validate` (`engine.py`) and the Ed-Fi ledger (`nexus.edfi.ledger`, cycle `edfi`) record
their runs here. It does not own what a run finds (`exceptions.py`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from nexus.store.validation_tables import validation_runs


def start_run(
    conn: sa.Connection,
    tenant_id: int,
    school_year: int,
    cycle: str,
    layouts: list[str],
    count_date: date | None,
    snapshot: dict,
    user: str,
) -> int:
    """A new run (status `running`); returns its validation_run_id."""
    return conn.execute(
        validation_runs.insert()
        .values(
            tenant_id=tenant_id,
            school_year=school_year,
            cycle=cycle,
            layouts=layouts,
            count_date=count_date,
            input_snapshot=snapshot,
            status="running",
            started_by=user,
            started_at=datetime.now(UTC),
        )
        .returning(validation_runs.c.validation_run_id)
    ).scalar_one()


def _update(conn: sa.Connection, tenant_id: int, run_id: int, **values: object) -> None:
    conn.execute(
        validation_runs.update()
        .where(
            validation_runs.c.tenant_id == tenant_id,
            validation_runs.c.validation_run_id == run_id,
        )
        .values(**values)
    )


def finish_run(conn: sa.Connection, tenant_id: int, run_id: int, merged: dict) -> None:
    """Mark a run succeeded with the counts `exceptions.merge` returned."""
    _update(
        conn,
        tenant_id,
        run_id,
        status="succeeded",
        found=merged["found"],
        new=merged["new"],
        auto_resolved=merged["auto_resolved"],
        ended_at=datetime.now(UTC),
    )


def fail_run(conn: sa.Connection, tenant_id: int, run_id: int, reason: str) -> None:
    """Mark a run failed with the reason (its first line, at most 2,000 characters)."""
    _update(conn, tenant_id, run_id, status="failed", reason=reason.splitlines()[0][:2000])
