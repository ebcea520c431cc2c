"""Import DESE's published FileSpec and FileSpecRules HTML pages as a new layout version.

DESE publishes, per school year, cycle and collection, a layout page
(`FileSpec_202710OctoberCycleStudentCore.html`: a table Item, Item Name, Column Name,
Required, Definition, Code Set, Data Type, Length, Precision) and a rules page
(`FileSpecRules_202710OctoberCycleStudentCore.html`: Item_Number, Item_Name,
Collection_Rule_ID, Severity, Business_Rule, Short_Title, General_Message, Detailed_Message).
The year (DESE's ending year), cycle and collection come from the file name, else from the
page title (`FileSpec:202710OctoberCycleStudentCore`); a month of `00` is an annual or precode
page whose cycle the collection name fixes (`FileSpec_202300EOCException.html` → EOCEXP).

`import_pages` parses every page first (a bad page raises `SpecImportError` naming it, before
anything is written), then writes, per school year and layout, one new version (origin
`import`, every field `verified`, source year = the page's year) and the rules, in the
caller's transaction. It returns what changed against what was loaded before.

How a page for one cycle completes a layout collected in several: DESE's layout page lists
every item of the file (the same layout in every cycle; requirements may differ), so the
page's items become the layout's fields, in the page's order. Each field's requirement on the
page becomes its requirement, and its requirement in that cycle (`requirement_by_cycle`), beside
what was known for other cycles. A rules page is complete for its cycle: rules of that cycle
not on it stop applying to the cycle (and are removed once they apply to none).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa

from nexus.mosis.layouts import (
    NULL_HANDLING,
    PLATFORM_TENANT,
    SpecImportError,
    _json,
    current_versions,
    ensure_loaded,
    insert_version,
    layout_meta,
    layout_names,
    replace_rules,
    rule_row,
    school_year_label,
    stored_rules,
)
from nexus.mosis.layouts.build import snake
from nexus.store.reporting_tables import mosis_layout_fields

# The month in a page name (FileSpec_202710…) → the cycle; 00 is an annual or precode page.
MONTHS = {"08": "Aug", "10": "Oct", "12": "Dec", "02": "Feb", "04": "Apr", "06": "Jun"}
MONTH_WORDS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_NAME = re.compile(
    rf"^file\s*spec(?P<rules>rules)?[_:\s]*(?P<year>\d{{4}})?(?P<month>\d{{2}})"
    rf"(?:{MONTH_WORDS})?(?:Cycle)?(?P<collection>.+?)(?:\.html?)?$",
    re.IGNORECASE,
)

FIELD_HEADERS = {
    "item": "item",
    "itemname": "item_name",
    "columnname": "column_name",
    "required": "requirement",
    "definition": "definition",
    "codeset": "code_set",
    "datatype": "data_type",
    "length": "length",
    "precision": "precision",
}
FIELD_REQUIRED = ("item", "item_name", "column_name", "requirement", "data_type", "length")
RULE_HEADERS = {
    "itemnumber": "item",
    "itemname": "item_name",
    "collectionruleid": "rule_id",
    "severity": "severity",
    "businessrule": "business_rule",
    "shorttitle": "short_title",
    "generalmessage": "general_message",
    "detailedmessage": "detailed_message",
}
RULE_REQUIRED = ("item", "rule_id", "severity", "business_rule")
REQUIREMENT_WORDS = {
    "required": "Required",
    "r": "Required",
    "optional": "Optional",
    "o": "Optional",
    "conditional": "Conditional",
    "c": "Conditional",
    "notallowed": "Not Allowed",
    "n": "Not Allowed",
}
SEVERITY_WORDS = {"e": "E", "error": "E", "fatal": "E", "w": "W", "warning": "W"}
# Field attributes compared to tell what changed.
COMPARED = (
    "item",
    "item_name",
    "column_name",
    "requirement",
    "requirement_by_cycle",
    "code_set",
    "data_type",
    "length",
    "precision",
    "provenance",
)
RULE_COMPARED = (
    "severity",
    "item",
    "item_name",
    "short_title",
    "business_rule",
    "general_message",
    "detailed_message",
    "provenance",
)


# --- the result ---------------------------------------------------------------------------------


@dataclass
class PageInfo:
    file: str
    kind: str  # layout | rules
    school_year: int
    cycle: str
    layout: str
    rows: int


@dataclass
class LayoutChanges:
    school_year: int
    layout: str
    old_version: int | None
    new_version: int | None  # None: nothing changed, no version written
    old_origin: str | None
    fields_added: list[dict] = field(default_factory=list)
    fields_removed: list[dict] = field(default_factory=list)
    # {"column": ..., "item": ..., "changes": {attribute: [old, new]}}
    fields_changed: list[dict] = field(default_factory=list)
    cycles_added: list[str] = field(default_factory=list)
    rules_added: list[dict] = field(default_factory=list)
    # Rules of the page's cycle not on the page: {"rule_id", "cycle", "deleted": bool}.
    rules_removed: list[dict] = field(default_factory=list)
    rules_changed: list[dict] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return self.new_version is None


@dataclass
class ImportResult:
    pages: list[PageInfo]
    layouts: list[LayoutChanges]

    def as_dict(self) -> dict:
        return {
            "pages": [asdict(p) for p in self.pages],
            "layouts": [asdict(c) | {"unchanged": c.unchanged} for c in self.layouts],
        }


# --- reading a page -----------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, and the page title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.title = ""
        self.tags = 0
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._in_title = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags += 1
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._close_cell()
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            self._close_cell()
            if not self._stack[-1]:
                self._stack[-1].append([])
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "tr"):
            self._close_cell()
        elif tag == "table" and self._stack:
            self._close_cell()
            self.tables.append(self._stack.pop())
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._cell is not None:
            self._cell.append(data)
        elif len(self.text) < 50:
            self.text.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None and self._stack and self._stack[-1]:
            self._stack[-1][-1].append(" ".join("".join(self._cell).split()))
        self._cell = None


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass
class _Page:
    path: Path
    kind: str  # layout | rules
    school_year: int
    cycle: str
    layout: str
    rows: list[dict]
    raw: bytes


def _page_names(path: Path, title: str, page_text: str) -> list[re.Match]:
    """Name matches of the file name, the page title and the page's first words, in order."""
    found = []
    for candidate in (path.name, title.strip(), page_text.strip()):
        m = _NAME.match(candidate)
        if m:
            found.append(m)
    return found


