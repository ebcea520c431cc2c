"""`nexus marts report`: a district's or a school's grade card as one self-contained HTML file
(inline CSS and SVG charts rendered offline by Altair + vl-convert; no script, no network)
and the same tables as XLSX. Public by default: suppressed cells are `*`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import sqlalchemy as sa
import vl_convert
from jinja2 import Environment, PackageLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Font

from nexus.marts.access import check_role, sees_student_level
from nexus.marts.definitions import Indicator, MartError, indicators
from nexus.marts.groups import group_labels
from nexus.marts.query import public_cell, school_ids, schools
from nexus.marts.refresh import tenant_id_of
from nexus.marts.suppression import HIDDEN, rule_for
from nexus.mosis.layouts import parse_school_year, school_year_label
from nexus.store import Store
from nexus.store.mart_tables import ALL, DISTRICT_UNIT, grade_card_aggregates

SECTIONS = [
    (
        "Enrollment and demographics",
        ("k12_enrollment", "membership", "frl_percent", "demographic_share"),
    ),
    (
        "Attendance",
        (
            "attendance_rate",
            "proportional_attendance",
            "chronic_absence_hours",
            "chronic_absence_days",
        ),
    ),
    ("Discipline", ("discipline",)),
    ("Graduation and dropout", ("acgr", "dropout_rate", "graduate_follow_up")),
    ("Assessment", ("map_proficient", "mpi", "map_level")),
    ("Educators", ("educators",)),
    ("Courses and credits", ("courses", "credits_earned")),
]
# Indicators charted by student group (the rest stay tables: a chart per indicator would
# bury the card).
CHARTED = (
    "proportional_attendance",
    "attendance_rate",
    "chronic_absence_hours",
    "frl_percent",
    "acgr_4yr",
    "dropout_rate",
    "map_proficient_ela",
    "map_proficient_math",
    "mpi_ela",
    "mpi_math",
    "discipline_incidents",
)
GAPS = [
    "MSIP 6 APR points, targets and the percent of points earned: the reference could not "
    "read the MSIP 6 Comprehensive Guide's point tables (reference 1.2, 4.20).",
    "Growth (MSIP 5 NCE, MSIP 6 value-added) and English-learner progress: DESE computes them "
    "from statewide data; they are to be loaded from DESE's files, not recomputed (4.15, 4.16).",
    "Educator experience, advanced degrees and salaries: not in the canonical model yet (4.18).",
    "College and career readiness (ACT, AP/IB, dual credit, IRC): no source Nexus reads "
    "delivers those scores or credentials yet (4.17).",
    "Student mobility rate: DESE's formula is not published (4.4).",
    "State level: a tenant is one district; a statewide figure needs every district's data.",
]


@dataclass
class ReportResult:
    html: Path
    xlsx: Path
    indicators: int
    charts: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "html": str(self.html),
            "xlsx": str(self.xlsx),
            "indicators": self.indicators,
            "charts": self.charts,
        }


def _chart(title: str, rows: list[dict]) -> str:
    data = [{"group": r["label"], "value": float(r["raw"])} for r in rows]
    chart = (
        alt.Chart(alt.Data(values=data))
        .mark_bar(color="#2f6db5")
        .encode(
            x=alt.X("value:Q", title=title),
            y=alt.Y("group:N", sort=None, title=None),
            tooltip=["group:N", "value:Q"],
        )
        .properties(width=420, height=18 * len(data))
    )
    svg = vl_convert.vegalite_to_svg(json.dumps(chart.to_dict()))
    return svg


def _definition(ind: Indicator) -> list[tuple[str, str]]:
    words = dict(ind.words)
    pairs = [
        ("Purpose", words.get("purpose", "")),
        ("Population", words.get("population", "")),
        ("Count date", words.get("count_date", "")),
        ("Numerator", words.get("numerator", "")),
        ("Denominator", words.get("denominator", "")),
        ("Threshold", words.get("threshold", "")),
        ("Minimum", words.get("minimum", "")),
        ("Rounding", f"{ind.decimals} decimal(s), from unrounded sums"),
        ("Groups", ", ".join(group_labels().get(g, g) for g in ind.groups)),
        ("Framework", words.get("framework", "")),
        ("Source", f"{words.get('source_tag', '')} · {ind.reference}"),
    ]
    if ind.variant_words:
        pairs.insert(1, ("This variant", ind.variant_words))
    if words.get("caveat"):
        pairs.append(("Caveat", words["caveat"]))
    return [(k, v) for k, v in pairs if v]


def write_report(
    store: Store,
    tenant_code: str,
    year: int | str,
    out_dir: Path,
    school_code: str | None = None,
    role: str = "public",
) -> ReportResult:
    """Write the grade card of the district (or of one school) for the year."""
    check_role(role)
    school_year = parse_school_year(year)
    defined = indicators(school_year)
    a = grade_card_aggregates
    with store.engine.connect() as conn:
        tenant_id = tenant_id_of(conn, tenant_code)
        names = schools(conn, tenant_id)
        units = school_ids(conn, tenant_id, school_code) if school_code else [DISTRICT_UNIT]
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(a).where(
                    a.c.tenant_id == tenant_id,
                    a.c.school_id.in_(units),
                    a.c.grade_level == ALL,
                    a.c.school_year <= school_year,
                )
            ).mappings()
        ]
        district = conn.execute(
            sa.text("SELECT name FROM platform.tenants WHERE tenant_id = :t"), {"t": tenant_id}
        ).scalar_one()
    if not any(r["school_year"] == school_year for r in rows):
        raise MartError(
            f"no marts for {school_year_label(school_year)}"
            f"{' at school ' + school_code if school_code else ''}: "
            f"run `nexus marts refresh --year {school_year}` first"
        )
    cell: dict[tuple[str, int, str], dict] = {}
    for r in rows:
        cell[(r["indicator"], r["school_year"], r["group_code"])] = r
    years = sorted({r["school_year"] for r in rows})[-5:]
    labels = group_labels()
    by_family: dict[str, list[Indicator]] = {}
    for ind in defined:
        by_family.setdefault(ind.family, []).append(ind)
    sections, sheet_rows, group_rows = [], [], []
    charts = 0
    for title, families in SECTIONS:
        items = []
        for family in families:
            for ind in by_family.get(family, []):
                current = cell.get((ind.name, school_year, ALL))
                history = []
                for y in years:
                    found = cell.get((ind.name, y, ALL))
                    history.append(public_cell(ind, found, role)["value"] if found else "")
                shown = public_cell(ind, current, role) if current else None
                group_list = []
                chartable = []
                for g in ind.groups:
                    found = cell.get((ind.name, school_year, g))
                    if not found:
                        continue
                    public = public_cell(ind, found, role)
                    group_list.append({"label": labels.get(g, g), **public})
                    group_rows.append([ind.name, labels.get(g, g), public["value"], public["n"]])
                    if public["value"] not in (HIDDEN, "") and found["value"] is not None:
                        chartable.append({"label": labels.get(g, g), "raw": found["value"]})
                chart = ""
                if ind.name in CHARTED and len(chartable) > 1:
                    chart = _chart(ind.title, chartable)
                    charts += 1
                items.append(
                    {
                        "name": ind.name,
                        "title": ind.title,
                        "source_tag": ind.words.get("source_tag", ""),
                        "years": [school_year_label(y) for y in years],
                        "history": history,
                        "n": shown["n"] if shown else "",
                        "groups": group_list if len(group_list) > 1 else [],
                        "chart": chart,
                        "definition": _definition(ind),
                        "sql": ind.base_sql,
                    }
                )
                sheet_rows.append(
                    [
                        ind.name,
                        ind.title,
                        *history,
                        shown["n"] if shown else "",
                        ind.words.get("source_tag", ""),
                    ]
                )
        if items:
            sections.append({"title": title, "items": items})
    if school_code:
        school = names.get(units[0], {})
        unit_label = f"{school.get('school_name') or ''} ({school_code}), {district}"
        stem = f"grade-card-{tenant_code}-{school_code}-{school_year}"
    else:
        unit_label = district
        stem = f"grade-card-{tenant_code}-district-{school_year}"
    rule = rule_for(school_year)
    env = Environment(
        loader=PackageLoader("nexus.marts", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    html = env.get_template("grade_card.html.j2").render(
        title=f"Grade card: {unit_label}",
        unit_label=unit_label,
        year_label=school_year_label(school_year),
        audience_note=(
            "unsuppressed view for a student-level role"
            if sees_student_level(role)
            else "public view (small cells suppressed)"
        ),
        rule=rule,
        sections=sections,
        gaps=GAPS,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    xlsx_path = out_dir / f"{stem}.xlsx"
    _write_xlsx(
        xlsx_path,
        [school_year_label(y) for y in years],
        sheet_rows,
        group_rows,
        [i for f in by_family.values() for i in f],
    )
    return ReportResult(html_path, xlsx_path, len(sheet_rows), charts)


def _number(value: Any) -> Any:
    """Shown values as numbers in the workbook; `*` (suppressed) and text stay text."""
    if isinstance(value, str) and value not in ("", "*"):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _write_xlsx(
    path: Path, years: list[str], rows: list[list], group_rows: list[list], defined: list
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Indicators"
    sheet.append(["indicator", "title", *years, "n", "source"])
    for row in rows:
        sheet.append([_number(v) for v in row])
    groups = book.create_sheet("By group")
    groups.append(["indicator", "group", "value", "n"])
    for row in group_rows:
        groups.append([_number(v) for v in row])
    definitions = book.create_sheet("Definitions")
    definitions.append(["indicator", "field", "definition"])
    for ind in defined:
        for key, value in _definition(ind):
            definitions.append([ind.name, key, value])
    for ws in book.worksheets:
        for c in ws[1]:
            c.font = Font(bold=True)
    book.save(path)
