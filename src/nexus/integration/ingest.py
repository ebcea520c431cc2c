"""One ingestion run end to end: connector → work area → staged rows → versions, gated.

Every delivery is parsed and checked in the run's private work area and compared there with
the entity's current (key, checksum) pairs; only what changes the entity is staged in the
store (a temporary table on the run's own connection), bad rows are recorded as errors. Only
when every delivery has been read are the staged rows turned into versions, all in one
transaction together with the run's final status: a run that dies part way leaves no version
behind, and a failed file leaves its entity as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import sqlalchemy as sa

from nexus.integration import artifacts, runs, versioning
from nexus.integration.connectors import connector_for
from nexus.integration.connectors.base import ConnectorContext, Delivery
from nexus.integration.errors import IngestionError
from nexus.integration.gate import DistrictGate
from nexus.integration.sources import Connection, ensure_source_system, get_connection
from nexus.integration.staging import StagedEntity, WorkArea
from nexus.store import Store, StoreError, bulk_load
from nexus.store.engine import current_user
from nexus.store.tables import (
    ingestion_entities,
    ingestion_files,
    source_entities,
    source_record_errors,
)
from nexus.store.tenants import get_tenant

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int | None], None]


@dataclass
class _Pending:
    """A staged delivery waiting for the run's single apply transaction."""

    delivery: Delivery
    staged: StagedEntity | None
    entity_id: int
    file_id: int


def ingest(
    store: Store,
    tenant_code: str,
    kind: str,
    source: str | None,
    *,
    connection_name: str | None = None,
    user: str | None = None,
    accept_type_changes: bool = False,
    options: dict | None = None,
    progress: ProgressCallback | None = None,
    gate: DistrictGate | None = None,
) -> runs.RunResult:
    """Run one ingestion of `source` (a path or URL) for a tenant; never raises on bad data.

    `gate` sees the districts each delivery names and may refuse the run (see `gate.py`);
    operators' entry points pass `nexus.identity`'s district gate.
    """
    connector = connector_for(kind)
    with store.engine.begin() as conn:
        tenant = get_tenant(conn, tenant_code)
        connection: Connection | None = None
        if connection_name:
            connection = get_connection(conn, tenant.tenant_id, connection_name)
            if connection.kind != kind:
                raise IngestionError(
                    f"connection {connection_name!r} is a {connection.kind} connection, not {kind}"
                )
            source_system_id = connection.source_system_id
        else:
            source_system_id = ensure_source_system(conn, tenant.tenant_id, kind, kind)
        source = source or (connection.url if connection else None)
        if not source:
            raise IngestionError("name the source (a path or URL) or a connection that has one")
        recorded_source = _without_password(source)
        run_id = runs.start_run(
            conn,
            tenant.tenant_id,
            source_system_id,
            connection.connection_id if connection else None,
            kind,
            recorded_source,
            user or current_user(),
        )
    run = _Run(store, tenant.tenant_id, source_system_id, run_id, progress, gate)
    try:
        run.open()
        with WorkArea(store.settings.home / "work") as work:
            run.work = work
            # Built once the work area exists: connectors write into `context.work_dir`.
            context = run.context(tenant_code, connection, options or {})
            for delivery in connector.deliveries(source, context):
                run.take(delivery, accept_type_changes)
            return run.apply()
    except (IngestionError, StoreError) as exc:
        return run.fail(str(exc))
    except Exception as exc:
        log.debug("run %s failed", run_id, exc_info=True)
        return run.fail(f"internal error: {type(exc).__name__}: {exc}")
    finally:
        run.close()


