"""Signing in and out, sessions, lockout, CSRF, API tokens and the security headers, over HTTP."""

from __future__ import annotations

import sqlalchemy as sa

from nexus.store.accounts import MAX_FAILED_ATTEMPTS, issue_token, revoke_token
from nexus.store.workspace_tables import web_sessions

from .conftest import PASSWORD, sign_in


def test_pages_redirect_to_sign_in_and_api_answers_401(web):
    client = web.anonymous()
    page = client.get("/t/demo/today")
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in?next=/t/demo/today"
    api = client.get("/api/v1/tenants/demo/today")
    assert api.status_code == 401
    assert api.headers["www-authenticate"] == "Bearer"
    assert "Bearer" in api.json()["error"]


def test_sign_in_sets_a_hardened_session_cookie_and_sign_out_ends_it(web):
    client = web.anonymous()
    response = sign_in(client, "operator")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "nexus_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    with web.store.engine.connect() as conn:
        stored = conn.execute(sa.select(web_sessions.c.session_sha256)).scalars().all()
    token = client.cookies.get("nexus_session")
    assert token not in stored and len(stored) == 1  # only the hash is kept
    assert client.get("/t/demo/today").status_code == 200
    csrf = client.get("/t/demo/today").text.split('"X-CSRF-Token": "')[1].split('"')[0]
    out = client.post("/sign-out", data={"csrf_token": csrf})
    assert out.status_code == 303
    with web.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(web_sessions)).scalar() == 0
    client.cookies.set("nexus_session", token)  # a stolen cookie is dead after sign-out
    assert client.get("/t/demo/today").status_code == 303


def test_wrong_password_and_unknown_user_get_the_same_answer(web):
    client = web.anonymous()
    wrong = sign_in(client, "operator", "not-the-password-at-all")
    unknown = sign_in(client, "nobody-here", "not-the-password-at-all")
    assert wrong.status_code == unknown.status_code == 401
    assert "unknown user or wrong password" in wrong.text
    assert "unknown user or wrong password" in unknown.text
    assert "nexus_session" not in client.cookies


def test_repeated_failures_lock_the_account_even_for_the_right_password(web):
    client = web.anonymous()
    for _ in range(MAX_FAILED_ATTEMPTS):
        assert sign_in(client, "operator", "wrong-password-guess").status_code == 401
    locked = sign_in(client, "operator", PASSWORD)
    assert locked.status_code == 401
    assert "too many failed attempts" in locked.text
    assert "nexus_session" not in client.cookies
    # Another account is not affected.
    assert sign_in(web.anonymous(), "analyst").status_code == 303


def test_sign_in_form_needs_its_own_csrf_token(web):
    client = web.anonymous()
    forged = client.post(
        "/sign-in",
        data={"username": "operator", "password": PASSWORD, "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    assert "nexus_session" not in client.cookies


def test_state_changing_requests_need_the_session_csrf_token(web):
    client = web.client("operator")
    token = client.headers.pop("X-CSRF-Token")
    refused = client.post("/t/demo/daily")
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    wrong = client.post("/t/demo/daily", headers={"X-CSRF-Token": "x" + token})
    assert wrong.status_code == 403
    with web.store.engine.connect() as conn:
        jobs = conn.execute(sa.text("SELECT count(*) FROM platform.background_jobs")).scalar()
    assert jobs == 0  # nothing was started


def test_after_sign_in_goes_back_but_never_off_site(web):
    client = web.anonymous()
    form = client.get("/sign-in?next=//evil.example/x")
    assert 'name="next" value="/"' in form.text
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/sign-in",
        data={
            "username": "operator",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert response.headers["location"] == "/"


def test_api_token_is_scoped_like_its_user_and_revocable(web):
    with web.store.engine.begin() as conn:
        token_id, token = issue_token(conn, "operator", label="nightly script")
    client = web.anonymous()
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json() == {
        "username": "operator",
        "role": "operator",
        "tenants": ["demo"],
        "via": "token",
    }
    assert client.get("/api/v1/tenants/demo/today", headers=headers).status_code == 200
    assert client.get("/api/v1/tenants/other/today", headers=headers).status_code == 404
    # A bearer token needs no CSRF token: it is not sent by browsers on their own.
    assert client.post("/api/v1/tenants/demo/daily", headers=headers).status_code == 202
    with web.store.engine.begin() as conn:
        revoke_token(conn, token_id)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert (
        client.get("/api/v1/me", headers={"Authorization": "Bearer nxs_forged"}).status_code == 401
    )


def test_security_headers_on_every_answer(web):
    client = web.anonymous()
    for path in ("/sign-in", "/static/nexus.css", "/t/demo/today"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"


def test_openapi_document_lists_the_api(web):
    doc = web.anonymous().get("/api/v1/openapi.json").json()
    assert "/api/v1/tenants/{tenant}/today" in doc["paths"]
    assert "/api/v1/tenants/{tenant}/daily" in doc["paths"]
    assert all(not path.startswith("/t/") for path in doc["paths"])  # pages are not the API


def test_single_sign_on_through_a_trusted_proxy_starts_an_ordinary_session(web, monkeypatch):
    client = web.anonymous()
    assert client.get("/sign-in/sso").status_code == 404  # off unless configured
    monkeypatch.setenv("NEXUS_SSO_HEADER", "X-Forwarded-Preferred-Username")
    monkeypatch.setenv("NEXUS_SSO_PROXIES", "10.0.0.5")
    header = {"X-Forwarded-Preferred-Username": "operator"}
    # The test client is not the trusted proxy: the header is ignored.
    assert client.get("/sign-in/sso", headers=header).status_code == 403
    assert "nexus_session" not in client.cookies
    monkeypatch.setenv("NEXUS_SSO_PROXIES", "testclient")  # the test client's address
    assert "Sign in with your district account" in client.get("/sign-in").text
    unknown = client.get("/sign-in/sso", headers={"X-Forwarded-Preferred-Username": "nobody"})
    assert unknown.status_code == 403 and "nexus_session" not in client.cookies
    signed = client.get("/sign-in/sso?next=/t/demo/today", headers=header)
    assert signed.status_code == 303 and signed.headers["location"] == "/t/demo/today"
    # Later requests need no header: an ordinary session, CSRF and all.
    me = client.get("/api/v1/me").json()
    assert me["username"] == "operator" and me["via"] == "session"
    assert client.post("/t/demo/daily").status_code == 403  # no CSRF token