def _collection_layout(collection: str, school_year: int) -> tuple[str, str | None]:
    """(layout, cycle code fixed by the collection or None) for a page's collection name."""
    wanted = _key(collection)
    for name in layout_names():
        pages = layout_meta(name, school_year).get("pages") or {}
        for page_name, cycle in pages.items():
            if _key(page_name) == wanted:
                return name, cycle
    raise KeyError(collection)


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read_page(path: Path, school_year: int | None = None) -> _Page:
    """Parse one FileSpec / FileSpecRules page; raises `SpecImportError` naming the file."""
    path = Path(path)
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecImportError(f"{name}: cannot read it ({exc.strerror or exc})") from None
    if b"\x00" in raw[:4096]:
        raise SpecImportError(f"{name}: not an HTML page (binary content)")
    parser = _Tables()
    try:
        parser.feed(_text(raw))
        parser.close()
    except Exception as exc:  # html.parser is lenient; anything it refuses is not a page
        raise SpecImportError(f"{name}: not an HTML page ({exc})") from None
    if parser.tags == 0:
        raise SpecImportError(f"{name}: not an HTML page (no tags)")
    matches = _page_names(path, parser.title, " ".join(parser.text))
    if not matches:
        raise SpecImportError(
            f"{name}: cannot tell the year, cycle and collection: name the file as DESE does, "
            f"e.g. FileSpec_202710OctoberCycleStudentCore.html"
        )
    # The first name that maps to a layout (a browser's "… (1).html" falls back on the title).
    for m in matches:
        year = int(m.group("year")) if m.group("year") else school_year
        try:
            layout, fixed_cycle = _collection_layout(m.group("collection"), year or 0)
            break
        except KeyError:
            continue
    else:
        m = matches[0]
        raise SpecImportError(
            f"{name}: unknown collection {m.group('collection')!r}: Nexus has no layout for it "
            f"(layouts: {', '.join(layout_names())})"
        )
    if year is None:
        raise SpecImportError(f"{name}: the page names no school year: give one (--year 2026-27)")
    month = m.group("month")
    if fixed_cycle:
        cycle = fixed_cycle
    elif month in MONTHS:
        cycle = MONTHS[month]
    else:
        cycles = list(layout_meta(layout, year)["cycles"])
        if len(cycles) != 1:
            raise SpecImportError(
                f"{name}: month {month!r} names no cycle of {layout} ({', '.join(cycles)})"
            )
        cycle = cycles[0]
    kind = "rules" if m.group("rules") else "layout"
    if not parser.tables:
        raise SpecImportError(f"{name}: no table on the page")
    headers = FIELD_HEADERS if kind == "layout" else RULE_HEADERS
    required = FIELD_REQUIRED if kind == "layout" else RULE_REQUIRED
    table, columns = _find_table(parser.tables, headers)
    missing = [c for c in required if c not in columns.values()]
    if table is None or missing:
        seen = [c for t in parser.tables[:3] for c in (t[0] if t else [])]
        expected = ", ".join(k for k, v in headers.items() if v in required)
        raise SpecImportError(
            f"{name}: wrong columns for a {'FileSpecRules' if kind == 'rules' else 'FileSpec'} "
            f"page: expected {expected}; found {', '.join(seen) or 'none'}"
        )
    rows = _rows(name, table, columns, kind)
    if not rows:
        raise SpecImportError(f"{name}: the table has no rows")
    return _Page(path, kind, year, cycle, layout, rows, raw)


