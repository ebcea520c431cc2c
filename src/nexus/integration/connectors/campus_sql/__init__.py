"""Infinite Campus direct SQL: one versioned T-SQL query per entity, read-only, probed.

`nexus ingest campus-sql URL` connects to the Campus database (in production a read replica
on SQL Server; in tests DuckDB, SQLite or PostgreSQL built with Campus's names), and for each
entity of the shipped catalog (`queries/*.sql`, see `catalog.py`): takes the cheap probe, skips
the entity when the probe matches its last successful run, or else runs the query, checked by
`guard.py` and transpiled to the engine's dialect, inside a read-only transaction, streaming
the rows into a Parquet original (`spool.py`) that the run stages and keeps. An entity whose
query fails at the source (a table or column missing) is delivered as a failure with the
database's message; a connection that cannot be made or is lost fails the run. This module
orchestrates; it does not write to the store.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from nexus.integration.connectors.base import (
    ConnectorContext,
    Delivery,
    DistrictEvidence,
    QueryIdentity,
)
from nexus.integration.connectors.campus_sql.catalog import CampusQuery, load_catalog
from nexus.integration.connectors.campus_sql.database import SourceDatabase
from nexus.integration.connectors.campus_sql.probe import DELIVERED, take_probe, unchanged
from nexus.integration.connectors.campus_sql.spool import BATCH_ROWS, spool
from nexus.integration.errors import IngestionError

__all__ = ["CampusSqlConnector"]


class CampusSqlConnector:
    kind = "campus-sql"

    def deliveries(self, source: str, context: ConnectorContext) -> Iterator[Delivery]:
        queries = _wanted(load_catalog(), context.options.get("entities"))
        with (
            SourceDatabase(_source_url(source, context)) as db,
            _scratch(context.work_dir) as scratch,
        ):
            for query in queries:
                delivery = _deliver(db, query, context, scratch)
                yield delivery
                # The run has staged and kept it by now.
                if delivery.original is not None:
                    delivery.original.unlink(missing_ok=True)


def _deliver(
    db: SourceDatabase, query: CampusQuery, context: ConnectorContext, scratch: Path
) -> Delivery:
    previous = context.previous_probes.get(query.entity)
    delivery = Delivery(
        entity=query.entity,
        name=query.name,
        natural_key=query.natural_key,
        query=QueryIdentity(name=query.name, version=query.version, sha256=query.sha256),
        # The schools query carries District.number: the DESE county-district code.
        district_evidence=(
            DistrictEvidence(columns={"county_district_code": "districtNumber"})
            if query.entity == "schools"
            else None
        ),
    )
    try:
        with db.transaction() as conn:
            probe = take_probe(db, conn, query)
            if unchanged(previous, probe):
                assert previous is not None
                probe[DELIVERED] = previous.get(DELIVERED)
                delivery.probe, delivery.skipped = probe, True
                return delivery
            result = db.execute(conn, query.sql_for(db.dialect), stream=True)
            spooled = spool(_batches(result), query.columns, scratch / f"{query.entity}.parquet")
    except sa.exc.DBAPIError as exc:
        # Reasons name their query, as every delivery's reason names its file.
        delivery.failure = f"{query.name}: query failed at the source: {db.failure(exc)}"
        return delivery
    probe[DELIVERED] = spooled.rows
    delivery.probe = probe
    last = (previous or {}).get(DELIVERED)
    if spooled.rows == 0 and last:
        spooled.path.unlink()
        # Never read "no rows" as "every record deleted": a login that lost its rights or a
        # school year rolled over without calendars looks exactly like this.
        delivery.failure = (
            f"{query.name}: the query returned no rows where the last run had {last:,}; check "
            "the login's rights and the active school year at the source"
        )
        return delivery
    delivery.rows = spooled.reader
    delivery.original = spooled.path
    return delivery


def _batches(result: sa.CursorResult) -> Iterator[list]:
    try:
        while rows := result.fetchmany(BATCH_ROWS):
            yield rows
    finally:
        result.close()


def _wanted(catalog: list[CampusQuery], entities: list[str] | None) -> list[CampusQuery]:
    if not entities:
        return catalog
    known = {q.entity for q in catalog}
    unknown = sorted(set(entities) - known)
    if unknown:
        raise IngestionError(
            f"no Campus query for {', '.join(unknown)}; the entities are {', '.join(sorted(known))}"
        )
    return [q for q in catalog if q.entity in entities]


def _source_url(source: str, context: ConnectorContext) -> str:
    """The URL to connect with: the connection's (with its secret) when it names the same
    database as `source`, else `source` itself."""
    if context.url and context.url != source:
        try:
            same = _without_password(context.url) == _without_password(source)
        except (sa.exc.ArgumentError, ValueError):
            same = False
        if same:
            return context.url
    return source


def _without_password(url: str) -> tuple:
    parts = make_url(url)
    return (parts.drivername, parts.username, parts.host, parts.port, parts.database, parts.query)


@contextmanager
def _scratch(work_dir: Path | None) -> Iterator[Path]:
    if work_dir is not None:
        folder = work_dir / "campus-sql"
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="nexus-campus-sql-") as folder:
        yield Path(folder)
