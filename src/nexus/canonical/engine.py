"""`nexus map`: one ingestion run's snapshot into the canonical model, staged, checked, promoted.

For each entity map of the source kind's mapping, in order:
1. stage: the entity's snapshot at the run (every record version current at that run) goes into
   a private in-memory DuckDB work area, with the crosswalks and the referenced canonical keys;
2. check: the compiled rules run set-based; a record that fails any (missing key, missing
   required value, unknown code, bad value, broken reference) stays out of canonical and becomes
   a mapping error (entity, record key, field, rule, value);
3. promote: the good rows are diffed against the target's current rows of the same scope by
   (source_key, row_hash); only new and changed rows are written and only rows this source no
   longer delivers are removed, in one transaction per entity batch. A record in error never
   removes or overwrites the canonical row an earlier good version made.

Because every map reads the run's full snapshot, mapping a run twice changes nothing, and a
replay of an older run (`replay=True`) rebuilds canonical as that run saw it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from nexus.canonical import catalog
from nexus.canonical.compile import Check, Compiler, sql_literal
from nexus.canonical.errors import MappingError
from nexus.canonical.spec import EntityMap, MappingSpec, Ref, load_spec
from nexus.canonical.targets import TARGETS, Target
from nexus.identity import people as identity_people
from nexus.store import Store, locks
from nexus.store.bulk import bulk_load, bulk_read
from nexus.store.canonical_tables import mapping_errors, mapping_runs, person_identifiers
from nexus.store.engine import current_user
from nexus.store.locks import tenant_lock
from nexus.store.tables import ingestion_runs, source_entities, source_systems
from nexus.store.tenants import find_tenant

WORK_MEMORY_LIMIT = os.environ.get("NEXUS_WORK_MEMORY", "1GB")
MAPPABLE = ("succeeded", "partial")


@dataclass
class MapResult:
    map_run_id: int | None
    ingestion_run_id: int
    source_kind: str
    status: str
    reason: str | None = None
    targets: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    identity: dict[str, int] = field(default_factory=dict)
    match_rates: dict | None = None

    @property
    def exit_code(self) -> int:
        """0 succeeded, 3 partial (some records became mapping errors), 1 failed."""
        return {"succeeded": 0, "partial": 3}.get(self.status, 1)

    def as_dict(self, error_limit: int = 1000) -> dict:
        return {
            "map_run_id": self.map_run_id,
            "ingestion_run_id": self.ingestion_run_id,
            "source_kind": self.source_kind,
            "status": self.status,
            "reason": self.reason,
            "targets": self.targets,
            "error_count": self.error_count,
            "errors": self.errors[:error_limit],
            "identity": self.identity,
            "match_rates": self.match_rates,
        }


def _now() -> datetime:
    return datetime.now(UTC)


def choose_run(conn: sa.Connection, tenant_id: int, run_id: int | None) -> sa.Row:
    """The ingestion run to map: the one named, or the tenant's newest."""
    query = sa.select(ingestion_runs).where(ingestion_runs.c.tenant_id == tenant_id)
    if run_id is not None:
        query = query.where(ingestion_runs.c.run_id == run_id)
    row = conn.execute(query.order_by(ingestion_runs.c.run_id.desc()).limit(1)).first()
    if row is None:
        raise MappingError(f"no ingestion run {run_id}" if run_id else "the tenant has no runs")
    if row.status not in MAPPABLE:
        why = f": {row.reason}" if row.reason else ""
        raise MappingError(
            f"run {row.run_id} is {row.status}{why}; nothing of it may reach canonical"
        )
    return row


def map_run(
    store: Store,
    tenant_code: str,
    run_id: int | None = None,
    *,
    replay: bool = False,
    user: str | None = None,
    progress: Callable[[str], None] | None = None,
    spec: MappingSpec | None = None,
) -> MapResult:
    """Map one ingestion run (default: the tenant's newest) into the canonical model."""
    with store.engine.connect() as conn:
        tenant = find_tenant(conn, tenant_code)
    if tenant is None:
        raise MappingError(f"no tenant {tenant_code!r}")
    # New canonical ids are numbered from the current maximum: one map per tenant at a time.
    busy = MappingError("another map of this tenant is running; wait for it to finish")
    with tenant_lock(store, tenant.tenant_id, locks.MAP, busy):
        return _map_locked(store, tenant.tenant_id, run_id, replay, user, progress, spec)


