"""Marts: the indicator explorer, an indicator's definition, refresh, and drill-through.

The explorer picks a year, an indicator, a level (the district or its schools), a school, a
grade and a student group, and shows the cells as a table and a bar chart (SVG rendered on
the server by Altair + vl-convert, as `nexus marts report` does: no script, nothing from the
network). Cells come from `nexus.marts.query.cells` and the students behind one from
`query.drill`, the functions `nexus marts show` and `nexus marts drill` call.

Who sees what is the workspace's permission table (`permissions.py`), handed to the marts
layer as its viewer label: a user who may see student-level rows (admin, operator) gets the
marts' unsuppressed view (`STUDENT_VIEW`: values, with the reason a cell is hidden from the
public) and drill-through; anyone else (the analyst) gets the public view, suppressed cells
shown as `*`, and no drill links. `query.drill` writes the audit row itself ("view.drill",
with the person ids), so this module does not audit it again.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import altair as alt
import sqlalchemy as sa
import vl_convert
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nexus.marts import definitions
from nexus.marts.definitions import MartError
from nexus.marts.groups import group_labels
from nexus.marts.mosis_marts import refresh_operational
from nexus.marts.query import cells, drill, schools
from nexus.marts.refresh import refresh
from nexus.marts.suppression import HIDDEN
from nexus.mosis.layouts import DEFAULT_SCHOOL_YEAR, parse_school_year, school_year_label
from nexus.store.mart_tables import (
    ALL,
    DISTRICT_UNIT,
    grade_card_aggregates,
    grade_card_refresh_state,
)
from nexus.web import permissions
from nexus.web.pages.jobs import start_job
from nexus.web.security import Tenancy, TenantContext
from nexus.web.tables import Column, TableView
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["marts"])

# The marts layer's label for a viewer allowed student-level data (nexus.marts.access).
STUDENT_VIEW = "admin"
PUBLIC_VIEW = "public"
LEVELS = ("district", "school")
PREFERRED = ("proportional_attendance", "attendance_rate", "k12_enrollment")
DRILL_ACTION = "view.drill"


def mart_role(ctx: TenantContext) -> str:
    """The marts layer's viewer for this user (see the module docstring)."""
    return STUDENT_VIEW if ctx.can(permissions.VIEW_STUDENTS) else PUBLIC_VIEW


