"""Exceptions: the operator's queue. Filters (year, cycle, layout, field, school, owner,
severity, status, rule), a sortable paged table, bulk assign / suppress / resolve, the detail
of one exception (value, expected shape, derivation trace, history) and the CSV / XLSX export.

Every answer here has student-level rows: VIEW_STUDENTS for all of it, OPERATE for changes,
and each view or export is audited with the signed-in user and the people it showed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Literal
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nexus.mosis.cycles import CYCLES, parse_collection
from nexus.mosis.layouts import parse_school_year
from nexus.store.validation_tables import validation_exceptions, validation_runs
from nexus.validation import exceptions as exc
from nexus.validation.catalog import OWNERS, SEVERITIES
from nexus.validation.findings import ValidationError
from nexus.web import permissions
from nexus.web.security import Tenancy, TenantContext
from nexus.web.tables import Column, TableView
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["exceptions"])

ACTIONS = ("assign", "suppress", "resolve")
STATUS_CHOICES = ("active", *exc.STATUSES, "all")
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TREND_RUNS = 3
MAX_API_PAGE = 1000

COLUMNS = [
    Column("exception_id", "id", numeric=True),
    Column("status", "status"),
    Column("severity", "severity"),
    Column("rule_id", "rule"),
    Column("layout", "layout"),
    Column("field", "field"),
    Column("school_code", "school"),
    Column("owner", "owner"),
    Column("record_key", "record"),
    Column("current_value", "value"),
    Column("message", "message"),
]


@dataclass(frozen=True)
class Filters:
    """The queue's filters, checked: a bad value is a clear 400, never an empty queue."""

    year: int | None = None
    cycle: str | None = None
    layout: str | None = None
    field: str | None = None
    school: str | None = None
    owner: str | None = None
    severity: str | None = None
    status: str = "active"
    rule: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        def get(key: str) -> str | None:
            value = params.get(key)
            return value.strip() or None if isinstance(value, str) else None

        year = get("year")
        cycle = get("cycle")
        owner = get("owner")
        severity = get("severity")
        status = get("status") or "active"
        if owner is not None and owner.split(":", 1)[0] not in OWNERS:
            raise ValidationError(f"unknown owner {owner!r}: one of {', '.join(OWNERS)}")
        if severity is not None and severity not in SEVERITIES:
            raise ValidationError(f"unknown severity {severity!r}: one of {', '.join(SEVERITIES)}")
        if status not in STATUS_CHOICES:
            raise ValidationError(f"unknown status {status!r}: one of {', '.join(STATUS_CHOICES)}")
        return cls(
            year=parse_school_year(year) if year else None,
            cycle=parse_collection(cycle) if cycle else None,
            layout=get("layout"),
            field=get("field"),
            school=get("school"),
            owner=owner,
            severity=severity,
            status=status,
            rule=get("rule"),
        )

    def as_query(self) -> dict[str, str]:
        """The filters that are set, as query parameters (links, the export, the audit)."""
        return {k: str(v) for k, v in asdict(self).items() if v is not None}

    def service_filters(self) -> dict:
        """The filters as `nexus.validation.exceptions.list_exceptions` takes them."""
        return {
            "school_year": self.year,
            "cycle": self.cycle,
            "layout": self.layout,
            "field": self.field,
            "school": self.school,
            "owner": self.owner,
            "severity": self.severity,
            "status": None if self.status == "all" else self.status,
            "rule": self.rule,
        }

    def rows(
        self,
        ctx: TenantContext,
        *,
        action: str = "view.exceptions",
        context: dict | None = None,
        **page,
    ) -> list[dict]:
        """The matching exceptions (one page with `limit`/`offset`/`sort`), audited once as
        `action` by the signed-in user with the people shown."""
        return exc.list_exceptions(
            ctx.store,
            ctx.code,
            user=ctx.user.username,
            audit_action=action,
            audit_context={"page": "exceptions", "filters": self.as_query(), **(context or {})},
            **page,
            **self.service_filters(),
        )

    def count(self, ctx: TenantContext) -> int:
        return exc.count_exceptions(ctx.store, ctx.code, **self.service_filters())


# (database, tenant, year, cycle, newest validation run) -> the owner trend: it changes only
# when a validation runs (found, blocking and new are properties of the runs).
_TREND_CACHE: dict[tuple, list[dict]] = {}