def _find_table(tables: list[list[list[str]]], headers: dict[str, str]):
    """The first table (and its header row) whose header names the most of `headers`."""
    best, best_columns = None, {}
    for table in tables:
        for i, row in enumerate(table[:3]):
            columns = {j: headers[_key(c)] for j, c in enumerate(row) if _key(c) in headers}
            if len(columns) > len(best_columns):
                best, best_columns = table[i + 1 :], columns
    return best, best_columns


def _rows(name: str, table: list[list[str]], columns: dict[int, str], kind: str) -> list[dict]:
    rows = []
    for cells in table:
        if not any(c.strip() for c in cells):
            continue
        row = {attr: (cells[j].strip() if j < len(cells) else "") for j, attr in columns.items()}
        label = row.get("item") or row.get("rule_id") or row.get("column_name") or "?"
        if kind == "layout":
            if not row.get("column_name"):
                raise SpecImportError(f"{name}: item {label} has no Column Name")
            word = REQUIREMENT_WORDS.get(_key(row["requirement"]))
            if word is None:
                raise SpecImportError(
                    f"{name}: item {label}: Required is {row['requirement']!r}, not one of "
                    f"Required, Optional, Conditional, Not Allowed"
                )
            row["requirement"] = word
            for attr in ("length", "precision"):
                value = row.get(attr, "")
                if value and not value.isdigit():
                    raise SpecImportError(
                        f"{name}: item {label}: {attr} {value!r} is not a whole number"
                    )
        else:
            if not row.get("rule_id"):
                raise SpecImportError(f"{name}: a rule of item {label} has no Collection_Rule_ID")
            severity = SEVERITY_WORDS.get(_key(row["severity"]))
            if severity is None:
                raise SpecImportError(
                    f"{name}: rule {label}: Severity {row['severity']!r} is neither E nor W"
                )
            row["severity"] = severity
        rows.append(row)
    if kind == "rules":
        ids = [r["rule_id"] for r in rows]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise SpecImportError(f"{name}: rule {', '.join(dupes)} appears twice")
    return rows


