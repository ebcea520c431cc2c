"""Admin: tenants, connections (secrets never shown), users and roles, schedules, the pipeline
config and the audit trail, for administrators only.

Each change calls the function the CLI calls (`nexus tenants add`, `nexus connections add`,
`nexus users …`, `nexus schedules …`, `nexus daily config`). A site admin (an admin with no
tenant list) administers every tenant and every account; a tenant admin administers only
their own tenants: they see and change only accounts whose tenants are all theirs, and may
neither grant a tenant they do not administer nor create a site admin (403). A connection's
secret is shown only as how it is held (`encrypted`, `env:VAR`, `file:PATH`).

Accounts and tenants span tenants, so they are read and changed outside the request's tenant
scope (`unscoped`, PostgreSQL RLS) once this module's own checks have passed; connections,
schedules, the config and the audit trail stay inside it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nexus.identity import register_district
from nexus.integration import sources
from nexus.jobs import schedule as schedules
from nexus.jobs.config import PipelineConfigError, get_config_record, set_config
from nexus.store import audit, secrets
from nexus.store.accounts import (
    ROLES,
    User,
    add_user,
    get_user,
    list_users,
    set_active,
    set_role_and_tenants,
)
from nexus.store.scope import unscoped
from nexus.store.tenants import add_tenant, list_tenants
from nexus.web import permissions
from nexus.web.security import Tenancy, TenantContext
from nexus.web.tables import Column, TableView
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["admin"])

AUDIT_SHOWN = 500


def _administer(ctx: TenantContext, change: bool = False) -> None:
    ctx.require(permissions.ADMINISTER)
    if change:
        ctx.require(permissions.OPERATE)


def _codes(ctx: TenantContext) -> dict[int, str]:
    with unscoped(), ctx.store.engine.connect() as conn:
        return {t.tenant_id: t.code for t in list_tenants(conn)}


def _user_dict(user: User, codes: dict[int, str]) -> dict:
    return {
        "username": user.username,
        "role": user.role,
        "active": user.active,
        "tenants": [codes[t] for t in user.tenant_ids if t in codes],
        "all_tenants": user.all_tenants,
    }


def _manages(admin: User, user: User) -> bool:
    """A site admin manages everyone; a tenant admin only accounts wholly inside their tenants."""
    if admin.all_tenants:
        return True
    return (
        not user.all_tenants
        and bool(user.tenant_ids)
        and set(user.tenant_ids) <= set(admin.tenant_ids)
    )


def _check_grant(ctx: TenantContext, role: str, tenant_codes: list[str]) -> None:
    """403 when a tenant admin would grant a tenant they do not administer or a site admin."""
    admin = ctx.user
    if admin.all_tenants:
        return
    if role == "admin" and not tenant_codes:
        raise HTTPException(
            403, "only a site admin may create a site admin (an admin with no tenant)"
        )
    codes = _codes(ctx)
    mine = {codes[t] for t in admin.tenant_ids if t in codes}
    foreign = [c for c in tenant_codes if c not in mine]
    if foreign:
        raise HTTPException(
            403, f"you do not administer tenant(s) {', '.join(foreign)}: you may not grant them"
        )


def _managed_user(ctx: TenantContext, username: str) -> User:
    with unscoped(), ctx.store.engine.connect() as conn:
        user = get_user(conn, username)
    if user is None or not _manages(ctx.user, user):
        raise HTTPException(404, "not found")
    return user


def users_view(ctx: TenantContext) -> list[dict]:
    """The accounts this admin manages, with role and tenants."""
    codes = _codes(ctx)
    with unscoped(), ctx.store.engine.connect() as conn:
        found = list_users(conn)
    return [_user_dict(u, codes) for u in found if _manages(ctx.user, u)]


def connections_view(ctx: TenantContext) -> list[dict]:
    """The tenant's connections as `nexus connections list --json` shows them: no secret."""
    with ctx.store.engine.connect() as conn:
        found = sources.list_connections(conn, ctx.tenant_id)
    return [
        {
            "name": c.name,
            "kind": c.kind,
            "url": c.url,
            "client_id": c.client_id,
            "secret": c.secret_held_as,
            "options": c.options,
        }
        for c in found
    ]


def schedules_view(ctx: TenantContext) -> list[dict]:
    with ctx.store.engine.connect() as conn:
        return schedules.list_schedules(conn, ctx.tenant_id)


def audit_view(ctx: TenantContext, limit: int = AUDIT_SHOWN) -> list[dict]:
    with ctx.store.engine.connect() as conn:
        found = audit.events(conn, ctx.tenant_id, limit=limit)
    return [
        {
            "event_id": e["event_id"],
            "occurred_at": e["occurred_at"],
            "user": e["user_name"],
            "action": e["action"],
            "subject": e["subject"],
        }
        for e in found
    ]


def _reload_scheduler(request: Request) -> None:
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.reload()


