"""The validation work area: a private DuckDB holding one tenant's canonical tables, current
source records and each layout's derived values, so every rule is one set-based query in one
SQL dialect whatever the store (DuckDB or PostgreSQL).

Canonical tables keep their schema-qualified names (`education.enrollments`), so a rule reads
as it would against the store. A layout's values are derived with the MOSIS layer's own
registry (`nexus.mosis.derivations`: population + one expression per field), exactly as an
extract derives them, without writing a file. It does not own the rules (`catalog.py`) nor
what is done with what they find (`exceptions.py`).
"""

from __future__ import annotations

import os
import tempfile

import duckdb
import sqlalchemy as sa

from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.derivations import DERIVATIONS, POPULATIONS, CanonicalReader, ExtractContext
from nexus.store import (
    Store,
    canonical_tables,  # noqa: F401  (registers the canonical tables)
)
from nexus.store.bulk import bulk_read
from nexus.store.tables import metadata

WORK_MEMORY_LIMIT = os.environ.get("NEXUS_WORK_MEMORY", "1GB")
# Lineage columns a rule never needs: not loaded.
_SKIP = {"row_hash", "ingestion_run_id"}
# Work-area tables shared by every layout and rule (see derive()).
KEEP = {"sis_scope", "person_sis", "core_people"}


def lit(value: object) -> str:
    """A SQL literal (text) for the work area."""
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


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


class WorkArea:
    """One tenant's data in a private DuckDB; close() when done."""

    def __init__(self, store: Store, tenant_id: int) -> None:
        self.store, self.tenant_id = store, int(tenant_id)
        self._tmp = tempfile.TemporaryDirectory(prefix="nexus-validate-")
        self.db = duckdb.connect()
        self.db.execute(f"SET memory_limit = '{WORK_MEMORY_LIMIT}'").fetchall()
        self.db.execute(f"SET temp_directory = {lit(self._tmp.name)}").fetchall()
        self.loaded: set[str] = set()

    def close(self) -> None:
        self.db.close()
        self._tmp.cleanup()

    def load_sql(self, name: str, sql: str, types: dict[str, str]) -> None:
        """Keep the result of `sql` (run against the store) as `name` in the work area."""
        with self.store.engine.connect() as conn:
            data = bulk_read(conn, sql)
        self.db.register("load_in", data)
        columns = ", ".join(
            f'CAST("{c}" AS {types[c]}) AS "{c}"' if c in types else f'"{c}"'
            for c in data.column_names
        )
        self.db.execute(
            f"CREATE OR REPLACE TABLE {name} AS SELECT {columns} FROM load_in"
        ).fetchall()
        self.db.unregister("load_in")

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

    def derive(self, layout: mosis_layouts.Layout, ctx: ExtractContext) -> tuple[str, list]:
        """Build `pop` and `vals` (row_no, subject_key, school_code, person_id, f<order>...) for
        `layout`; returns (subject type, [(field, column, derivation name, rule, source)])."""

        def load(name: str, sql: str, types: dict[str, str]) -> None:
            self.load_sql(name, sql, types)

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

        subject_type, subject_key, order_by = POPULATIONS[layout.name](
            self.db, ctx, CanonicalReader(load)
        )
        constants = {
            "$collection_version": lit(ctx.collection_version),
            "$school_year": lit(ctx.school_year),
            "$district_code": lit(ctx.district_code),
        }
        pop_columns = {r[0] for r in self.db.execute("DESCRIBE pop").fetchall()}
        school = "CAST(school_code AS VARCHAR)" if "school_code" in pop_columns else "NULL"
        person = "CAST(person_id AS BIGINT)" if "person_id" in pop_columns else "NULL::BIGINT"
        selects, fields = [], []
        for f in layout.fields:
            d = DERIVATIONS.get(f.derivation or "")
            if d is None:
                expr, name, rule, source = "NULL", None, "no derivation yet: left blank", "-"
            else:
                expr, name, rule, source = d.sql, d.name, d.rule, d.source
                for key, literal in constants.items():
                    expr = expr.replace(key, literal)
            column = f"f{f.field_order}"
            selects.append(f"CAST(({expr}) AS VARCHAR) AS {column}")
            fields.append((f, column, name, rule, source))
        self.db.execute(
            f"CREATE OR REPLACE TABLE vals AS SELECT row_number() OVER (ORDER BY {order_by}) "
            f"AS row_no, CAST({subject_key} AS VARCHAR) AS subject_key, {school} AS school_code, "
            f"{person} AS person_id, {', '.join(selects)} FROM pop"
        ).fetchall()
        return subject_type, fields