# --- merging and writing ------------------------------------------------------------------------


def _match_key(f: dict) -> str:
    return (f.get("column_name") or "").lower() or f"item:{f.get('item') or ''}:{f['item_name']}"


def _stored_fields(conn: sa.Connection, school_year: int, layout: str, version: int) -> list[dict]:
    t = mosis_layout_fields
    out = []
    for row in conn.execute(
        sa.select(t)
        .where(t.c.tenant_id == PLATFORM_TENANT, t.c.school_year == school_year)
        .where(t.c.layout == layout, t.c.version == version)
        .order_by(t.c.field_order)
    ).mappings():
        d = dict(row)
        d["cycles"] = _json(d["cycles"])
        d["requirement_by_cycle"] = _json(d["requirement_by_cycle"])
        out.append(d)
    return out


def _apply_layout_page(
    page: _Page, before: list[dict], layout_cycles: list[str], label: str
) -> list[dict]:
    old = {_match_key(f): f for f in before}
    by_item = {f["item"]: _match_key(f) for f in before if f.get("item")}
    used: set[str] = set()
    fields = []
    for row in page.rows:
        key = _match_key(row)
        if key not in old:
            # Same item number, the column renamed (or the package knew no column name).
            key = by_item.get(row.get("item"), key)
        previous = old.get(key) if key not in used else None
        used.add(key)
        requirement = row["requirement"]
        by_cycle = dict((previous or {}).get("requirement_by_cycle") or {})
        if len(layout_cycles) > 1:
            by_cycle[page.cycle] = requirement
            if all(v == requirement for v in by_cycle.values()):
                by_cycle = {}
        else:
            by_cycle = {}
        derivation = f"{page.layout}.{snake(row['column_name'])}"
        fields.append(
            {
                "field_order": len(fields) + 1,
                "item": row.get("item") or None,
                "item_name": row.get("item_name") or "",
                "column_name": row["column_name"],
                "requirement": requirement,
                "requirement_by_cycle": by_cycle or None,
                "code_set": row.get("code_set") or None,
                "data_type": row.get("data_type") or "",
                "length": int(row["length"]) if row.get("length") else None,
                "precision": int(row["precision"]) if row.get("precision") else None,
                "cycles": (previous or {}).get("cycles"),
                "derivation": (previous or {}).get("derivation") or derivation,
                "null_handling": NULL_HANDLING[requirement],
                "definition": row.get("definition") or None,
                "provenance": "verified",
                "provenance_note": f"DESE page {page.path.name}",
                "source_year": label,
            }
        )
    return fields


def _apply_rules_page(
    page: _Page, before: list[dict], layout_cycles: list[str], label: str
) -> tuple[list[dict], list[dict]]:
    """(rules after the page, removals [{rule_id, cycle, deleted}])."""
    on_page = {r["rule_id"]: r for r in page.rows}
    after, removed = [], []
    for rule in before:
        if rule["rule_id"] in on_page:
            continue
        cycles = list(rule["cycles"] or layout_cycles)
        if page.cycle not in cycles:
            after.append(rule)
            continue
        cycles.remove(page.cycle)
        removed.append({"rule_id": rule["rule_id"], "cycle": page.cycle, "deleted": not cycles})
        if cycles:
            after.append(rule | {"cycles": cycles})
    previous = {r["rule_id"]: r for r in before}
    for rule_id, r in on_page.items():
        cycles = list((previous.get(rule_id) or {}).get("cycles") or [])
        if previous.get(rule_id) is not None and not cycles:
            cycles = list(layout_cycles)
        if page.cycle not in cycles:
            cycles.append(page.cycle)
        after.append(
            rule_row(
                page.school_year,
                page.layout,
                {
                    "rule_id": rule_id,
                    "severity": r["severity"],
                    "item": r.get("item") or None,
                    "item_name": r.get("item_name") or None,
                    "short_title": r.get("short_title") or None,
                    "business_rule": r.get("business_rule") or None,
                    "general_message": r.get("general_message") or None,
                    "detailed_message": r.get("detailed_message") or None,
                    "cycles": [c for c in layout_cycles if c in cycles]
                    + [c for c in cycles if c not in layout_cycles],
                    "provenance": "verified",
                    "source_year": label,
                },
            )
        )
    return after, removed


