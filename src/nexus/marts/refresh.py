"""`nexus marts refresh`: rebuild the grade-card marts of a school year, set-based.

For each indicator: delete its facts of the year and `INSERT ... SELECT` them from the
definition's SQL (one statement: base rows, rolled up to a student per building and to a
student in the district, valued); then aggregate them by building/district x all grades /
grade x student group in SQL, decide suppression (`suppression.py`) and load the cells.

Incremental: an indicator is rebuilt only when its definition (sha256) or its inputs changed
since its last build. An input's fingerprint is its row count and newest ingestion run for
the tenant (a map that changes, adds or removes rows moves one of them); student indicators
also depend on the group inputs (identities, programs, enrollments, crosswalks).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyarrow as pa
import sqlalchemy as sa

from nexus.marts.definitions import Indicator, MartError, indicators, select
from nexus.marts.groups import GROUP_INPUTS, build_groups, partitions
from nexus.marts.suppression import rule_for, suppress
from nexus.mosis.cycles import cycle_dates
from nexus.mosis.layouts import parse_school_year
from nexus.store import Store
from nexus.store.backend import backend_for
from nexus.store.bulk import bulk_load
from nexus.store.mart_tables import (
    ALL,
    DISTRICT_UNIT,
    grade_card_aggregates,
    grade_card_facts,
    grade_card_indicators,
    grade_card_refresh_state,
)
from nexus.store.tenants import find_tenant

PLATFORM_TENANT = 0
GROUPS_STATE = "_student_groups"
SCHEMA_OF = {"identities": "census", "code_crosswalks": "integration"}


@dataclass
class RefreshResult:
    tenant: str
    school_year: int
    rebuilt: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    groups_rebuilt: bool = False
    facts: int = 0
    aggregates: int = 0
    seconds: float = 0.0
    by_indicator: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "tenant": self.tenant,
            "school_year": self.school_year,
            "rebuilt": self.rebuilt,
            "unchanged": self.unchanged,
            "groups_rebuilt": self.groups_rebuilt,
            "facts": self.facts,
            "aggregates": self.aggregates,
            "seconds": round(self.seconds, 3),
            "by_indicator": self.by_indicator,
        }


def year_parameters(school_year: int) -> dict[str, date | int]:
    """The dates every definition may name, for a school year (its ending year)."""
    start = school_year - 1
    return {
        "school_year": school_year,
        "year_start": date(start, 7, 1),
        "year_end": date(school_year, 6, 30),
        "previous_year_start": date(start - 1, 7, 1),
        "october_date": cycle_dates("october", school_year).count_date,
        "january_date": cycle_dates("february", school_year).count_date,
        "summer_end": date(school_year, 8, 31),
    }


def facts_sql(ind: Indicator) -> str:
    """The one INSERT ... SELECT that writes an indicator's facts."""
    rollups = ", ".join(f"{r}(b.{c}) AS {c}" for c, r in ind.components.items())
    detail = " || '; ' || ".join(
        f"'{c}=' || coalesce(CAST({c} AS VARCHAR), '')" for c in ind.detail
    )
    return f"""
        INSERT INTO mart.grade_card_facts
          (tenant_id, school_year, indicator, school_id, subject_type, person_id, grade_level,
           in_denominator, in_numerator, numerator_value, denominator_value, detail)
        WITH base AS (
        {ind.base_sql}
        ), unit AS (
          SELECT b.school_id, b.person_id, b.subject_type, max(b.grade_level) AS grade_level,
                 {rollups}
          FROM base b WHERE b.school_id IS NOT NULL AND b.person_id IS NOT NULL
          GROUP BY b.school_id, b.person_id, b.subject_type
          UNION ALL
          SELECT {DISTRICT_UNIT}, b.person_id, b.subject_type, max(b.grade_level) AS grade_level,
                 {rollups}
          FROM base b WHERE b.school_id IS NOT NULL AND b.person_id IS NOT NULL
          GROUP BY b.person_id, b.subject_type
        ), valued AS (
          SELECT u.*, CAST({ind.numerator_sql} AS FLOAT8) AS numerator_value,
                 CAST({ind.denominator_sql} AS FLOAT8) AS denominator_value
          FROM unit u WHERE {ind.population_sql}
        )
        SELECT :tenant_id, :school_year, :indicator, school_id, subject_type, person_id,
               grade_level, denominator_value <> 0, numerator_value <> 0,
               numerator_value, denominator_value, {detail or "NULL"}
        FROM valued
    """


