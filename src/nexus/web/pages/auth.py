"""Signing in and out, the landing redirect, and who-am-I for the API.

The sign-in form carries its own CSRF token (double submit: a short-lived cookie and the same
value in the form), so a third-party page cannot sign a browser into someone else's account.
A wrong password, an unknown user and a locked account get the same answer; the account locks
after repeated failures (`nexus.store.accounts`).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nexus.store.accounts import SignInRefused, authenticate, get_user, visible_tenants
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
        sso=sso_settings()[0] is not None,
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
    _set_session_cookie(request, response, token)
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ABSOLUTE.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )


def sso_settings() -> tuple[str | None, set[str]]:
    """Single sign-on through a trusted proxy: (the identity header, the proxy addresses).

    NEXUS_SSO_HEADER names the header the proxy (oauth2-proxy, the district's SSO gateway)
    sets to the verified username, e.g. X-Forwarded-Preferred-Username; NEXUS_SSO_PROXIES lists
    the addresses it is trusted from (default 127.0.0.1). Unset header: SSO is off."""
    import os

    header = os.environ.get("NEXUS_SSO_HEADER") or None
    proxies = {p.strip() for p in os.environ.get("NEXUS_SSO_PROXIES", "127.0.0.1").split(",")}
    return header, {p for p in proxies if p}


@router.get("/sign-in/sso")
async def sign_in_sso(request: Request) -> Response:
    """Start a Nexus session for the identity a trusted SSO proxy vouches for.

    Only this route reads the header; every later request is an ordinary session with its CSRF
    token. The account must exist and be active: nothing is created on first sign-in."""
    header, proxies = sso_settings()
    if header is None:
        raise HTTPException(404, "single sign-on is not configured")
    client = request.client.host if request.client else None
    if client not in proxies:
        raise HTTPException(403, "single sign-on is accepted only through the district's proxy")
    username = (request.headers.get(header) or "").strip().lower()
    store = store_of(request)

    def start() -> str | None:
        with account_writes(store), store.engine.begin() as conn:
            user = get_user(conn, username) if username else None
            if user is None or not user.active:
                return None
            token, _ = start_session(conn, user, client)
        return token

    token = await run_in_threadpool(start)
    if token is None:
        raise HTTPException(403, "no active Nexus account for this identity: ask an administrator")
    response = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    _set_session_cookie(request, response, token)
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
