"""MOSIS extract runs: one layout, school year, cycle (and school) from canonical data to a file.

An extract run:
1. takes the layout (data: `nexus.mosis.layouts`) and the cycle's count date and window;
2. builds the layout's population and every field's value set-based in a private DuckDB work
   area (`nexus.mosis.derivations`), each value with its trace (derivation, rule, canonical
   source, subject);
3. checks every value against its field: required for this cycle, width, type, code set. A row
   with a blocking problem is left out of the file and listed; warnings are kept;
4. writes the file in DESE's upload format as the layout states it (delimiter, header row,
   CollectionVersion, date format), named `<CollectionVersion>_<district>[_<school>].csv`,
   keeps it content-addressed (sha256) under NEXUS_HOME/artifacts, and stores the run with its
   input snapshot (the ingestion runs last mapped per source and the canonical watermark), rows
   and values in `reporting.mosis_extract_*`.
Nothing in the file depends on the time it was made: the same input gives the same bytes.

Step 2 is public (`derive_values`, with `reporting_district`, `in_session` and `code_sets` for
the context), so validation derives a layout's values the same way without writing a file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from nexus.errors import NexusError
from nexus.integration.artifacts import keep
from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.cycles import cycle_dates
from nexus.mosis.defaults import field_defaults
from nexus.mosis.derivations import (
    DERIVATIONS,
    POPULATIONS,
    CanonicalReader,
    ExtractContext,
    load_all,
)
from nexus.store import Store, audit
from nexus.store.bulk import bulk_load
from nexus.store.engine import current_user
from nexus.store.reporting_tables import (
    mosis_code_sets,
    mosis_extract_rows,
    mosis_extract_runs,
    mosis_extract_values,
)
from nexus.store.tables import districts
from nexus.store.tenants import Tenant, find_tenant
from nexus.store.work_area import DuckDBWorkArea, lit


class ExtractError(NexusError):
    """An extract that cannot be made (the message says why)."""


@dataclass
class ExtractResult:
    extract_run_id: int
    file: str | None
    sha256: str | None
    rows: int
    blocking: int
    warnings: int
    count_date: date
    problems: list[dict] = field(default_factory=list)

    def as_dict(self, problem_limit: int = 1000) -> dict:
        return {
            "extract_run_id": self.extract_run_id,
            "file": self.file,
            "sha256": self.sha256,
            "rows": self.rows,
            "blocking": self.blocking,
            "warnings": self.warnings,
            "count_date": self.count_date.isoformat(),
            "problems": self.problems[:problem_limit],
        }


def input_snapshot(conn: sa.Connection, tenant_id: int) -> dict:
    """The ingestion runs last mapped per source kind, and the canonical watermark."""
    rows = conn.execute(
        sa.text(
            "SELECT source_kind, max(ingestion_run_id), max(map_run_id) "
            "FROM integration.mapping_runs WHERE tenant_id = :t "
            "AND status IN ('succeeded', 'partial') GROUP BY source_kind ORDER BY source_kind"
        ),
        {"t": tenant_id},
    ).all()
    # MOSIS IDs imported from DESE's responses change who is reported, like a map does.
    id_import = conn.execute(
        sa.text(
            "SELECT max(import_id) FROM reporting.mosis_id_imports WHERE tenant_id = :t "
            "AND status IN ('succeeded', 'partial')"
        ),
        {"t": tenant_id},
    ).scalar()
    return {
        "mapped_runs": {kind: int(run) for kind, run, _ in rows},
        "canonical_watermark": max((int(m) for _, _, m in rows), default=0),
        "mosis_id_import": int(id_import) if id_import is not None else None,
    }


def run_extract(
    store: Store,
    tenant_code: str,
    school_year: int,
    cycle: str,
    layout_name: str,
    out_dir: Path,
    *,
    school_code: str | None = None,
    count_date: date | None = None,
    user: str | None = None,
) -> ExtractResult:
    """Generate one MOSIS file; see the module docstring."""
    load_all()
    with store.engine.begin() as conn:
        tenant = find_tenant(conn, tenant_code)
        if tenant is None:
            raise ExtractError(f"no tenant {tenant_code!r}")
        mosis_layouts.load_package(conn)
        layout = mosis_layouts.get_layout(conn, layout_name, school_year)
        district = reporting_district(conn, tenant)
        snapshot = input_snapshot(conn, tenant.tenant_id)
        defaults = field_defaults(conn, tenant.tenant_id, school_year, layout.name)
        if defaults:
            snapshot["field_defaults"] = {c: d.value for c, d in sorted(defaults.items())}
        codes = code_sets(conn, school_year)
        partial = mosis_layouts.partial_code_sets(school_year)
        session = in_session(conn, tenant.tenant_id)
    if layout_name not in POPULATIONS:
        raise ExtractError(
            f"layout {layout_name} has no population and derivations yet: "
            f"extracts exist for {', '.join(sorted(POPULATIONS))}"
        )
    dates = cycle_dates(cycle, school_year, session, count_date)
    cycle_code = mosis_layouts.cycle_code(dates.cycle)
    if layout.cycles and cycle_code not in layout.cycles:
        raise ExtractError(
            f"{layout_name} is not collected in {dates.cycle} (cycles: {', '.join(layout.cycles)})"
        )
    try:
        version_string = mosis_layouts.collection_version(layout, school_year, dates.cycle)
    except mosis_layouts.LayoutError:
        version_string = None  # the MOSIS ID batch carries none
    ctx = ExtractContext(
        tenant_id=tenant.tenant_id,
        school_year=school_year,
        dates=dates,
        collection_version=version_string,
        district_code=district,
        school_code=school_code,
    )
    with store.engine.begin() as conn:
        run_id = conn.execute(
            mosis_extract_runs.insert()
            .values(
                tenant_id=tenant.tenant_id,
                school_year=school_year,
                cycle=dates.cycle,
                layout=layout.name,
                layout_version=layout.version,
                school_code=school_code,
                count_date=dates.count_date,
                input_snapshot=snapshot,
                status="running",
                started_by=user or current_user(),
                started_at=datetime.now(UTC),
            )
            .returning(mosis_extract_runs.c.extract_run_id)
        ).scalar_one()
    work = _Work(store, tenant.tenant_id)
    try:
        result = work.run(run_id, layout, ctx, codes, out_dir, partial, defaults)
    except (duckdb.Error, sa.exc.SQLAlchemyError, OSError) as exc:
        with store.engine.begin() as conn:
            conn.execute(
                mosis_extract_runs.update()
                .where(
                    mosis_extract_runs.c.tenant_id == tenant.tenant_id,
                    mosis_extract_runs.c.extract_run_id == run_id,
                )
                .values(
                    status="failed",
                    reason=str(exc).splitlines()[0],
                    ended_at=datetime.now(UTC),
                )
            )
        raise ExtractError(f"extract run {run_id} failed: {str(exc).splitlines()[0]}") from exc
    finally:
        work.close()
    return result


def reporting_district(conn: sa.Connection, tenant: Tenant) -> str:
    """The county-district code a tenant's files report: its first district's, else the
    tenant's own."""
    return (
        conn.execute(
            sa.select(districts.c.county_district_code)
            .where(districts.c.tenant_id == tenant.tenant_id)
            .order_by(districts.c.district_id)
        ).scalar()
        or tenant.county_district_code
    )