def owner_trend(ctx: TenantContext, filters: Filters) -> list[dict]:
    """Exceptions found per owner in the last few validation runs (the filtered cycle, owner)."""
    v = validation_runs
    newest = sa.select(sa.func.max(v.c.validation_run_id)).where(v.c.tenant_id == ctx.tenant_id)
    if filters.year is not None:
        newest = newest.where(v.c.school_year == filters.year)
    if filters.cycle is not None:
        newest = newest.where(v.c.cycle == filters.cycle)
    with ctx.store.engine.connect() as conn:
        last = conn.execute(newest).scalar()
    key = (ctx.store.settings.database_url, ctx.tenant_id, filters.year, filters.cycle, last)
    rows = _TREND_CACHE.get(key)
    if rows is None:
        rows = exc.trend(
            ctx.store, ctx.code, "owner", filters.year, filters.cycle, last_runs=TREND_RUNS
        )
        if len(_TREND_CACHE) > 256:
            _TREND_CACHE.clear()
        _TREND_CACHE[key] = rows
    if filters.owner:
        rows = [r for r in rows if r["owner"] == filters.owner.split(":", 1)[0]]
    return rows


def _owned(ctx: TenantContext, ids: list[int]) -> None:
    """404 unless every id is an exception of this tenant."""
    e = validation_exceptions
    wanted = set(ids)
    with ctx.store.engine.connect() as conn:
        found = {
            int(x)
            for x in conn.execute(
                sa.select(e.c.exception_id).where(
                    e.c.tenant_id == ctx.tenant_id, e.c.exception_id.in_(sorted(wanted))
                )
            ).scalars()
        }
    if not wanted or found != wanted:
        raise HTTPException(404, "not found")


def exception_detail(ctx: TenantContext, exception_id: int) -> dict:
    """One exception with its trace, history and runs (VIEW_STUDENTS, audited)."""
    ctx.require(permissions.VIEW_STUDENTS)
    _owned(ctx, [exception_id])
    return exc.show_exception(ctx.store, ctx.code, exception_id, user=ctx.user.username)


def apply_action(
    ctx: TenantContext,
    ids: list[int],
    action: str,
    owner: str | None = None,
    reason: str | None = None,
    until: str | date | None = None,
    note: str | None = None,
) -> list[dict]:
    """Assign, suppress or resolve the exceptions `ids` (OPERATE); returns them changed.

    Everything is checked before the first change, so a bad request changes nothing."""
    ctx.require(permissions.OPERATE)
    if action not in ACTIONS:
        raise ValidationError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    ids = sorted({int(i) for i in ids})
    if not ids:
        raise ValidationError("choose at least one exception")
    _owned(ctx, ids)
    user = ctx.user.username
    if action == "assign":
        if not owner or owner.split(":", 1)[0] not in OWNERS:
            raise ValidationError(f"assign to an owner: one of {', '.join(OWNERS)}")
        return [exc.assign(ctx.store, ctx.code, i, owner, user=user) for i in ids]
    if action == "suppress":
        if not reason or not reason.strip():
            raise ValidationError("a suppression needs a reason")
        if isinstance(until, str):
            try:
                until = date.fromisoformat(until.strip())
            except ValueError:
                raise ValidationError(f"until {until!r} is not a date (YYYY-MM-DD)") from None
        if until is None:
            raise ValidationError("a suppression needs an until date (YYYY-MM-DD)")
        return [exc.suppress(ctx.store, ctx.code, i, reason, until, user=user) for i in ids]
    return [exc.resolve(ctx.store, ctx.code, i, note or None, user=user) for i in ids]


