"""Fixtures of the web tests: the app over a real store, users of each role, signed-in clients.

`web` builds the app on the test's store with two tenants, `demo` (the synthetic district's,
registered for the district gate) and `other`, and five
accounts (password `PASSWORD`): `admin` (site admin), `operator` and `analyst` of `demo`,
`opother` (operator of `other`) and `admindemo` (admin of `demo` only). `web.client("operator")`
is an httpx client over the app, signed in through the sign-in form; its default headers carry
the session's CSRF token, as htmx does. `web.anonymous()` is a client with no session.
`seeded` is `web` with the district ingested, mapped and its October cycle validated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nexus.canonical import map_run
from nexus.identity import register_district
from nexus.integration import ingest
from nexus.store import Store
from nexus.store.accounts import add_user
from nexus.store.tenants import add_tenant
from nexus.synth import generate
from nexus.validation.engine import validate
from nexus.web import create_app

PASSWORD = "correct-horse-battery-staple"

USERS = {
    "admin": ("admin", []),
    "admindemo": ("admin", ["demo"]),
    "operator": ("operator", ["demo"]),
    "analyst": ("analyst", ["demo"]),
    "opother": ("operator", ["other"]),
}

_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')
_SIGN_IN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    """Sign in through the form, as a browser does; returns the final response."""
    form = client.get("/sign-in")
    token = _SIGN_IN_TOKEN.search(form.text).group(1)
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


def csrf_of(client: TestClient, tenant: str) -> str:
    page = client.get(f"/t/{tenant}/today")
    assert page.status_code == 200, page.text
    return _CSRF.search(page.text).group(1)


@dataclass
class Web:
    app: FastAPI
    store: Store
    _clients: list[TestClient] = field(default_factory=list)
    school_year: int | None = None  # set by `seeded`
    run_id: int | None = None  # the seeded ingestion run

    def anonymous(self) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        self._clients.append(client)
        return client

    def client(self, username: str) -> TestClient:
        """A client signed in as `username`, sending its CSRF token like htmx does."""
        client = self.anonymous()
        response = sign_in(client, username)
        assert response.status_code == 303, response.text
        tenant = USERS[username][1][0] if USERS[username][1] else "demo"
        client.headers["X-CSRF-Token"] = csrf_of(client, tenant)
        return client

    def tenant_id(self, code: str) -> int:
        from nexus.store.tenants import get_tenant

        with self.store.engine.connect() as conn:
            return get_tenant(conn, code).tenant_id


@pytest.fixture(scope="session")
def synthetic_district(tmp_path_factory) -> Path:
    """A small synthetic district (80 students, a few labelled defects), written once."""
    out = tmp_path_factory.mktemp("web-district")
    generate(out, students=80, seed=5, formats=("campus-extract",), defect_rate=0.05)
    return out


def add_tenants_and_users(store: Store, synthetic_district: Path) -> None:
    """Tenants `demo` (the district's, registered for the gate) and `other`, and USERS."""
    district = json.loads((synthetic_district / "district.json").read_text())
    with store.engine.begin() as conn:
        demo = add_tenant(
            conn, "demo", district["name"], district["county_district_code"], district["nces_id"]
        )
        register_district(conn, demo)
        add_tenant(conn, "other", "Other R-II School District", "048079")
        for username, (role, tenants) in USERS.items():
            add_user(conn, username, role, PASSWORD, tenants)


@pytest.fixture
def web(store: Store, synthetic_district: Path) -> Iterator[Web]:
    add_tenants_and_users(store, synthetic_district)
    app = create_app(store, job_workers=1)
    with TestClient(app) as lifespan:  # starts the job runner once for every client
        result = Web(app, store, [lifespan])
        yield result
        for client in result._clients[1:]:
            client.close()


@pytest.fixture
def seeded(web: Web, synthetic_district: Path) -> Web:
    """`web` with the district ingested from its Campus extracts, mapped and validated (October)."""
    run = ingest(web.store, "demo", "campus-extract", str(synthetic_district / "campus-extract"))
    assert run.status == "succeeded", run.reason
    assert map_run(web.store, "demo", run.run_id).status in ("succeeded", "partial")
    web.school_year = int(
        json.loads((synthetic_district / "district.json").read_text())["end_year"]
    )
    web.run_id = run.run_id
    validate(web.store, "demo", web.school_year, "october")
    return web
