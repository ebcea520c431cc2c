"""The cheap probe: has an entity changed at the source since its last successful run?

For each table a query's header watches (`modified:`), the probe reads `COUNT(*)` and the
newest value of its modification column: an insert or delete moves the count, an update moves
the newest `modifiedDate`. Two Campus switches change what a query returns without touching
those tables, so a query that reads them also records them: the active school year
(`SchoolYear.active`) and the active schedule trials (`Trial.active`). The query's sha256 is
part of the probe too, so shipping a new query version reloads its entity. Equal probes mean
the entity is skipped; an entity whose query watches nothing is always reloaded. The probe
runs in the same read-only transaction (one snapshot, where the engine gives one) as the query
it guards, and its statements pass the same guard as every query.
"""

from __future__ import annotations

import datetime as dt
import decimal

import sqlalchemy as sa

from nexus.integration.connectors.campus_sql.catalog import CampusQuery
from nexus.integration.connectors.campus_sql.database import SourceDatabase
from nexus.integration.connectors.campus_sql.guard import parse_select

# Scope switches: (table read by the query, probe key, T-SQL statement).
_SCOPES = (
    (
        "schoolyear",
        "school_year",
        "SELECT MAX(endYear) AS endYear FROM SchoolYear WHERE CAST(active AS int) = 1",
    ),
    (
        "trial",
        "active_trials",
        "SELECT COUNT(*) AS trials, SUM(CAST(trialID AS bigint)) AS ids "
        "FROM Trial WHERE CAST(active AS int) = 1",
    ),
)
# Recorded with the probe but not part of the comparison.
DELIVERED = "delivered"


def take_probe(db: SourceDatabase, conn: sa.Connection, query: CampusQuery) -> dict:
    """The probe of `query`'s entity now, as plain JSON values."""
    probe: dict = {"query_sha256": query.sha256}
    if not query.watched:
        probe["full_reload"] = "no modification column"
        return probe
    tables: dict[str, dict] = {}
    for watched in query.watched:
        newest = f", MAX([{watched.column}]) AS newest" if watched.column else ""
        row = _one(db, conn, f"SELECT COUNT(*) AS n{newest} FROM [{watched.table}]")
        tables[watched.table] = {"rows": _plain(row[0])}
        if watched.column:
            tables[watched.table]["newest"] = _plain(row[1])
    probe["tables"] = tables
    for table, key, statement in _SCOPES:
        if table in query.tables:
            row = _one(db, conn, statement)
            probe[key] = [_plain(v) for v in row] if len(row) > 1 else _plain(row[0])
    return probe


def unchanged(previous: dict | None, current: dict) -> bool:
    """True when the source shows no change since `previous` (a watched query only)."""
    if not previous or "tables" not in current:
        return False
    strip = {k: v for k, v in previous.items() if k != DELIVERED}
    return strip == {k: v for k, v in current.items() if k != DELIVERED}


def _one(db: SourceDatabase, conn: sa.Connection, tsql: str) -> tuple:
    statement = parse_select(tsql, "probe")
    return tuple(db.execute(conn, statement.sql(dialect=db.dialect, identify=True)).one())


def _plain(value: object) -> object:
    """A value as JSON keeps it, so a stored probe compares equal to a fresh one."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)
