"""A tenant's districts as the gate knows them: names, DESE and NCES codes, aliases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from nexus.store import StoreError
from nexus.store.tables import district_aliases, districts
from nexus.store.tenants import Tenant


@dataclass
class District:
    district_id: int
    name: str
    county_district_code: str | None
    nces_id: str | None
    account_id: str | None
    name_threshold: int
    aliases: list[str] = field(default_factory=list)


def register_district(conn: sa.Connection, tenant: Tenant, account_id: str | None = None) -> int:
    """Record the tenant's own district (a tenant is its district until told otherwise)."""
    return conn.execute(
        districts.insert()
        .values(
            tenant_id=tenant.tenant_id,
            name=tenant.name,
            county_district_code=tenant.county_district_code,
            nces_id=tenant.nces_id,
            account_id=account_id,
            created_at=datetime.now(UTC),
        )
        .returning(districts.c.district_id)
    ).scalar_one()


def list_districts(conn: sa.Connection, tenant_id: int) -> list[District]:
    rows = conn.execute(
        sa.select(districts)
        .where(districts.c.tenant_id == tenant_id)
        .order_by(districts.c.district_id)
    ).mappings()
    found = {
        r["district_id"]: District(
            r["district_id"],
            r["name"],
            r["county_district_code"],
            r["nces_id"],
            r["account_id"],
            r["name_threshold"],
        )
        for r in rows
    }
    for district_id, alias in conn.execute(
        sa.select(district_aliases.c.district_id, district_aliases.c.alias)
        .where(district_aliases.c.tenant_id == tenant_id)
        .order_by(district_aliases.c.alias)
    ):
        if district_id in found:
            found[district_id].aliases.append(alias)
    return list(found.values())


def _only_district(conn: sa.Connection, tenant_id: int) -> District:
    found = list_districts(conn, tenant_id)
    if not found:
        raise StoreError("this tenant has no district registered")
    return found[0]


def add_alias(conn: sa.Connection, tenant_id: int, alias: str) -> None:
    """Another name the tenant's district goes by in some source ("Belleville PD")."""
    alias = " ".join(alias.split())
    if not alias:
        raise StoreError("an alias cannot be empty")
    district = _only_district(conn, tenant_id)
    if alias in district.aliases:
        raise StoreError(f"alias {alias!r} is already registered")
    conn.execute(
        district_aliases.insert().values(
            tenant_id=tenant_id,
            district_id=district.district_id,
            alias=alias,
            created_at=datetime.now(UTC),
        )
    )


def list_aliases(conn: sa.Connection, tenant_id: int) -> list[str]:
    return [a for d in list_districts(conn, tenant_id) for a in d.aliases]
