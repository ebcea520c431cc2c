"""`nexus validate`: evaluate every rule of a school year and cycle, set-based, and record what
was found as exceptions.

One validation run:
1. loads the year's layouts (`nexus.mosis.layouts`) and the rule catalog (`catalog.py`);
2. for every layout collected in the cycle that has derivations (whatever the MOSIS layer has
   registered: new layouts are picked up as they land), derives its rows in the work area as
   an extract would, and checks them: DESE's rules (required, length, CollectionVersion,
   CurrentSchoolYear, district and school codes, file not empty), Nexus's field checks (code
   set, number, date) and the cross-cycle checks against the last Student Core extract;
3. runs Nexus's SIS rules (one SQL query each over the canonical tables in the work area) and
   the source-code rules (over the current source records);
4. names every finding's record the way its source does (the source system, entity and
   natural key of the record it came from) and its school, then hands the findings to
   `exceptions.merge`, which keeps each exception's identity, status and history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from nexus.errors import NexusError
from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.cycles import cycle_dates
from nexus.mosis.derivations import POPULATIONS, ExtractContext, load_all
from nexus.mosis.extract import (
    code_sets,
    collected_in,
    in_session,
    input_snapshot,
    reporting_district,
    seen_cycles,
)
from nexus.store import Store, locks
from nexus.store.engine import current_user
from nexus.store.locks import tenant_lock
from nexus.store.tenants import find_tenant
from nexus.store.validation_tables import validation_row_counts
from nexus.validation import catalog
from nexus.validation.catalog import Rule
from nexus.validation.cross_cycle import cross_cycle
from nexus.validation.findings import (  # noqa: F401  (re-exported: others build findings)
    NO_SCHOOL,
    SIS,
    Finding,
    ValidationError,
    natural_key,
    render,
)
from nexus.validation.runs import fail_run, finish_run, start_run
from nexus.validation.work import WorkArea, lit


@dataclass
class ValidationResult:
    validation_run_id: int
    school_year: int
    cycle: str
    count_date: date
    layouts: list[str]
    found: int
    new: int
    reopened: int
    auto_resolved: int
    by_severity: dict[str, int] = field(default_factory=dict)
    not_evaluated: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "validation_run_id": self.validation_run_id,
            "school_year": self.school_year,
            "cycle": self.cycle,
            "count_date": self.count_date.isoformat(),
            "layouts": self.layouts,
            "found": self.found,
            "new": self.new,
            "reopened": self.reopened,
            "auto_resolved": self.auto_resolved,
            "by_severity": self.by_severity,
            "not_evaluated": self.not_evaluated,
        }


def _tenant_facts(conn: sa.Connection, tenant_code: str) -> tuple:
    tenant = find_tenant(conn, tenant_code)
    if tenant is None:
        raise ValidationError(f"no tenant {tenant_code!r}")
    return tenant, reporting_district(conn, tenant)


def layouts_for_cycle(
    conn: sa.Connection, school_year: int, cycle_code: str, only: list[str] | None
) -> list[mosis_layouts.Layout]:
    """The layouts collected in the cycle that have derivations (restricted to `only`)."""
    load_all()
    out = []
    for name in sorted(POPULATIONS):
        if only and name not in only:
            continue
        try:
            layout = mosis_layouts.get_layout(conn, name, school_year)
        except mosis_layouts.LayoutError:
            continue
        if layout.cycles and cycle_code not in layout.cycles:
            continue
        out.append(layout)
    return out


def validate(
    store: Store,
    tenant_code: str,
    school_year: int,
    cycle: str,
    *,
    layouts: list[str] | None = None,
    count_date: date | None = None,
    user: str | None = None,
) -> ValidationResult:
    """Validate one school year and cycle (optionally some layouts; `sis` names the SIS
    rules); see the module docstring. One validation per tenant at a time: exceptions are
    merged by their identity, which two at once would both insert."""
    with store.engine.connect() as conn:
        tenant = find_tenant(conn, tenant_code)
    if tenant is None:
        raise ValidationError(f"no tenant {tenant_code!r}")
    busy = ValidationError("another validation of this tenant is running; wait for it to finish")
    with tenant_lock(store, tenant.tenant_id, locks.VALIDATION, busy):
        return _validate_locked(
            store, tenant_code, school_year, cycle, layouts, count_date, user or current_user()
        )


def _validate_locked(
    store: Store,
    tenant_code: str,
    school_year: int,
    cycle: str,
    layouts: list[str] | None,
    count_date: date | None,
    who: str,
) -> ValidationResult:
    from nexus.validation import exceptions

    with store.engine.begin() as conn:
        tenant, district = _tenant_facts(conn, tenant_code)
        mosis_layouts.load_package(conn)
        dates = cycle_dates(cycle, school_year, in_session(conn, tenant.tenant_id), count_date)
        code = mosis_layouts.cycle_code(dates.cycle)
        chosen = layouts_for_cycle(conn, school_year, code, layouts)
        codes = code_sets(conn, school_year)
        snapshot = input_snapshot(conn, tenant.tenant_id)
    known = set(mosis_layouts.layout_names()) | {SIS}
    for name in layouts or []:
        if name not in known:
            raise ValidationError(f"unknown layout {name!r}: one of {', '.join(sorted(known))}")
    run_sis = not layouts or SIS in layouts
    names = [x.name for x in chosen] + ([SIS] if run_sis else [])
    if not names:
        raise ValidationError(
            f"nothing to validate: no layout with derivations is collected in {dates.cycle}"
        )
    rules: list[Rule] = []
    for layout in chosen:
        rules.extend(catalog.dese_rules(layout, code))
    own = catalog.nexus_rules(school_year)
    rules.extend(r for r in own if r.layout in (SIS, *names) or r.kind == "field")
    with store.engine.begin() as conn:
        catalog.write_catalog(
            conn,
            school_year,
            [r for r in rules if r.layout != "*"]
            + [
                Rule(**{**r.__dict__, "layout": x.name})
                for r in own
                if r.kind == "field"
                for x in chosen
            ],
        )
        run_id = start_run(
            conn,
            tenant.tenant_id,
            school_year,
            dates.cycle,
            names,
            dates.count_date,
            snapshot,
            who,
        )
    work = WorkArea(store, tenant.tenant_id)
    try:
        evaluator = _Evaluator(work, school_year, dates, district, codes, own)
        for layout in chosen:
            ctx = ExtractContext(
                tenant_id=tenant.tenant_id,
                school_year=school_year,
                dates=dates,
                collection_version=mosis_layouts.collection_version(
                    layout, school_year, dates.cycle
                ),
                district_code=district,
                school_code=None,
            )
            evaluator.layout(layout, ctx, catalog.dese_rules(layout, code))
        if run_sis:
            evaluator.sis()
        evaluator.resolve_records()
        with store.engine.begin() as conn:
            if evaluator.row_counts:
                conn.execute(
                    validation_row_counts.insert(),
                    [
                        {
                            "tenant_id": tenant.tenant_id,
                            "validation_run_id": run_id,
                            "layout": lay,
                            "school_code": school,
                            "rows": rows,
                        }
                        for (lay, school), rows in sorted(evaluator.row_counts.items())
                    ],
                )
            merged = exceptions.merge(
                conn,
                tenant.tenant_id,
                run_id,
                school_year,
                dates.cycle,
                names,
                evaluator.findings,
                who,
            )
            finish_run(conn, tenant.tenant_id, run_id, merged)
    except Exception as exc:
        with store.engine.begin() as conn:
            fail_run(conn, tenant.tenant_id, run_id, str(exc))
        if isinstance(exc, NexusError):
            raise
        raise ValidationError(
            f"validation run {run_id} failed: {str(exc).splitlines()[0]}"
        ) from exc
    finally:
        work.close()
    by_severity: dict[str, int] = {}
    for f in evaluator.unique_findings:
        by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
    return ValidationResult(
        validation_run_id=run_id,
        school_year=school_year,
        cycle=dates.cycle,
        count_date=dates.count_date,
        layouts=names,
        found=merged["found"],
        new=merged["new"],
        reopened=merged["reopened"],
        auto_resolved=merged["auto_resolved"],
        by_severity=by_severity,
        not_evaluated=[
            {"layout": r.layout, "rule_id": r.rule_id, "title": r.title}
            for r in rules
            if r.kind is None
        ],
    )


class _Evaluator:
    """Runs the rules in the work area and collects findings."""

    def __init__(self, work: WorkArea, school_year, dates, district, codes, own) -> None:
        self.work, self.db = work, work.db
        self.school_year, self.dates, self.district, self.codes = (
            school_year,
            dates,
            district,
            codes,
        )
        self.own = {r.rule_id: r for r in own}
        self.findings: list[Finding] = []
        self._extras: set[str] = set()
        self.row_counts: dict[tuple[str, str], int] = {}
        self._base_loaded = False

    @property
    def unique_findings(self) -> list[Finding]:
        return self.findings

    # --- shared tables -----------------------------------------------------------------------
    def _base(self) -> None:
        if self._base_loaded:
            return
        for t in ("education.enrollments", "census.identities", "education.schools"):
            self.work.load_table(t)
        # The SIS: the key scope holding most of the year's enrollments.
        self.db.execute(
            "CREATE OR REPLACE TABLE sis_scope AS SELECT key_scope FROM education.enrollments "
            f"WHERE school_year = {int(self.school_year)} GROUP BY key_scope "
            "ORDER BY count(*) DESC, key_scope LIMIT 1"
        ).fetchall()
        self.db.execute(
            "CREATE OR REPLACE TABLE person_sis AS SELECT person_id, "
            "min(source_record_id) AS source_record_id FROM census.identities "
            "WHERE person_id IS NOT NULL AND key_scope IN (SELECT key_scope FROM sis_scope) "
            "GROUP BY person_id"
        ).fetchall()
        self._base_loaded = True

    def _placeholders(self, sql: str) -> str:
        y = int(self.school_year)
        return (
            sql.replace("$school_year", str(y))
            .replace("$year_start", f"{y - 1}-07-01")
            .replace("$year_end", f"{y}-06-30")
            .replace("$count_date", self.dates.count_date.isoformat())
            .replace("$cycle", self.dates.cycle)
        )

    # --- layouts -----------------------------------------------------------------------------
    def layout(self, layout, ctx: ExtractContext, dese: list[Rule]) -> None:
        self._base()
        subject_type, fields = self.work.derive(layout, ctx)
        self._keep_population(layout)
        cycle_code = mosis_layouts.cycle_code(ctx.dates.cycle)
        for school, rows in self.db.execute(
            f"SELECT coalesce(school_code, '{NO_SCHOOL}'), count(*) FROM vals GROUP BY 1"
        ).fetchall():
            self.row_counts[(layout.name, school)] = rows
        by_check: dict[str, list[Rule]] = {}
        for r in dese:
            if r.kind:
                by_check.setdefault(r.kind, []).append(r)
        checks: list[tuple] = []  # (rule, layout field, column, condition, expected)
        own = self.own
        seen = seen_cycles(layout)
        for f, column, *_ in fields:
            if not collected_in(f, cycle_code, seen):
                continue  # blank in this cycle's file, as the extract writes it: nothing to check
            if f.requirement_for(cycle_code) == "Required":
                for r in by_check.get("required") or [own["NX-FLD-REQ"]]:
                    checks.append((r, f, column, f"{column} IS NULL", "a value"))
            if f.length:
                for r in by_check.get("length") or [own["NX-FLD-LEN"]]:
                    checks.append(
                        (
                            r,
                            f,
                            column,
                            f"length({column}) > {int(f.length)}",
                            f"at most {int(f.length)} characters",
                        )
                    )
            if (f.data_type or "").lower() in ("integer", "number", "numeric"):
                checks.append(
                    (
                        own["NX-FLD-NUMBER"],
                        f,
                        column,
                        f"{column} IS NOT NULL AND TRY_CAST({column} AS DOUBLE) IS NULL",
                        "a number",
                    )
                )
            if "date" in f.header.lower() and f.length == 10:
                checks.append(
                    (
                        own["NX-FLD-DATE"],
                        f,
                        column,
                        f"{column} IS NOT NULL AND NOT regexp_full_match({column}, "
                        r"'\d{2}/\d{2}/\d{4}')",
                        "MM/DD/YYYY",
                    )
                )
            known = self.codes.get(f.code_set or "")
            if known:
                listed = ", ".join(lit(c) for c in sorted(known))
                checks.append(
                    (
                        own["NX-FLD-CODE"],
                        f,
                        column,
                        f"{column} IS NOT NULL AND {column} NOT IN ({listed})",
                        f"a code of {f.code_set}",
                    )
                )
        schools = "(SELECT school_code FROM education.schools WHERE school_code IS NOT NULL)"
        for kind, condition_of, expected in (
            (
                "collection_version",
                lambda c: f"{c} IS DISTINCT FROM {lit(ctx.collection_version)}",
                ctx.collection_version,
            ),
            (
                "school_year",
                lambda c: f"{c} IS DISTINCT FROM '{int(self.school_year)}'",
                str(self.school_year),
            ),
            (
                "district_code",
                lambda c: (
                    f"{c} IS NOT NULL AND NOT regexp_full_match({c}, "
                    r"'\d{6}')"
                ),
                "a 6-digit county-district code",
            ),
            (
                "reporting_district",
                lambda c: f"{c} IS DISTINCT FROM {lit(self.district)}",
                self.district,
            ),
            (
                "school_in_district",
                lambda c: f"{c} IS NOT NULL AND {c} NOT IN {schools}",
                "a school of the district",
            ),
            (
                "state_id_format",
                lambda c: (
                    f"{c} IS NOT NULL AND NOT regexp_full_match({c}, "
                    r"'\d{10}')"
                ),
                "a 10-digit MOSIS ID",
            ),
        ):
            for r in by_check.get(kind, []):
                f = _field_of(layout, fields, r)
                if f is not None:
                    checks.append((r, f[0], f[1], condition_of(f[1]), expected))
        total = self.db.execute("SELECT count(*) FROM vals").fetchall()[0][0]
        if total == 0:
            for r in by_check.get("not_empty", []):
                self.findings.append(
                    Finding(
                        rule=r,
                        layout=layout.name,
                        entity_type="file",
                        record_key=ctx.collection_version,
                        field="(file)",
                        message=r.message,
                        severity=r.severity,
                        owner=r.owner or catalog.owner_of(layout.name, None),
                        expected="at least one record",
                    )
                )
        if not checks or total == 0:
            cross_cycle(self, layout, fields, subject_type)
            return
        # A required field empty on every row is a gap in what the SIS gives (or a field with
        # no derivation yet), not a problem of each record: one exception for the file.
        nulls = [i for i, c in enumerate(checks) if c[3] == f"{c[2]} IS NULL"]
        if nulls and total > 1:
            counts = self.db.execute(
                "SELECT "
                + ", ".join(f"count(*) FILTER (WHERE {checks[i][2]} IS NULL)" for i in nulls)
                + " FROM vals"
            ).fetchall()[0]
            empty = {i for i, n in zip(nulls, counts, strict=True) if n == total}
            traces = {column: (name, rule, source) for _, column, name, rule, source in fields}
            for i in sorted(empty):
                r, f, column, _, expected = checks[i]
                derivation, how, source = traces[column]
                self.findings.append(
                    Finding(
                        rule=r,
                        layout=layout.name,
                        entity_type="file",
                        record_key=f"{layout.name}.{f.header}",
                        field=f.header,
                        message=render(r.message, field=f.header)
                        + f" (empty on all {total:,} rows: the SIS gives no value for it, "
                        "or it has no derivation yet)",
                        severity=r.severity,
                        owner=r.owner or catalog.owner_of(layout.name, f.header),
                        expected=expected,
                        row_key="*",
                        trace={
                            "derivation": derivation,
                            "rule": how,
                            "source": source,
                            "rows": total,
                        },
                    )
                )
            checks = [c for i, c in enumerate(checks) if i not in empty]
            if not checks:
                cross_cycle(self, layout, fields, subject_type)
                return
        union = " UNION ALL ".join(
            f"SELECT {i} AS check_no, row_no, {column} AS value FROM vals WHERE {condition}"
            for i, (_, _, column, condition, _) in enumerate(checks)
        )
        rows = self.db.execute(
            f"SELECT c.check_no, v.row_no, v.subject_key, v.school_code, v.person_id, c.value, "
            f"p.source_record_id FROM ({union}) c JOIN vals v USING (row_no) "
            "LEFT JOIN person_sis p ON p.person_id = v.person_id ORDER BY c.check_no, v.row_no"
        ).fetchall()
        traces = {column: (name, rule, source) for _, column, name, rule, source in fields}
        # As in the extract: a value outside a code set the package knows to be partial warns.
        partial = mosis_layouts.partial_code_sets(self.school_year)
        for check_no, _row_no, subject, school, person, value, source_record in rows:
            r, f, column, _, expected = checks[check_no]
            derivation, how, source = traces[column]
            required = f.requirement_for(cycle_code) == "Required"
            severity = r.severity
            if r.rule_id == "NX-FLD-CODE" and (not required or f.code_set in partial):
                severity = "warning"
            is_student = subject_type == "student" and person is not None
            self.findings.append(
                Finding(
                    rule=r,
                    layout=layout.name,
                    entity_type=subject_type,
                    record_key=subject,
                    record_id=subject,
                    field=f.header,
                    message=render(
                        r.message,
                        field=f.header,
                        value=value,
                        length=f.length or "",
                        code_set=f.code_set or "",
                    ),
                    severity=severity,
                    owner=r.owner or catalog.owner_of(layout.name, f.header),
                    current_value=value,
                    expected=render(
                        str(r.spec.get("expected") or expected),
                        **{"code_set": f.code_set or "", "length": f.length or ""},
                    ),
                    source_record_id=source_record if is_student else None,
                    person_id=person,
                    school_code=school or NO_SCHOOL,
                    row_key=subject,
                    trace={"derivation": derivation, "rule": how, "source": source},
                )
            )
        cross_cycle(self, layout, fields, subject_type)

    def _keep_population(self, layout) -> None:
        """Who Student Core reports this cycle, for the SIS-versus-MOSIS population rules."""
        if layout.name == "student_core":
            self.db.execute(
                "CREATE OR REPLACE TABLE core_people AS SELECT DISTINCT person_id FROM vals "
                "WHERE person_id IS NOT NULL"
            ).fetchall()

    def sis(self) -> None:
        self._base()
        t = self.work.tenant_id
        self.work.load_sql(
            "mapping_errors",
            "SELECT m.source_record_id, r.source_kind AS source_system, m.source_entity, "
            "m.natural_key, m.field, m.rule, m.value, m.message "
            "FROM integration.mapping_errors m JOIN integration.mapping_runs r "
            "ON r.tenant_id = m.tenant_id AND r.map_run_id = m.map_run_id "
            f"WHERE m.tenant_id = {t} AND m.map_run_id IN (SELECT max(map_run_id) "
            f"FROM integration.mapping_runs WHERE tenant_id = {t} "
            "AND status IN ('succeeded', 'partial') GROUP BY source_kind)",
            {"source_record_id": "BIGINT"},
        )
        for school, rows in self.db.execute(
            "SELECT coalesce(s.school_code, '-'), count(DISTINCT e.person_id) "
            "FROM education.enrollments e LEFT JOIN education.schools s "
            "ON s.school_id = e.school_id "
            f"WHERE e.school_year = {int(self.school_year)} "
            "AND e.key_scope IN (SELECT key_scope FROM sis_scope) GROUP BY 1"
        ).fetchall():
            self.row_counts[(SIS, school)] = rows
        have = {
            x[0]
            for x in self.db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        if "core_people" in have:
            self._last_extract_people()
        for r in self.own.values():
            if r.layout != SIS:
                continue
            needs = set(r.spec.get("needs") or ())
            if needs - have - {"last_extract_people"} or (
                "last_extract_people" in needs and "last_extract_people" not in self._extras
            ):
                continue  # e.g. validating the SIS alone: no Student Core to compare with
            if r.kind == "sql":
                self._sql_rule(r)
            elif r.kind == "source_code":
                self._source_rule(r)

    def _last_extract_people(self) -> None:
        """The people of the newest Student Core file of this cycle (`last_extract_people`)."""
        t = self.work.tenant_id
        self.work.load_sql(
            "last_extract_people",
            "SELECT r.extract_run_id, CAST(r.subject_key AS BIGINT) AS person_id "
            "FROM reporting.mosis_extract_rows r WHERE r.tenant_id = "
            f"{t} AND r.status = 'written' AND r.subject_type = 'student' "
            "AND r.extract_run_id = (SELECT max(extract_run_id) FROM reporting.mosis_extract_runs "
            f"WHERE tenant_id = {t} AND school_year = {int(self.school_year)} "
            f"AND cycle = {lit(self.dates.cycle)} AND layout = 'student_core' "
            "AND status = 'succeeded' AND school_code IS NULL)",
            {"extract_run_id": "BIGINT", "person_id": "BIGINT"},
        )
        self._extras.add("last_extract_people")

    def _sql_rule(self, r: Rule) -> None:
        for table in r.spec.get("tables") or []:
            self.work.load_table(table)
        cursor = self.db.execute(self._placeholders(r.spec["sql"]))
        columns = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(columns, values, strict=True))
            field_name = row.get("field") or r.spec.get("field") or ""
            value = row.get("current_value")
            self.findings.append(
                Finding(
                    rule=r,
                    layout=SIS,
                    entity_type=r.spec.get("entity_type", "record"),
                    record_key=natural_key(row.get("record_key")) if row.get("record_key") else "",
                    record_id=None if row.get("record_id") is None else str(row["record_id"]),
                    field=field_name,
                    message=render(
                        r.message, field=field_name, value=value, detail=row.get("detail") or ""
                    ),
                    severity=r.severity,
                    owner=r.owner or "data_office",
                    current_value=None if value is None else str(value),
                    expected=r.spec.get("expected"),
                    source_record_id=row.get("source_record_id"),
                    source_system=row.get("source_system"),
                    source_entity=row.get("source_entity"),
                    person_id=row.get("person_id"),
                    school_id=row.get("school_id"),
                    trace={"rule": r.rule_id, "query": "rules/nexus.yaml"},
                )
            )

    def _source_rule(self, r: Rule) -> None:
        spec = r.spec
        self.work.load_source("src", list(spec["sources"]), spec["entity"])
        if spec.get("check") == "required":
            self._source_required(r)
            return
        allowed = set(self.codes.get(spec.get("code_set") or "", set())) | {
            str(c) for c in spec.get("codes") or []
        }
        if not allowed:
            return
        listed = ", ".join(lit(c) for c in sorted(allowed))
        names = [str(c).replace("'", "").replace('"', "") for c in spec["columns"]]
        column = names[-1].split(".")[-1]
        read = ", ".join(f"json_extract_string(payload, '$.\"{c}\"')" for c in names)
        rows = self.db.execute(
            "SELECT source_record_id, source_system, source_entity, natural_key, v FROM ("
            f"SELECT *, trim(coalesce({read})) AS v FROM src) "
            f"WHERE v IS NOT NULL AND v <> '' AND v NOT IN ({listed})"
        ).fetchall()
        expected = f"a code of {spec.get('code_set') or ', '.join(spec['codes'])}"
        for source_record, system, entity, key, value in rows:
            self._source_finding(r, column, (source_record, system, entity, key), value, expected)

    def _source_required(self, r: Rule) -> None:
        """A source column must have a value wherever the `when` column has one."""
        spec = r.spec

        def read(names: list[str]) -> str:
            clean = [str(c).replace("'", "").replace('"', "") for c in names]
            return (
                "trim(coalesce("
                + ", ".join(f"json_extract_string(payload, '$.\"{c}\"')" for c in clean)
                + "))"
            )

        column = str(spec["columns"][-1]).split(".")[-1]
        rows = self.db.execute(
            "SELECT source_record_id, source_system, source_entity, natural_key FROM src "
            f"WHERE coalesce({read(spec['when_columns'])}, '') <> '' "
            f"AND coalesce({read(spec['columns'])}, '') = ''"
        ).fetchall()
        for record in rows:
            self._source_finding(r, column, record, None, spec.get("expected"))

    def _source_finding(
        self, r: Rule, column: str, record: tuple, value: str | None, expected: str | None
    ) -> None:
        """A source-code rule's finding on one source record: (source_record_id, source system,
        source entity, natural key) and the column's value (None: it has none)."""
        source_record, system, entity, key = record
        self.findings.append(
            Finding(
                rule=r,
                layout=SIS,
                entity_type=r.spec.get("entity_type", "record"),
                record_key=natural_key(key),
                record_id=natural_key(key),
                field=column,
                message=render(r.message, field=column, value=value),
                severity=r.severity,
                owner=r.owner or "data_office",
                current_value=value,
                expected=expected,
                source_record_id=source_record,
                source_system=system,
                source_entity=entity,
                trace={"source": f"{system} {entity}.{column}"},
            )
        )

    # --- naming records ----------------------------------------------------------------------
    def resolve_records(self) -> None:
        """Source system, entity and natural key of each finding's source record; school code
        of its school; the row key readiness counts by."""
        ids = sorted({f.source_record_id for f in self.findings if f.source_record_id is not None})
        info: dict[int, tuple[str, str, str]] = {}
        t = self.work.tenant_id
        with self.work.store.engine.connect() as conn:
            for start in range(0, len(ids), 5000):
                chunk = ", ".join(str(int(i)) for i in ids[start : start + 5000])
                for rid, kind, entity, key in conn.execute(
                    sa.text(
                        "SELECT r.record_id, s.kind, e.name, r.natural_key "
                        "FROM integration.source_records r "
                        "JOIN integration.source_entities e ON e.tenant_id = r.tenant_id "
                        "AND e.entity_id = r.entity_id "
                        "JOIN integration.source_systems s ON s.tenant_id = e.tenant_id "
                        "AND s.source_system_id = e.source_system_id "
                        f"WHERE r.tenant_id = {t} AND r.record_id IN ({chunk})"
                    )
                ):
                    info[int(rid)] = (kind, entity, key)
        schools = {}
        if self._base_loaded:
            schools = dict(
                self.db.execute("SELECT school_id, school_code FROM education.schools").fetchall()
            )
        states = self._state_ids({f.person_id for f in self.findings if f.person_id is not None})
        for f in self.findings:
            got = info.get(f.source_record_id) if f.source_record_id is not None else None
            if got is not None:
                kind, entity, key = got
                f.source_system = f.source_system or kind
                f.source_entity = f.source_entity or entity
                if not f.record_key or f.layout != SIS:
                    f.record_key = natural_key(key)
            if not f.record_key:
                f.record_key = f.record_id or ""
            if f.school_code == NO_SCHOOL and f.school_id is not None:
                f.school_code = schools.get(f.school_id) or NO_SCHOOL
            if f.person_id is not None:
                f.trace = {**(f.trace or {}), "state_id": states.get(f.person_id)}
            if f.row_key is None:
                f.row_key = str(f.person_id) if f.person_id is not None else f.record_key
        # One exception per identity and run.
        seen: set[tuple] = set()
        unique = []
        for f in self.findings:
            key = (
                f.rule.rule_id,
                f.layout,
                f.source_entity or f.entity_type,
                f.record_key,
                f.field,
                f.row_key,
            )
            if key in seen:
                continue
            seen.add(key)
            unique.append(f)
        self.findings = unique

    def _state_ids(self, people: set[int]) -> dict[int, str]:
        if not people or not self._base_loaded:
            return {}
        self.work.load_table("census.person_identifiers")
        return dict(
            self.db.execute(
                "SELECT i.person_id, min(p.value) FROM census.person_identifiers p "
                "JOIN census.identities i ON i.key_scope = p.key_scope "
                "AND i.person_kind = p.person_kind AND i.source_key = p.source_key "
                "WHERE p.identifier_type = 'mosis_state_id' AND p.valid_to_run IS NULL "
                "AND i.person_id IS NOT NULL GROUP BY i.person_id"
            ).fetchall()
        )


def _field_of(layout, fields, rule: Rule):
    """The (layout field, work column) a DESE rule names by its item number or item name."""
    item = rule.spec.get("item")
    name = (rule.spec.get("item_name") or "").lower()
    for f, column, *_ in fields:
        if item and f.item == item:
            return f, column
    for f, column, *_ in fields:
        if name and f.item_name.lower() == name:
            return f, column
    return None