def _map_locked(
    store: Store,
    tenant_id: int,
    run_id: int | None,
    replay: bool,
    user: str | None,
    progress: Callable[[str], None] | None,
    spec: MappingSpec | None,
) -> MapResult:
    say = progress or (lambda message: None)
    with store.engine.begin() as conn:
        # Holding the tenant's map lock, any map still "running" died with its process.
        conn.execute(
            mapping_runs.update()
            .where(mapping_runs.c.tenant_id == tenant_id, mapping_runs.c.status == "running")
            .values(status="failed", reason="abandoned: its process ended", ended_at=_now())
        )
        run = choose_run(conn, tenant_id, run_id)
        spec = spec or load_spec(run.kind)
        _refuse_out_of_order(conn, tenant_id, run, replay)
        catalog.register(conn, tenant_id, spec)
        map_run_id = conn.execute(
            mapping_runs.insert()
            .values(
                tenant_id=tenant_id,
                ingestion_run_id=run.run_id,
                source_system_id=run.source_system_id,
                source_kind=run.kind,
                mapping_version=spec.version,
                replay=replay,
                started_by=user or current_user(),
                started_at=_now(),
                status="running",
            )
            .returning(mapping_runs.c.map_run_id)
        ).scalar_one()
    result = MapResult(map_run_id, run.run_id, run.kind, "running")
    mapper = _Mapper(store, tenant_id, run, spec, map_run_id, result, say)
    try:
        mapper.run()
    except MappingError as exc:
        result.status, result.reason = "failed", str(exc)
    except (sa.exc.SQLAlchemyError, duckdb.Error) as exc:
        result.status = "failed"
        result.reason = f"database error: {str(exc).splitlines()[0]}"
    finally:
        mapper.close()
    if result.status == "running":
        result.status = "partial" if result.error_count else "succeeded"
    with store.engine.begin() as conn:
        conn.execute(
            mapping_runs.update()
            .where(
                mapping_runs.c.tenant_id == tenant_id,
                mapping_runs.c.map_run_id == map_run_id,
            )
            .values(
                status=result.status,
                reason=result.reason,
                ended_at=_now(),
                counts={"targets": result.targets, "identity": result.identity},
            )
        )
    return result


def reconcile(store: Store, tenant_code: str, run_id: int | None = None) -> MapResult:
    """Compare a run's source records (as the mapping reads them now) with canonical.

    Nothing is written. Per entity map: source rows, canonical rows, keys only on one side,
    and the differing fields; `errors` lists the differences (key, field, both values).
    """
    with store.engine.connect() as conn:
        tenant = find_tenant(conn, tenant_code)
        if tenant is None:
            raise MappingError(f"no tenant {tenant_code!r}")
        run = choose_run(conn, tenant.tenant_id, run_id)
    spec = load_spec(run.kind)
    result = MapResult(None, run.run_id, run.kind, "running")
    mapper = _Mapper(store, tenant.tenant_id, run, spec, 0, result, lambda m: None, compare=True)
    try:
        mapper.run()
    finally:
        mapper.close()
    result.status = "differs" if result.error_count else "matches"
    return result


def _refuse_out_of_order(conn: sa.Connection, tenant_id: int, run: sa.Row, replay: bool) -> None:
    newer = conn.execute(
        sa.select(sa.func.max(mapping_runs.c.ingestion_run_id)).where(
            mapping_runs.c.tenant_id == tenant_id,
            mapping_runs.c.source_system_id == run.source_system_id,
            mapping_runs.c.status.in_(MAPPABLE),
        )
    ).scalar()
    if newer is not None and newer > run.run_id and not replay:
        raise MappingError(
            f"run {newer} of this source is already mapped; mapping the older run "
            f"{run.run_id} would roll canonical back: pass --replay to rebuild from it"
        )


