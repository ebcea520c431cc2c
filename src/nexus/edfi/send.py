"""`nexus edfi send`: the year's built records to an Ed-Fi ODS/API, idempotently.

For each resource in dependency order (dependencies.json), valid records are compared with the
send log (`edfi.send_log`, one row per connection, year, resource and record key):
- payload hash unchanged since the last send -> not sent (`unchanged`), whatever the outcome
  was: a 400 or 409 is remembered and not resent until the record's payload changes (a 409,
  an unresolved reference, is also tried again when an earlier resource sent something in the
  same send: the missing parent may have arrived);
- natural key (or, for transcripts, the credits) changed -> DELETE the old server id, then POST;
- otherwise POST (the ODS/API upserts by natural key).
POSTs of one resource run concurrently up to the connection's bound. Records the build no
longer makes (deleted at the source) are deleted from the ODS, dependants first. A transient
failure (429/5xx/no answer after the retries) is not remembered as a failure: the next send
tries again. The log is also the identity map: record key <-> natural key <-> server id.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pyarrow as pa
import sqlalchemy as sa

from nexus.edfi import schema
from nexus.edfi.client import ApiSettings, OdsApi, Outcome
from nexus.edfi.errors import EdfiError
from nexus.edfi.ledger import record_send_failures
from nexus.integration import sources
from nexus.store import Store, audit
from nexus.store.bulk import bulk_load
from nexus.store.edfi_tables import edfi_builds, edfi_records, edfi_send_log, edfi_sends
from nexus.store.tenants import get_tenant

EDFI_KIND = "edfi"


@dataclass
class ResourceCounts:
    posted: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    retry_later: int = 0
    deleted: int = 0
    key_changes: int = 0
    not_valid: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class SendResult:
    send_id: int
    status: str
    counts: dict[str, ResourceCounts] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)  # status, message, how many
    requests: int = 0
    retried: int = 0
    tokens: int = 0
    exceptions: dict = field(default_factory=dict)  # the ledger run of the refused records

    def as_dict(self) -> dict:
        return {
            "send_id": self.send_id,
            "status": self.status,
            "resources": {r: c.as_dict() for r, c in self.counts.items()},
            "failures": self.failures,
            "requests": self.requests,
            "retried": self.retried,
            "tokens": self.tokens,
            "exceptions": self.exceptions,
        }

    @property
    def sent(self) -> int:
        return sum(c.posted + c.deleted for c in self.counts.values())


def api_settings(store: Store, tenant_id: int, connection_name: str) -> ApiSettings:
    """The ODS/API connection (`nexus connections add NAME --kind edfi --url BASE
    --client-id ID --client-secret-env VAR [--option concurrency=8 --option retries=5]`)."""
    with store.engine.connect() as conn:
        c = sources.get_connection(conn, tenant_id, connection_name)
    if c.kind != EDFI_KIND:
        raise EdfiError(f"connection {connection_name!r} is a {c.kind} connection, not edfi")
    secret = c.secret(store.settings.secret_key)
    if not c.client_id or not secret:
        raise EdfiError(f"connection {connection_name!r} needs a client id and a client secret")
    opts = c.options or {}
    try:
        return ApiSettings(
            base_url=c.url,
            client_id=c.client_id,
            client_secret=secret,
            concurrency=max(1, int(opts.get("concurrency", 8))),
            retries=max(0, int(opts.get("retries", 5))),
            backoff_seconds=float(opts.get("backoff", 0.5)),
        )
    except ValueError as exc:
        raise EdfiError(f"connection {connection_name!r}: bad option ({exc})") from None


def _run_to_end(coroutine):
    """Run the send's coroutine to its end from synchronous code.

    `asyncio.run` refuses to start where this thread already runs an event loop (a caller
    inside async code, a test tool's loop): the coroutine then gets a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nexus-edfi-send") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_send(
    store: Store,
    tenant_code: str,
    school_year: int,
    connection_name: str,
    only: list[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    settings: ApiSettings | None = None,
) -> SendResult:
    """Send the year's built records through the connection (see the module docstring)."""
    with store.engine.connect() as conn:
        tenant = get_tenant(conn, tenant_code)
        build_id = conn.execute(
            sa.select(sa.func.max(edfi_builds.c.build_id)).where(
                edfi_builds.c.tenant_id == tenant.tenant_id,
                edfi_builds.c.school_year == school_year,
            )
        ).scalar()
    if build_id is None:
        raise EdfiError(
            f"nothing built for {school_year - 1}-{str(school_year)[-2:]}: run `nexus edfi build`"
        )
    settings = settings or api_settings(store, tenant.tenant_id, connection_name)
    with store.engine.begin() as conn:
        send_id = conn.execute(
            edfi_sends.insert()
            .values(
                tenant_id=tenant.tenant_id,
                connection=connection_name,
                school_year=school_year,
                build_id=build_id,
                started_by=os.environ.get("NEXUS_USER") or getpass.getuser(),
                started_at=datetime.now(UTC),
                status="running",
            )
            .returning(edfi_sends.c.send_id)
        ).scalar_one()
    sender = _Sender(store, tenant.tenant_id, school_year, connection_name, send_id, only)
    try:
        result = _run_to_end(sender.run(settings, transport))
    except EdfiError as exc:
        _finish(store, tenant.tenant_id, send_id, "failed", str(exc), sender.result)
        raise
    status = (
        "partial"
        if any(c.failed or c.retry_later for c in result.counts.values())
        else ("succeeded")
    )
    result.status = status
    _finish(store, tenant.tenant_id, send_id, status, None, result)
    with store.engine.begin() as conn:
        audit.record(
            conn,
            tenant.tenant_id,
            os.environ.get("NEXUS_USER") or getpass.getuser(),
            "export.edfi_send",
            {
                "send_id": send_id,
                "connection": connection_name,
                "school_year": school_year,
                "sent": result.sent,
            },
        )
        result.exceptions = record_send_failures(
            conn,
            tenant.tenant_id,
            school_year,
            connection_name,
            send_id,
            os.environ.get("NEXUS_USER") or getpass.getuser(),
        )
    return result


def _finish(store, tenant_id, send_id, status, reason, result: SendResult) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            edfi_sends.update()
            .where(edfi_sends.c.tenant_id == tenant_id, edfi_sends.c.send_id == send_id)
            .values(
                status=status,
                reason=reason,
                ended_at=datetime.now(UTC),
                counts={r: c.as_dict() for r, c in result.counts.items()},
            )
        )