def _plain(value):
    return value if value not in ("", {}, []) else None


def _field_diff(before: list[dict], after: list[dict]) -> tuple[list, list, list]:
    old = {_match_key(f): f for f in before}
    new = {_match_key(f): f for f in after}
    # Fields matched by item number when the column name changed.
    by_item_old = {f["item"]: k for k, f in old.items() if f.get("item")}
    pairs, added = [], []
    used_old: set[str] = set()
    for key, f in new.items():
        k_old = key if key in old else by_item_old.get(f.get("item"))
        if k_old is not None and k_old not in used_old:
            used_old.add(k_old)
            pairs.append((old[k_old], f))
        else:
            added.append(_brief(f))
    removed = [_brief(f) for k, f in old.items() if k not in used_old]
    changed = []
    for o, n in pairs:
        changes = {
            attr: [_plain(o.get(attr)), _plain(n.get(attr))]
            for attr in COMPARED
            if _plain(o.get(attr)) != _plain(n.get(attr))
        }
        # Definitions: DESE's text against DESE's text (the package holds none).
        if o.get("definition") and o.get("definition") != n.get("definition"):
            changes["definition"] = [o["definition"], n.get("definition")]
        if changes:
            changed.append(
                {
                    "column": n["column_name"] or n["item_name"],
                    "item": n["item"],
                    "changes": changes,
                }
            )
    return added, removed, changed


def _brief(f: dict) -> dict:
    return {
        "item": f.get("item"),
        "column": f.get("column_name") or "",
        "item_name": f.get("item_name") or "",
        "requirement": f.get("requirement"),
        "provenance": f.get("provenance"),
    }


def _rule_diff(before: list[dict], after: list[dict]) -> tuple[list, list]:
    old = {r["rule_id"]: r for r in before}
    added, changed = [], []
    for r in after:
        o = old.get(r["rule_id"])
        if o is None:
            added.append({"rule_id": r["rule_id"], "severity": r["severity"], "item": r["item"]})
            continue
        changes = {
            attr: [_plain(o.get(attr)), _plain(r.get(attr))]
            for attr in RULE_COMPARED
            if _plain(o.get(attr)) != _plain(r.get(attr))
        }
        if changes:
            changed.append({"rule_id": r["rule_id"], "changes": changes})
    return added, changed


