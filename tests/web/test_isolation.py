"""Tenant isolation and the analyst's limits, walked over EVERY route of the app.

- A user of tenant `other` is sent to every route with tenant `demo`'s ids (its runs,
  exceptions, extract runs, jobs, …), both under `/t/demo/…` and under their own `/t/other/…`:
  every answer must be 403 or 404. A route with a path parameter this test does not know fails
  the test, so a new route cannot skip the walk.
- An analyst of `demo` is sent to every GET route of their own tenant with real ids: no answer
  may contain a student's name, state id or local student number.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from pydantic import BaseModel

from nexus.mosis.extract import run_extract
from nexus.store.canonical_tables import match_reviews
from nexus.store.tenants import get_tenant
from nexus.store.workspace_tables import pipeline_runs, schedules
from nexus.web.app import PAGE_MODULES, _load

# A value for each query or form parameter a route may require (the walk must reach the
# route's own checks, not stop at a 422 for a missing field).
PARAM_VALUES = {
    "year": "2027",
    "school_year": "2027",
    "cycle": "october",
    "layout": "student_core",
    "format": "csv",
    "fmt": "csv",
    "reason": "isolation test",
    "until": "2099-06-30",
    "owner": "registrar",
    "assignee": "registrar",
    "action": "resolve",
    "accept": "true",
    "decision": "accept",
    "indicator": "proportional_attendance",
    "level": "district",
    "cron": "30 5 * * 1-5",
    "enabled": "true",
    "student": "1",
    "student_id": "1",
    "username": "operator",
    "role": "operator",
    "password": "a-long-enough-password",
    "name": "x",
    "kind": "csv",
    "url": "/tmp/none",
    "connection": "x",
}


# Path parameters naming a tenant's own records (the others name shared definitions: a
# layout, an indicator, an action).
TENANT_OWNED = {
    "run_id",
    "exception_id",
    "extract_run_id",
    "job_id",
    "pipeline_run_id",
    "schedule_id",
    "person_id",
    "review_id",
    "student_id",
    "username",
    "token_id",
}


def _student_markers(district_dir) -> list[str]:
    markers = []
    with (district_dir / "campus-extract" / "students.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            markers += [
                row["student.stateID"],
                f"{row['student.lastName']}, {row['student.firstName']}",
            ]
            markers.append(f"{row['student.firstName']} {row['student.lastName']}")
            if len(row["student.studentNumber"]) >= 6:
                markers.append(row["student.studentNumber"])
    return [m for m in markers if m]


def _ids_of_demo(seeded) -> dict[str, str]:
    """Real ids of tenant demo's records, by the path parameter names the routes use."""
    store = seeded.store
    extract = run_extract(
        store,
        "demo",
        seeded.school_year,
        "october",
        "student_core",
        store.settings.home / "mosis-isolation",
        user="test",
    )
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        demo = get_tenant(conn, "demo").tenant_id
        exception_id = conn.execute(
            sa.text(
                "SELECT min(exception_id) FROM reporting.validation_exceptions WHERE tenant_id = :t"
            ),
            {"t": demo},
        ).scalar_one()
        person_id = conn.execute(
            sa.text("SELECT min(person_id) FROM census.people WHERE tenant_id = :t"), {"t": demo}
        ).scalar_one()
        pipeline_run_id = conn.execute(
            pipeline_runs.insert()
            .values(
                tenant_id=demo,
                trigger="manual",
                started_by="test",
                status="succeeded",
                steps=[],
                started_at=now,
                ended_at=now,
            )
            .returning(pipeline_runs.c.pipeline_run_id)
        ).scalar_one()
        schedule_id = conn.execute(
            schedules.insert()
            .values(
                tenant_id=demo,
                cron="30 5 * * 1-5",
                timezone="America/Chicago",
                enabled=True,
                created_by="test",
                created_at=now,
            )
            .returning(schedules.c.schedule_id)
        ).scalar_one()
        review_id = conn.execute(
            sa.select(sa.func.min(match_reviews.c.review_id)).where(
                match_reviews.c.tenant_id == demo
            )
        ).scalar()
    job_id = seeded.app.state.jobs.submit(demo, "test", {}, "test", lambda progress: {})
    ids = {
        "run_id": seeded.run_id,
        "exception_id": exception_id,
        "extract_run_id": extract.extract_run_id,
        "job_id": job_id,
        "pipeline_run_id": pipeline_run_id,
        "schedule_id": schedule_id,
        "person_id": person_id,
        "review_id": review_id or 999_999,
        "token_id": 999_999,
        "name": "proportional_attendance",
        "indicator": "proportional_attendance",
        "layout": "student_core",
        "student_id": "1",
        "connection": "x",
        "username": "operator",
        "change": "disable",
    }
    return {k: str(v) for k, v in ids.items()}


