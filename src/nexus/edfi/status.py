"""`nexus edfi status`: per resource of a year, what was built, is valid, is on the server,
failed, and what the last send found unchanged."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from nexus.edfi import schema
from nexus.store import Store
from nexus.store.edfi_tables import edfi_builds, edfi_records, edfi_send_log, edfi_sends
from nexus.store.tenants import get_tenant


@dataclass
class ResourceStatus:
    resource: str
    built: int = 0
    valid: int = 0
    sent: int = 0  # valid records whose current payload the server accepted
    failed: int = 0  # valid records whose current payload the server refused (400, 409, ...)
    pending: int = 0  # valid records not sent yet in their current form
    unchanged: int = 0  # found unchanged by the last send

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def status(store: Store, tenant_code: str, school_year: int, connection: str | None = None) -> dict:
    """The year's resources against the send log of one connection (the last one used when
    not given)."""
    with store.engine.connect() as conn:
        tenant = get_tenant(conn, tenant_code)
        t = tenant.tenant_id
        last_build = conn.execute(
            sa.select(edfi_builds)
            .where(edfi_builds.c.tenant_id == t, edfi_builds.c.school_year == school_year)
            .order_by(edfi_builds.c.build_id.desc())
            .limit(1)
        ).first()
        send_query = sa.select(edfi_sends).where(
            edfi_sends.c.tenant_id == t, edfi_sends.c.school_year == school_year
        )
        if connection:
            send_query = send_query.where(edfi_sends.c.connection == connection)
        last_send = conn.execute(send_query.order_by(edfi_sends.c.send_id.desc()).limit(1)).first()
        if connection is None and last_send is not None:
            connection = last_send.connection
        r, log = edfi_records, edfi_send_log
        joined = r.outerjoin(
            log,
            sa.and_(
                log.c.tenant_id == r.c.tenant_id,
                log.c.school_year == r.c.school_year,
                log.c.resource == r.c.resource,
                log.c.record_key == r.c.record_key,
                log.c.connection == (connection or ""),
            ),
        )
        current = log.c.payload_hash == r.c.payload_hash
        rows = conn.execute(
            sa.select(
                r.c.resource,
                sa.func.count().label("built"),
                sa.func.sum(sa.case((r.c.valid, 1), else_=0)).label("valid"),
                sa.func.sum(
                    sa.case((sa.and_(r.c.valid, current, log.c.outcome == "sent"), 1), else_=0)
                ).label("sent"),
                sa.func.sum(
                    sa.case((sa.and_(r.c.valid, current, log.c.outcome == "failed"), 1), else_=0)
                ).label("failed"),
            )
            .select_from(joined)
            .where(r.c.tenant_id == t, r.c.school_year == school_year)
            .group_by(r.c.resource)
        ).all()
    counts = (last_send.counts or {}) if last_send is not None else {}
    found = {}
    for row in rows:
        s = ResourceStatus(
            row.resource,
            int(row.built),
            int(row.valid or 0),
            int(row.sent or 0),
            int(row.failed or 0),
        )
        s.pending = s.valid - s.sent - s.failed
        s.unchanged = int(counts.get(row.resource, {}).get("unchanged", 0))
        found[row.resource] = s
    return {
        "school_year": school_year,
        "connection": connection,
        "last_build": None
        if last_build is None
        else {
            "build_id": last_build.build_id,
            "ended_at": last_build.ended_at,
            "out_dir": last_build.out_dir,
        },
        "last_send": None
        if last_send is None
        else {
            "send_id": last_send.send_id,
            "connection": last_send.connection,
            "status": last_send.status,
            "ended_at": last_send.ended_at,
            "reason": last_send.reason,
        },
        "resources": [found[r].as_dict() for r in schema.sort_by_load_order(found)],
    }