def in_session(conn: sa.Connection, tenant_id: int) -> Callable[[date], bool] | None:
    """Whether a day is in session by the tenant's calendars (for the cycle dates); None when
    it has no calendar days."""
    days = {
        row[0]
        for row in conn.execute(
            sa.text(
                "SELECT DISTINCT calendar_date FROM education.calendar_days "
                "WHERE tenant_id = :t AND in_session"
            ),
            {"t": tenant_id},
        )
    }
    if not days:
        return None
    return lambda day: day in days


def code_sets(conn: sa.Connection, school_year: int) -> dict[str, set[str]]:
    """The year's MOSIS code sets: code set name -> its codes."""
    rows = conn.execute(
        sa.select(mosis_code_sets.c.code_set, mosis_code_sets.c.code).where(
            mosis_code_sets.c.school_year == school_year
        )
    )
    out: dict[str, set[str]] = {}
    for code_set, code in rows:
        out.setdefault(code_set, set()).add(code)
    return out


class DerivedField(NamedTuple):
    """One layout field's column in `vals` and how its value is made (its trace)."""

    field: Any  # the layout field
    column: str  # f<field_order>
    derivation: str | None
    rule: str
    source: str


def derive_values(
    db: duckdb.DuckDBPyConnection,
    layout: mosis_layouts.Layout,
    ctx: ExtractContext,
    load: Callable[[str, str, dict[str, str]], None],
    *,
    defaults: dict | None = None,
    blank_uncollected: bool = True,
) -> tuple[str, list[DerivedField]]:
    """Build a layout's population (`pop`) and every field's value (`vals`) in the work area
    `db`, set-based, as an extract does; returns (subject type, one DerivedField per field).

    `load(name, sql, types)` copies a store query into the work area (the population's
    canonical reads). `vals` holds row_no (in the population's order), subject_key (text),
    school_code and person_id (NULL when the population has none) and f<field_order> (text)
    per field: its registered derivation with the context's constants ($school_year,
    $count_date, ...) filled in, NULL when it has none yet. With `blank_uncollected`, a field
    not collected in the cycle (`collected_in`) is NULL; with `defaults` (header -> the
    tenant's field default), the default stands where the derivation gives no value.
    Extracts and validation both derive with both on, so validation checks the file's values."""
    subject_type, subject_key, order_by = POPULATIONS[layout.name](db, ctx, CanonicalReader(load))
    cycle_code = mosis_layouts.cycle_code(ctx.dates.cycle)
    constants = {
        "$collection_version": lit(ctx.collection_version),
        "$school_year": lit(ctx.school_year),
        "$district_code": lit(ctx.district_code),
        "$count_date": f"DATE '{ctx.dates.count_date}'",
        "$window_start": f"DATE '{ctx.dates.window_start}'",
        "$cycle_code": lit(cycle_code),
    }
    seen = seen_cycles(layout)
    selects, fields = [], []
    for f in layout.fields:
        d = DERIVATIONS.get(f.derivation or "")
        collected = not blank_uncollected or collected_in(f, cycle_code, seen)
        if not collected:
            d, expr = None, "NULL"
            rule, source = f"not collected in {cycle_code} (the field's cycles)", "layout"
        elif d is None:
            expr, rule, source = "NULL", "no derivation yet: left blank", "-"
        else:
            expr, rule, source = d.sql, d.rule, d.source
            for key, literal in constants.items():
                expr = expr.replace(key, literal)
        given = (defaults or {}).get(f.header)
        if given is not None and collected:
            expr = f"coalesce(({expr}), {lit(given.value)})"
            rule = (
                f"{rule}; else the tenant's default {given.value!r} (set by {given.set_by} "
                f"on {given.set_at:%Y-%m-%d}{': ' + given.note if given.note else ''})"
            )
            source = f"{source} | reporting.mosis_field_defaults"
        column = f"f{f.field_order}"
        selects.append(f"CAST(({expr}) AS VARCHAR) AS {column}")
        fields.append(DerivedField(f, column, d.name if d else None, rule, source))
    pop_columns = {r[0] for r in db.execute("DESCRIBE pop").fetchall()}
    school = "CAST(school_code AS VARCHAR)" if "school_code" in pop_columns else "NULL"
    person = "CAST(person_id AS BIGINT)" if "person_id" in pop_columns else "NULL::BIGINT"
    db.execute(
        f"CREATE OR REPLACE TABLE vals AS SELECT row_number() OVER (ORDER BY {order_by}) "
        f"AS row_no, CAST({subject_key} AS VARCHAR) AS subject_key, {school} AS school_code, "
        f"{person} AS person_id, {', '.join(selects)} FROM pop"
    ).fetchall()
    return subject_type, fields