class Selection(BaseModel):
    """What the explorer shows: one indicator of one year, at one level, cut by grade/group."""

    year: int
    indicator: str
    level: str = "district"
    school: str | None = None
    grade: str = ALL
    group: str = ALL

    def query(self, **changes: Any) -> str:
        values = {**self.model_dump(), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def _refreshed_years(ctx: TenantContext) -> list[int]:
    # The refresh state has a row per year and indicator built: far smaller than the
    # aggregates, and the same years.
    r = grade_card_refresh_state
    with ctx.store.engine.connect() as conn:
        return [
            int(y)
            for y in conn.execute(
                sa.select(r.c.school_year)
                .where(r.c.tenant_id == ctx.tenant_id)
                .distinct()
                .order_by(r.c.school_year.desc())
            ).scalars()
        ]


def _grades(ctx: TenantContext, year: int, name: str) -> list[str]:
    a = grade_card_aggregates
    with ctx.store.engine.connect() as conn:
        return sorted(
            g
            for g in conn.execute(
                sa.select(a.c.grade_level)
                .where(
                    a.c.tenant_id == ctx.tenant_id,
                    a.c.school_year == year,
                    a.c.indicator == name,
                    a.c.grade_level != ALL,
                )
                .distinct()
            ).scalars()
        )


def _school_options(ctx: TenantContext) -> list[dict]:
    with ctx.store.engine.connect() as conn:
        found = schools(conn, ctx.tenant_id)
    return sorted(
        (v for k, v in found.items() if k != DISTRICT_UNIT and v["school_code"]),
        key=lambda s: s["school_code"],
    )


def selection(
    ctx: TenantContext,
    year: str | None,
    indicator: str | None,
    level: str | None,
    school: str | None,
    grade: str | None,
    group: str | None,
) -> Selection:
    """The explorer's selection from its query parameters, defaults filled in and checked."""
    if year:
        school_year = parse_school_year(year)
    else:
        years = _refreshed_years(ctx)
        school_year = years[0] if years else DEFAULT_SCHOOL_YEAR
    if indicator:
        ind = definitions.indicator(indicator, school_year)
    else:
        defined = {i.name: i for i in definitions.indicators(school_year)}
        if not defined:
            raise MartError(f"no indicators are defined for {school_year_label(school_year)}")
        ind = next((defined[n] for n in PREFERRED if n in defined), next(iter(defined.values())))
    level = level or ("school" if school else "district")
    if level not in LEVELS:
        raise MartError(f"level {level!r}: one of {', '.join(LEVELS)}")
    group = group or ALL
    grade = grade or ALL
    if group != ALL and group not in ind.groups:
        raise MartError(f"{ind.name} is not reported for group {group!r}")
    if group != ALL and grade != ALL:
        raise MartError("pick a grade or a student group, not both (cells are by one of them)")
    return Selection(
        year=school_year,
        indicator=ind.name,
        level=level,
        school=(school or None) if level == "school" else None,
        grade=grade,
        group=group,
    )


def explore(ctx: TenantContext, sel: Selection) -> dict:
    """The selection's cells as `nexus marts show` gives them to this user's role."""
    role = mart_role(ctx)
    if sel.level == "school" and not sel.school:
        by = "school"  # one line per school: every grade, every student
    elif sel.grade != ALL:
        by = "grade"
    else:
        by = "group"
    found = cells(
        ctx.store, ctx.code, sel.indicator, sel.year, by=by, school_code=sel.school, role=role
    )
    rows = found["cells"]
    if by == "grade":
        rows = [c for c in rows if c["grade"] == sel.grade]
    elif by == "group" and sel.group != ALL:
        rows = [c for c in rows if c["group"] == sel.group]
    may_drill = ctx.can(permissions.VIEW_STUDENTS)
    for c in rows:
        c["label"] = _label(by, c)
        c["shown_suppressed"] = c["value"] == HIDDEN
        c["drill_url"] = (
            f"/t/{ctx.code}/marts/drill?"
            + urlencode(
                {
                    "year": sel.year,
                    "indicator": sel.indicator,
                    "school": c["school_code"] or "",
                    "grade": c["grade"],
                    "group": c["group"],
                }
            )
            if may_drill and not c["shown_suppressed"] and c["n"]
            else None
        )
    return {**found, "by": by, "selection": sel.model_dump(), "cells": rows}


def _label(by: str, cell: dict) -> str:
    if by == "school":
        return f"{cell['school_code']} {cell['school_name'] or ''}".strip()
    if by == "grade":
        return f"grade {cell['grade']}"
    return cell["group_label"]


def chart_svg(title: str, rows: list[dict]) -> str:
    """A horizontal bar chart of the shown values (suppressed cells left out), as SVG."""
    data = []
    for r in rows:
        try:
            data.append({"label": r["label"], "value": float(r["value"])})
        except (TypeError, ValueError):
            continue  # `*` or empty: nothing to draw
    if not data:
        return ""
    return _rendered(title, tuple((d["label"], d["value"]) for d in data))


@lru_cache(maxsize=512)
def _rendered(title: str, data: tuple[tuple[str, float], ...]) -> str:
    # Rendering costs a few hundred milliseconds; the same cells make the same picture for
    # every user until the marts are refreshed (then the values, hence the key, change).
    chart = (
        alt.Chart(alt.Data(values=[{"label": label, "value": value} for label, value in data]))
        .mark_bar(color="#2f6db5")
        .encode(
            x=alt.X("value:Q", title=title),
            y=alt.Y("label:N", sort=None, title=None),
        )
        .properties(width=480, height=max(40, 20 * len(data)))
    )
    return vl_convert.vegalite_to_svg(json.dumps(chart.to_dict()))


def _refresh_work(ctx: TenantContext, year: int):
    store, code = ctx.store, ctx.code

    def work(progress) -> dict:
        result = refresh(store, code, year, progress=progress)
        progress("operational marts")
        return {**result.as_dict(), "operational": refresh_operational(store, code)}

    return work


def _explain(name: str, year: str | None) -> dict:
    school_year = parse_school_year(year) if year else DEFAULT_SCHOOL_YEAR
    doc = definitions.indicator(name, school_year).as_dict()
    doc["group_labels"] = [group_labels().get(g, g) for g in doc.get("groups", [])]
    return doc


# --- pages ---------------------------------------------------------------------------------


@router.get("/t/{tenant}/marts")
async def marts_page(
    request: Request,
    ctx: Tenancy,
    year: str | None = None,
    indicator: str | None = None,
    level: str | None = None,
    school: str | None = None,
    grade: str | None = None,
    group: str | None = None,
):
    def load() -> dict:
        sel = selection(ctx, year, indicator, level, school, grade, group)
        ind = definitions.indicator(sel.indicator, sel.year)
        years = sorted(set(_refreshed_years(ctx)) | {sel.year, DEFAULT_SCHOOL_YEAR}, reverse=True)
        context: dict[str, Any] = {
            "sel": sel,
            "ind": ind,
            "years": [(y, school_year_label(y)) for y in years],
            "year_label": school_year_label(sel.year),
            "indicators": definitions.indicators(sel.year),
            "schools": _school_options(ctx),
            "grades": _grades(ctx, sel.year, sel.indicator),
            "groups": [(g, group_labels().get(g, g)) for g in ind.groups],
            "found": None,
            "chart": "",
            "missing": None,
            "student_view": mart_role(ctx) == STUDENT_VIEW,
        }
        try:
            found = explore(ctx, sel)
        except MartError as exc:
            if "no marts for" not in str(exc):
                raise
            context["missing"] = str(exc)
            return context
        context["found"] = found
        context["chart"] = chart_svg(ind.title, found["cells"])
        return context

    return render(request, "marts.html", **await run_in_threadpool(load))


@router.get("/t/{tenant}/marts/indicators/{name}")
async def indicator_page(request: Request, ctx: Tenancy, name: str, year: str | None = None):
    doc = await run_in_threadpool(_explain, name, year)
    return render(request, "marts_indicator.html", doc=doc)


@router.get("/t/{tenant}/marts/drill")
async def drill_page(
    request: Request,
    ctx: Tenancy,
    indicator: str,
    year: str | None = None,
    school: str | None = None,
    grade: str = ALL,
    group: str = ALL,
):
    ctx.require(permissions.VIEW_STUDENTS)
    found = await run_in_threadpool(_drill, ctx, indicator, year, school, grade, group)
    view = TableView.build(
        request,
        found["rows"],
        [
            Column("person_id", "person", numeric=True),
            Column("mosis_state_id", "MOSIS id"),
            Column("local_id", "local id"),
            Column("last_name", "last name"),
            Column("first_name", "first name"),
            Column("grade", "grade"),
            Column("in_numerator", "in numerator"),
            Column("numerator_value", "numerator", numeric=True),
            Column("denominator_value", "denominator", numeric=True),
            Column("facts", "facts", sortable=False),
        ],
        default_sort="last_name",
        page_size=100,
    )
    back = Selection(
        year=found["school_year"],
        indicator=found["indicator"],
        level="school" if school else "district",
        school=school or None,
        grade=grade if group == ALL else ALL,
        group=group,
    )
    return render(request, "marts_drill.html", found=found, view=view, back=back.query())


def _drill(
    ctx: TenantContext,
    indicator: str,
    year: str | None,
    school: str | None,
    grade: str,
    group: str,
) -> dict:
    return drill(
        ctx.store,
        ctx.code,
        indicator,
        year or DEFAULT_SCHOOL_YEAR,
        school_code=school or None,
        group=group or ALL,
        grade=grade or ALL,
        role=STUDENT_VIEW,
        user=ctx.user.username,
        action=DRILL_ACTION,
    )


@router.post("/t/{tenant}/marts/refresh")
async def refresh_page(request: Request, ctx: Tenancy) -> Response:
    form = await request.form()
    year = parse_school_year(str(form.get("year") or DEFAULT_SCHOOL_YEAR))
    return start_job(request, ctx, "marts.refresh", {"year": year}, _refresh_work(ctx, year))


# --- API -----------------------------------------------------------------------------------


@api.get("/tenants/{tenant}/marts/indicators")
def indicators_api(ctx: Tenancy, year: str | None = None) -> dict:
    """The indicators defined for a school year (default: the newest refreshed one)."""
    if year:
        school_year = parse_school_year(year)
    else:
        years = _refreshed_years(ctx)
        school_year = years[0] if years else DEFAULT_SCHOOL_YEAR
    return {
        "school_year": school_year,
        "school_year_label": school_year_label(school_year),
        "indicators": [i.as_dict(with_sql=False) for i in definitions.indicators(school_year)],
    }


@api.get("/tenants/{tenant}/marts/indicators/{name}")
def indicator_api(ctx: Tenancy, name: str, year: str | None = None) -> dict:
    """An indicator's definition in words and SQL (as `nexus marts explain --json`)."""
    return _explain(name, year)


@api.get("/tenants/{tenant}/marts/cells")
def cells_api(
    ctx: Tenancy,
    year: str | None = None,
    indicator: str | None = None,
    level: str | None = None,
    school: str | None = None,
    grade: str | None = None,
    group: str | None = None,
) -> dict:
    """The explorer's cells, suppressed for a role that sees aggregates only."""
    found = explore(ctx, selection(ctx, year, indicator, level, school, grade, group))
    for c in found["cells"]:
        c.pop("drill_url", None)
    return found


@api.get("/tenants/{tenant}/marts/drill")
def drill_api(
    ctx: Tenancy,
    indicator: str,
    year: str | None = None,
    school: str | None = None,
    grade: str = ALL,
    group: str = ALL,
) -> dict:
    """The students behind one cell (roles that see student-level rows; audited)."""
    ctx.require(permissions.VIEW_STUDENTS)
    return _drill(ctx, indicator, year, school, grade, group)


@api.post("/tenants/{tenant}/marts/refresh", status_code=202)
def refresh_api(request: Request, ctx: Tenancy, year: str | None = None) -> Response:
    """Rebuild the year's grade-card and operational marts as a background job (operator)."""
    school_year = parse_school_year(year or DEFAULT_SCHOOL_YEAR)
    return start_job(
        request, ctx, "marts.refresh", {"year": school_year}, _refresh_work(ctx, school_year)
    )