def create_user(ctx: TenantContext, username: str, role: str, password: str, tenants: list[str]):
    _check_grant(ctx, role, tenants)
    with unscoped(), ctx.store.engine.begin() as conn:
        user = add_user(conn, username, role, password, tenants)
    return _user_dict(user, _codes(ctx))


def create_schedule(request: Request, ctx: TenantContext, cron: str, timezone: str) -> dict:
    with ctx.store.engine.begin() as conn:
        found = schedules.add_schedule(conn, ctx.tenant_id, cron, timezone, ctx.user.username)
    _reload_scheduler(request)
    return found


def _back(ctx: TenantContext, section: str) -> RedirectResponse:
    return RedirectResponse(f"/t/{ctx.code}/admin#{section}", status_code=303)


def _form_list(form, key: str) -> list[str]:
    return [str(v).strip() for v in form.getlist(key) if str(v).strip()]


# --- pages ---------------------------------------------------------------------------------


@router.get("/t/{tenant}/admin")
async def admin_page(request: Request, ctx: Tenancy):
    _administer(ctx)

    def load() -> dict[str, Any]:
        with ctx.store.engine.connect() as conn:
            config = get_config_record(conn, ctx.tenant_id)
        codes = _codes(ctx)
        return {
            "site_admin": ctx.user.all_tenants,
            "users": users_view(ctx),
            "roles": ROLES,
            "grantable": [
                c for t, c in sorted(codes.items(), key=lambda x: x[1]) if ctx.user.can_see(t)
            ],
            "connections": connections_view(ctx),
            "kinds": sources.KINDS,
            "schedules": schedules_view(ctx),
            "default_timezone": schedules.DEFAULT_TIMEZONE,
            "config": config,
            "config_text": json.dumps(config["config"], indent=2),
        }

    return render(request, "admin.html", **await run_in_threadpool(load))


@router.get("/t/{tenant}/admin/audit")
async def audit_page(request: Request, ctx: Tenancy):
    _administer(ctx)
    events = await run_in_threadpool(audit_view, ctx)
    for e in events:
        subject = dict(e["subject"] or {})
        ids = subject.pop("person_ids", None)
        e["students"] = len(ids) if ids is not None else ""
        e["person_ids"] = ids or []
        e["what"] = json.dumps(subject, sort_keys=True, default=str)
    view = TableView.build(
        request,
        events,
        [
            Column("occurred_at", "when"),
            Column("user", "who"),
            Column("action", "action"),
            Column("students", "students", numeric=True),
            Column("what", "what", sortable=False),
        ],
        default_sort="occurred_at",
        default_direction="desc",
        page_size=100,
    )
    return render(request, "admin_audit.html", view=view, shown=AUDIT_SHOWN)


@router.post("/t/{tenant}/admin/tenants")
async def add_tenant_page(request: Request, ctx: Tenancy) -> Response:
    _administer(ctx, change=True)
    if not ctx.user.all_tenants:
        raise HTTPException(403, "only a site admin may add a tenant")
    form = await request.form()

    def work() -> None:
        with unscoped(), ctx.store.engine.begin() as conn:
            tenant = add_tenant(
                conn,
                str(form.get("code", "")).strip(),
                str(form.get("name", "")).strip(),
                str(form.get("district_code", "")).strip() or None,
                str(form.get("nces_id", "")).strip() or None,
            )
            register_district(conn, tenant)

    await run_in_threadpool(work)
    return _back(ctx, "tenants")


@router.post("/t/{tenant}/admin/connections")
async def add_connection_page(request: Request, ctx: Tenancy) -> Response:
    _administer(ctx, change=True)
    form = await request.form()

    def work() -> None:
        ref = secrets.reference(
            str(form.get("secret_env", "")).strip() or None,
            str(form.get("secret_file", "")).strip() or None,
        )
        with ctx.store.engine.begin() as conn:
            sources.add_connection(
                conn,
                ctx.tenant_id,
                str(form.get("name", "")).strip(),
                str(form.get("kind", "")).strip(),
                str(form.get("url", "")).strip(),
                client_id=str(form.get("client_id", "")).strip() or None,
                secret_ref=ref,
                secret_key=ctx.store.settings.secret_key,
            )

    await run_in_threadpool(work)
    return _back(ctx, "connections")


@router.post("/t/{tenant}/admin/users")
async def add_user_page(request: Request, ctx: Tenancy) -> Response:
    _administer(ctx, change=True)
    form = await request.form()
    await run_in_threadpool(
        create_user,
        ctx,
        str(form.get("username", "")),
        str(form.get("role", "")),
        str(form.get("password", "")),
        _form_list(form, "tenants"),
    )
    return _back(ctx, "users")


