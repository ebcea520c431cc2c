"""The Admin pages and API: tenants, connections without secrets, users and roles with tenant
scoping, schedules, the pipeline config and the audit trail; refused for other roles."""

from __future__ import annotations

import re

import pytest

from nexus.integration.sources import add_connection
from nexus.store import audit

from .conftest import sign_in

NEW_PASSWORD = "a-fresh-long-passphrase"


def form_token(page: str, action: str) -> str:
    """The CSRF token inside the form posting to `action`, as a browser would send it."""
    found = re.search(
        rf'action="{re.escape(action)}"[^>]*>\s*<input type="hidden" name="csrf_token" '
        r'value="([^"]*)"',
        page,
    )
    assert found, f"no form posting to {action}"
    return found.group(1)


def test_connections_show_how_a_secret_is_held_never_its_value(web, monkeypatch):
    monkeypatch.setenv("NEXUS_SECRET_KEY", "test-secret-key-for-the-admin-page")
    with web.store.engine.begin() as conn:
        add_connection(
            conn,
            web.tenant_id("demo"),
            "campus-api",
            "oneroster",
            "https://campus.example.org/oneroster",
            client_id="nexus-client",
            secret_value="s3cret-value",
            secret_key="test-secret-key-for-the-admin-page",
        )
    admin = web.client("admindemo")
    added = admin.post(
        "/t/demo/admin/connections",
        data={
            "name": "sis-folder",
            "kind": "campus-extract",
            "url": "/srv/campus",
            "client_id": "",
            "secret_env": "CAMPUS_SECRET",
            "secret_file": "",
        },
    )
    assert added.status_code == 303
    page = admin.get("/t/demo/admin")
    assert page.status_code == 200
    assert "campus-api" in page.text and "nexus-client" in page.text
    assert "encrypted" in page.text and "env:CAMPUS_SECRET" in page.text
    assert "s3cret-value" not in page.text
    listed = admin.get("/api/v1/tenants/demo/admin/connections")
    assert "s3cret-value" not in listed.text
    held = {c["name"]: c["secret"] for c in listed.json()}
    assert held == {"campus-api": "encrypted", "sis-folder": "env:CAMPUS_SECRET"}
    both = admin.post(
        "/t/demo/admin/connections",
        data={"name": "x", "kind": "csv", "url": "/x", "secret_env": "A", "secret_file": "/b"},
    )
    assert both.status_code == 400 and "not both" in both.text
    unknown = admin.post(
        "/t/demo/admin/connections", data={"name": "y", "kind": "floppy", "url": "/y"}
    )
    assert unknown.status_code == 400 and "unknown source kind" in unknown.text


def test_add_user_by_form_who_then_signs_in_and_can_be_changed_and_disabled(web):
    admin = web.client("admindemo")
    token = form_token(admin.get("/t/demo/admin").text, "/t/demo/admin/users")
    header = admin.headers.pop("X-CSRF-Token")  # a plain form post, as a browser sends it
    assert token == header
    added = admin.post(
        "/t/demo/admin/users",
        data={
            "username": "clerk",
            "role": "analyst",
            "password": NEW_PASSWORD,
            "tenants": "demo",
            "csrf_token": token,
        },
    )
    assert added.status_code == 303, added.text
    admin.headers["X-CSRF-Token"] = header
    assert sign_in(web.anonymous(), "clerk", NEW_PASSWORD).status_code == 303
    users = {u["username"]: u for u in admin.get("/api/v1/tenants/demo/admin/users").json()}
    assert users["clerk"]["role"] == "analyst" and users["clerk"]["tenants"] == ["demo"]
    # A tenant admin sees the accounts of their tenants only (not the site admin, not opother).
    assert "admin" not in users and "opother" not in users and "operator" in users

    changed = admin.post(
        "/t/demo/admin/users/clerk/role", data={"role": "operator", "tenants": "demo"}
    )
    assert changed.status_code == 303
    assert admin.post("/t/demo/admin/users/clerk/disable").status_code == 303
    assert sign_in(web.anonymous(), "clerk", NEW_PASSWORD).status_code == 401
    assert admin.post("/t/demo/admin/users/clerk/enable").status_code == 303
    assert sign_in(web.anonymous(), "clerk", NEW_PASSWORD).status_code == 303
    users = {u["username"]: u for u in admin.get("/api/v1/tenants/demo/admin/users").json()}
    assert users["clerk"]["role"] == "operator" and users["clerk"]["active"]

    short = admin.post(
        "/api/v1/tenants/demo/admin/users",
        json={"username": "shorty", "role": "operator", "password": "short", "tenants": ["demo"]},
    )
    assert short.status_code == 400 and "password too short" in short.json()["error"]
    made = admin.post(
        "/api/v1/tenants/demo/admin/users",
        json={
            "username": "viaapi",
            "role": "operator",
            "password": NEW_PASSWORD,
            "tenants": ["demo"],
        },
    )
    assert made.status_code == 201 and made.json()["tenants"] == ["demo"]
    assert admin.post("/t/demo/admin/users/admindemo/disable").status_code == 400


