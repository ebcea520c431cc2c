"""Signing in and out, the landing redirect, and who-am-I for the API.

The sign-in form carries its own CSRF token (double submit: a short-lived cookie and the same
value in the form), so a third-party page cannot sign a browser into someone else's account.
A wrong password, an unknown user and a locked account get the same answer; the account locks
after repeated failures (`nexus.store.accounts`).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nexus.store.accounts import SignInRefused, authenticate, visible_tenants
from nexus.web.security import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    CurrentPrincipal,
    account_writes,
    same_token,
    store_of,
)
from nexus.web.sessions import ABSOLUTE, end_session, start_session
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["session"])


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure over HTTPS (or when NEXUS_COOKIE_SECURE=1 behind a TLS proxy)."""
    import os

    return request.url.scheme == "https" or os.environ.get("NEXUS_COOKIE_SECURE") == "1"


def _safe_next(target: str | None) -> str:
    # Only a path of this site: never an absolute URL (an open redirect after sign-in).
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _sign_in_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        status_code=status,
        sign_in_token=token,
        next=_safe_next(request.query_params.get("next")),
        error=error,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=1800,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/sign-in",
    )
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    return _sign_in_form(request)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not same_token(request.cookies.get(SIGN_IN_COOKIE), csrf_token):
        return _sign_in_form(request, "The form expired; please sign in again.", status=403)
    store = store_of(request)
    client = request.client.host if request.client else None

    def attempt() -> str | SignInRefused:
        # The failure must commit (it counts towards the lockout), so it is caught inside.
        with account_writes(store), store.engine.begin() as conn:
            try:
                user = authenticate(conn, username.strip(), password)
            except SignInRefused as exc:
                return exc
            token, _ = start_session(conn, user, client)
        return token

    token = await run_in_threadpool(attempt)
    if isinstance(token, SignInRefused):
        return _sign_in_form(request, str(token), status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ABSOLUTE.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, p: CurrentPrincipal) -> Response:
    store = store_of(request)

    def end() -> None:
        with store.engine.begin() as conn:
            end_session(conn, request.cookies.get(SESSION_COOKIE))

    await run_in_threadpool(end)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _visible(request: Request, p: CurrentPrincipal) -> list:
    with store_of(request).engine.connect() as conn:
        return visible_tenants(conn, p.user)


@router.get("/")
def home(request: Request, p: CurrentPrincipal) -> Response:
    """A user's first tenant's Today page (or the list of tenants when there are several)."""
    tenants = _visible(request, p)
    if len(tenants) == 1:
        return RedirectResponse(f"/t/{tenants[0].code}/today", status_code=303)
    return render(request, "tenants.html", tenants=tenants)


@api.get("/me")
def me(request: Request, p: CurrentPrincipal) -> dict:
    """The signed-in user, their role and the tenants they may see."""
    return {
        "username": p.user.username,
        "role": p.user.role,
        "tenants": [t.code for t in _visible(request, p)],
        "via": p.via,
    }


@api.get("/tenants")
def tenants(request: Request, p: CurrentPrincipal) -> list[dict]:
    return [
        {"code": t.code, "name": t.name, "county_district_code": t.county_district_code}
        for t in _visible(request, p)
    ]
