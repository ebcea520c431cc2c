"""Who is asking, and what they may see: the web app's request dependencies.

Every route depends on `principal` (a signed-in session or an API bearer token; CSRF checked on
every state-changing request made with a session cookie) and every tenant route on
`tenant_context`, which answers 404 for a tenant the user may not see (the same answer as for
a tenant that does not exist) and, on PostgreSQL, puts the rest of the request under the
tenant's row-level security scope. Roles decide the rest (`permissions.py`); every view or
export of student-level rows is audited through `TenantContext.audit`.
"""

from __future__ import annotations

import hmac
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from nexus.store import Store
from nexus.store import audit as audit_trail
from nexus.store.accounts import User, user_for_token, visible_tenants
from nexus.store.scope import set_tenant_scope
from nexus.store.tenants import Tenant, find_tenant
from nexus.web import permissions
from nexus.web.sessions import session_for, touch

SESSION_COOKIE = "nexus_session"
SIGN_IN_COOKIE = "nexus_sign_in"  # the sign-in form's own CSRF token (double submit)
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class NotSignedIn(Exception):
    """No valid session or token: pages redirect to the sign-in page, the API answers 401."""


@dataclass(frozen=True)
class Principal:
    user: User
    csrf_token: str | None  # None when the request came with a bearer token (no cookie)
    via: str  # "session" or "token"


def store_of(request: Request) -> Store:
    return request.app.state.store


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


_ROW_WRITES = threading.Lock()


def account_writes(store: Store) -> AbstractContextManager:
    """Serialise this process's writes to account rows (sign-in, token use) where the database
    aborts concurrent writers of one row instead of making them wait (DuckDB)."""
    return nullcontext() if store.backend.waits_on_row_locks else _ROW_WRITES


def _resolve(store: Store, bearer: str | None, cookie: str | None) -> Principal | None:
    if bearer is not None:
        with account_writes(store), store.engine.begin() as conn:
            user = user_for_token(conn, bearer)
        return Principal(user, None, "token") if user is not None and user.active else None
    with store.engine.connect() as conn:
        session = session_for(conn, cookie)
    if session is None:
        return None
    touch(store.engine, session)
    return Principal(session.user, session.csrf_token, "session")


async def submitted_csrf(request: Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(expected, given)


async def principal(request: Request) -> Principal:
    """The signed-in user of this request; CSRF-checked when it changes anything."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    found = await run_in_threadpool(
        _resolve, store_of(request), _bearer(request), request.cookies.get(SESSION_COOKIE)
    )
    if found is None:
        raise NotSignedIn()
    if (
        found.via == "session"
        and request.method in UNSAFE_METHODS
        and not same_token(found.csrf_token, await submitted_csrf(request))
    ):
        raise HTTPException(403, "the form is stale or did not come from Nexus (CSRF check)")
    request.state.principal = found
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]


def require_admin(p: CurrentPrincipal) -> Principal:
    if not permissions.can(p.user, permissions.ADMINISTER):
        raise HTTPException(403, "only an administrator may do this")
    return p


AdminPrincipal = Annotated[Principal, Depends(require_admin)]


@dataclass
class TenantContext:
    """A request inside one tenant the user may see."""

    store: Store
    tenant: Tenant
    principal: Principal

    @property
    def user(self) -> User:
        return self.principal.user

    @property
    def code(self) -> str:
        return self.tenant.code

    @property
    def tenant_id(self) -> int:
        return self.tenant.tenant_id

    def can(self, action: str) -> bool:
        return permissions.can(self.user, action)

    def require(self, action: str) -> None:
        """403 unless the user's role allows `action` (see `permissions.py`)."""
        if not self.can(action):
            raise HTTPException(403, permissions.refusal(action))

    def owns(self, tenant_id: int | None) -> None:
        """404 unless a record fetched by id belongs to this tenant (DuckDB has no RLS)."""
        if tenant_id is None or int(tenant_id) != self.tenant_id:
            raise HTTPException(404, "not found")

    def audit(self, action: str, subject: dict) -> None:
        """Record a view or export of student-level rows: who, when, what, which students."""
        with self.store.engine.begin() as conn:
            audit_trail.record(conn, self.tenant_id, self.user.username, action, subject)


async def tenant_context(tenant: str, request: Request, p: CurrentPrincipal) -> TenantContext:
    """The tenant named in the path, if this user may see it (404 otherwise, as if absent)."""
    store = store_of(request)

    def find() -> tuple[Tenant | None, list[Tenant]]:
        with store.engine.connect() as conn:
            found = find_tenant(conn, tenant)
            if found is None or not p.user.can_see(found.tenant_id):
                return None, []
            return found, visible_tenants(conn, p.user)

    found, visible = await run_in_threadpool(find)
    if found is None:
        raise HTTPException(404, "not found")
    request.state.tenants = visible
    # Set here, in the request's own task, so the endpoint (and the thread it runs in)
    # inherits it: every transaction of the request then runs under the tenant's RLS scope.
    set_tenant_scope([found.tenant_id])
    request.state.tenant = found
    return TenantContext(store=store, tenant=found, principal=p)


Tenancy = Annotated[TenantContext, Depends(tenant_context)]
