"""The audit trail: who exported or viewed student-level data, when, and what."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from nexus.store.tables import audit_events


def record(conn: sa.Connection, tenant_id: int, user: str, action: str, subject: dict) -> None:
    """Append one audit event (in the caller's transaction)."""
    conn.execute(
        audit_events.insert().values(
            tenant_id=tenant_id,
            occurred_at=datetime.now(UTC),
            user_name=user,
            action=action,
            subject=subject,
        )
    )


def events(conn: sa.Connection, tenant_id: int | None = None, limit: int = 100) -> list[dict]:
    query = sa.select(audit_events).order_by(audit_events.c.event_id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(audit_events.c.tenant_id == tenant_id)
    return [
        {**row, "occurred_at": row["occurred_at"].isoformat()}
        for row in conn.execute(query).mappings()
    ]