class _Work(DuckDBWorkArea):
    def __init__(self, store: Store, tenant_id: int) -> None:
        super().__init__(store, tenant_id, prefix="nexus-extract-")

    def run(
        self,
        run_id: int,
        layout,
        ctx: ExtractContext,
        codes: dict,
        out_dir: Path,
        partial: frozenset[str] = frozenset(),
        defaults: dict | None = None,
    ):
        subject_type, traces = derive_values(self.db, layout, ctx, self.load_sql, defaults=defaults)
        cycle_code = mosis_layouts.cycle_code(ctx.dates.cycle)
        seen = seen_cycles(layout)
        checks = [
            check
            for f, column, *_ in traces
            if collected_in(f, cycle_code, seen)
            for check in _field_checks(f, column, cycle_code, codes, partial)
        ]
        problem_sql = " UNION ALL ".join(
            f"SELECT row_no, {f.field_order} AS field_order, {lit(f.header)} AS column_name, "
            f"{lit(severity)} AS severity, {lit(message)} AS message, {column} AS value "
            f"FROM vals WHERE {condition}"
            for f, column, condition, severity, message in checks
        ) or (
            "SELECT NULL::BIGINT AS row_no, NULL::INT AS field_order, NULL AS column_name, "
            "NULL AS severity, NULL AS message, NULL AS value WHERE false"
        )
        self.db.execute(f"CREATE TABLE problems AS {problem_sql}").fetchall()
        blocked = {
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT row_no FROM problems WHERE severity = 'blocking'"
            ).fetchall()
        }
        columns = [f"f{f.field_order}" for f in layout.fields]
        rows = self.db.execute(
            f"SELECT row_no, subject_key, {', '.join(columns)} FROM vals ORDER BY row_no"
        ).fetchall()
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=layout.delimiter, lineterminator="\r\n")
        line = 0
        if layout.header_row:
            writer.writerow([f.header for f in layout.fields])
            line = 1
        lines: dict[int, int] = {}
        for row in rows:
            if row[0] in blocked:
                continue
            writer.writerow(["" if v is None else v for v in row[2:]])
            line += 1
            lines[row[0]] = line
        content = buffer.getvalue().encode("utf-8")
        name = file_name(layout, ctx, content)
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / name
        target.write_bytes(content)
        artifact = keep(self.store.settings.artifacts_dir, target)
        problems = self.db.execute(
            "SELECT p.row_no, v.subject_key, p.column_name, p.severity, p.message, p.value "
            "FROM problems p JOIN vals v USING (row_no) ORDER BY p.row_no, p.field_order"
        ).fetchall()
        problem_dicts = [
            dict(
                zip(("row_no", "subject", "column", "severity", "message", "value"), p, strict=True)
            )
            for p in problems
        ]
        warnings = sum(1 for p in problems if p[3] == "warning")
        self._store(run_id, rows, lines, problem_dicts, traces, layout, subject_type)
        with self.store.engine.begin() as conn:
            conn.execute(
                mosis_extract_runs.update()
                .where(
                    mosis_extract_runs.c.tenant_id == self.tenant_id,
                    mosis_extract_runs.c.extract_run_id == run_id,
                )
                .values(
                    file_name=name,
                    artifact_path=str(artifact.path),
                    sha256=artifact.sha256,
                    rows=len(lines),
                    blocking=len(blocked),
                    warnings=warnings,
                    status="succeeded",
                    ended_at=datetime.now(UTC),
                )
            )
        return ExtractResult(
            extract_run_id=run_id,
            file=str(target),
            sha256=artifact.sha256,
            rows=len(lines),
            blocking=len(blocked),
            warnings=warnings,
            count_date=ctx.dates.count_date,
            problems=problem_dicts,
        )

    def _store(self, run_id, rows, lines, problems, traces, layout, subject_type) -> None:
        by_row: dict[int, list[dict]] = {}
        for p in problems:
            by_row.setdefault(p["row_no"], []).append(
                {k: p[k] for k in ("column", "severity", "message", "value")}
            )
        n = len(rows)
        row_table = pa.table(
            {
                "tenant_id": pa.array([self.tenant_id] * n, pa.int64()),
                "extract_run_id": pa.array([run_id] * n, pa.int64()),
                "row_no": pa.array([r[0] for r in rows], pa.int32()),
                "subject_type": pa.array([subject_type] * n, pa.string()),
                "subject_key": pa.array([r[1] for r in rows], pa.string()),
                "line": pa.array([lines.get(r[0]) for r in rows], pa.int32()),
                "status": pa.array(
                    ["written" if r[0] in lines else "blocked" for r in rows], pa.string()
                ),
                "problems": pa.array(
                    [json.dumps(by_row[r[0]]) if r[0] in by_row else None for r in rows],
                    pa.string(),
                ),
            }
        )
        # Every value with its trace, set-based: one row per (row, field).
        meta = pa.table(
            {
                "field": pa.array([t.column for t in traces], pa.string()),
                "field_order": pa.array([t.field.field_order for t in traces], pa.int32()),
                "column_name": pa.array([t.field.header for t in traces], pa.string()),
                "trace": pa.array(
                    [
                        json.dumps({"derivation": t.derivation, "rule": t.rule, "source": t.source})
                        for t in traces
                    ],
                    pa.string(),
                ),
            }
        )
        self.db.register("field_meta", meta)
        fields = ", ".join(t.column for t in traces)
        if not n:
            self.db.unregister("field_meta")
            return
        # Streamed in batches: at statewide scale the values do not fit in memory at once.
        values = self.db.sql(
            f"SELECT CAST({int(self.tenant_id)} AS BIGINT) AS tenant_id, "
            f"CAST({int(run_id)} AS BIGINT) AS extract_run_id, "
            "CAST(u.row_no AS INTEGER) AS row_no, "
            "m.field_order, m.column_name, u.value, m.trace "
            f"FROM (SELECT * FROM vals UNPIVOT INCLUDE NULLS (value FOR field IN ({fields}))) u "
            "JOIN field_meta m USING (field)"
        ).to_arrow_reader(200_000)
        with self.store.engine.begin() as conn:
            bulk_load(conn, mosis_extract_rows, row_table)
            bulk_load(conn, mosis_extract_values, values)
        self.db.unregister("field_meta")


