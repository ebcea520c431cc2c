"""Tenants: the districts (or other organisations) whose data Nexus keeps apart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from nexus.store.errors import StoreError
from nexus.store.tables import tenants


@dataclass(frozen=True)
class Tenant:
    tenant_id: int
    code: str
    name: str
    county_district_code: str | None
    nces_id: str | None


_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def add_tenant(
    conn: sa.Connection,
    code: str,
    name: str,
    county_district_code: str | None = None,
    nces_id: str | None = None,
) -> Tenant:
    """Register a tenant; a DESE county-district code is optional but, if given, six digits."""
    if not _CODE.match(code):
        raise StoreError(f"tenant code {code!r}: use letters, digits, '-', '_' or '.'")
    if county_district_code is not None and not re.fullmatch(r"\d{6}", county_district_code):
        raise StoreError(
            f"county-district code {county_district_code!r} must be six digits (e.g. 048078)"
        )
    if nces_id is not None and not re.fullmatch(r"\d{7}(\d{5})?", nces_id):
        raise StoreError(f"NCES id {nces_id!r} must be 7 digits (district) or 12 (school)")
    if find_tenant(conn, code) is not None:
        raise StoreError(f"tenant {code!r} already exists")
    tenant_id = conn.execute(
        tenants.insert()
        .values(
            code=code,
            name=name,
            county_district_code=county_district_code,
            nces_id=nces_id,
            created_at=datetime.now(UTC),
        )
        .returning(tenants.c.tenant_id)
    ).scalar_one()
    return Tenant(tenant_id, code, name, county_district_code, nces_id)


def find_tenant(conn: sa.Connection, code: str) -> Tenant | None:
    row = conn.execute(sa.select(tenants).where(tenants.c.code == code)).mappings().first()
    if row is None:
        return None
    return Tenant(
        row["tenant_id"], row["code"], row["name"], row["county_district_code"], row["nces_id"]
    )


def get_tenant(conn: sa.Connection, code: str) -> Tenant:
    tenant = find_tenant(conn, code)
    if tenant is None:
        raise StoreError(f"no tenant {code!r}: add it with `nexus tenants add {code} --name …`")
    return tenant


def list_tenants(conn: sa.Connection) -> list[Tenant]:
    rows = conn.execute(sa.select(tenants).order_by(tenants.c.code)).mappings()
    return [
        Tenant(r["tenant_id"], r["code"], r["name"], r["county_district_code"], r["nces_id"])
        for r in rows
    ]