def import_pages(
    conn: sa.Connection, paths: list[Path] | list[str], school_year: int | None = None
) -> ImportResult:
    """Import DESE FileSpec / FileSpecRules pages (see the module docstring). `school_year`
    is used only for pages whose name and title carry no year (e.g. the Direct Certification
    lookup). Run it inside a transaction (`engine.begin()`): it writes all or nothing."""
    if not paths:
        raise SpecImportError("name at least one FileSpec or FileSpecRules page")
    pages = [read_page(Path(p), school_year) for p in paths]  # every page parses, or nothing
    for year in sorted({p.school_year for p in pages}):
        ensure_loaded(conn, year)  # what the pages are compared with: the shipped layouts
    groups: dict[tuple[int, str], list[_Page]] = {}
    for page in pages:
        groups.setdefault((page.school_year, page.layout), []).append(page)
    infos = [
        PageInfo(p.path.name, p.kind, p.school_year, p.cycle, p.layout, len(p.rows)) for p in pages
    ]
    results = []
    for (year, layout), group in sorted(groups.items()):
        # Layout pages before rules pages; in the order given otherwise.
        group.sort(key=lambda p: p.kind != "layout")
        for kind in ("layout", "rules"):
            cycles = [p.cycle for p in group if p.kind == kind]
            dupes = sorted({c for c in cycles if cycles.count(c) > 1})
            if dupes:
                names = ", ".join(p.path.name for p in group if p.kind == kind)
                raise SpecImportError(
                    f"{names}: two {kind} pages of {layout} {school_year_label(year)} "
                    f"cycle {dupes[0]}"
                )
        results.append(_import_group(conn, year, layout, group))
    return ImportResult(infos, results)


def _import_group(conn: sa.Connection, year: int, layout: str, group: list[_Page]):
    current = current_versions(conn, year).get(layout)
    meta = layout_meta(layout, year)
    fmt = meta["format"]
    if current is not None:
        base = {
            "title": current["title"],
            "file_code": current["file_code"],
            "cycles": list(_json_list(current["cycles"])),
            "delimiter": current["delimiter"],
            "header_row": current["header_row"],
            "date_format": current["date_format"],
            "source_year": current["source_year"],
        }
        before_fields = _stored_fields(conn, year, layout, current["version"])
    else:
        base = {
            "title": meta["title"],
            "file_code": meta.get("file_code"),
            "cycles": [],
            "delimiter": fmt["delimiter"],
            "header_row": fmt["header_row"],
            "date_format": fmt["date_format"],
            "source_year": None,
        }
        before_fields = []
    before_rules = stored_rules(conn, year, layout)
    changes = LayoutChanges(
        school_year=year,
        layout=layout,
        old_version=current["version"] if current else None,
        new_version=None,
        old_origin=current["origin"] if current else None,
    )
    sha = hashlib.sha256()
    for page in sorted(group, key=lambda p: p.path.name):
        sha.update(hashlib.sha256(page.raw).digest())
    digest = sha.hexdigest()
    if current is not None and current["sha256"] == digest:
        return changes  # these very pages were imported last
    cycles = list(base["cycles"])
    fields, rules = before_fields, before_rules
    removed_rules: list[dict] = []
    for page in group:
        if page.cycle not in cycles:
            cycles.append(page.cycle)
            changes.cycles_added.append(page.cycle)
        label = f"{page.school_year} {page.cycle} (DESE page)"
        if page.kind == "layout":
            fields = _apply_layout_page(page, fields, cycles, label)
            base["source_year"] = page.school_year
        else:
            rules, gone = _apply_rules_page(page, rules, cycles, label)
            removed_rules.extend(gone)
    changes.fields_added, changes.fields_removed, changes.fields_changed = _field_diff(
        before_fields, fields
    )
    changes.rules_added, changes.rules_changed = _rule_diff(before_rules, rules)
    changes.rules_removed = removed_rules
    nothing = not (
        changes.fields_added
        or changes.fields_removed
        or changes.fields_changed
        or changes.cycles_added
        or changes.rules_added
        or changes.rules_removed
        or changes.rules_changed
    )
    if nothing and current is not None and current["origin"] == "import":
        return changes  # the pages say what the imported version says already
    version = (current["version"] + 1) if current else 1
    insert_version(
        conn,
        year,
        layout,
        version,
        {**base, "cycles": cycles, "origin": "import", "sha256": digest},
        fields,
    )
    if any(p.kind == "rules" for p in group):
        replace_rules(conn, year, layout, [rule_row(year, layout, r) for r in rules])
    changes.new_version = version
    return changes


def _json_list(value) -> list:
    return _json(value) or []