def seen_cycles(layout) -> frozenset[str]:
    """The cycles DESE's pages were read for: those most of the layout's verified and inferred
    fields were seen in (one field's note of a cycle is not a page of that cycle)."""
    known = [f.cycles for f in layout.fields if f.provenance != "unverified" and f.cycles]
    counts: dict[str, int] = {}
    for cycles in known:
        for c in cycles:
            counts[c] = counts.get(c, 0) + 1
    return frozenset(c for c, n in counts.items() if 2 * n > len(known))


def collected_in(f, cycle_code: str, seen: frozenset[str]) -> bool:
    """Whether a field is collected in a cycle, by its `cycles` column.

    Only DESE's own pages restrict a field: a verified or inferred field is left blank (and not
    checked) in a cycle its layout's pages were read for (`seen_cycles`) but it was not seen
    in, e.g. SEA's summer hours in June. A cycle no page covered (Student Discipline in
    December, new in 2026-27) restricts nothing, and an unverified field's cycles are a
    third-party summary's "likely" use: both are written in every cycle of the layout."""
    if not f.cycles or f.provenance == "unverified" or cycle_code not in seen:
        return True
    return cycle_code in f.cycles


def file_name(layout, ctx: ExtractContext, content: bytes) -> str:
    """`<CollectionVersion>_<district>[_<school>].csv`; a file without a CollectionVersion
    (the MOSIS ID batch) is `<layout>_<year>_<district>[_<school>]_<sha256 8>.txt`: DESE
    refuses a batch whose file name repeats an earlier one, so the name follows the content."""
    district = ctx.district_code or "district"
    school = f"_{ctx.school_code}" if ctx.school_code else ""
    extension = ".txt" if layout.delimiter == "\t" else ".csv"
    if ctx.collection_version is None:
        digest = hashlib.sha256(content).hexdigest()[:8]
        return f"{layout.name}_{ctx.school_year}_{district}{school}_{digest}{extension}"
    return f"{ctx.collection_version}_{district}{school}{extension}"


