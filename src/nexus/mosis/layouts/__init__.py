"""MOSIS layouts as data: DESE's file layouts, code sets and business rules, by school year.

This package owns
- the packaged metadata of each school year (`<year>/`: one CSV of fields per layout,
  `layouts.yaml` with per-layout metadata and the file format, `code_sets/`, `rules/`), built
  from the shared reference by `build.py`, every field saying where it came from (`verified`
  on a DESE page, `inferred` from a sibling layout, `unverified`);
- loading it into `reporting.mosis_layouts`, `mosis_layout_fields`, `mosis_code_sets` and
  `mosis_business_rules` under the platform tenant (0): `load_package`, idempotent, one
  version per change (origin `package`);
- reading it back: `list_layouts`, `get_layout` (a `Layout` of `LayoutField`s, with its code
  sets and rules), `collection_version`, `requirement_for`;
- `spec_import`: DESE's FileSpec / FileSpecRules HTML pages into a new version (origin
  `import`), which `load_package` then leaves alone.

The layer does not know how a value is derived: a field names its derivation
(`student_core.state_id`), and `nexus.mosis.derivations` gives it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from nexus.errors import NexusError
from nexus.mosis.cycles import CYCLE_CODES
from nexus.store.reporting_tables import (
    PLATFORM_TENANT,
    mosis_business_rules,
    mosis_code_sets,
    mosis_layout_fields,
    mosis_layouts,
)

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_SCHOOL_YEAR = 2027  # 2026-27, the current planning target
PROVENANCES = ("verified", "inferred", "unverified")
# The codes DESE writes in CollectionVersion for a cycle: the six months, ALL (annual / any
# time), and the precode windows the packaged layouts name.
MONTH_CODES = tuple(CYCLE_CODES.values())
_ALIASES = {"annual": "ALL", "any": "ALL", "any time": "ALL", "all": "ALL"}


class LayoutError(NexusError):
    """A layout problem described in one clear line (unknown layout, year, cycle, bad page)."""


class SpecImportError(LayoutError):
    """A DESE page that cannot be imported; the message names the file."""


# --- school years and cycles -------------------------------------------------------------------


def parse_school_year(value: str | int) -> int:
    """DESE's CurrentSchoolYear (the ending year) from `2026-27`, `2026-2027` or `2027`."""
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})-(\d{2}|\d{4})", text)
    if m:
        start = int(m.group(1))
        tail = m.group(2)
        end = int(tail) if len(tail) == 4 else (start // 100) * 100 + int(tail)
        if end < start:
            end += 100
        if end != start + 1:
            raise LayoutError(f"{value!r}: a school year spans two consecutive years")
        return end
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    raise LayoutError(f"{value!r}: write the school year as 2026-27 or 2027")


def school_year_label(year: int) -> str:
    return f"{year - 1}-{year % 100:02d}"


def cycle_code(cycle: str) -> str:
    """The cycle's code in CollectionVersion: `october`/`Oct`/`oct` → `Oct`, `annual` → `ALL`,
    `eocexp` → `EOCEXP` (a precode window one of the packaged layouts names)."""
    text = cycle.strip()
    lowered = text.lower()
    for name, code in CYCLE_CODES.items():
        if lowered in (name, code.lower()):
            return code
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    if text.upper() in _window_codes():
        return text.upper()
    known = ", ".join((*CYCLE_CODES, "annual", *sorted(_window_codes())))
    raise LayoutError(f"unknown cycle {cycle!r}: one of {known}")


@cache
def _window_codes() -> frozenset[str]:
    codes: set[str] = set()
    for year in package_years():
        for meta in package_meta(year)["layouts"].values():
            codes.update(c for c in meta["cycles"] if c not in MONTH_CODES and c != "ALL")
    return frozenset(codes)


# --- the dataclasses others use -----------------------------------------------------------------


@dataclass(frozen=True)
class LayoutField:
    """One field of a layout, in file order. `column_name` is blank where no source gave one
    (vendor-named items); `requirement` is Required | Optional | Conditional | Not Allowed |
    Unknown | By cycle (then `requirement_by_cycle` says, per cycle code)."""

    field_order: int
    item: str | None
    item_name: str
    column_name: str
    requirement: str
    requirement_by_cycle: dict[str, str] | None
    code_set: str | None
    data_type: str
    length: int | None
    precision: int | None
    cycles: tuple[str, ...] | None  # where the sources saw it used; None: every cycle
    derivation: str | None
    null_handling: str | None
    definition: str | None
    provenance: str
    provenance_note: str | None
    source_year: str | None

    @property
    def header(self) -> str:
        """The column's name in a file: its column name, else its item name."""
        return self.column_name or self.item_name

    def requirement_for(self, cycle: str) -> str:
        """Required | Optional | Conditional | Not Allowed | Unknown in `cycle` (name or code)."""
        try:
            code = cycle_code(cycle)
        except LayoutError:
            code = cycle
        if self.requirement_by_cycle and code in self.requirement_by_cycle:
            return self.requirement_by_cycle[code]
        return "Unknown" if self.requirement == "By cycle" else self.requirement

    def null_handling_for(self, cycle: str) -> str:
        """What an empty value means in `cycle`: error (required) | conditional (a rule says)
        | blank (may be, or must be, empty)."""
        return NULL_HANDLING[self.requirement_for(cycle)]

    def as_dict(self) -> dict:
        out = asdict(self)
        out["cycles"] = list(self.cycles) if self.cycles is not None else None
        return out


NULL_HANDLING = {
    "Required": "error",
    "Optional": "blank",
    "Conditional": "conditional",
    "Not Allowed": "blank",
    "Unknown": "blank",
    "By cycle": "by-cycle",
}


@dataclass(frozen=True)
class CodeValue:
    code: str
    meaning: str | None
    provenance: str


@dataclass(frozen=True)
class BusinessRule:
    rule_id: str  # DESE's; NOID-nn where the source gave none
    severity: str  # E blocking, W warning, blank: the source did not say
    item: str | None
    item_name: str | None
    short_title: str | None
    business_rule: str | None
    general_message: str | None
    detailed_message: str | None
    cycles: tuple[str, ...] | None
    provenance: str
    source_year: str | None

    def as_dict(self) -> dict:
        out = asdict(self)
        out["cycles"] = list(self.cycles) if self.cycles is not None else None
        return out


@dataclass(frozen=True)
class Layout:
    """One version of a layout of a school year: what a file generator needs."""

    name: str
    school_year: int
    version: int
    title: str
    file_code: str | None
    cycles: tuple[str, ...]  # cycle codes: Oct, Jun, ALL, EOCEXP, ...
    source_year: int | None
    delimiter: str
    header_row: bool
    date_format: str
    origin: str  # package | import
    sha256: str
    loaded_at: datetime | None
    fields: tuple[LayoutField, ...]
    collection_version_pattern: str | None = None
    notes: str | None = None
    code_sets: dict[str, tuple[CodeValue, ...]] = field(default_factory=dict)
    missing_code_sets: tuple[str, ...] = ()  # named by a field, not in mosis_code_sets
    rules: tuple[BusinessRule, ...] = ()

    def field(self, column: str) -> LayoutField:
        for f in self.fields:
            if column in (f.column_name, f.item, f.derivation):
                return f
        raise LayoutError(f"{self.name} has no field {column!r}")

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(PROVENANCES, 0)
        for f in self.fields:
            counts[f.provenance] = counts.get(f.provenance, 0) + 1
        return counts

    def collection_version(self, cycle: str) -> str:
        return collection_version(self, self.school_year, cycle)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "school_year": self.school_year,
            "school_year_label": school_year_label(self.school_year),
            "version": self.version,
            "title": self.title,
            "file_code": self.file_code,
            "collection_version": self.collection_version_pattern,
            "cycles": list(self.cycles),
            "source_year": self.source_year,
            "delimiter": self.delimiter,
            "header_row": self.header_row,
            "date_format": self.date_format,
            "origin": self.origin,
            "sha256": self.sha256,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
            "notes": self.notes,
            "counts": self.counts(),
            "fields": [f.as_dict() for f in self.fields],
            "code_sets": {
                name: [asdict(c) for c in codes] for name, codes in self.code_sets.items()
            },
            "missing_code_sets": list(self.missing_code_sets),
            "rules": [r.as_dict() for r in self.rules],
        }