class _Run:
    def __init__(
        self,
        store: Store,
        tenant_id: int,
        source_system_id: int,
        run_id: int,
        progress: ProgressCallback | None,
        gate: DistrictGate | None = None,
    ) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.source_system_id = source_system_id
        self.run_id = run_id
        self.result = runs.RunResult(run_id=run_id, status=runs.RUNNING)
        self.pending: list[_Pending] = []
        self.error_no = 0
        self.work: WorkArea | None = None
        self.progress = progress or (lambda name, rows: None)
        self.conn: sa.Connection | None = None
        self.gate = gate
        self.refusals: list[str] = []

    def open(self) -> None:
        """One store connection for the whole run: it holds the run's temporary staging table."""
        self.conn = self.store.engine.connect()
        with self.conn.begin():
            versioning.create_staging(self.conn)

    def close(self) -> None:
        if self.conn is not None:
            try:
                with self._tx() as conn:
                    versioning.drop_staging(conn)
            finally:
                self.conn.close()
                self.conn = None

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        """A transaction on the run's connection (a fresh connection before `open`)."""
        if self.conn is None:
            with self._tx() as conn:
                yield conn
            return
        if self.conn.in_transaction():
            self.conn.rollback()
        with self.conn.begin():
            yield self.conn

    # --- before the connector runs -----------------------------------------------------------

    def context(
        self, tenant_code: str, connection: Connection | None, options: dict
    ) -> ConnectorContext:
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(
                    source_entities.c.entity_id, source_entities.c.name, source_entities.c.columns
                ).where(
                    source_entities.c.tenant_id == self.tenant_id,
                    source_entities.c.source_system_id == self.source_system_id,
                )
            ).all()
            probes: dict[str, dict] = {}
            for entity_id, name, _columns in rows:
                probe = conn.execute(
                    sa.select(ingestion_entities.c.probe)
                    .where(
                        ingestion_entities.c.tenant_id == self.tenant_id,
                        ingestion_entities.c.entity_id == entity_id,
                        ingestion_entities.c.probe.is_not(None),
                    )
                    .order_by(ingestion_entities.c.run_id.desc())
                    .limit(1)
                ).scalar()
                if probe:
                    probes[name] = probe
        secret_key = self.store.settings.secret_key
        return ConnectorContext(
            tenant_code=tenant_code,
            previous_probes=probes,
            previous_columns={name: columns or {} for _, name, columns in rows},
            url=connection.url_with_secret(secret_key) if connection else None,
            client_id=connection.client_id if connection else None,
            secret=connection.secret(secret_key) if connection else None,
            options={**(connection.options if connection else {}), **options},
            work_dir=self.work.dir if self.work else None,
        )

    # --- each delivery -------------------------------------------------------------------------

    def take(self, delivery: Delivery, accept_type_changes: bool) -> None:
        assert self.work is not None
        self.progress(delivery.name, None)
        if delivery.failure:
            self._file(delivery, None, status=runs.FAILED, reason=delivery.failure)
            return
        with self._tx() as conn:
            entity_id, previous = self._entity(conn, delivery)
        if delivery.skipped:
            file_id = self._file(
                delivery,
                None,
                status="skipped",
                reason="unchanged at the source since the last run",
            )
            self.pending.append(_Pending(delivery, None, entity_id, file_id))
            return
        staged = self.work.stage(delivery, previous, accept_type_changes)
        if staged.failed:
            self._file(delivery, staged, status=runs.FAILED, reason=staged.failure)
            return
        if self.gate is not None and staged.district_claims:
            with self._tx() as conn:
                verdict = self.gate(conn, self.tenant_id, staged.district_claims)
            if not verdict.accepted:
                reason = f"{delivery.name}: refused by the district gate: {verdict.reason}"
                self.refusals.append(reason)
                self._file(delivery, staged, status=runs.FAILED, reason=reason)
                return
        status = runs.PARTIAL if staged.error_count else runs.SUCCEEDED
        file_id = self._file(delivery, staged, status=status, reason=staged.drift_note)
        with self._tx() as conn:
            current = versioning.current_versions(conn, self.tenant_id, entity_id)
        staged.first_delivery = current.num_rows == 0
        self.work.diff(staged, current, delivery.mode)
        del current
        with self._tx() as conn:
            bulk_load(
                conn,
                versioning.staged,
                self.work.staged_rows(staged, {"entity_id": entity_id, "file_id": file_id}),
            )
            self._errors(conn, delivery, staged, file_id)
        self.work.release(staged)
        self.pending.append(_Pending(delivery, staged, entity_id, file_id))
        self.progress(delivery.name, staged.rows_read)

    def _entity(self, conn: sa.Connection, delivery: Delivery) -> tuple[int, dict | None]:
        row = conn.execute(
            sa.select(
                source_entities.c.entity_id,
                source_entities.c.columns,
                source_entities.c.natural_key,
            ).where(
                source_entities.c.tenant_id == self.tenant_id,
                source_entities.c.source_system_id == self.source_system_id,
                source_entities.c.name == delivery.entity,
            )
        ).first()
        key = list(delivery.natural_key)
        if row is None:
            entity_id = conn.execute(
                source_entities.insert()
                .values(
                    tenant_id=self.tenant_id,
                    source_system_id=self.source_system_id,
                    name=delivery.entity,
                    natural_key=key,
                    created_at=datetime.now(UTC),
                )
                .returning(source_entities.c.entity_id)
            ).scalar_one()
            return entity_id, None
        if list(row.natural_key) != key:
            raise IngestionError(
                f"{delivery.name}: the natural key of {delivery.entity} changed from "
                f"{', '.join(row.natural_key)} to {', '.join(key)}; versions would not line up"
            )
        return row.entity_id, row.columns

    def _file(
        self, delivery: Delivery, staged: StagedEntity | None, *, status: str, reason: str | None
    ) -> int:
        original = delivery.path or delivery.original
        kept = None
        if original is not None and original.exists() and original.is_file():
            known = None
            if staged is not None and staged.sha256 and original == delivery.path:
                known = (staged.sha256, staged.size_bytes or 0)
            kept = artifacts.keep(self.store.settings.artifacts_dir, original, known)
        with self._tx() as conn:
            file_id = conn.execute(
                ingestion_files.insert()
                .values(
                    tenant_id=self.tenant_id,
                    run_id=self.run_id,
                    name=delivery.name,
                    entity=delivery.entity,
                    size_bytes=kept.size_bytes if kept else None,
                    sha256=kept.sha256 if kept else None,
                    artifact_path=str(kept.path) if kept else None,
                    rows_read=staged.rows_read if staged else 0,
                    status=status,
                    reason=reason,
                    columns=staged.columns if staged else None,
                    columns_added=staged.columns_added if staged else None,
                    columns_missing=staged.columns_missing if staged else None,
                )
                .returning(ingestion_files.c.file_id)
            ).scalar_one()
        self.result.files.append(
            runs.FileOutcome(
                name=delivery.name,
                rows=staged.rows_read if staged else 0,
                status=status,
                reason=reason,
                entity=delivery.entity,
                file_id=file_id,
            )
        )
        return file_id

    def _errors(
        self, conn: sa.Connection, delivery: Delivery, staged: StagedEntity, file_id: int
    ) -> None:
        if not staged.error_count:
            return
        assert self.work is not None
        found = self.work.error_rows(staged)
        start = self.error_no
        self.error_no += len(found)
        table = pa.table(
            {
                "tenant_id": pa.array([self.tenant_id] * len(found), pa.int64()),
                "run_id": pa.array([self.run_id] * len(found), pa.int64()),
                "error_no": pa.array(range(start + 1, start + 1 + len(found)), pa.int64()),
                "file_id": pa.array([file_id] * len(found), pa.int64()),
                "entity": pa.array([delivery.entity] * len(found), pa.string()),
                "file_name": pa.array([delivery.name] * len(found), pa.string()),
                "line": pa.array([e["line"] for e in found], pa.int64()),
                "column_name": pa.array([e["column_name"] for e in found], pa.string()),
                "value": pa.array([e["value"] for e in found], pa.string()),
                "reason": pa.array([e["reason"] for e in found], pa.string()),
                "natural_key": pa.array([e["natural_key"] for e in found], pa.string()),
            }
        )
        bulk_load(conn, source_record_errors, table)

    # --- the single apply transaction -----------------------------------------------------------

    def apply(self) -> runs.RunResult:
        if self.refusals:
            # Data of another district, or of one not verified: nothing of the run is applied.
            return self.fail("; ".join(self.refusals))
        files = self.result.files
        failed_files = [f for f in files if f.status == runs.FAILED]
        if not files:
            return self.fail("the source delivered nothing")
        if len(failed_files) == len(files):
            return self.fail(
                "no file could be ingested: "
                + "; ".join(f.reason or f.name for f in failed_files[:5])
            )
        errors = sum(p.staged.error_count for p in self.pending if p.staged)
        status = runs.PARTIAL if failed_files or errors else runs.SUCCEEDED
        with self._tx() as conn:
            for item in self.pending:
                self.result.entities[item.delivery.entity] = self._apply_one(conn, item)
            runs.finish_run(conn, self.tenant_id, self.run_id, status, _summary(failed_files))
        self._discard_staged()
        self.result.status = status
        self.result.reason = _summary(failed_files)
        with self._tx() as conn:
            self.result.errors = runs.run_errors(conn, self.run_id, self.tenant_id, limit=1000)
        self.result.error_total = self.error_no
        return self.result

    def _apply_one(self, conn: sa.Connection, item: _Pending) -> dict:
        delivery, staged = item.delivery, item.staged
        if staged is None:  # skipped: the source says nothing changed
            unchanged = conn.execute(
                sa.text(
                    "SELECT count(*) FROM integration.source_records WHERE tenant_id = :t "
                    "AND entity_id = :e AND valid_to_run IS NULL"
                ),
                {"t": self.tenant_id, "e": item.entity_id},
            ).scalar_one()
            counts = versioning.EntityCounts(unchanged=unchanged)
            mode = "skipped"
        else:
            counts = versioning.apply_entity(
                conn,
                self.store,
                self.tenant_id,
                self.run_id,
                item.entity_id,
                staged.unchanged,
                first=staged.first_delivery,
            )
            counts.errors = staged.error_count
            mode = delivery.mode
            conn.execute(
                source_entities.update()
                .where(
                    source_entities.c.tenant_id == self.tenant_id,
                    source_entities.c.entity_id == item.entity_id,
                )
                .values(columns=staged.column_types)
            )
        conn.execute(
            ingestion_entities.insert().values(
                tenant_id=self.tenant_id,
                run_id=self.run_id,
                entity_id=item.entity_id,
                mode=mode,
                rows_new=counts.new,
                rows_changed=counts.changed,
                rows_unchanged=counts.unchanged,
                rows_deleted=counts.deleted,
                rows_error=counts.errors,
                query_name=delivery.query.name if delivery.query else None,
                query_version=delivery.query.version if delivery.query else None,
                query_sha256=delivery.query.sha256 if delivery.query else None,
                probe=delivery.probe,
            )
        )
        return counts.as_dict()

    def fail(self, reason: str) -> runs.RunResult:
        with self._tx() as conn:
            runs.finish_run(conn, self.tenant_id, self.run_id, runs.FAILED, reason)
        self._discard_staged()
        self.result.status = runs.FAILED
        self.result.reason = reason
        self.result.entities = {}
        with self._tx() as conn:
            self.result.errors = runs.run_errors(conn, self.run_id, self.tenant_id, limit=1000)
        self.result.error_total = self.error_no
        return self.result

    def _discard_staged(self) -> None:
        if self.conn is not None:
            with self._tx() as conn:
                versioning.discard_staged(conn)


def _without_password(source: str) -> str:
    """The source as it may be recorded and shown: a URL's password masked."""
    parts = urlsplit(source)
    if not parts.password:
        return source
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def _summary(failed_files: list[runs.FileOutcome]) -> str | None:
    if not failed_files:
        return None
    noun = "file" if len(failed_files) == 1 else "files"
    # Each reason already names its file.
    return f"{len(failed_files)} {noun} failed: " + "; ".join(
        f.reason or f.name for f in failed_files
    )