@dataclass
class _Built:
    record_key: str
    natural_key: str
    key_hash: str
    payload: str
    payload_hash: str
    valid: bool


class _Sender:
    def __init__(self, store, tenant_id, school_year, connection, send_id, only):
        self.store = store
        self.tenant_id = tenant_id
        self.school_year = school_year
        self.connection = connection
        self.send_id = send_id
        self.only = set(only) if only else None
        self.result = SendResult(send_id, "running")
        self._failures: dict[tuple[str, int, str], int] = {}
        self.upstream_sent = False
        self.live_ids: dict[str, set[str]] = {}

    def _load(self) -> tuple[dict[str, dict[str, _Built]], dict[str, dict[str, dict]]]:
        r, log = edfi_records, edfi_send_log
        built: dict[str, dict[str, _Built]] = {}
        logged: dict[str, dict[str, dict]] = {}
        with self.store.engine.connect() as conn:
            for row in conn.execute(
                sa.select(r).where(
                    r.c.tenant_id == self.tenant_id, r.c.school_year == self.school_year
                )
            ):
                built.setdefault(row.resource, {})[row.record_key] = _Built(
                    row.record_key,
                    row.natural_key,
                    row.key_hash,
                    row.payload,
                    row.payload_hash,
                    row.valid,
                )
            for row in conn.execute(
                sa.select(log).where(
                    log.c.tenant_id == self.tenant_id,
                    log.c.connection == self.connection,
                    log.c.school_year == self.school_year,
                )
            ):
                logged.setdefault(row.resource, {})[row.record_key] = dict(row._mapping)
        return built, logged

    async def run(self, settings: ApiSettings, transport) -> SendResult:
        built, logged = self._load()
        resources = set(built) | set(logged)
        if self.only is not None:
            resources &= self.only
        ordered = schema.sort_by_load_order(resources)
        bound = asyncio.Semaphore(settings.concurrency)
        async with OdsApi(settings, transport) as api:
            for resource in ordered:
                counts = self.result.counts.setdefault(resource, ResourceCounts())
                await self._post_resource(
                    api,
                    bound,
                    resource,
                    built.get(resource, {}),
                    logged.get(resource, {}),
                    counts,
                )
            # Records the build no longer makes: delete them, dependants first; but never an
            # item a current record now holds (another record took over its natural key, and
            # the POST upserted onto the same server id).
            for resource in reversed(ordered):
                counts = self.result.counts[resource]
                live = self.live_ids.get(resource, set()) | {
                    entry["server_id"]
                    for key, entry in logged.get(resource, {}).items()
                    if key in built.get(resource, {}) and entry["server_id"]
                }
                gone = [
                    entry
                    for key, entry in logged.get(resource, {}).items()
                    if key not in built.get(resource, {})
                    and entry["server_id"]
                    and entry["server_id"] not in live
                ]
                await self._delete_gone(api, bound, resource, gone, counts)
                taken = [
                    key
                    for key, entry in logged.get(resource, {}).items()
                    if key not in built.get(resource, {}) and entry["server_id"] in live
                ]
                self._write_log(resource, [], taken)
                # Never accepted by the server and no longer built: nothing to delete there.
                orphans = [
                    key
                    for key, entry in logged.get(resource, {}).items()
                    if key not in built.get(resource, {}) and not entry["server_id"]
                ]
                self._write_log(resource, [], orphans)
            self.result.requests = api.requests
            self.result.retried = api.retried
            self.result.tokens = api.tokens
        self.result.failures = [
            {"resource": r, "status": s, "message": m, "records": n}
            for (r, s, m), n in sorted(self._failures.items(), key=lambda kv: -kv[1])
        ]
        return self.result

    async def _post_resource(self, api, bound, resource, records, log, counts) -> None:
        todo: list[tuple[_Built, dict | None]] = []
        for key in sorted(records):
            rec = records[key]
            if not rec.valid:
                counts.not_valid += 1
                continue
            entry = log.get(key)
            # A 409 (unresolved reference) is tried again once something it may reference was
            # sent earlier in this send; any other remembered outcome waits for its own payload
            # to change.
            retry_409 = entry is not None and entry["status_code"] == 409 and self.upstream_sent
            if entry is not None and entry["payload_hash"] == rec.payload_hash and not retry_409:
                counts.unchanged += 1
                continue
            todo.append((rec, entry))

        async def one(rec: _Built, entry: dict | None) -> dict:
            async with bound:
                old_id = entry["server_id"] if entry else None
                if entry is not None and entry["key_hash"] != rec.key_hash and old_id:
                    gone = await api.delete(resource, old_id)
                    if not gone.ok:
                        return self._row(resource, rec, gone, old_id)
                    counts.key_changes += 1
                    old_id = None
                outcome = await api.post(resource, json.loads(rec.payload))
                return self._row(resource, rec, outcome, old_id)

        rows = await asyncio.gather(*(one(rec, entry) for rec, entry in todo))
        for row in rows:
            status = row["status_code"] or 0
            if row["outcome"] == "sent":
                self.upstream_sent = True
                if row["server_id"]:
                    self.live_ids.setdefault(resource, set()).add(row["server_id"])
                counts.posted += 1
                counts.created += status == 201
                counts.updated += status == 200
            elif row["outcome"] == "retry":
                counts.retry_later += 1
            else:
                counts.failed += 1
        self._write_log(resource, rows, [])

    def _row(self, resource: str, rec: _Built, outcome: Outcome, old_id: str | None) -> dict:
        if outcome.ok:
            verdict = "sent"
        elif outcome.transient:
            verdict = "retry"
        else:
            verdict = "failed"
        if not outcome.ok:
            k = (resource, outcome.status, outcome.message or "")
            self._failures[k] = self._failures.get(k, 0) + 1
        return {
            "tenant_id": self.tenant_id,
            "connection": self.connection,
            "school_year": self.school_year,
            "resource": resource,
            "record_key": rec.record_key,
            "natural_key": rec.natural_key,
            "key_hash": rec.key_hash,
            # A transient failure is not remembered: an empty hash makes the next send retry.
            "payload_hash": "" if verdict == "retry" else rec.payload_hash,
            "server_id": outcome.server_id or old_id,
            "status_code": outcome.status,
            "outcome": verdict,
            "message": outcome.message,
            "send_id": self.send_id,
            "sent_at": datetime.now(UTC),
        }

    async def _delete_gone(self, api, bound, resource, entries, counts) -> None:
        async def one(entry: dict) -> tuple[dict, Outcome]:
            async with bound:
                return entry, await api.delete(resource, entry["server_id"])

        removed = []
        for entry, outcome in await asyncio.gather(*(one(e) for e in entries)):
            if outcome.ok:
                counts.deleted += 1
                removed.append(entry["record_key"])
            else:
                counts.failed += 1
                k = (resource, outcome.status, outcome.message or "")
                self._failures[k] = self._failures.get(k, 0) + 1
        self._write_log(resource, [], removed)

    def _write_log(self, resource: str, rows: list[dict], removed: list[str]) -> None:
        keys = [r["record_key"] for r in rows] + removed
        if not keys:
            return
        log = edfi_send_log
        with self.store.engine.begin() as conn:
            for i in range(0, len(keys), 1000):
                conn.execute(
                    log.delete().where(
                        log.c.tenant_id == self.tenant_id,
                        log.c.connection == self.connection,
                        log.c.school_year == self.school_year,
                        log.c.resource == resource,
                        log.c.record_key.in_(keys[i : i + 1000]),
                    )
                )
            if rows:
                bulk_load(conn, log, pa.Table.from_pylist(rows, _LOG_SCHEMA))


_LOG_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.int64()),
        ("connection", pa.string()),
        ("school_year", pa.int32()),
        ("resource", pa.string()),
        ("record_key", pa.string()),
        ("natural_key", pa.string()),
        ("key_hash", pa.string()),
        ("payload_hash", pa.string()),
        ("server_id", pa.string()),
        ("status_code", pa.int32()),
        ("outcome", pa.string()),
        ("message", pa.string()),
        ("send_id", pa.int64()),
        ("sent_at", pa.timestamp("us", tz="UTC")),
    ]
)