def export_file(ctx: TenantContext, filters: Filters, fmt: str) -> Response:
    """The filtered exceptions as CSV or XLSX (VIEW_STUDENTS, audited as an export)."""
    ctx.require(permissions.VIEW_STUDENTS)
    if fmt not in EXPORT_TYPES:
        raise ValidationError(f"unknown export format {fmt!r}: csv or xlsx")
    rows = filters.rows(ctx, action="export.exceptions", context={"format": fmt})
    data = exc.export(rows, fmt, None)
    name = f"exceptions-{ctx.code}.{fmt}"
    return Response(
        data,
        media_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _compare_link(ctx: TenantContext, row: dict) -> str | None:
    if not row.get("state_id"):
        return None
    layout = row["layout"] if row["layout"] not in (None, "sis") else "student_core"
    return (
        f"/t/{ctx.code}/compare?student={row['state_id']}&year={row['school_year']}"
        f"&cycle={row['cycle']}&layout={layout}"
    )


def _back(ctx: TenantContext, value: object) -> str:
    """Where a form returns to: a page of this tenant's queue, never another site."""
    home = f"/t/{ctx.code}/exceptions"
    if isinstance(value, str) and (value == home or value.startswith((home + "?", home + "/"))):
        return value
    return home


# --- pages --------------------------------------------------------------------------------------


@router.get("/t/{tenant}/exceptions")
async def exceptions_page(request: Request, ctx: Tenancy):
    ctx.require(permissions.VIEW_STUDENTS)
    filters = Filters.parse(request.query_params)

    def load() -> tuple[TableView, list[dict]]:
        total = filters.count(ctx)

        def fetch(sort: str | None, direction: str, offset: int, limit: int) -> list[dict]:
            return filters.rows(
                ctx,
                context={"total": total},
                sort=sort,
                descending=direction == "desc",
                offset=offset,
                limit=limit,
            )

        view = TableView.paged(request, fetch, total, COLUMNS)
        return view, owner_trend(ctx, filters)

    view, trend = await run_in_threadpool(load)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(
        request,
        "exceptions.html",
        view=view,
        filters=filters,
        trend=trend,
        here=here,
        owners=OWNERS,
        severities=SEVERITIES,
        statuses=STATUS_CHOICES,
        cycles=CYCLES,
        export_query=filters.as_query(),
        done=request.query_params.get("done"),
    )


@router.get("/t/{tenant}/exceptions/export")
def export_page(request: Request, ctx: Tenancy, format: str = "csv") -> Response:
    return export_file(ctx, Filters.parse(request.query_params), format)


@router.post("/t/{tenant}/exceptions/bulk")
async def bulk_page(request: Request, ctx: Tenancy) -> Response:
    ctx.require(permissions.OPERATE)
    form = await request.form()
    back = _back(ctx, form.get("back"))
    try:
        ids = [int(i) for i in form.getlist("ids")]
    except ValueError:
        raise ValidationError("exception ids are numbers") from None
    owner = str(form.get("owner") or "").strip()
    person = str(form.get("person") or "").strip()
    changed = await run_in_threadpool(
        apply_action,
        ctx,
        ids,
        str(form.get("action") or ""),
        f"{owner}:{person}" if owner and person else owner or None,
        str(form.get("reason") or ""),
        str(form.get("until") or "").strip() or None,
        str(form.get("note") or "").strip() or None,
    )
    if back.rsplit("/", 1)[-1].isdigit():  # a detail page shows the change itself
        return RedirectResponse(back, status_code=303)
    path, _, query = back.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k != "done"] + [("done", str(len(changed)))]
    return RedirectResponse(f"{path}?{urlencode(kept)}", status_code=303)


@router.get("/t/{tenant}/exceptions/{exception_id:int}")
async def exception_page(request: Request, ctx: Tenancy, exception_id: int):
    shown = await run_in_threadpool(exception_detail, ctx, exception_id)
    return render(
        request,
        "exceptions_detail.html",
        x=shown,
        compare=_compare_link(ctx, shown),
        owners=OWNERS,
    )


# --- API ----------------------------------------------------------------------------------------


class ActionRequest(BaseModel):
    ids: list[int]
    action: Literal["assign", "suppress", "resolve"]
    owner: str | None = None
    reason: str | None = None
    until: date | None = None
    note: str | None = None


@api.get("/tenants/{tenant}/exceptions")
def exceptions_api(request: Request, ctx: Tenancy, limit: int = 200, offset: int = 0) -> dict:
    """The queue: query parameters year, cycle, layout, field, school, owner, severity,
    status (active by default; all), rule. Blocking first; `count` is the whole queue's size,
    `limit` (at most 1,000) and `offset` take one page of it."""
    ctx.require(permissions.VIEW_STUDENTS)
    filters = Filters.parse(request.query_params)
    if limit < 1 or offset < 0:
        raise ValidationError("limit is at least 1 and offset at least 0")
    total = filters.count(ctx)
    ctx.require(permissions.VIEW_STUDENTS)
    rows = filters.rows(
        ctx, context={"total": total}, limit=min(limit, MAX_API_PAGE), offset=offset
    )
    return {
        "filters": filters.as_query(),
        "count": total,
        "offset": offset,
        "limit": min(limit, MAX_API_PAGE),
        "exceptions": rows,
    }


@api.get("/tenants/{tenant}/exceptions/export")
def export_api(request: Request, ctx: Tenancy, format: str = "csv") -> Response:
    """The filtered queue as a CSV or XLSX file (same filters as the list)."""
    return export_file(ctx, Filters.parse(request.query_params), format)


@api.get("/tenants/{tenant}/exceptions/trend")
def trend_api(ctx: Tenancy, by: str = "owner", year: str | None = None) -> dict:
    """Exceptions found per validation run and group (aggregates: every role)."""
    school_year = parse_school_year(year) if year else None
    return {"by": by, "trend": exc.trend(ctx.store, ctx.code, by, school_year)}


@api.post("/tenants/{tenant}/exceptions/actions")
def actions_api(ctx: Tenancy, body: ActionRequest) -> dict:
    """Assign (owner), suppress (reason, until) or resolve (note) the exceptions `ids`."""
    changed = apply_action(
        ctx, body.ids, body.action, body.owner, body.reason, body.until, body.note
    )
    return {"action": body.action, "changed": changed}


@api.get("/tenants/{tenant}/exceptions/{exception_id:int}")
def exception_api(ctx: Tenancy, exception_id: int) -> dict:
    """One exception: value, expected shape, derivation trace, history, runs that saw it."""
    return exception_detail(ctx, exception_id)
