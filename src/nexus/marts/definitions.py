"""Grade-card indicator definitions as data: reading `indicators/*.yaml` for a school year.

One file per indicator family (`proportional_attendance.yaml`, `acgr.yaml`, ...). A file holds
versions keyed by school-year ranges (definitions change: MSIP 5 vs MSIP 6); the version whose
`years` contain the year is the definition of that year. A version states in plain words the
purpose, population and count date, numerator, denominator, threshold, minimum, rounding,
student groups, suppression and source tag, and in SQL:

- `base`: rows of (school_id, person_id, subject_type, grade_level, components...) read from
  canonical tables with the parameters `:tenant_id`, `:school_year`, `:year_start`,
  `:year_end`, `:october_date`, `:january_date`, `:summer_end`, `:previous_year_start`;
- `components`: each component's roll-up (sum or max) to a student per building and to a
  student in the district (`school_id = 0`);
- `population`, `numerator`, `denominator`: expressions over the rolled-up components.

`variants` expand a family into indicators (`acgr_4yr`, `acgr_5yr`, ...), each with its own
parameters substituted into the text (`{years}`); `{K12}` and `{G9_12}` are the grade lists.
This module reads and renders; `refresh.py` runs the SQL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from nexus.errors import NexusError
from nexus.mosis.layouts import parse_school_year, school_year_label

GRADE_LISTS = {
    "K12": "('K', '01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12')",
    "G9_12": "('09', '10', '11', '12')",
}
KINDS = ("count", "sum", "rate", "index", "mean", "ratio")
ROLLUPS = ("sum", "max")
WORD_FIELDS = (
    "framework",
    "source_tag",
    "purpose",
    "population",
    "count_date",
    "numerator",
    "denominator",
    "threshold",
    "minimum",
    "caveat",
)


class MartError(NexusError):
    """A marts problem: an unknown indicator, a bad definition, a refused request."""


@dataclass(frozen=True)
class Indicator:
    """One indicator of one school year, its SQL rendered."""

    name: str
    family: str
    title: str
    school_year: int
    reference: str
    words: dict[str, str]
    kind: str
    scale: float
    decimals: int
    groups: tuple[str, ...]  # ("all",) or the standard groups of the year
    grades: bool
    inputs: tuple[str, ...]
    base_sql: str
    components: dict[str, str]
    population_sql: str
    numerator_sql: str
    denominator_sql: str
    detail: tuple[str, ...]
    sha256: str
    variant_words: str | None = None
    document: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def subject(self) -> str:
        return "educator" if "educator" in self.base_sql else "student"

    def format_value(self, value: float | None) -> str:
        if value is None:
            return ""
        return f"{value:.{self.decimals}f}"

    def as_dict(self, with_sql: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "family": self.family,
            "title": self.title,
            "school_year": self.school_year,
            "school_year_label": school_year_label(self.school_year),
            "reference": self.reference,
            **self.words,
            "variant": self.variant_words,
            "kind": self.kind,
            "scale": self.scale,
            "rounding_decimals": self.decimals,
            "groups": list(self.groups),
            "by_grade": self.grades,
            "inputs": list(self.inputs),
            "sha256": self.sha256,
        }
        if with_sql:
            out["sql"] = {
                "base": self.base_sql,
                "components": self.components,
                "population": self.population_sql,
                "numerator": self.numerator_sql,
                "denominator": self.denominator_sql,
            }
        return out


def _render(text: str, params: dict[str, Any]) -> str:
    # Two passes: a variant's parameter may itself hold {K12}.
    values = {**GRADE_LISTS, **{k: str(v) for k, v in params.items()}}
    for _ in range(2):
        try:
            text = text.format(**values)
        except KeyError as exc:
            raise MartError(f"definition names an unknown parameter {exc}") from None
    return text


@cache
def _files() -> dict[str, dict]:
    folder = resources.files("nexus.marts") / "indicators"
    found: dict[str, dict] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            doc = yaml.safe_load(entry.read_text(encoding="utf-8"))
            found[doc["family"]] = doc
    return found


def _version_for(doc: dict, year: int) -> dict | None:
    for version in doc["versions"]:
        low, high = version["years"]
        if low <= year <= high:
            return version
    return None


@cache
def standard_groups(year: int) -> tuple[str, ...]:
    from nexus.marts.groups import group_definitions

    return ("all", *[g["code"] for g in group_definitions()])


def _expand(family: str, doc: dict, version: dict, year: int) -> list[Indicator]:
    variants = version.get("variants") or [{"key": None, "params": {}}]
    found = []
    for variant in variants:
        params = variant.get("params", {})
        sql = version["sql"]
        name = family if variant["key"] is None else f"{family}_{variant['key']}"
        kind = variant.get("kind", version["kind"])
        if kind not in KINDS:
            raise MartError(f"{name}: kind {kind!r} is not one of {', '.join(KINDS)}")
        components = dict(sql["components"])
        bad = [c for c, r in components.items() if r not in ROLLUPS]
        if bad:
            raise MartError(f"{name}: components {bad} need a roll-up of sum or max")
        groups_spec = version.get("groups", "standard")
        groups = standard_groups(year) if groups_spec == "standard" else tuple(groups_spec)
        rounding = variant.get("rounding", version.get("rounding", {}))
        identity = {"family": family, "version": version, "variant": variant}
        sha = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
        words = {k: str(version.get(k, "")).strip() for k in WORD_FIELDS if version.get(k)}
        found.append(
            Indicator(
                name=name,
                family=family,
                title=variant.get("title", doc["title"]),
                school_year=year,
                reference=doc.get("reference", ""),
                words=words,
                kind=kind,
                scale=float(variant.get("scale", version.get("scale", 1))),
                decimals=int(rounding.get("decimals", 1)),
                groups=groups,
                grades=bool(version.get("grades", True)),
                inputs=tuple(version.get("inputs", [])),
                base_sql=_render(sql["base"], params).strip(),
                components=components,
                population_sql=_render(str(sql.get("population", "true")), params),
                numerator_sql=_render(str(sql["numerator"]), params),
                denominator_sql=_render(str(sql["denominator"]), params),
                detail=tuple(sql.get("detail", components)),
                sha256=sha,
                variant_words=variant.get("words"),
                document={"family": family, **doc, "versions": [version]},
            )
        )
    return found


def indicators(year: int | str) -> list[Indicator]:
    """Every indicator defined for the school year (its ending year, or `2026-27`)."""
    return list(_indicators_of(parse_school_year(year)))


@cache
def _indicators_of(school_year: int) -> tuple[Indicator, ...]:
    # The definitions are files of the package: expanded once per year and process.
    found: list[Indicator] = []
    for family, doc in _files().items():
        version = _version_for(doc, school_year)
        if version is not None:
            found.extend(_expand(family, doc, version, school_year))
    return tuple(found)


def indicator(name: str, year: int | str) -> Indicator:
    """One indicator of the year, by name (`proportional_attendance`, `acgr_4yr`)."""
    for found in indicators(year):
        if found.name == name:
            return found
    school_year = parse_school_year(year)
    known = [i.name for i in indicators(school_year)]
    raise MartError(
        f"no indicator {name!r} for {school_year_label(school_year)}: "
        f"see `nexus marts indicators` ({len(known)} defined)"
    )


def select(names: list[str] | None, year: int) -> list[Indicator]:
    """The year's indicators, or only the named ones (a family name selects its variants)."""
    every = indicators(year)
    if not names:
        return every
    chosen = [i for i in every if i.name in names or i.family in names]
    unknown = [n for n in names if not any(n in (i.name, i.family) for i in every)]
    if unknown:
        raise MartError(f"no indicator {', '.join(map(repr, unknown))} for this year")
    return chosen