@dataclass(frozen=True)
class LayoutSummary:
    name: str
    title: str
    version: int
    origin: str
    source_year: int | None
    fields: int
    verified: int
    inferred: int
    unverified: int
    cycles: tuple[str, ...]
    rules: int

    def as_dict(self) -> dict:
        out = asdict(self)
        out["cycles"] = list(self.cycles)
        return out


@dataclass
class LoadResult:
    school_year: int
    layouts: dict[str, str]  # layout → loaded version N | unchanged | kept imported version N
    code_sets_changed: list[str]
    rules_changed: list[str]

    @property
    def changed(self) -> bool:
        return bool(
            self.code_sets_changed
            or self.rules_changed
            or any(v.startswith("loaded") for v in self.layouts.values())
        )

    def as_dict(self) -> dict:
        return asdict(self) | {"changed": self.changed}


def requirement_for(f: LayoutField, cycle: str) -> str:
    """`f.requirement_for(cycle)`, as a function."""
    return f.requirement_for(cycle)


# --- the packaged metadata ----------------------------------------------------------------------


def package_years() -> list[int]:
    return sorted(
        int(p.name)
        for p in PACKAGE_DIR.iterdir()
        if p.is_dir() and p.name.isdigit() and (p / "layouts.yaml").exists()
    )


