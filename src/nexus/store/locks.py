"""Per-tenant locks for work that must not run twice at once (a map, a validation).

On PostgreSQL a session advisory lock keyed (tenant, kind): other processes may work on the
same store, and the second one is refused at once with the caller's error. A DuckDB file has a
single writing process anyway, so there it is a no-op. Ingestion's own per-entity locks
(`integration/versioning.py`) use positive entity ids as their second key; these kinds are
negative so the two never meet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from nexus.errors import NexusError
from nexus.store.engine import Store

MAP = -1
VALIDATION = -2
PIPELINE = -3


@contextmanager
def tenant_lock(store: Store, tenant_id: int, kind: int, busy: NexusError) -> Iterator[None]:
    """Hold the tenant's `kind` lock for the block; raise `busy` if another process holds it."""
    if not store.backend.advisory_locks:
        yield
        return
    params = {"t": int(tenant_id), "k": int(kind)}
    with store.engine.connect() as lock:
        taken = lock.execute(sa.text("SELECT pg_try_advisory_lock(:t, :k)"), params).scalar_one()
        lock.commit()
        if not taken:
            raise busy
        try:
            yield
        finally:
            lock.execute(sa.text("SELECT pg_advisory_unlock(:t, :k)"), params)
            lock.commit()
