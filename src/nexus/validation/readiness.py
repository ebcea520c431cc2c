"""Readiness: can the cycle's files be submitted? Per layout and school, from the newest
validation run of the school year and cycle: rows checked, rows with a blocking exception,
rows with warnings, the percent of rows free of each rule's exceptions, and ready or not.

Suppressed exceptions do not count against readiness (the operator accepted them); a
file-level exception (a required field empty on every row, an empty file) counts against
every row of its layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from nexus.store import Store
from nexus.store.tenants import find_tenant
from nexus.store.validation_tables import (
    mosis_validation_results,
    validation_exceptions,
    validation_row_counts,
    validation_runs,
)
from nexus.validation.findings import ValidationError


@dataclass
class ReadinessRow:
    layout: str
    school_code: str
    rows: int
    blocking_rows: int
    warning_rows: int
    rules: dict[str, float] = field(default_factory=dict)  # rule id -> percent error-free

    @property
    def ready(self) -> bool:
        return self.blocking_rows == 0

    @property
    def error_free(self) -> float:
        if not self.rows:
            return 0.0 if self.blocking_rows else 100.0
        return 100.0 * max(self.rows - self.blocking_rows, 0) / self.rows

    def as_dict(self) -> dict:
        return {
            "layout": self.layout,
            "school_code": self.school_code,
            "rows": self.rows,
            "blocking_rows": self.blocking_rows,
            "warning_rows": self.warning_rows,
            "percent_error_free": round(self.error_free, 2),
            "rules": {k: round(v, 2) for k, v in sorted(self.rules.items())},
            "ready": self.ready,
        }


def latest_run(conn: sa.Connection, tenant_id: int, school_year: int, cycle: str) -> dict | None:
    v = validation_runs
    row = (
        conn.execute(
            sa.select(v)
            .where(
                v.c.tenant_id == tenant_id,
                v.c.school_year == school_year,
                v.c.cycle == cycle,
                v.c.status == "succeeded",
            )
            .order_by(v.c.validation_run_id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def readiness(store: Store, tenant_code: str, school_year: int, cycle: str) -> dict:
    """Readiness of (year, cycle) per layout and school; see the module docstring."""
    from nexus.mosis.cycles import parse_collection

    cycle = parse_collection(cycle)
    r, e, c = mosis_validation_results, validation_exceptions, validation_row_counts
    with store.engine.connect() as conn:
        tenant = find_tenant(conn, tenant_code)
        if tenant is None:
            raise ValidationError(f"no tenant {tenant_code!r}")
        run = latest_run(conn, tenant.tenant_id, school_year, cycle)
        if run is None:
            raise ValidationError(
                f"no validation of {school_year} {cycle} yet: run `nexus validate --year "
                f"{school_year} --cycle {cycle}`"
            )
        run_id = run["validation_run_id"]
        counts = {
            (x.layout, x.school_code): int(x.rows)
            for x in conn.execute(
                sa.select(c.c.layout, c.c.school_code, c.c.rows).where(
                    c.c.tenant_id == tenant.tenant_id, c.c.validation_run_id == run_id
                )
            )
        }
        found = conn.execute(
            sa.select(r.c.layout, r.c.school_code, r.c.rule_id, r.c.severity, r.c.row_key)
            .join(e, sa.and_(e.c.tenant_id == r.c.tenant_id, e.c.exception_id == r.c.exception_id))
            .where(
                r.c.tenant_id == tenant.tenant_id,
                r.c.validation_run_id == run_id,
                e.c.status != "suppressed",
            )
        ).all()
    layout_rows: dict[str, int] = {}
    for (layout, _), n in counts.items():
        layout_rows[layout] = layout_rows.get(layout, 0) + n
    blocking: dict[tuple[str, str], set] = {}
    warning: dict[tuple[str, str], set] = {}
    per_rule: dict[tuple[str, str], dict[str, set]] = {}
    whole: dict[str, set[str]] = {}  # layout -> rules failing every row
    for layout, school, rule_id, severity, row_key in found:
        if row_key == "*":
            whole.setdefault(layout, set()).add(rule_id)
            if severity == "blocking":
                for key in counts:
                    if key[0] == layout:
                        blocking.setdefault(key, set()).add("*")
            continue
        key = (layout, school)
        counts.setdefault(key, 0)
        target = blocking if severity == "blocking" else warning
        target.setdefault(key, set()).add(row_key)
        per_rule.setdefault(key, {}).setdefault(rule_id, set()).add(row_key)
    rows = []
    for key in sorted(counts):
        layout, school = key
        n = counts[key]
        failing = blocking.get(key, set())
        blocked = n if "*" in failing else min(n, len(failing)) if n else len(failing)
        rules = {
            rule_id: 100.0 * max(n - len(keys), 0) / n if n else 0.0
            for rule_id, keys in per_rule.get(key, {}).items()
        }
        for rule_id in whole.get(layout, ()):
            rules[rule_id] = 0.0
        rows.append(
            ReadinessRow(
                layout=layout,
                school_code=school,
                rows=n,
                blocking_rows=blocked,
                warning_rows=min(n, len(warning.get(key, set()) - failing)) if n else 0,
                rules=rules,
            )
        )
    layouts = sorted({x.layout for x in rows})
    return {
        "validation_run_id": run_id,
        "school_year": school_year,
        "cycle": cycle,
        "validated_at": run["started_at"],
        "ready": all(x.ready for x in rows),
        "layouts": {name: all(x.ready for x in rows if x.layout == name) for name in layouts},
        "rows": [x.as_dict() for x in rows],
    }


def top_by_owner(store: Store, tenant_code: str, school_year: int, cycle: str, limit: int = 5):
    """Active exceptions per owner (blocking first), with the rules that make most of them."""
    e = validation_exceptions
    with store.engine.connect() as conn:
        tenant = find_tenant(conn, tenant_code)
        if tenant is None:
            raise ValidationError(f"no tenant {tenant_code!r}")
        rows = conn.execute(
            sa.select(e.c.owner, e.c.severity, e.c.rule_id, sa.func.count().label("n"))
            .where(
                e.c.tenant_id == tenant.tenant_id,
                e.c.school_year == school_year,
                e.c.cycle == cycle,
                e.c.status.in_(("open", "assigned")),
            )
            .group_by(e.c.owner, e.c.severity, e.c.rule_id)
        ).all()
    owners: dict[str, dict] = {}
    for owner, severity, rule_id, n in rows:
        o = owners.setdefault(
            owner, {"owner": owner, "blocking": 0, "warning": 0, "info": 0, "rules": {}}
        )
        o[severity] = o.get(severity, 0) + int(n)
        o["rules"][rule_id] = o["rules"].get(rule_id, 0) + int(n)
    out = sorted(owners.values(), key=lambda o: (-o["blocking"], -o["warning"], o["owner"]))
    for o in out:
        o["top_rules"] = sorted(o.pop("rules").items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return out[:limit] if limit else out
