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


# The run's changes waiting for its single apply transaction. A temporary table on the run's
# own connection: unlogged, private to the run, and gone with it if the process dies.
staged = sa.Table(
    "nexus_staged",
    sa.MetaData(),
    sa.Column("entity_id", sa.BigInteger, nullable=False),
    # upsert: a new or changed row; delete: a key to close.
    sa.Column("op", sa.String(8), nullable=False),
    sa.Column("natural_key", sa.Text, nullable=False),
    sa.Column("checksum", sa.String(32)),
    sa.Column("payload", sa.Text),
    sa.Column("file_id", sa.BigInteger),
    sa.Column("line", sa.BigInteger),
    prefixes=["TEMPORARY"],
)


def create_staging(conn: sa.Connection) -> None:
    drop_staging(conn)
    staged.create(conn)


def drop_staging(conn: sa.Connection) -> None:
    # Pooled connections outlive runs: a temporary table would too.
    conn.execute(sa.text("DROP TABLE IF EXISTS nexus_staged"))


def apply_entity(
    conn: sa.Connection,
    store: Store,
    tenant_id: int,
    run_id: int,
    entity_id: int,
    unchanged: int,
    first: bool = False,
) -> EntityCounts:
    """Turn the run's staged rows of one entity into versions; inside the run's transaction.

    The staged rows are only what changes the entity (see `WorkArea.diff`): upserts of new or
    changed keys and deletes. They are classified again here against the current versions, by
    key and checksum only, so the counts and versions are exact even if the entity moved since
    the work area looked, and payloads are copied once, into their version.
    """
    params = {"t": tenant_id, "r": run_id, "e": entity_id}
    if store.backend.advisory_locks:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:t, :e)"), params)
    if first and not _has_current(conn, params):
        # The entity's first delivery: every staged row is a new version, nothing to compare.
        new = conn.execute(
            sa.text(
                "INSERT INTO integration.source_records (tenant_id, record_id, entity_id, "
                " natural_key, checksum, payload, valid_from_run, valid_to_run, file_id, line) "
                "SELECT :t, nextval('integration.record_seq'), :e, s.natural_key, s.checksum, "
                " s.payload, :r, NULL, s.file_id, s.line FROM nexus_staged s "
                "WHERE s.entity_id = :e AND s.op = 'upsert'"
            ),
            params,
        ).rowcount
        if new is None or new < 0:
            new = conn.execute(
                sa.text("SELECT count(*) FROM nexus_staged WHERE entity_id = :e AND op = 'upsert'"),
                params,
            ).scalar_one()
        if store.backend.analyze_after_load and new > 10_000:
            conn.execute(sa.text("ANALYZE integration.source_records"))
        return EntityCounts(new=int(new), unchanged=unchanged)
    current = (
        "integration.source_records c ON c.tenant_id = :t AND c.entity_id = :e "
        "AND c.natural_key = s.natural_key AND c.valid_to_run IS NULL"
    )
    row = conn.execute(
        sa.text(
            "SELECT "
            " coalesce(sum(CASE WHEN s.op = 'upsert' AND c.record_id IS NULL "
            "   THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN s.op = 'upsert' AND c.checksum <> s.checksum "
            "   THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN s.op = 'upsert' AND c.checksum = s.checksum "
            "   THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN s.op = 'delete' AND c.record_id IS NOT NULL "
            "   THEN 1 ELSE 0 END), 0) "
            f"FROM nexus_staged s LEFT JOIN {current} WHERE s.entity_id = :e"
        ),
        params,
    ).one()
    new, changed, same, deleted = (int(v) for v in row)
    counts = EntityCounts(new=new, changed=changed, unchanged=unchanged + same, deleted=deleted)
    if changed or deleted:
        conn.execute(
            sa.text(
                "UPDATE integration.source_records SET valid_to_run = :r "
                "WHERE tenant_id = :t AND entity_id = :e AND record_id IN ("
                f"  SELECT c.record_id FROM nexus_staged s JOIN {current} "
                "  WHERE s.entity_id = :e AND (s.op = 'delete' OR c.checksum <> s.checksum))"
            ),
            params,
        )
    if new or changed:
        # After the close above, an upsert whose key has no current version is to be written.
        conn.execute(
            sa.text(
                "INSERT INTO integration.source_records (tenant_id, record_id, entity_id, "
                " natural_key, checksum, payload, valid_from_run, valid_to_run, file_id, line) "
                "SELECT :t, nextval('integration.record_seq'), :e, s.natural_key, s.checksum, "
                " s.payload, :r, NULL, s.file_id, s.line FROM nexus_staged s "
                "WHERE s.entity_id = :e AND s.op = 'upsert' AND NOT EXISTS ("
                "  SELECT 1 FROM integration.source_records c WHERE c.tenant_id = :t "
                "  AND c.entity_id = :e AND c.natural_key = s.natural_key "
                "  AND c.valid_to_run IS NULL)"
            ),
            params,
        )
    if store.backend.analyze_after_load and new + changed + deleted > 10_000:
        conn.execute(sa.text("ANALYZE integration.source_records"))
    return counts


def _has_current(conn: sa.Connection, params: dict) -> bool:
    return (
        conn.execute(
            sa.text(
                "SELECT 1 FROM integration.source_records WHERE tenant_id = :t "
                "AND entity_id = :e AND valid_to_run IS NULL LIMIT 1"
            ),
            params,
        ).first()
        is not None
    )


def discard_staged(conn: sa.Connection) -> None:
    conn.execute(sa.text("DELETE FROM nexus_staged"))