def _aggregate_sql(with_groups: list[str] | None) -> str:
    if with_groups:
        listed = ", ".join(f"'{g}'" for g in with_groups)
        join = (
            "JOIN mart.grade_card_student_groups g ON g.tenant_id = f.tenant_id "
            "AND g.school_year = f.school_year AND g.person_id = f.person_id "
            f"AND g.group_code IN ({listed}) AND f.subject_type = 'student'"
        )
        group_col, group_key = "g.group_code", ", g.group_code"
    else:
        join, group_col, group_key = "", f"'{ALL}'", ""
    return f"""
        SELECT f.school_id, f.grade_level, GROUPING(f.grade_level) AS all_grades,
               {group_col} AS group_code,
               sum(CASE WHEN f.in_denominator OR f.in_numerator THEN 1 ELSE 0 END) AS n,
               sum(CASE WHEN f.in_numerator THEN 1 ELSE 0 END) AS numerator_count,
               sum(f.numerator_value) AS numerator, sum(f.denominator_value) AS denominator
        FROM mart.grade_card_facts f {join}
        WHERE f.tenant_id = :tenant_id AND f.school_year = :school_year
          AND f.indicator = :indicator
        GROUP BY GROUPING SETS ((f.school_id{group_key}), (f.school_id, f.grade_level{group_key}))
    """


def _value(ind: Indicator, numerator: float, denominator: float) -> float | None:
    if ind.kind in ("count", "sum"):
        return float(numerator)
    if not denominator:
        return None
    return ind.scale * float(numerator) / float(denominator)


def build_aggregates(conn: sa.Connection, ind: Indicator, tenant_id: int) -> int:
    """Aggregate the indicator's facts, decide suppression, load the cells; returns cells."""
    params = {"tenant_id": tenant_id, "school_year": ind.school_year, "indicator": ind.name}
    conn.execute(
        grade_card_aggregates.delete().where(
            grade_card_aggregates.c.tenant_id == tenant_id,
            grade_card_aggregates.c.school_year == ind.school_year,
            grade_card_aggregates.c.indicator == ind.name,
        )
    )
    groups = [g for g in ind.groups if g != ALL]
    rows = list(conn.execute(sa.text(_aggregate_sql(None)), params).mappings())
    if groups:
        rows += list(conn.execute(sa.text(_aggregate_sql(groups)), params).mappings())
    cells: dict[tuple[int, str, str], dict] = {}
    for row in rows:
        if row["all_grades"]:
            grade = ALL
        elif not ind.grades or row["grade_level"] is None:
            continue
        else:
            grade = row["grade_level"]
        n = int(row["numerator_count"] if ind.kind == "count" else row["n"])
        cells[(int(row["school_id"]), grade, row["group_code"])] = {
            "n": n,
            "numerator_count": int(row["numerator_count"]),
            "numerator": float(row["numerator"] or 0),
            "denominator": float(row["denominator"] or 0),
        }
    hidden = suppress(
        {k: v["n"] for k, v in cells.items()}, rule_for(ind.school_year), partitions()
    )
    if not cells:
        return 0
    now = datetime.now(UTC)
    keys = sorted(cells)
    table = pa.table(
        {
            "tenant_id": pa.array([tenant_id] * len(keys), pa.int64()),
            "school_year": pa.array([ind.school_year] * len(keys), pa.int32()),
            "indicator": [ind.name] * len(keys),
            "level": ["district" if k[0] == DISTRICT_UNIT else "school" for k in keys],
            "school_id": pa.array([k[0] for k in keys], pa.int64()),
            "grade_level": [k[1] for k in keys],
            "group_code": [k[2] for k in keys],
            "n": pa.array([cells[k]["n"] for k in keys], pa.int32()),
            "numerator_count": pa.array([cells[k]["numerator_count"] for k in keys], pa.int32()),
            "numerator": pa.array([cells[k]["numerator"] for k in keys], pa.float64()),
            "denominator": pa.array([cells[k]["denominator"] for k in keys], pa.float64()),
            "value": pa.array(
                [_value(ind, cells[k]["numerator"], cells[k]["denominator"]) for k in keys],
                pa.float64(),
            ),
            "suppressed": [k in hidden for k in keys],
            "suppression_reason": [hidden.get(k) for k in keys],
            "refreshed_at": pa.array([now] * len(keys), pa.timestamp("us", tz="UTC")),
        }
    )
    return bulk_load(conn, grade_card_aggregates, table)


