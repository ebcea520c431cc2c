"""The rule catalog: DESE's business rules as loaded for a layout and Nexus's own rules, as data.

- DESE's rules come from `reporting.mosis_business_rules` (the package, or DESE's pages via
  `nexus mosis spec import`); `rules/dese_checks.yaml` says which check evaluates a rule
  number, so imported rules are evaluated as they come. A rule with no known check stays in
  the catalog, marked not evaluated.
- Nexus's rules are `rules/<year>/nexus.yaml` (the nearest year Nexus ships).
- `rules/owners.yaml` gives the suggested fix owner by field, then layout.

The catalog is written to `reporting.validation_rules` (tenant 0) on each validation, so an
operator sees exactly what was evaluated. Evaluation is `engine.py`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import sqlalchemy as sa
import yaml

from nexus.mosis.layouts import Layout
from nexus.store.reporting_tables import PLATFORM_TENANT
from nexus.store.validation_tables import validation_rules

SEVERITIES = ("blocking", "warning", "info")
OWNERS = (
    "registrar",
    "attendance_clerk",
    "counselor",
    "sped",
    "el_coordinator",
    "hr",
    "building_administrator",
    "data_office",
)
DESE_SEVERITY = {"E": "blocking", "W": "warning"}


@dataclass(frozen=True)
class Rule:
    rule_id: str
    origin: str  # dese | nexus
    layout: str  # a MOSIS layout, or `sis`
    kind: str | None  # the check; None: not evaluable by Nexus
    severity: str
    owner: str | None  # None: the owner of the field / layout
    title: str
    message: str
    spec: dict = field(default_factory=dict)

    def as_row(self, school_year: int) -> dict:
        return {
            "tenant_id": PLATFORM_TENANT,
            "school_year": school_year,
            "layout": self.layout,
            "rule_id": self.rule_id,
            "origin": self.origin,
            "kind": self.kind,
            "severity": self.severity,
            "owner": self.owner or owner_of(self.layout, None),
            "title": self.title,
            "message": self.message,
            "definition": {k: v for k, v in self.spec.items() if k != "sql"} or None,
        }


def _data(name: str) -> dict:
    text = resources.files("nexus.validation").joinpath("rules", name).read_text("utf-8")
    return yaml.safe_load(text) or {}


@cache
def dese_checks() -> dict[str, str]:
    return {str(k): v for k, v in _data("dese_checks.yaml").items()}


@cache
def _owners() -> dict:
    return _data("owners.yaml")


def owner_of(layout: str, column: str | None) -> str:
    owners = _owners()
    if column and column in owners.get("fields", {}):
        return owners["fields"][column]
    return owners.get("layouts", {}).get(layout, "data_office")


def _years() -> list[int]:
    base = resources.files("nexus.validation").joinpath("rules")
    return sorted(int(p.name) for p in base.iterdir() if p.name.isdigit())


@cache
def nexus_rules(school_year: int) -> tuple[Rule, ...]:
    """Nexus's own rules for `school_year` (the nearest shipped year at or before it)."""
    years = _years()
    year = max((y for y in years if y <= school_year), default=years[0])
    out = []
    for spec in _data(f"{year}/nexus.yaml")["rules"]:
        if spec.get("severity") not in SEVERITIES:
            raise ValueError(f"rule {spec.get('id')}: severity {spec.get('severity')!r}")
        out.append(
            Rule(
                rule_id=spec["id"],
                origin="nexus",
                layout=spec.get("layout", "*"),
                kind=spec["kind"],
                severity=spec["severity"],
                owner=spec.get("owner"),
                title=spec["title"],
                message=" ".join(str(spec["message"]).split()),
                spec=spec,
            )
        )
    return tuple(out)


def dese_check(rule_id: str) -> str | None:
    checks = dese_checks()
    if rule_id in checks:
        return checks[rule_id]
    m = re.fullmatch(r"[A-Z]{3}(\d{5})", rule_id)
    return checks.get(m.group(1)) if m else None


def dese_rules(layout: Layout, cycle_code: str) -> list[Rule]:
    """DESE's rules of `layout` that apply in `cycle_code`, each with the check that evaluates
    it (None when Nexus has none)."""
    out = []
    for r in layout.rules:
        if r.cycles and cycle_code not in r.cycles:
            continue
        message = r.detailed_message or r.general_message or r.short_title or r.business_rule
        out.append(
            Rule(
                rule_id=r.rule_id,
                origin="dese",
                layout=layout.name,
                kind=dese_check(r.rule_id) if not r.rule_id.startswith("NOID") else None,
                severity=DESE_SEVERITY.get(r.severity, "warning"),
                owner=None,
                title=r.short_title or r.business_rule or r.rule_id,
                message=message or r.rule_id,
                spec={"item": r.item, "item_name": r.item_name, "provenance": r.provenance},
            )
        )
    return out


def write_catalog(conn: sa.Connection, school_year: int, rules: list[Rule]) -> None:
    """Replace the year's catalog rows of the layouts in `rules` with `rules`."""
    layouts = sorted({r.layout for r in rules})
    if not layouts:
        return
    conn.execute(
        validation_rules.delete().where(
            validation_rules.c.tenant_id == PLATFORM_TENANT,
            validation_rules.c.school_year == school_year,
            validation_rules.c.layout.in_(layouts),
        )
    )
    seen: dict[tuple[str, str], dict] = {}
    for r in rules:
        seen[(r.layout, r.rule_id)] = r.as_row(school_year)
    conn.execute(validation_rules.insert(), list(seen.values()))


def list_catalog(conn: sa.Connection, school_year: int, layout: str | None = None) -> list[dict]:
    """The rules as the last validation of the year evaluated them (`validation_rules`)."""
    t = validation_rules
    q = sa.select(t).where(t.c.tenant_id == PLATFORM_TENANT, t.c.school_year == school_year)
    if layout:
        q = q.where(t.c.layout == layout)
    return [
        {k: v for k, v in dict(r).items() if k != "tenant_id"}
        for r in conn.execute(q.order_by(t.c.layout, t.c.origin, t.c.rule_id)).mappings()
    ]