def test_a_tenant_admin_cannot_reach_beyond_their_tenants(web):
    admin = web.client("admindemo")
    other = admin.post(
        "/t/demo/admin/users",
        data={"username": "spy", "role": "operator", "password": NEW_PASSWORD, "tenants": "other"},
    )
    assert other.status_code == 403 and "other" in other.text
    site = admin.post(
        "/api/v1/tenants/demo/admin/users",
        json={"username": "boss", "role": "admin", "password": NEW_PASSWORD, "tenants": []},
    )
    assert site.status_code == 403 and "site admin" in site.json()["error"]
    grant = admin.post(
        "/t/demo/admin/users/operator/role", data={"role": "operator", "tenants": ["demo", "other"]}
    )
    assert grant.status_code == 403
    assert admin.post("/t/demo/admin/users/opother/disable").status_code == 404
    assert admin.post("/t/demo/admin/users/admin/disable").status_code == 404
    assert admin.get("/t/other/admin").status_code == 404
    tenant = admin.post("/t/demo/admin/tenants", data={"code": "new", "name": "New"})
    assert tenant.status_code == 403
    assert "Add tenant" not in admin.get("/t/demo/admin").text
    assert sign_in(web.anonymous(), "spy", NEW_PASSWORD).status_code == 401

    site_admin = web.client("admin")
    users = {u["username"] for u in site_admin.get("/api/v1/tenants/demo/admin/users").json()}
    assert {"admin", "opother", "operator"} <= users
    added = site_admin.post(
        "/t/demo/admin/tenants", data={"code": "springfield", "name": "Springfield R-XII"}
    )
    assert added.status_code == 303
    assert "springfield" in site_admin.get("/t/springfield/admin").text
    both = site_admin.post(
        "/t/demo/admin/users",
        data={
            "username": "both",
            "role": "operator",
            "password": NEW_PASSWORD,
            "tenants": ["demo", "other"],
        },
    )
    assert both.status_code == 303, both.text
    listed = {u["username"]: u for u in site_admin.get("/api/v1/tenants/demo/admin/users").json()}
    assert listed["both"]["tenants"] == ["demo", "other"]
    # An account that also reaches a tenant admindemo does not administer is not theirs.
    assert "both" not in {
        u["username"] for u in admin.get("/api/v1/tenants/demo/admin/users").json()
    }
    assert admin.post("/t/demo/admin/users/both/disable").status_code == 404
    bad = site_admin.post("/t/demo/admin/tenants", data={"code": "bad code!", "name": "x"})
    assert bad.status_code == 400 and "tenant code" in bad.text


@pytest.mark.parametrize("username", ["operator", "analyst"])
def test_other_roles_get_403_on_every_admin_route(web, username):
    client = web.client(username)
    for url in (
        "/t/demo/admin",
        "/t/demo/admin/audit",
        "/api/v1/tenants/demo/admin/users",
        "/api/v1/tenants/demo/admin/connections",
        "/api/v1/tenants/demo/admin/schedules",
        "/api/v1/tenants/demo/admin/audit",
    ):
        assert client.get(url).status_code == 403, url
    for url, data in (
        ("/t/demo/admin/tenants", {"code": "x", "name": "x"}),
        ("/t/demo/admin/connections", {"name": "x", "kind": "csv", "url": "/x"}),
        ("/t/demo/admin/users", {"username": "x1", "role": "analyst", "password": NEW_PASSWORD}),
        ("/t/demo/admin/users/analyst/role", {"role": "admin"}),
        ("/t/demo/admin/users/analyst/disable", {}),
        ("/t/demo/admin/schedules", {"cron": "0 5 * * *"}),
        ("/t/demo/admin/schedules/1/remove", {}),
        ("/t/demo/admin/config", {"config": "{}"}),
    ):
        assert client.post(url, data=data).status_code == 403, url
    assert (
        client.post("/api/v1/tenants/demo/admin/schedules", json={"cron": "0 5 * * *"}).status_code
        == 403
    )
    assert "/admin" not in client.get("/t/demo/today").text