def _table_fingerprints(conn: sa.Connection, tenant_id: int, names: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in sorted(names):
        schema = SCHEMA_OF.get(name, "education")
        if name == "code_crosswalks":
            rows = conn.execute(
                sa.text(
                    "SELECT crosswalk, source_code, canonical_code FROM "
                    "integration.code_crosswalks WHERE tenant_id = :t "
                    "ORDER BY crosswalk, source_code"
                ),
                {"t": tenant_id},
            ).all()
            found[name] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
            continue
        count, newest = conn.execute(
            sa.text(
                f"SELECT count(*), max(ingestion_run_id) FROM {schema}.{name} WHERE tenant_id = :t"
            ),
            {"t": tenant_id},
        ).one()
        found[name] = f"{count}:{newest}"
    return found


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _state(conn: sa.Connection, tenant_id: int, year: int) -> dict[str, tuple[str, str]]:
    s = grade_card_refresh_state
    rows = conn.execute(
        sa.select(s.c.indicator, s.c.definition_sha256, s.c.input_fingerprint).where(
            s.c.tenant_id == tenant_id, s.c.school_year == year
        )
    ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def _save_state(conn, tenant_id, year, name, sha, fingerprint, facts, cells, seconds) -> None:
    s = grade_card_refresh_state
    conn.execute(
        s.delete().where(s.c.tenant_id == tenant_id, s.c.school_year == year, s.c.indicator == name)
    )
    conn.execute(
        s.insert().values(
            tenant_id=tenant_id,
            school_year=year,
            indicator=name,
            definition_sha256=sha,
            input_fingerprint=fingerprint,
            facts=facts,
            aggregates=cells,
            seconds=seconds,
            refreshed_at=datetime.now(UTC),
        )
    )


def load_definitions(conn: sa.Connection, school_year: int) -> None:
    """The year's definitions into `mart.grade_card_indicators` (platform rows), replaced only
    when they differ from what is loaded, so tenants refreshing at once do not collide."""
    t = grade_card_indicators
    defined = {i.name: i.sha256 for i in indicators(school_year)}
    loaded = dict(
        conn.execute(
            sa.select(t.c.indicator, t.c.sha256).where(
                t.c.tenant_id == PLATFORM_TENANT, t.c.school_year == school_year
            )
        ).all()
    )
    if loaded == defined:
        return
    conn.execute(t.delete().where(t.c.tenant_id == PLATFORM_TENANT, t.c.school_year == school_year))
    now = datetime.now(UTC)
    rows = [
        {
            "tenant_id": PLATFORM_TENANT,
            "school_year": school_year,
            "indicator": ind.name,
            "family": ind.family,
            "title": ind.title,
            "framework": ind.words.get("framework"),
            "source_tag": ind.words.get("source_tag", "UNCERTAIN"),
            "sha256": ind.sha256,
            "document": ind.as_dict(),
            "loaded_at": now,
        }
        for ind in indicators(school_year)
    ]
    if rows:
        conn.execute(t.insert(), rows)


def tenant_id_of(conn: sa.Connection, tenant_code: str) -> int:
    tenant = find_tenant(conn, tenant_code)
    if tenant is None:
        raise MartError(f"no tenant {tenant_code!r}")
    return int(tenant.tenant_id)


def refresh(
    store: Store,
    tenant_code: str,
    year: int | str,
    names: list[str] | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RefreshResult:
    """Rebuild the year's grade-card marts where a definition or an input changed."""
    started = time.perf_counter()
    school_year = parse_school_year(year)
    chosen = select(names, school_year)
    result = RefreshResult(tenant_code, school_year)
    params = year_parameters(school_year)
    # PostgreSQL plans from statistics: facts and groups just written must be analysed, or the
    # planner takes them for empty and joins them by nested loop.
    analyze = backend_for(store.engine).analyze_after_load
    analysed_facts = False
    with store.engine.begin() as conn:
        tenant_id = tenant_id_of(conn, tenant_code)
        load_definitions(conn, school_year)
        inputs = set(GROUP_INPUTS)
        for ind in chosen:
            inputs.update(ind.inputs)
        unknown = inputs - set(SCHEMA_OF) - _education_tables()
        if unknown:
            raise MartError(f"definitions name unknown inputs: {sorted(unknown)}")
        prints = _table_fingerprints(conn, tenant_id, inputs)
        state = _state(conn, tenant_id, school_year)
        groups_print = _digest([prints[n] for n in GROUP_INPUTS], _groups_sha())
        if force or state.get(GROUPS_STATE, ("", ""))[1] != groups_print:
            build_groups(conn, tenant_id, school_year)
            if analyze:
                conn.execute(sa.text("ANALYZE mart.grade_card_student_groups"))
            _save_state(
                conn, tenant_id, school_year, GROUPS_STATE, _groups_sha(), groups_print, 0, 0, 0.0
            )
            result.groups_rebuilt = True
    for ind in chosen:
        own = {n: prints[n] for n in ind.inputs}
        fingerprint = _digest(own, groups_print if ind.subject == "student" else None)
        if not force and state.get(ind.name) == (ind.sha256, fingerprint):
            result.unchanged.append(ind.name)
            continue
        if progress:
            progress(ind.name)
        began = time.perf_counter()
        with store.engine.begin() as conn:
            conn.execute(
                grade_card_facts.delete().where(
                    grade_card_facts.c.tenant_id == tenant_id,
                    grade_card_facts.c.school_year == school_year,
                    grade_card_facts.c.indicator == ind.name,
                )
            )
            try:
                facts = conn.execute(
                    sa.text(facts_sql(ind)),
                    {**params, "tenant_id": tenant_id, "indicator": ind.name},
                ).rowcount
            except sa.exc.DBAPIError as exc:
                raise MartError(
                    f"{ind.name}: its SQL failed on this database: {exc.orig}".splitlines()[0]
                ) from None
            if analyze and not analysed_facts:
                conn.execute(sa.text("ANALYZE mart.grade_card_facts"))
                analysed_facts = True
            if analyze:
                # The statistics of one indicator's facts are those of the first analysed;
                # the aggregates are scans and hash joins, never a nested loop per student.
                conn.execute(sa.text("SET LOCAL enable_nestloop = off"))
            cells = build_aggregates(conn, ind, tenant_id)
            seconds = time.perf_counter() - began
            _save_state(
                conn,
                tenant_id,
                school_year,
                ind.name,
                ind.sha256,
                fingerprint,
                max(facts, 0),
                cells,
                seconds,
            )
        result.rebuilt.append(ind.name)
        result.facts += max(facts, 0)
        result.aggregates += cells
        result.by_indicator[ind.name] = {
            "facts": max(facts, 0),
            "aggregates": cells,
            "seconds": round(seconds, 3),
        }
    if analyze and result.rebuilt:
        with store.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE mart.grade_card_facts"))
    result.seconds = time.perf_counter() - started
    return result


def _education_tables() -> set[str]:
    from nexus.store import canonical_tables as ct

    return {t.name for t in ct.metadata.tables.values() if t.schema == "education"}


def _groups_sha() -> str:
    from nexus.marts.groups import _document

    return _digest(_document())