@cache
def package_meta(school_year: int) -> dict:
    """`<year>/layouts.yaml`: {"format": {...}, "layouts": {name: {...}}}."""
    path = PACKAGE_DIR / str(school_year) / "layouts.yaml"
    if not path.exists():
        years = ", ".join(school_year_label(y) for y in package_years())
        raise LayoutError(
            f"Nexus ships no MOSIS layouts for {school_year_label(school_year)} (it has {years}): "
            f"import DESE's pages with `nexus mosis spec import`"
        )
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def layout_meta(name: str, school_year: int) -> dict:
    """The packaged metadata of layout `name`: of `school_year` when shipped, else of the
    nearest packaged year (CollectionVersion pattern, cycles, page names do not change often)."""
    years = package_years()
    ordered = sorted(years, key=lambda y: (abs(y - school_year), -y))
    for year in ordered:
        layouts = package_meta(year)["layouts"]
        if name in layouts:
            return layouts[name] | {"format": package_meta(year)["format"]}
    raise LayoutError(f"unknown MOSIS layout {name!r}: one of {', '.join(layout_names())}")


def partial_code_sets(school_year: int) -> frozenset[str]:
    """Code sets the package knows to be partial (`partial_code_sets` in layouts.yaml, of the
    nearest packaged year): a value outside one only warns, it never blocks a row."""
    years = sorted(package_years(), key=lambda y: (abs(y - school_year), -y))
    if not years:
        return frozenset()
    return frozenset(package_meta(years[0]).get("partial_code_sets") or ())


def layout_names() -> list[str]:
    names: list[str] = []
    for year in reversed(package_years()):
        names.extend(n for n in package_meta(year)["layouts"] if n not in names)
    return names