def _field_checks(
    f,
    column: str,
    cycle_code: str,
    codes: dict[str, set[str]],
    partial: frozenset[str] = frozenset(),
) -> list[tuple]:
    """(field, column, SQL condition of a problem, severity, message) for one layout field.
    A code outside a code set blocks when the field is required, unless the set is known to
    be partial (`partial`): then, as for an optional field, it warns."""
    out = []
    required = mosis_layouts.requirement_for(f, cycle_code) == "Required"
    if required:
        out.append((f, column, f"{column} IS NULL", "blocking", f"{f.header} is required"))
    if f.length:
        out.append(
            (
                f,
                column,
                f"length({column}) > {int(f.length)}",
                "blocking",
                f"{f.header} exceeds its length of {int(f.length)}",
            )
        )
    if (f.data_type or "").lower() in ("integer", "number"):
        out.append(
            (
                f,
                column,
                f"{column} IS NOT NULL AND TRY_CAST({column} AS DOUBLE) IS NULL",
                "blocking",
                f"{f.header} is not a number",
            )
        )
    known = codes.get(f.code_set or "")
    if known:
        listed = ", ".join(lit(c) for c in sorted(known))
        out.append(
            (
                f,
                column,
                f"{column} IS NOT NULL AND {column} NOT IN ({listed})",
                "blocking" if required and f.code_set not in partial else "warning",
                f"{f.header} is not in code set {f.code_set}"
                + (" (a partial set)" if f.code_set in partial else ""),
            )
        )
    return out


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def list_extract_runs(store: Store, tenant_code: str, limit: int = 100) -> list[dict]:
    with store.engine.connect() as conn:
        tenant = find_tenant(conn, tenant_code)
        if tenant is None:
            raise ExtractError(f"no tenant {tenant_code!r}")
        rows = conn.execute(
            sa.select(mosis_extract_runs)
            .where(mosis_extract_runs.c.tenant_id == tenant.tenant_id)
            .order_by(mosis_extract_runs.c.extract_run_id.desc())
            .limit(limit)
        ).mappings()
        return [{k: v for k, v in r.items() if k != "tenant_id"} for r in rows]