@router.post("/t/{tenant}/admin/users/{username}/role")
async def set_role_page(request: Request, ctx: Tenancy, username: str) -> Response:
    _administer(ctx, change=True)
    form = await request.form()
    role, tenants = str(form.get("role", "")), _form_list(form, "tenants")

    def work() -> None:
        _managed_user(ctx, username)
        _check_grant(ctx, role, tenants)
        with unscoped(), ctx.store.engine.begin() as conn:
            set_role_and_tenants(conn, username, role, tenants)

    await run_in_threadpool(work)
    return _back(ctx, "users")


@router.post("/t/{tenant}/admin/users/{username}/{change}")
def set_active_page(request: Request, ctx: Tenancy, username: str, change: str) -> Response:
    _administer(ctx, change=True)
    if change not in ("enable", "disable"):
        raise HTTPException(404, "not found")
    user = _managed_user(ctx, username)
    if user.username == ctx.user.username and change == "disable":
        raise HTTPException(400, "you may not disable your own account")
    with unscoped(), ctx.store.engine.begin() as conn:
        set_active(conn, user.username, change == "enable")
    return _back(ctx, "users")


@router.post("/t/{tenant}/admin/schedules")
async def add_schedule_page(request: Request, ctx: Tenancy) -> Response:
    _administer(ctx, change=True)
    form = await request.form()
    cron = str(form.get("cron", ""))
    timezone = str(form.get("timezone", "")).strip() or schedules.DEFAULT_TIMEZONE
    await run_in_threadpool(create_schedule, request, ctx, cron, timezone)
    return _back(ctx, "schedules")


@router.post("/t/{tenant}/admin/schedules/{schedule_id}/{change}")
def change_schedule_page(request: Request, ctx: Tenancy, schedule_id: int, change: str) -> Response:
    _administer(ctx, change=True)
    if change not in ("enable", "disable", "remove"):
        raise HTTPException(404, "not found")
    with ctx.store.engine.begin() as conn:
        try:
            schedules.get_schedule(conn, ctx.tenant_id, schedule_id)
        except schedules.ScheduleError:
            raise HTTPException(404, "not found") from None
        if change == "remove":
            schedules.remove_schedule(conn, ctx.tenant_id, schedule_id)
        else:
            schedules.set_enabled(conn, ctx.tenant_id, schedule_id, change == "enable")
    _reload_scheduler(request)
    return _back(ctx, "schedules")


@router.post("/t/{tenant}/admin/config")
async def set_config_page(request: Request, ctx: Tenancy) -> Response:
    _administer(ctx, change=True)
    form = await request.form()
    try:
        document = json.loads(str(form.get("config", "")) or "{}")
    except json.JSONDecodeError as exc:
        raise PipelineConfigError(
            f"pipeline config: not JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    if not isinstance(document, dict):
        raise PipelineConfigError("pipeline config: write a JSON object ({…})")

    def work() -> None:
        with ctx.store.engine.begin() as conn:
            set_config(conn, ctx.tenant_id, document, ctx.user.username)

    await run_in_threadpool(work)
    return _back(ctx, "config")


# --- API -----------------------------------------------------------------------------------


class NewUser(BaseModel):
    username: str
    role: str
    password: str = Field(repr=False)
    tenants: list[str] = Field(default_factory=list)


class NewSchedule(BaseModel):
    cron: str
    timezone: str = schedules.DEFAULT_TIMEZONE


@api.get("/tenants/{tenant}/admin/users")
def users_api(ctx: Tenancy) -> list[dict]:
    """The accounts this admin manages: role, tenants, active."""
    _administer(ctx)
    return users_view(ctx)


@api.post("/tenants/{tenant}/admin/users", status_code=201)
def add_user_api(ctx: Tenancy, body: NewUser) -> dict:
    """Add an account with an initial password (a tenant admin: only for their tenants)."""
    _administer(ctx, change=True)
    return create_user(ctx, body.username, body.role, body.password, body.tenants)


@api.get("/tenants/{tenant}/admin/connections")
def connections_api(ctx: Tenancy) -> list[dict]:
    """The tenant's connections; a secret shows only how it is held, never its value."""
    _administer(ctx)
    return connections_view(ctx)


@api.get("/tenants/{tenant}/admin/schedules")
def schedules_api(ctx: Tenancy) -> list[dict]:
    """The tenant's schedules of the daily pipeline."""
    _administer(ctx)
    return schedules_view(ctx)


@api.post("/tenants/{tenant}/admin/schedules", status_code=201)
def add_schedule_api(request: Request, ctx: Tenancy, body: NewSchedule) -> dict:
    """Add a cron schedule of the tenant's daily pipeline."""
    _administer(ctx, change=True)
    return create_schedule(request, ctx, body.cron, body.timezone)


@api.get("/tenants/{tenant}/admin/audit")
def audit_api(ctx: Tenancy, limit: int = AUDIT_SHOWN) -> list[dict]:
    """The tenant's audit trail, newest first: who, when, action, subject (with person ids)."""
    _administer(ctx)
    return audit_view(ctx, min(max(1, limit), 5000))