def _routes(app):
    """(route, full path, method) of every page and API route of the web app's page modules."""
    for name in PAGE_MODULES:
        module = _load(name)
        if module is None:
            continue
        for router, prefix in (
            (getattr(module, "router", None), ""),
            (getattr(module, "api", None), "/api/v1"),
        ):
            if router is None:
                continue
            for route in router.routes:
                if isinstance(route, APIRoute):
                    for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                        yield route, prefix + route.path, method


def _fill(path: str, tenant: str, ids: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[0]
        if name == "tenant":
            return tenant
        if name == "name" and "/mosis/" in path:
            return "student_core"  # a layout's name, not an indicator's
        if name not in ids:
            pytest.fail(f"route {path}: the isolation walk has no id for {{{name}}}; add one")
        return ids[name]

    return re.sub(r"\{([^}]+)\}", value, path)


def _body(route: APIRoute, ids: dict[str, str] | None) -> dict:
    """A plausible body for the route: every field filled, ids of tenant demo where named."""
    params = route.dependant.body_params
    if len(params) == 1 and isinstance(params[0].field_info.annotation, type):
        model = params[0].field_info.annotation
        if issubclass(model, BaseModel):
            fields = list(model.model_fields)
            body = {f: PARAM_VALUES.get(f, "1") for f in fields}
            if "ids" in body:
                body["ids"] = [int((ids or {}).get("exception_id", 1))]
            return body
    return {p.alias: PARAM_VALUES.get(p.alias, "1") for p in params}


def _request(client, route: APIRoute, path: str, method: str, url: str, ids=None):
    query = {
        p.alias: PARAM_VALUES.get(p.alias, "1")
        for p in route.dependant.query_params
        if p.field_info.is_required()
    }
    if method == "GET":
        return client.get(url, params=query)
    if path.startswith("/api/"):
        return client.request(method, url, params=query, json=_body(route, ids))
    return client.request(method, url, params=query, data=_body(route, ids))


def test_a_user_of_another_tenant_gets_403_or_404_on_every_route(seeded):
    ids = _ids_of_demo(seeded)
    client = seeded.client("opother")
    checked = 0
    leaks = []
    for route, path, method in _routes(seeded.app):
        if "{tenant}" not in path:
            continue
        targets = [_fill(path, "demo", ids)]
        if TENANT_OWNED & set(re.findall(r"\{([^}:]+)", path)):
            targets.append(_fill(path, "other", ids))  # own tenant, demo's records
        for url in targets:
            response = _request(client, route, path, method, url, ids)
            checked += 1
            if response.status_code not in (403, 404):
                leaks.append(f"{method} {url} -> {response.status_code}")
    assert checked >= 10
    assert not leaks, "tenant isolation broken:\n" + "\n".join(leaks)


def test_an_analyst_never_receives_a_student_level_row(seeded, synthetic_district):
    ids = _ids_of_demo(seeded)
    markers = _student_markers(synthetic_district)
    client = seeded.client("analyst")
    seen, refused, leaks = 0, 0, []
    for route, path, method in _routes(seeded.app):
        if method != "GET" or "{tenant}" not in path:
            continue
        response = _request(client, route, path, method, _fill(path, "demo", ids))
        seen += 1
        if response.status_code == 403:
            refused += 1
            continue
        body = response.text
        found = [m for m in markers if m in body]
        if found:
            leaks.append(
                f"GET {route.path} ({response.status_code}) shows {len(found)} student markers"
            )
    assert seen >= 5 and refused >= 1
    assert not leaks, "an analyst saw student-level data:\n" + "\n".join(leaks)


def test_the_operator_does_see_students_so_the_marker_check_can_fail(seeded, synthetic_district):
    """The analyst check above is only meaningful if the markers do appear for an operator."""
    markers = _student_markers(synthetic_district)
    ids = _ids_of_demo(seeded)
    client = seeded.client("operator")
    bodies = []
    for route, path, method in _routes(seeded.app):
        if method == "GET" and "{tenant}" in path:
            bodies.append(_request(client, route, path, method, _fill(path, "demo", ids)).text)
    assert any(m in body for body in bodies for m in markers)


def test_every_form_of_every_page_carries_the_session_csrf_token(seeded):
    """A plain form post (no htmx header) must pass the CSRF check: each POST form on each
    page a user can open holds the session's token, not an empty one."""
    ids = _ids_of_demo(seeded)
    client = seeded.client("admindemo")
    token = client.headers["X-CSRF-Token"]
    forms = 0
    for route, path, method in _routes(seeded.app):
        if method != "GET" or path.startswith("/api/") or "{tenant}" not in path:
            continue
        page = _request(client, route, path, method, _fill(path, "demo", ids))
        if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
            continue
        for form in re.findall(r'<form[^>]*method="post".*?</form>', page.text, re.S | re.I):
            forms += 1
            assert f'name="csrf_token" value="{token}"' in form, (path, form[:300])
    assert forms >= 5
