"""A tenant's field defaults: the value a MOSIS field takes where canonical gives none.

Some required fields hold a fact no source Nexus reads carries, the same for a whole district:
the date the board adopted the calendar (School Calendar Header), the exit code of the
enrollments still open at the end of the year (SEA). Without a value every such row is left
out of the file. An operator sets a default once per school year, layout and column:

    nexus mosis defaults set school_calendar_header dateCalendarAdopted 06/12/2026 --year 2026-27

An extract then writes the default where the field's derivation gives no value (a value
from canonical always wins), the value's trace says so (who set it, when, the note), and the
run's input snapshot lists the defaults it used, so a re-run with the same defaults gives the
same file. A value that identifies a person (an SSN, a MOSIS ID, a name, a birth date, a
salary) cannot
be a district default: those need a source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from nexus.errors import NexusError
from nexus.mosis import layouts as mosis_layouts
from nexus.store import Store
from nexus.store.engine import current_user
from nexus.store.reporting_tables import mosis_field_defaults
from nexus.store.tenants import find_tenant

# Columns that are a person's own: a default would give every row the same person's value.
_PERSONAL = re.compile(
    r"ssn|stateid|localstudentid|lastname|firstname|middlename|suffix|birth|educatorid|"
    r"salary|gender|race",
    re.IGNORECASE,
)


class DefaultsError(NexusError):
    """A default that cannot be set (the message says why)."""


@dataclass(frozen=True)
class FieldDefault:
    layout: str
    column_name: str
    value: str
    note: str | None
    set_by: str
    set_at: datetime

    def as_dict(self) -> dict:
        return {
            "layout": self.layout,
            "column_name": self.column_name,
            "value": self.value,
            "note": self.note,
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat() if self.set_at else None,
        }


def _tenant_id(conn: sa.Connection, tenant_code: str) -> int:
    tenant = find_tenant(conn, tenant_code)
    if tenant is None:
        raise DefaultsError(f"no tenant {tenant_code!r}")
    return tenant.tenant_id


def field_defaults(
    conn: sa.Connection, tenant_id: int, school_year: int, layout: str
) -> dict[str, FieldDefault]:
    """The tenant's defaults of one layout and year, by column (header) name."""
    t = mosis_field_defaults
    rows = conn.execute(
        sa.select(t).where(
            t.c.tenant_id == tenant_id, t.c.school_year == school_year, t.c.layout == layout
        )
    ).mappings()
    return {
        r["column_name"]: FieldDefault(
            r["layout"], r["column_name"], r["value"], r["note"], r["set_by"], r["set_at"]
        )
        for r in rows
    }


def set_default(
    store: Store,
    tenant_code: str,
    school_year: int,
    layout_name: str,
    column: str,
    value: str,
    *,
    note: str | None = None,
    user: str | None = None,
) -> FieldDefault:
    """Set (or replace) one default, checked against the field: width, number, code set."""
    with store.engine.begin() as conn:
        tenant_id = _tenant_id(conn, tenant_code)
        mosis_layouts.ensure_loaded(conn, school_year)
        layout = mosis_layouts.get_layout(conn, layout_name, school_year)
        found = [f for f in layout.fields if f.header.lower() == column.strip().lower()]
        if not found:
            raise DefaultsError(
                f"{layout_name} has no column {column!r}: one of "
                f"{', '.join(f.header for f in layout.fields)}"
            )
        f = found[0]
        if _PERSONAL.search(re.sub(r"\W", "", f.header)):
            raise DefaultsError(
                f"{f.header} is a person's own value: it cannot be a district default "
                "(it needs a source)"
            )
        value = value.strip()
        if not value:
            raise DefaultsError("a default needs a value (use `defaults unset` to remove one)")
        if f.length and len(value) > f.length:
            raise DefaultsError(f"{value!r} is longer than {f.header}'s {f.length} characters")
        if (f.data_type or "").lower() in ("integer", "number"):
            try:
                float(value)
            except ValueError:
                raise DefaultsError(f"{f.header} is a number: {value!r} is not") from None
        codes = {c.code for c in layout.code_sets.get(f.code_set or "", [])}
        partial = f.code_set in mosis_layouts.partial_code_sets(school_year)
        if codes and value not in codes and not partial:
            raise DefaultsError(f"{value!r} is not in {f.header}'s code set {f.code_set}")
        t = mosis_field_defaults
        conn.execute(
            t.delete().where(
                t.c.tenant_id == tenant_id,
                t.c.school_year == school_year,
                t.c.layout == layout.name,
                t.c.column_name == f.header,
            )
        )
        made = FieldDefault(
            layout.name, f.header, value, note, user or current_user(), datetime.now(UTC)
        )
        conn.execute(
            t.insert().values(
                tenant_id=tenant_id,
                school_year=school_year,
                layout=made.layout,
                column_name=made.column_name,
                value=made.value,
                note=made.note,
                set_by=made.set_by,
                set_at=made.set_at,
            )
        )
    return made


def unset_default(
    store: Store, tenant_code: str, school_year: int, layout_name: str, column: str
) -> bool:
    """Remove one default; False when there was none."""
    t = mosis_field_defaults
    with store.engine.begin() as conn:
        tenant_id = _tenant_id(conn, tenant_code)
        done = conn.execute(
            t.delete().where(
                t.c.tenant_id == tenant_id,
                t.c.school_year == school_year,
                t.c.layout == layout_name,
                sa.func.lower(t.c.column_name) == column.strip().lower(),
            )
        )
    return bool(done.rowcount)


def list_defaults(store: Store, tenant_code: str, school_year: int) -> list[FieldDefault]:
    t = mosis_field_defaults
    with store.engine.connect() as conn:
        tenant_id = _tenant_id(conn, tenant_code)
        rows = conn.execute(
            sa.select(t)
            .where(t.c.tenant_id == tenant_id, t.c.school_year == school_year)
            .order_by(t.c.layout, t.c.column_name)
        ).mappings()
        return [
            FieldDefault(
                r["layout"], r["column_name"], r["value"], r["note"], r["set_by"], r["set_at"]
            )
            for r in rows
        ]