def test_schedules_add_disable_enable_remove_and_a_bad_cron(web):
    admin = web.client("admindemo")
    assert admin.post("/t/demo/admin/schedules", data={"cron": "30 5 * * 1-5"}).status_code == 303
    (found,) = admin.get("/api/v1/tenants/demo/admin/schedules").json()
    assert found["cron"] == "30 5 * * 1-5" and found["enabled"] and found["next_fire_at"]
    sid = found["schedule_id"]
    assert "30 5 * * 1-5" in admin.get("/t/demo/admin").text
    assert admin.post(f"/t/demo/admin/schedules/{sid}/disable").status_code == 303
    (found,) = admin.get("/api/v1/tenants/demo/admin/schedules").json()
    assert not found["enabled"] and found["next_fire_at"] is None
    assert admin.post(f"/t/demo/admin/schedules/{sid}/enable").status_code == 303
    assert admin.get("/api/v1/tenants/demo/admin/schedules").json()[0]["enabled"]

    bad = admin.post("/t/demo/admin/schedules", data={"cron": "every morning"})
    assert bad.status_code == 400 and "expected 5 fields" in bad.text
    zone = admin.post(
        "/api/v1/tenants/demo/admin/schedules", json={"cron": "0 6 * * *", "timezone": "Mars/Base"}
    )
    assert zone.status_code == 400 and "Mars/Base" in zone.json()["error"]
    made = admin.post("/api/v1/tenants/demo/admin/schedules", json={"cron": "0 6 * * 0"})
    assert made.status_code == 201 and made.json()["tenant"] == "demo"

    # Another tenant's admin path cannot touch demo's schedule.
    site = web.client("admin")
    assert site.post(f"/t/other/admin/schedules/{sid}/remove").status_code == 404
    assert admin.post(f"/t/demo/admin/schedules/{sid}/remove").status_code == 303
    assert [s["cron"] for s in admin.get("/api/v1/tenants/demo/admin/schedules").json()] == [
        "0 6 * * 0"
    ]
    assert admin.post("/t/demo/admin/schedules/999999/remove").status_code == 404

    token = admin.headers.pop("X-CSRF-Token")
    assert admin.post("/t/demo/admin/schedules", data={"cron": "0 7 * * *"}).status_code == 403
    admin.headers["X-CSRF-Token"] = token


def test_pipeline_config_is_shown_and_edited(web):
    admin = web.client("admindemo")
    page = admin.get("/t/demo/admin")
    assert "Never configured" in page.text and "max_error_rate" in page.text
    saved = admin.post(
        "/t/demo/admin/config", data={"config": '{"max_error_rate": 0.1, "marts": false}'}
    )
    assert saved.status_code == 303
    page = admin.get("/t/demo/admin")
    assert "by admindemo" in page.text and "0.1" in page.text
    broken = admin.post("/t/demo/admin/config", data={"config": "{not json"})
    assert broken.status_code == 400 and "not JSON" in broken.text
    wrong = admin.post("/t/demo/admin/config", data={"config": '{"max_error_rate": 7}'})
    assert wrong.status_code == 400 and "max_error_rate" in wrong.text


def test_audit_trail_lists_who_viewed_which_students(web):
    with web.store.engine.begin() as conn:
        audit.record(
            conn,
            web.tenant_id("demo"),
            "operator",
            "view.drill",
            {"indicator": "k12_enrollment", "rows": 2, "person_ids": [101, 202]},
        )
        audit.record(conn, web.tenant_id("other"), "opother", "view.exceptions", {"rows": 1})
    admin = web.client("admindemo")
    page = admin.get("/t/demo/admin/audit")
    assert page.status_code == 200
    assert "view.drill" in page.text and "101, 202" in page.text and "k12_enrollment" in page.text
    assert "view.exceptions" not in page.text  # the other tenant's trail
    (event,) = admin.get("/api/v1/tenants/demo/admin/audit").json()
    assert event["user"] == "operator" and event["subject"]["person_ids"] == [101, 202]
