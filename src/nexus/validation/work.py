"""The validation work area: a private DuckDB holding one tenant's canonical tables, current
source records and each layout's derived values, so every rule is one set-based query in one
SQL dialect whatever the store (DuckDB or PostgreSQL).

Canonical tables keep their schema-qualified names (`education.enrollments`), so a rule reads
as it would against the store. A layout's values are derived by the MOSIS layer's own
`nexus.mosis.extract.derive_values` (population + one expression per field), as an extract
derives them, without writing a file: fields the cycle does not collect are blank and the
tenant's field defaults stand where a derivation gives nothing, so validation checks exactly
what the file would hold (a default set to clear an exception clears it). Opening the
DuckDB and copying store queries into it is `nexus.store.work_area`'s. It does not own the
rules (`catalog.py`) nor what is done with what they find (`exceptions.py`).
"""

from __future__ import annotations

import sqlalchemy as sa

from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.defaults import field_defaults
from nexus.mosis.derivations import ExtractContext
from nexus.mosis.extract import DerivedField, derive_values
from nexus.store import (
    Store,
    canonical_tables,  # noqa: F401  (registers the canonical tables)
)
from nexus.store.tables import metadata
from nexus.store.work_area import DuckDBWorkArea, lit

__all__ = ["KEEP", "WorkArea", "lit"]
# Lineage columns a rule never needs: not loaded.
_SKIP = {"row_hash", "ingestion_run_id"}
# Work-area tables shared by every layout and rule (see derive()).
KEEP = {"sis_scope", "person_sis", "core_people"}


def _duck_type(column: sa.Column) -> str:
    t = column.type
    if isinstance(t, sa.Boolean):
        return "BOOLEAN"
    if isinstance(t, sa.Integer):
        return "BIGINT"
    if isinstance(t, sa.Date) and not isinstance(t, sa.DateTime):
        return "DATE"
    if isinstance(t, sa.DateTime):
        return "TIMESTAMPTZ"
    if isinstance(t, sa.Float):
        return "DOUBLE"
    if isinstance(t, sa.Numeric):
        return "DECIMAL(12, 4)"
    return "VARCHAR"


class WorkArea(DuckDBWorkArea):
    """One tenant's data in a private DuckDB; close() when done."""

    def __init__(self, store: Store, tenant_id: int) -> None:
        super().__init__(store, int(tenant_id), prefix="nexus-validate-")
        self.loaded: set[str] = set()

    def load_table(self, qualified: str) -> None:
        """A canonical table of this tenant under its own name (`education.enrollments`)."""
        if qualified in self.loaded:
            return
        table = metadata.tables.get(qualified)
        if table is None:
            raise KeyError(f"no table {qualified}")
        schema = table.schema
        self.db.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}").fetchall()
        columns = [c for c in table.columns if c.name not in _SKIP]
        select = ", ".join(f'"{c.name}"' for c in columns)
        self.load_sql(
            qualified,
            f"SELECT {select} FROM {qualified} WHERE tenant_id = {self.tenant_id}",
            {c.name: _duck_type(c) for c in columns},
        )
        self.loaded.add(qualified)

    def load_source(self, name: str, kinds: list[str], entity: str) -> None:
        """Current source records of `entity` from sources of `kinds`, as
        (source_record_id, source_system, source_entity, natural_key, payload)."""
        kind_list = ", ".join(lit(k) for k in kinds)
        self.load_sql(
            name,
            "SELECT r.record_id AS source_record_id, s.kind AS source_system, "
            "e.name AS source_entity, r.natural_key, r.payload "
            "FROM integration.source_records r "
            "JOIN integration.source_entities e ON e.tenant_id = r.tenant_id "
            "AND e.entity_id = r.entity_id "
            "JOIN integration.source_systems s ON s.tenant_id = e.tenant_id "
            "AND s.source_system_id = e.source_system_id "
            f"WHERE r.tenant_id = {self.tenant_id} AND r.valid_to_run IS NULL "
            f"AND s.kind IN ({kind_list}) AND e.name = {lit(entity)}",
            {"source_record_id": "BIGINT"},
        )

    def derive(
        self, layout: mosis_layouts.Layout, ctx: ExtractContext
    ) -> tuple[str, list[DerivedField]]:
        """Build `pop` and `vals` (row_no, subject_key, school_code, person_id, f<order>...) for
        `layout` with the MOSIS layer's `derive_values`; returns (subject type,
        [(field, column, derivation name, rule, source)])."""
        # Each population names its relations freely (as in an extract's own work area): clear
        # what the previous layout left in `main`, keeping this module's shared tables.
        for name, kind in self.db.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = 'main'"
        ).fetchall():
            if name in KEEP:
                continue
            self.db.execute(
                f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} IF EXISTS main."{name}"'
            ).fetchall()
        with self.store.engine.connect() as conn:
            defaults = field_defaults(conn, self.tenant_id, ctx.school_year, layout.name)
        return derive_values(self.db, layout, ctx, self.load_sql, defaults=defaults)