class _Mapper:
    def __init__(
        self,
        store: Store,
        tenant_id: int,
        run: sa.Row,
        spec: MappingSpec,
        map_run_id: int,
        result: MapResult,
        say: Callable[[str], None],
        compare: bool = False,
    ) -> None:
        self.compare = compare
        self.store, self.tenant_id, self.ingestion, self.spec = store, tenant_id, run, spec
        self.map_run_id, self.result, self.say = map_run_id, result, say
        self._tmp = tempfile.TemporaryDirectory(prefix="nexus-map-")
        self.db = duckdb.connect()
        self._exec(f"SET memory_limit = '{WORK_MEMORY_LIMIT}'")
        # Spill beyond the limit into the map's own temporary folder, not the working directory.
        self._exec(f"SET temp_directory = {sql_literal(self._tmp.name)}")
        self._exec("SET preserve_insertion_order = false")
        self.error_no = 0
        self.staged: dict[str, str] = {}

    def close(self) -> None:
        self.db.close()
        self._tmp.cleanup()

    def _scalar(self, sql: str) -> int:
        return int(self.db.execute(sql).fetchall()[0][0])

    def _exec(self, sql: str) -> None:
        # Drain the result: DuckDB refuses new work on a connection with an unfinished one.
        self.db.execute(sql).fetchall()

    # --- orchestration -------------------------------------------------------------------------

    def run(self) -> None:
        with self.store.engine.connect() as conn:
            entity_ids = self._entity_ids(conn)
            crosswalks = catalog.crosswalks(conn, self.tenant_id)
        self.db.register("cw_in", crosswalks)
        self._exec("CREATE TABLE nexus_crosswalks AS SELECT * FROM cw_in")
        self.db.unregister("cw_in")
        for entity_map in self.spec.maps:
            present = {e: entity_ids[e] for e in entity_map.source_entities if e in entity_ids}
            if not present:
                self.result.targets[entity_map.label] = {"absent": 1}
                continue
            self.say(f"mapping {entity_map.label}")
            self._map_one(entity_map, present)
            if entity_map.target == "identities" and not self.compare:
                self._link_people()

    def _entity_ids(self, conn: sa.Connection) -> dict[str, int]:
        rows = conn.execute(
            sa.select(source_entities.c.name, source_entities.c.entity_id).where(
                source_entities.c.tenant_id == self.tenant_id,
                source_entities.c.source_system_id == self.ingestion.source_system_id,
            )
        )
        return {name: entity_id for name, entity_id in rows}

    def _stage(self, entity: str, entity_id: int) -> str:
        """The entity's snapshot at the run, staged once per entity in the work area."""
        if entity in self.staged:
            return self.staged[entity]
        with self.store.engine.connect() as conn:
            snapshot = bulk_read(
                conn,
                "SELECT record_id, natural_key, payload FROM integration.source_records "
                f"WHERE tenant_id = {int(self.tenant_id)} AND entity_id = {int(entity_id)} "
                f"AND valid_from_run <= {int(self.ingestion.run_id)} AND (valid_to_run IS NULL "
                f"OR valid_to_run > {int(self.ingestion.run_id)})",
            )
        name = f"src_{len(self.staged)}"
        self.db.register("snap_in", snapshot)
        self._exec(
            f"CREATE TABLE {name} AS SELECT CAST(record_id AS BIGINT) AS record_id, "
            f"natural_key, payload, {sql_literal(entity)} AS entity_name FROM snap_in"
        )
        self.db.unregister("snap_in")
        del snapshot
        self.staged[entity] = name
        return name

    # --- one entity map ----------------------------------------------------------------------

    def _map_one(self, entity_map: EntityMap, entity_ids: dict[str, int]) -> None:
        target = TARGETS[entity_map.target]
        staged = [self._stage(entity, entity_id) for entity, entity_id in entity_ids.items()]
        src = staged[0]
        if len(staged) > 1:
            src = "src_union"
            self._exec(
                "CREATE OR REPLACE VIEW src_union AS "
                + " UNION ALL ".join(f"SELECT * FROM {t}" for t in staged)
            )
        compiler = Compiler(self.spec.date_format)
        key_parts: list[str] = []
        checks: list[tuple[str, Check]] = []
        for i, rule in enumerate(entity_map.key):
            expr, rule_checks = compiler.compile(rule, f"key{i}")
            # Trimmed, as `ref()` trims the keys it looks up.
            key_parts.append(f"nullif(trim(CAST({expr} AS VARCHAR)), '')")
            checks.extend(("(key)", c) for c in rule_checks)
        values: dict[str, str] = {}
        for column, rule in entity_map.fields.items():
            expr, rule_checks = compiler.compile(rule, column)
            values[column] = expr
            checks.extend((column, c) for c in rule_checks)
        when = compiler.compile(entity_map.when, "when")[0] if entity_map.when else None
        id_exprs = []
        for ident in entity_map.identifiers:
            expr, _ = compiler.compile(ident.value, ident.type)
            id_exprs.append((ident, expr))
        self._load_refs(compiler.refs, entity_map)

        key_sql = (
            f"CASE WHEN {' OR '.join(p + ' IS NULL' for p in key_parts)} THEN NULL "
            f"ELSE concat_ws('|', {', '.join(key_parts)}) END"
        )
        if entity_map.key_suffix:
            key_sql = f"({key_sql}) || {sql_literal('#' + entity_map.key_suffix)}"
        # Source fields come from the JSON payload; the pseudo-field `_entity` is the entity.
        fields = [f for f in compiler.columns if f != "_entity"]
        paths = ", ".join(sql_literal(f'$."{f}"') for f in fields)
        extract = f"json_extract_string(payload, [{paths}]) AS v" if fields else "NULL AS v"
        raw_cols = "".join(
            f", entity_name AS {column}"
            if name == "_entity"
            else f", v[{fields.index(name) + 1}] AS {column}"
            for name, column in compiler.columns.items()
        )
        self._exec(
            f"CREATE OR REPLACE TABLE raw AS SELECT record_id, natural_key, entity_name{raw_cols} "
            f"FROM (SELECT record_id, natural_key, entity_name, {extract} FROM {src})"
            + (f" WHERE coalesce({when}, false)" if when else "")
        )
        select_values = ", ".join(f"{expr} AS {_q(col)}" for col, expr in values.items())
        self._exec(
            "CREATE OR REPLACE TABLE mapped AS SELECT record_id, natural_key, entity_name, "
            f"{key_sql} AS source_key"
            + (f", {select_values}" if select_values else "")
            + " FROM raw"
        )
        # Errors: a missing key and each rule's own checks; then a missing required value where
        # no rule already said why it is missing (a broken reference is not also "missing").
        error_selects = [
            "SELECT record_id, natural_key, entity_name, NULL AS field, 'missing_key' AS rule, "
            "NULL AS value, 'the record has no key for this target' AS message "
            "FROM mapped WHERE source_key IS NULL"
        ]
        for column, check in checks:
            error_selects.append(
                f"SELECT record_id, natural_key, entity_name, {sql_literal(column)}, "
                f"{sql_literal(check.rule)}, {check.value}, {sql_literal(check.message)} "
                f"FROM raw WHERE {check.condition}"
            )
        self._exec("CREATE OR REPLACE TABLE errs AS " + " UNION ALL ".join(error_selects))
        for column in entity_map.required:
            self._exec(
                "INSERT INTO errs SELECT record_id, natural_key, entity_name, "
                f"{sql_literal(column)}, "
                f"'missing_required', NULL, {sql_literal(column + ' is required')} FROM mapped "
                f"WHERE {_q(column)} IS NULL AND record_id NOT IN (SELECT record_id FROM errs "
                f"WHERE field = {sql_literal(column)})"
            )
        # A key delivered twice (two source records, one canonical row) is an error on both,
        # unless the map says many records describe one row (the first by record id wins).
        if entity_map.distinct:
            self._exec(
                "CREATE OR REPLACE TABLE mapped AS SELECT * FROM mapped QUALIFY source_key IS NULL "
                "OR row_number() OVER (PARTITION BY source_key ORDER BY record_id) = 1"
            )
        self._exec(
            "INSERT INTO errs SELECT record_id, natural_key, entity_name, NULL, 'duplicate_key', "
            "source_key, "
            "'two source records map to this canonical row' FROM mapped WHERE source_key IN "
            "(SELECT source_key FROM mapped WHERE source_key IS NOT NULL "
            "GROUP BY source_key HAVING count(*) > 1)"
        )
        columns = list(values)
        self._exec(
            "CREATE OR REPLACE TABLE good AS SELECT m.* FROM mapped m "
            "WHERE record_id NOT IN (SELECT record_id FROM errs)"
        )
        if self.compare:
            counts = self._compare(entity_map, target, columns)
            counts["mapping_errors"] = self._scalar("SELECT count(DISTINCT record_id) FROM errs")
        else:
            counts = self._promote(entity_map, target, columns, id_exprs)
            counts["errors"] = self._record_errors(entity_map)
        self.result.targets[entity_map.label] = counts

    def _load_refs(self, refs: dict[Ref, str], entity_map: EntityMap) -> None:
        scope = sql_literal(self.spec.key_scope)
        with self.store.engine.connect() as conn:
            for ref, table in refs.items():
                target = TARGETS[ref.target]
                if ref.person_kind:
                    column = "person_id"
                    extra = (
                        f" AND person_kind = {sql_literal(ref.person_kind)} "
                        "AND person_id IS NOT NULL"
                    )
                else:
                    column = ref.column or target.id_column
                    extra = ""
                    if column is None or column not in target.table.c:
                        raise MappingError(
                            f"{entity_map.label}: {ref.target} has no column {column!r} to refer to"
                        )
                data = bulk_read(
                    conn,
                    f"SELECT source_key, CAST({column} AS VARCHAR) AS value "
                    f"FROM {target.qualified} WHERE tenant_id = {int(self.tenant_id)} "
                    f"AND key_scope = {scope}{extra}",
                )
                self.db.register("ref_in", data)
                self._exec(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM ref_in")
                self.db.unregister("ref_in")

    # --- compare (reconcile) -----------------------------------------------------------------

    def _compare(self, entity_map: EntityMap, target: Target, columns: list[str]) -> dict:
        """What the run's source says (mapped now) against the canonical rows of its keys."""

        def as_text(column: str) -> str:
            kind = target.table.c[column].type
            if isinstance(kind, sa.Boolean):
                return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
            if isinstance(kind, sa.Date):
                return f"CAST({column} AS VARCHAR(10))"
            return f"CAST({column} AS VARCHAR(400))"

        select = ", ".join(f"{as_text(c)} AS {_q(c)}" for c in columns)
        with self.store.engine.connect() as conn:
            canonical = bulk_read(
                conn,
                f"SELECT source_key{', ' + select if select else ''} FROM {target.qualified} "
                f"WHERE {self._existing_filter(entity_map)}",
            )
        self.db.register("canon_in", canonical)
        self._exec("CREATE OR REPLACE TABLE canon AS SELECT * FROM canon_in")
        self.db.unregister("canon_in")
        pairs = [
            f"SELECT g.source_key, {sql_literal(c)} AS field, "
            f"CAST(g.{_q(c)} AS VARCHAR) AS source_value, k.{_q(c)} AS canonical_value "
            f"FROM good g JOIN canon k USING (source_key) "
            f"WHERE CAST(g.{_q(c)} AS VARCHAR) IS DISTINCT FROM k.{_q(c)}"
            for c in columns
        ]
        if pairs:
            self._exec("CREATE OR REPLACE TABLE diffs AS " + " UNION ALL ".join(pairs))
        else:
            self._exec(
                "CREATE OR REPLACE TABLE diffs AS SELECT NULL::VARCHAR AS source_key, "
                "NULL::VARCHAR AS field, NULL::VARCHAR AS source_value, "
                "NULL::VARCHAR AS canonical_value WHERE false"
            )
        by_field = dict(
            self.db.execute(
                "SELECT field, count(*) FROM diffs GROUP BY field ORDER BY field"
            ).fetchall()
        )
        room = max(0, 1000 - len(self.result.errors))
        for row in self.db.execute(
            f"SELECT * FROM diffs ORDER BY source_key, field LIMIT {room}"
        ).fetchall():
            self.result.errors.append(
                dict(
                    zip(
                        ("source_key", "field", "source_value", "canonical_value"), row, strict=True
                    )
                )
                | {"target": entity_map.target, "entity": entity_map.entity}
            )
        self.result.error_count += sum(by_field.values())
        return {
            "source_rows": self._scalar("SELECT count(*) FROM mapped"),
            "canonical_rows": self._scalar("SELECT count(*) FROM canon"),
            "missing_in_canonical": self._scalar(
                "SELECT count(*) FROM good WHERE source_key NOT IN (SELECT source_key FROM canon)"
            ),
            "extra_in_canonical": self._scalar(
                "SELECT count(*) FROM canon WHERE source_key NOT IN "
                "(SELECT source_key FROM mapped WHERE source_key IS NOT NULL)"
            ),
            "fields_differing": by_field,
        }

    # --- promote -----------------------------------------------------------------------------

    def _existing_filter(self, entity_map: EntityMap) -> str:
        scope = sql_literal(self.spec.key_scope)
        where = f"tenant_id = {int(self.tenant_id)} AND key_scope = {scope}"
        if entity_map.key_suffix:
            where += f" AND source_key LIKE {sql_literal('%#' + entity_map.key_suffix)}"
        else:
            where += " AND source_key NOT LIKE '%#%'"
        if entity_map.target == "identities":
            where += f" AND person_kind = {sql_literal(entity_map.person_kind or '')}"
        return where

    def _promote(
        self, entity_map: EntityMap, target: Target, columns: list[str], id_exprs: list
    ) -> dict[str, int]:
        keep = [c for c in (target.id_column, *target.preserved) if c]
        # Columns this map does not speak about keep the values another source of the scope
        # gave (Campus SQL's count date when the extract is mapped after it).
        hashed = [c for c in target.mapped_columns if c != "person_kind"]
        carried = [c for c in hashed if c not in columns]
        where = self._existing_filter(entity_map)
        with self.store.engine.connect() as conn:
            existing = bulk_read(
                conn,
                "SELECT source_key, row_hash, CAST(source_system_id AS BIGINT) AS system_id"
                + "".join(f", {c}" for c in keep)
                + "".join(f", CAST({c} AS VARCHAR(400)) AS {_q('was_' + c)}" for c in carried)
                + f" FROM {target.qualified} WHERE {where}",
            )
            max_id = 0
            if target.id_column:
                max_id = conn.execute(
                    sa.text(
                        f"SELECT coalesce(max({target.id_column}), 0) FROM {target.qualified} "
                        "WHERE tenant_id = :t"
                    ),
                    {"t": self.tenant_id},
                ).scalar_one()
        self.db.register("existing_in", existing)
        self._exec("CREATE OR REPLACE TABLE existing AS SELECT * FROM existing_in")
        self.db.unregister("existing_in")
        carry = "".join(
            f", CAST(e.{_q('was_' + c)} AS {_duck_type(target.table.c[c])}) AS {_q(c)}"
            for c in carried
        )
        # The hash covers every mapped column of the row, typed alike whichever source wrote
        # it: a row two sources of one scope agree on stays put, its lineage with the version
        # that first gave those values.
        hash_input = (
            ", ".join(f"CAST({_q(c)} AS {_duck_type(target.table.c[c])})" for c in hashed)
            or "source_key"
        )
        self._exec(
            f"CREATE OR REPLACE TABLE good AS SELECT * , md5(CAST(ROW({hash_input}) AS VARCHAR)) "
            f"AS row_hash FROM (SELECT g.*{carry} FROM good g LEFT JOIN existing e "
            "USING (source_key))"
        )
        system = int(self.ingestion.source_system_id)
        # Keys to remove: rows this source no longer delivers (unless in error this time).
        self._exec(
            "CREATE OR REPLACE TABLE gone AS SELECT e.source_key FROM existing e "
            f"WHERE CAST(e.system_id AS BIGINT) = {system} "
            "AND e.source_key NOT IN (SELECT source_key FROM good) "
            "AND e.source_key NOT IN (SELECT source_key FROM mapped m JOIN errs USING (record_id)"
            " WHERE m.source_key IS NOT NULL)"
        )
        kept = "".join(f", e.{c} AS {c}" for c in keep)
        self._exec(
            "CREATE OR REPLACE TABLE changes AS SELECT g.*, e.source_key IS NULL AS is_new"
            f"{kept} FROM good g LEFT JOIN existing e USING (source_key) "
            "WHERE e.source_key IS NULL OR e.row_hash <> g.row_hash"
        )
        new = self._scalar("SELECT count(*) FROM changes WHERE is_new")
        changed = self._scalar("SELECT count(*) FROM changes WHERE NOT is_new")
        deleted = self._scalar("SELECT count(*) FROM gone")
        total = self._scalar("SELECT count(*) FROM good")
        defaults: dict[str, str] = {}
        if target.id_column:
            defaults[target.id_column] = (
                f"coalesce(CAST({target.id_column} AS BIGINT), {int(max_id)} + "
                "row_number() OVER (PARTITION BY is_new ORDER BY source_key))"
            )
        if target.name == "identities":
            defaults.update(
                person_kind=sql_literal(entity_map.person_kind or ""),
                link_status="coalesce(link_status, 'unmatched')",
                person_id="CAST(person_id AS BIGINT)",
                match_probability="CAST(match_probability AS DOUBLE)",
                match_weight="CAST(match_weight AS DOUBLE)",
            )
        select = [
            f"{int(self.tenant_id)} AS tenant_id",
            *(f"{expr} AS {col}" for col, expr in defaults.items()),
            *(f"{_q(c)} AS {_q(c)}" for c in [*columns, *carried] if c not in defaults),
            *(f"{c} AS {c}" for c in keep if c not in defaults),
            f"{sql_literal(self.spec.key_scope)} AS key_scope",
            "source_key",
            f"{system} AS source_system_id",
            "record_id AS source_record_id",
            f"{int(self.ingestion.run_id)} AS ingestion_run_id",
            "row_hash",
        ]
        rows = self.db.sql(f"SELECT {', '.join(select)} FROM changes").to_arrow_table()
        rows = _cast_to(rows, target.table)
        removed = self.db.sql(
            "SELECT source_key FROM changes WHERE NOT is_new UNION ALL SELECT source_key FROM gone"
        ).to_arrow_table()
        with self.store.engine.begin() as conn:
            if removed.num_rows:
                _delete_keys(conn, target, where, removed)
            if rows.num_rows:
                bulk_load(conn, target.table, rows)
            if id_exprs:
                self._identifiers(conn, entity_map, id_exprs)
            if target.name == "calendars":
                _refresh_school_years(conn, self.tenant_id)
        return {
            "rows": int(total),
            "inserted": int(new),
            "updated": int(changed),
            "deleted": int(deleted),
            "unchanged": int(total - new - changed),
        }

    def _identifiers(self, conn: sa.Connection, entity_map: EntityMap, id_exprs: list) -> None:
        """Typed person identifiers: new ones open at this run, vanished ones close at it."""
        selects = [
            f"SELECT m.source_key, {sql_literal(i.type)} AS identifier_type, "
            f"{sql_literal(i.authority)} AS authority, CAST({expr} AS VARCHAR) AS value "
            "FROM raw JOIN good m USING (record_id)"
            for i, expr in id_exprs
        ]
        self._exec(
            "CREATE OR REPLACE TABLE idents AS SELECT DISTINCT * FROM ("
            + " UNION ALL ".join(selects)
            + ") WHERE value IS NOT NULL"
        )
        kind = sql_literal(entity_map.person_kind or "")
        scope = sql_literal(self.spec.key_scope)
        system = int(self.ingestion.source_system_id)
        current = bulk_read(
            conn,
            "SELECT source_key, identifier_type, authority, value FROM census.person_identifiers "
            f"WHERE tenant_id = {int(self.tenant_id)} AND key_scope = {scope} "
            f"AND person_kind = {kind} AND source_system_id = {system} AND valid_to_run IS NULL",
        )
        self.db.register("cur_in", current)
        self._exec("CREATE OR REPLACE TABLE cur_ids AS SELECT * FROM cur_in")
        self.db.unregister("cur_in")
        cols = "source_key, identifier_type, authority, value"
        opened = self.db.sql(
            f"SELECT {int(self.tenant_id)} AS tenant_id, {scope} AS key_scope, {kind} AS "
            f"person_kind, {cols}, {system} AS source_system_id, "
            f"{int(self.ingestion.run_id)} AS valid_from_run "
            f"FROM (SELECT {cols} FROM idents EXCEPT SELECT {cols} FROM cur_ids)"
        ).to_arrow_table()
        # Closed: identifiers of keys mapped well this time that no longer carry them, and
        # every identifier of a key that is gone.
        closed = self.db.sql(
            f"SELECT {cols} FROM cur_ids WHERE source_key IN (SELECT source_key FROM good) "
            f"OR source_key IN (SELECT source_key FROM gone) "
            f"EXCEPT SELECT {cols} FROM idents"
        ).to_arrow_table()
        if closed.num_rows:
            _close_identifiers(
                conn,
                self.tenant_id,
                self.spec.key_scope,
                system,
                closed,
                int(self.ingestion.run_id),
            )
        if opened.num_rows:
            bulk_load(conn, person_identifiers, opened)

    def _link_people(self) -> None:
        self.say("linking people")
        with self.store.engine.begin() as conn:
            outcome = identity_people.link_people(
                conn,
                self.tenant_id,
                int(self.ingestion.run_id),
                analyze=self.store.backend.analyze_after_load,
            )
            rates = identity_people.match_rates(conn, self.tenant_id, self.spec.key_scope)
        for k, v in outcome.items():
            self.result.identity[k] = self.result.identity.get(k, 0) + v
        self.result.match_rates = rates
        if not rates["creates_people"] and rates["people"] and rates["rate"] < rates["required"]:
            shown = ", ".join(f"{pair} {rate:.0%}" for pair, rate in rates["pairs"].items())
            raise MappingError(
                f"match rate {rates['rate']:.1%} of {rates['people']} people is below the "
                f"required {rates['required']:.0%} ({shown}): the file's facts stay out of "
                "canonical; its people are kept, see `nexus identity unmatched`"
            )

    def _record_errors(self, entity_map: EntityMap) -> int:
        errs = self.db.sql(
            "SELECT record_id, natural_key, entity_name, field, rule, value, message FROM errs "
            "ORDER BY record_id, field NULLS FIRST, rule"
        ).to_arrow_table()
        if not errs.num_rows:
            return 0
        n = errs.num_rows
        numbered = pa.table(
            {
                "tenant_id": pa.array([self.tenant_id] * n, pa.int64()),
                "map_run_id": pa.array([self.map_run_id] * n, pa.int64()),
                "error_no": pa.array(range(self.error_no + 1, self.error_no + n + 1), pa.int64()),
                "source_entity": errs.column("entity_name").cast(pa.string()),
                "target": pa.array([entity_map.target] * n, pa.string()),
                "source_record_id": errs.column("record_id").cast(pa.int64()),
                "natural_key": errs.column("natural_key"),
                "field": errs.column("field").cast(pa.string()),
                "rule": errs.column("rule").cast(pa.string()),
                "value": errs.column("value").cast(pa.string()),
                "message": errs.column("message").cast(pa.string()),
            }
        )
        self.error_no += n
        with self.store.engine.begin() as conn:
            bulk_load(conn, mapping_errors, numbered)
        self.result.error_count += n
        if len(self.result.errors) < 1000:
            self.result.errors.extend(
                {"target": entity_map.target, **row}
                for row in numbered.slice(0, 1000 - len(self.result.errors))
                .select(
                    [
                        "source_entity",
                        "error_no",
                        "natural_key",
                        "field",
                        "rule",
                        "value",
                        "message",
                    ]
                )
                .rename_columns(
                    ["entity", "error_no", "natural_key", "field", "rule", "value", "message"]
                )
                .to_pylist()
            )
        return n


def _refresh_school_years(conn: sa.Connection, tenant_id: int) -> None:
    """education.school_years from the calendars: 2026-27 is end year 2027, first to last day."""
    conn.execute(
        sa.text("DELETE FROM education.school_years WHERE tenant_id = :t"), {"t": tenant_id}
    )
    conn.execute(
        sa.text(
            "INSERT INTO education.school_years (tenant_id, end_year, label, start_date, "
            "end_date) SELECT tenant_id, school_year, CAST(school_year - 1 AS VARCHAR(4)) || '-' "
            "|| right(CAST(school_year AS VARCHAR(4)), 2), min(start_date), max(end_date) "
            "FROM education.calendars WHERE tenant_id = :t AND school_year IS NOT NULL "
            "GROUP BY tenant_id, school_year"
        ),
        {"t": tenant_id},
    )


def _duck_type(column: sa.Column) -> str:
    """The work area's type for a canonical column (how values are typed before hashing)."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return "BOOLEAN"
    if isinstance(kind, sa.Date):
        return "DATE"
    if isinstance(kind, sa.Float):
        return "DOUBLE"
    if isinstance(kind, sa.Numeric):
        return "DECIMAL(18, 4)"
    if isinstance(kind, sa.Integer):
        return "BIGINT"
    return "VARCHAR"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_ARROW = {
    sa.BigInteger: pa.int64(),
    sa.Integer: pa.int32(),
    sa.Date: pa.date32(),
    sa.Boolean: pa.bool_(),
    sa.Float: pa.float64(),
}


def _cast_to(rows: pa.Table, table: sa.Table) -> pa.Table:
    """The work area's result in the target's column types (decimals as text for COPY)."""
    arrays, names = [], []
    for name in rows.column_names:
        column = table.c[name]
        arrow = next((t for k, t in _ARROW.items() if isinstance(column.type, k)), pa.string())
        if isinstance(column.type, sa.Numeric) and not isinstance(column.type, sa.Float):
            arrow = pa.decimal128(18, 4)
        data = rows.column(name)
        if data.type != arrow:
            data = data.cast(arrow)
        arrays.append(data)
        names.append(name)
    return pa.table(arrays, names=names)


def _delete_keys(conn: sa.Connection, target: Target, where: str, keys: pa.Table) -> None:
    conn.execute(sa.text("DROP TABLE IF EXISTS nexus_map_keys"))
    conn.execute(sa.text("CREATE TEMPORARY TABLE nexus_map_keys (source_key TEXT NOT NULL)"))
    bulk_load(conn, _KEYS, keys)
    conn.execute(
        sa.text(
            f"DELETE FROM {target.qualified} WHERE {where} "
            "AND source_key IN (SELECT source_key FROM nexus_map_keys)"
        )
    )
    conn.execute(sa.text("DROP TABLE nexus_map_keys"))


_KEYS = sa.Table("nexus_map_keys", sa.MetaData(), sa.Column("source_key", sa.Text))
_IDS = sa.Table(
    "nexus_map_ids",
    sa.MetaData(),
    sa.Column("source_key", sa.Text),
    sa.Column("identifier_type", sa.Text),
    sa.Column("authority", sa.Text),
    sa.Column("value", sa.Text),
)


def _close_identifiers(
    conn: sa.Connection, tenant_id: int, scope: str, system: int, closed: pa.Table, run_id: int
) -> None:
    conn.execute(sa.text("DROP TABLE IF EXISTS nexus_map_ids"))
    conn.execute(
        sa.text(
            "CREATE TEMPORARY TABLE nexus_map_ids (source_key TEXT, identifier_type TEXT, "
            "authority TEXT, value TEXT)"
        )
    )
    bulk_load(conn, _IDS, closed)
    conn.execute(
        sa.text(
            "UPDATE census.person_identifiers SET valid_to_run = :r WHERE tenant_id = :t "
            "AND key_scope = :s AND source_system_id = :sys AND valid_to_run IS NULL AND "
            "EXISTS (SELECT 1 FROM nexus_map_ids k WHERE k.source_key = "
            "person_identifiers.source_key AND k.identifier_type = "
            "person_identifiers.identifier_type AND k.authority = person_identifiers.authority "
            "AND k.value = person_identifiers.value)"
        ),
        {"r": run_id, "t": tenant_id, "s": scope, "sys": system},
    )
    conn.execute(sa.text("DROP TABLE nexus_map_ids"))


def source_kind_of(conn: sa.Connection, tenant_id: int, source_system_id: int) -> str:
    return conn.execute(
        sa.select(source_systems.c.kind).where(
            source_systems.c.tenant_id == tenant_id,
            source_systems.c.source_system_id == source_system_id,
        )
    ).scalar_one()
