"""Versioning source records by run (slowly changing, type 2), set-based in the store.

A version row holds (tenant, entity, natural key, checksum, payload) with the run it first
appeared in (`valid_from_run`) and the run it stopped being current in (`valid_to_run`). A run
touches only what changed: new keys and changed checksums get a new version, the replaced
version is closed; in a bulk delivery, keys that are gone are closed (deleted), except keys
whose row was in error this time; in a delta delivery only tombstones delete. The run's work
area compares the delivery with the current (key, checksum) pairs, so only changes travel to
the store. The snapshot of
run R is every version with valid_from_run <= R < valid_to_run (or still open).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import sqlalchemy as sa

from nexus.store import Store
from nexus.store.bulk import bulk_read


@dataclass
class EntityCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "errors": self.errors,
        }


def current_versions(conn: sa.Connection, tenant_id: int, entity_id: int) -> pa.Table:
    """(natural_key, checksum) of the entity's current versions, for the run's work area."""
    return bulk_read(
        conn,
        "SELECT natural_key, checksum FROM integration.source_records "
        f"WHERE tenant_id = {int(tenant_id)} AND entity_id = {int(entity_id)} "
        "AND valid_to_run IS NULL",
    )


def apply_entity(
    conn: sa.Connection,
    store: Store,
    tenant_id: int,
    run_id: int,
    entity_id: int,
    unchanged: int,
) -> EntityCounts:
    """Turn the run's shipped rows of one entity into versions; inside the run's transaction.

    The shipped rows are only what changes the entity (see `WorkArea.diff`): upserts of new or
    changed keys and deletes. They are classified again here against the current versions, so
    the counts and versions are exact even if the entity moved since the work area looked.
    """
    params = {"t": tenant_id, "r": run_id, "e": entity_id}
    if store.backend.advisory_locks:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:t, :e)"), params)
    conn.execute(sa.text("DROP TABLE IF EXISTS nexus_classified"))
    conn.execute(
        sa.text(
            "CREATE TEMP TABLE nexus_classified AS "
            "SELECT s.op, s.natural_key, s.checksum, s.payload, s.file_id, s.line, "
            "       c.record_id AS current_id, c.checksum AS current_checksum "
            "FROM integration.staged_records s "
            "LEFT JOIN integration.source_records c "
            "  ON c.tenant_id = s.tenant_id AND c.entity_id = s.entity_id "
            "  AND c.natural_key = s.natural_key AND c.valid_to_run IS NULL "
            "WHERE s.tenant_id = :t AND s.run_id = :r AND s.entity_id = :e "
            "AND s.op IN ('upsert', 'delete')"
        ),
        params,
    )
    row = conn.execute(
        sa.text(
            "SELECT "
            " coalesce(sum(CASE WHEN op = 'upsert' AND current_id IS NULL THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN op = 'upsert' AND current_checksum <> checksum "
            "   THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN op = 'upsert' AND current_checksum = checksum "
            "   THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN op = 'delete' AND current_id IS NOT NULL "
            "   THEN 1 ELSE 0 END), 0) "
            "FROM nexus_classified"
        )
    ).one()
    new, changed, same, deleted = (int(v) for v in row)
    counts = EntityCounts(new=new, changed=changed, unchanged=unchanged + same, deleted=deleted)
    conn.execute(
        sa.text(
            "UPDATE integration.source_records SET valid_to_run = :r "
            "WHERE tenant_id = :t AND entity_id = :e AND record_id IN ("
            "  SELECT current_id FROM nexus_classified WHERE current_id IS NOT NULL AND ("
            "    (op = 'upsert' AND current_checksum <> checksum) OR op = 'delete'))"
        ),
        params,
    )
    conn.execute(
        sa.text(
            "INSERT INTO integration.source_records (tenant_id, record_id, entity_id, "
            " natural_key, checksum, payload, valid_from_run, valid_to_run, file_id, line) "
            "SELECT :t, nextval('integration.record_seq'), :e, natural_key, checksum, payload, "
            " :r, NULL, file_id, line FROM nexus_classified "
            "WHERE op = 'upsert' AND (current_id IS NULL OR current_checksum <> checksum)"
        ),
        params,
    )
    conn.execute(sa.text("DROP TABLE nexus_classified"))
    if store.backend.analyze_after_load and new + changed + deleted > 10_000:
        conn.execute(sa.text("ANALYZE integration.source_records"))
    return counts


def discard_staged(conn: sa.Connection, tenant_id: int, run_id: int) -> None:
    conn.execute(
        sa.text("DELETE FROM integration.staged_records WHERE tenant_id = :t AND run_id = :r"),
        {"t": tenant_id, "r": run_id},
    )