def show_extract_run(store: Store, tenant_code: str, extract_run_id: int) -> dict:
    """One run with the rows it left out (and why); reading it is an audited view."""
    with store.engine.begin() as conn:
        tenant = find_tenant(conn, tenant_code)
        if tenant is None:
            raise ExtractError(f"no tenant {tenant_code!r}")
        run = (
            conn.execute(
                sa.select(mosis_extract_runs).where(
                    mosis_extract_runs.c.tenant_id == tenant.tenant_id,
                    mosis_extract_runs.c.extract_run_id == extract_run_id,
                )
            )
            .mappings()
            .first()
        )
        if run is None:
            raise ExtractError(f"no extract run {extract_run_id}")
        blocked = conn.execute(
            sa.select(
                mosis_extract_rows.c.row_no,
                mosis_extract_rows.c.subject_type,
                mosis_extract_rows.c.subject_key,
                mosis_extract_rows.c.problems,
            )
            .where(
                mosis_extract_rows.c.tenant_id == tenant.tenant_id,
                mosis_extract_rows.c.extract_run_id == extract_run_id,
                mosis_extract_rows.c.status == "blocked",
            )
            .order_by(mosis_extract_rows.c.row_no)
        ).mappings()
        left_out = [{**r, "problems": _json(r["problems"]) or []} for r in blocked]
        audit.record(
            conn, tenant.tenant_id, current_user(), "view.mosis_extract", {"run": extract_run_id}
        )
    return {**{k: v for k, v in run.items() if k != "tenant_id"}, "left_out": left_out}