def _read_package_csv(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return [{k: (v or "") for k, v in row.items()} for row in csv.DictReader(handle)]


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _blank_none(value: str | None) -> str | None:
    return value if value not in (None, "") else None


def _split(value: str) -> list[str] | None:
    parts = [p for p in value.split(";") if p]
    return parts or None


def _json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    return value


def field_row(school_year: int, layout: str, version: int, f: dict) -> dict:
    """A `mosis_layout_fields` row from a field dict (package CSV or import)."""
    return {
        "tenant_id": PLATFORM_TENANT,
        "school_year": school_year,
        "layout": layout,
        "version": version,
        "field_order": int(f["field_order"]),
        "item": _blank_none(f.get("item")),
        "item_name": f.get("item_name") or "",
        "column_name": f.get("column_name") or "",
        "requirement": f["requirement"],
        "requirement_by_cycle": f.get("requirement_by_cycle") or None,
        "code_set": _blank_none(f.get("code_set")),
        "data_type": f.get("data_type") or "",
        "length": _int(f.get("length")),
        "precision": _int(f.get("precision")),
        "cycles": list(f["cycles"]) if f.get("cycles") else None,
        "derivation": _blank_none(f.get("derivation")),
        "null_handling": _blank_none(f.get("null_handling")),
        "definition": _blank_none(f.get("definition")),
        "provenance": f["provenance"],
        "provenance_note": _blank_none(f.get("provenance_note")),
        "source_year": _blank_none(f.get("source_year")),
    }


def _package_fields(school_year: int, name: str) -> list[dict]:
    rows = _read_package_csv(PACKAGE_DIR / str(school_year) / f"{name}.csv")
    for row in rows:
        row["requirement_by_cycle"] = (
            json.loads(row["requirement_by_cycle"]) if row["requirement_by_cycle"] else None
        )
        row["cycles"] = _split(row["cycles"])
    return rows


def _package_rules(school_year: int, name: str) -> list[dict]:
    path = PACKAGE_DIR / str(school_year) / "rules" / f"{name}.csv"
    if not path.exists():
        return []
    return [
        rule_row(school_year, name, r | {"cycles": _split(r["cycles"])})
        for r in _read_package_csv(path)
    ]


def rule_row(school_year: int, layout: str, r: dict) -> dict:
    """A `mosis_business_rules` row from a rule dict (package CSV or import)."""
    return {
        "tenant_id": PLATFORM_TENANT,
        "school_year": school_year,
        "layout": layout,
        "rule_id": r["rule_id"],
        "severity": r.get("severity") or "",
        "item": _blank_none(r.get("item")),
        "item_name": _blank_none(r.get("item_name")),
        "short_title": _blank_none(r.get("short_title")),
        "business_rule": _blank_none(r.get("business_rule")),
        "general_message": _blank_none(r.get("general_message")),
        "detailed_message": _blank_none(r.get("detailed_message")),
        "cycles": list(r["cycles"]) if r.get("cycles") else None,
        "provenance": r["provenance"],
        "source_year": _blank_none(r.get("source_year")),
    }


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


# --- loading ------------------------------------------------------------------------------------


def current_versions(conn: sa.Connection, school_year: int) -> dict[str, dict]:
    """Per layout of the year, its newest version row (as a dict)."""
    t = mosis_layouts
    rows = conn.execute(
        sa.select(t)
        .where(t.c.tenant_id == PLATFORM_TENANT, t.c.school_year == school_year)
        .order_by(t.c.layout, t.c.version)
    ).mappings()
    return {row["layout"]: dict(row) for row in rows}  # the last (newest) one wins


def insert_version(
    conn: sa.Connection,
    school_year: int,
    name: str,
    version: int,
    meta: dict,
    fields: list[dict],
) -> None:
    """Write one layout version: its `mosis_layouts` row and its fields."""
    conn.execute(
        mosis_layouts.insert().values(
            tenant_id=PLATFORM_TENANT,
            school_year=school_year,
            layout=name,
            version=version,
            title=meta["title"],
            file_code=meta.get("file_code"),
            cycles=list(meta["cycles"]),
            source_year=meta.get("source_year"),
            delimiter=meta["delimiter"],
            header_row=bool(meta["header_row"]),
            date_format=meta["date_format"],
            origin=meta["origin"],
            sha256=meta["sha256"],
            loaded_at=datetime.now(UTC),
        )
    )
    if fields:
        conn.execute(
            mosis_layout_fields.insert(),
            [field_row(school_year, name, version, f) for f in fields],
        )


def _rule_key(row: dict) -> tuple:
    return tuple(
        (k, tuple(row[k]) if isinstance(row[k], list) else row[k])
        for k in sorted(row)
        if k not in ("tenant_id",)
    )


def stored_rules(conn: sa.Connection, school_year: int, layout: str) -> list[dict]:
    t = mosis_business_rules
    rows = conn.execute(
        sa.select(t)
        .where(t.c.tenant_id == PLATFORM_TENANT, t.c.school_year == school_year)
        .where(t.c.layout == layout)
        .order_by(t.c.rule_id)
    ).mappings()
    out = []
    for row in rows:
        d = dict(row)
        d["cycles"] = _json(d["cycles"])
        out.append(d)
    return out


def replace_rules(conn: sa.Connection, school_year: int, layout: str, rows: list[dict]) -> None:
    t = mosis_business_rules
    conn.execute(
        t.delete().where(
            t.c.tenant_id == PLATFORM_TENANT, t.c.school_year == school_year, t.c.layout == layout
        )
    )
    if rows:
        conn.execute(t.insert(), rows)


def load_package(conn: sa.Connection, school_year: int = DEFAULT_SCHOOL_YEAR) -> LoadResult:
    """Load (or refresh) the packaged layouts, code sets and rules of `school_year` into the
    reporting tables under tenant 0. Idempotent: a layout whose packaged files are unchanged
    (same sha256) is left as it is; a changed one gets a new version (older versions stay, so
    extract runs keep naming the version they used). A layout whose newest version was
    imported from DESE's pages is left alone, with its rules."""
    meta = package_meta(school_year)
    fmt = meta["format"]
    base = PACKAGE_DIR / str(school_year)
    current = current_versions(conn, school_year)
    result = LoadResult(school_year, {}, [], [])
    imported: set[str] = set()
    for name, m in meta["layouts"].items():
        rules_path = base / "rules" / f"{name}.csv"
        # A layout may state its own format (the MOSIS ID batch is tab-delimited).
        m = {k: v for k, v in m.items() if k != "format"} | {**fmt, **(m.get("format") or {})}
        sha = _sha256(
            (base / f"{name}.csv").read_bytes(),
            rules_path.read_bytes() if rules_path.exists() else b"",
            json.dumps(m, sort_keys=True).encode(),
        )
        cur = current.get(name)
        if cur is not None and cur["origin"] != "package":
            result.layouts[name] = f"kept imported version {cur['version']}"
            imported.add(name)
            continue
        if cur is not None and cur["sha256"] == sha:
            result.layouts[name] = "unchanged"
            continue
        version = cur["version"] + 1 if cur else 1
        insert_version(
            conn,
            school_year,
            name,
            version,
            {**m, "origin": "package", "sha256": sha},
            _package_fields(school_year, name),
        )
        result.layouts[name] = f"loaded version {version}"
    # Rules: per layout (and for collections without a layout yet, e.g. graduate follow-up).
    for path in sorted((base / "rules").glob("*.csv")):
        name = path.stem
        if name in imported:
            continue
        wanted = _package_rules(school_year, name)
        have = stored_rules(conn, school_year, name)
        if sorted(map(_rule_key, wanted)) != sorted(map(_rule_key, have)):
            replace_rules(conn, school_year, name, wanted)
            result.rules_changed.append(name)
    # Code sets: DESE's, shared by every layout of the year.
    t = mosis_code_sets
    for path in sorted((base / "code_sets").glob("*.csv")):
        name = path.stem
        wanted = {
            r["code"]: (r["meaning"] or None, r["provenance"]) for r in _read_package_csv(path)
        }
        have = {
            code: (meaning, provenance)
            for code, meaning, provenance in conn.execute(
                sa.select(t.c.code, t.c.meaning, t.c.provenance).where(
                    t.c.tenant_id == PLATFORM_TENANT,
                    t.c.school_year == school_year,
                    t.c.code_set == name,
                )
            )
        }
        if wanted != have:
            conn.execute(
                t.delete().where(
                    t.c.tenant_id == PLATFORM_TENANT,
                    t.c.school_year == school_year,
                    t.c.code_set == name,
                )
            )
            conn.execute(
                t.insert(),
                [
                    {
                        "tenant_id": PLATFORM_TENANT,
                        "school_year": school_year,
                        "code_set": name,
                        "code": code,
                        "meaning": meaning,
                        "provenance": provenance,
                    }
                    for code, (meaning, provenance) in wanted.items()
                ],
            )
            result.code_sets_changed.append(name)
    return result


def ensure_loaded(conn: sa.Connection, school_year: int) -> LoadResult | None:
    """`load_package` when Nexus ships the year's layouts; None when it does not."""
    if school_year not in package_years():
        return None
    return load_package(conn, school_year)


# --- reading ------------------------------------------------------------------------------------


def _order(school_year: int) -> dict[str, int]:
    return {name: i for i, name in enumerate(layout_names())}


def list_layouts(conn: sa.Connection, school_year: int) -> list[LayoutSummary]:
    """Per layout of the year (its newest version): version, origin, source year, fields and
    how many are verified, inferred and unverified, cycles, rules."""
    current = current_versions(conn, school_year)
    f = mosis_layout_fields
    counts: dict[tuple[str, int], dict[str, int]] = {}
    for layout, version, provenance, n in conn.execute(
        sa.select(f.c.layout, f.c.version, f.c.provenance, sa.func.count())
        .where(f.c.tenant_id == PLATFORM_TENANT, f.c.school_year == school_year)
        .group_by(f.c.layout, f.c.version, f.c.provenance)
    ):
        counts.setdefault((layout, version), {})[provenance] = int(n)
    r = mosis_business_rules
    rules = dict(
        conn.execute(
            sa.select(r.c.layout, sa.func.count())
            .where(r.c.tenant_id == PLATFORM_TENANT, r.c.school_year == school_year)
            .group_by(r.c.layout)
        ).all()
    )
    order = _order(school_year)
    out = []
    for name in sorted(current, key=lambda n: (order.get(n, len(order)), n)):
        row = current[name]
        c = counts.get((name, row["version"]), {})
        out.append(
            LayoutSummary(
                name=name,
                title=row["title"],
                version=row["version"],
                origin=row["origin"],
                source_year=row["source_year"],
                fields=sum(c.values()),
                verified=c.get("verified", 0),
                inferred=c.get("inferred", 0),
                unverified=c.get("unverified", 0),
                cycles=tuple(_json(row["cycles"]) or ()),
                rules=int(rules.get(name, 0)),
            )
        )
    return out


def _field_from_row(row: Any) -> LayoutField:
    cycles = _json(row["cycles"])
    return LayoutField(
        field_order=row["field_order"],
        item=row["item"],
        item_name=row["item_name"],
        column_name=row["column_name"],
        requirement=row["requirement"],
        requirement_by_cycle=_json(row["requirement_by_cycle"]),
        code_set=row["code_set"],
        data_type=row["data_type"],
        length=row["length"],
        precision=row["precision"],
        cycles=tuple(cycles) if cycles is not None else None,
        derivation=row["derivation"],
        null_handling=row["null_handling"],
        definition=row["definition"],
        provenance=row["provenance"],
        provenance_note=row["provenance_note"],
        source_year=row["source_year"],
    )


def get_layout(
    conn: sa.Connection, name: str, school_year: int, version: int | None = None
) -> Layout:
    """Layout `name` of `school_year` (its newest version unless `version`), with its fields in
    file order, the code sets its fields name and its business rules."""
    t = mosis_layouts
    query = sa.select(t).where(
        t.c.tenant_id == PLATFORM_TENANT, t.c.school_year == school_year, t.c.layout == name
    )
    if version is not None:
        query = query.where(t.c.version == version)
    row = conn.execute(query.order_by(t.c.version.desc()).limit(1)).mappings().first()
    if row is None:
        if name not in layout_names():
            raise LayoutError(f"unknown MOSIS layout {name!r}: one of {', '.join(layout_names())}")
        which = f"version {version} of " if version is not None else ""
        raise LayoutError(f"no {which}layout {name} for {school_year_label(school_year)} is loaded")
    f = mosis_layout_fields
    fields = tuple(
        _field_from_row(r)
        for r in conn.execute(
            sa.select(f)
            .where(f.c.tenant_id == PLATFORM_TENANT, f.c.school_year == school_year)
            .where(f.c.layout == name, f.c.version == row["version"])
            .order_by(f.c.field_order)
        ).mappings()
    )
    used = sorted({x.code_set for x in fields if x.code_set})
    c = mosis_code_sets
    code_sets: dict[str, list[CodeValue]] = {}
    if used:
        for r in conn.execute(
            sa.select(c.c.code_set, c.c.code, c.c.meaning, c.c.provenance)
            .where(c.c.tenant_id == PLATFORM_TENANT, c.c.school_year == school_year)
            .where(c.c.code_set.in_(used))
            .order_by(c.c.code_set, c.c.code)
        ):
            code_sets.setdefault(r.code_set, []).append(CodeValue(r.code, r.meaning, r.provenance))
    rules = tuple(
        BusinessRule(
            rule_id=r["rule_id"],
            severity=r["severity"],
            item=r["item"],
            item_name=r["item_name"],
            short_title=r["short_title"],
            business_rule=r["business_rule"],
            general_message=r["general_message"],
            detailed_message=r["detailed_message"],
            cycles=tuple(r["cycles"]) if r["cycles"] is not None else None,
            provenance=r["provenance"],
            source_year=r["source_year"],
        )
        for r in sorted(
            stored_rules(conn, school_year, name), key=lambda r: (r["item"] or "~", r["rule_id"])
        )
    )
    try:
        meta = layout_meta(name, school_year)
    except LayoutError:
        meta = {}
    return Layout(
        name=name,
        school_year=school_year,
        version=row["version"],
        title=row["title"],
        file_code=row["file_code"],
        cycles=tuple(_json(row["cycles"]) or ()),
        source_year=row["source_year"],
        delimiter=row["delimiter"],
        header_row=bool(row["header_row"]),
        date_format=row["date_format"],
        origin=row["origin"],
        sha256=row["sha256"],
        loaded_at=row["loaded_at"],
        fields=fields,
        collection_version_pattern=meta.get("collection_version"),
        notes=meta.get("notes"),
        code_sets={k: tuple(v) for k, v in code_sets.items()},
        missing_code_sets=tuple(n for n in used if n not in code_sets),
        rules=rules,
    )


def collection_version(layout: Layout | str, school_year: int, cycle: str) -> str:
    """The CollectionVersion string of a file: `2027Oct1.0StuCore`, `2027ALL1.0ASVAB`,
    `2027JunSchoolCalHeader` (calendars have no "1.0"), `2027EOCEXP1.0AsmPre`,
    `ALL1.0DirectCert`. `layout` is a `Layout` or a layout name; `cycle` a name or code."""
    if isinstance(layout, Layout):
        name, cycles, file_code = layout.name, layout.cycles, layout.file_code
        pattern = layout.collection_version_pattern
        if pattern is None:
            pattern = layout_meta(name, school_year).get("collection_version")
    else:
        meta = layout_meta(layout, school_year)
        name, cycles, file_code = layout, tuple(meta["cycles"]), meta.get("file_code")
        pattern = meta.get("collection_version")
    if not pattern:
        raise LayoutError(f"{name} files carry no CollectionVersion")
    code = cycle_code(cycle)
    if cycles and code not in cycles:
        raise LayoutError(
            f"{name} is not collected in cycle {cycle!r} (its cycles: {', '.join(cycles)})"
        )
    return pattern.format(year=school_year, cycle=code, file_code=file_code or "")
