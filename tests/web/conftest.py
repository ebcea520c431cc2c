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
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nexus.canonical import map_run
from nexus.identity import register_district
from nexus.integration import ingest
from nexus.store import Settings, Store, open_store
from nexus.store.accounts import add_user
from nexus.store.migrate import upgrade
from nexus.store.tenants import add_tenant
from nexus.synth import generate
from nexus.validation.engine import validate
from nexus.web import create_app
from tests.conftest import PG_ADMIN_URL

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


def seed_district(store: Store, synthetic_district: Path) -> tuple[int, int]:
    """Ingest the district's Campus extracts into `demo`, map, validate October.

    Returns (the ingestion run id, the school year)."""
    run = ingest(store, "demo", "campus-extract", str(synthetic_district / "campus-extract"))
    assert run.status == "succeeded", run.reason
    assert map_run(store, "demo", run.run_id).status in ("succeeded", "partial")
    year = int(json.loads((synthetic_district / "district.json").read_text())["end_year"])
    validate(store, "demo", year, "october")
    return run.run_id, year


class WebTemplates:
    """Stores prepared once per backend and worker (tenants and users; and seeded), copied into
    each test's fresh store: a PostgreSQL database cloned with CREATE DATABASE … TEMPLATE, a
    DuckDB home copied as files. Each test still gets its own database."""

    def __init__(self, root: Path, pg_template: str | None, district: Path) -> None:
        self.root, self.pg_template, self.district = root, pg_template, district
        self.built: dict[tuple[str, str], dict] = {}
        self.pg_names: list[str] = []

    def _build(self, backend: str, kind: str) -> dict:
        home = self.root / f"{backend}-{kind}"
        if backend == "duckdb":
            settings = Settings(home=home, database_url=f"duckdb:///{home / 'nexus.duckdb'}")
            store = open_store(settings)
            upgrade(store.engine)
            pg_name = None
        else:
            pg_name = f"nexus_wtpl_{uuid.uuid4().hex[:10]}"
            admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE {pg_name} TEMPLATE {self.pg_template}"))
            admin.dispose()
            self.pg_names.append(pg_name)
            url = sa.engine.make_url(PG_ADMIN_URL).set(database=pg_name)
            store = open_store(Settings(home=home, database_url=url.render_as_string(False)))
        add_tenants_and_users(store, self.district)
        info: dict = {"home": home, "pg_name": pg_name, "run_id": None, "school_year": None}
        if kind == "seeded":
            info["run_id"], info["school_year"] = seed_district(store, self.district)
        store.dispose()
        return info

    def restore(self, backend: str, store: Store, kind: str) -> dict:
        """Replace the test's empty store with a copy of the `kind` template."""
        key = (backend, kind)
        if key not in self.built:
            self.built[key] = self._build(backend, kind)
        info = self.built[key]
        store.dispose()
        home = store.settings.home
        if backend == "duckdb":
            for leftover in home.glob("nexus.duckdb*"):
                leftover.unlink()
            shutil.copytree(info["home"], home, dirs_exist_ok=True)
        else:
            name = sa.engine.make_url(store.settings.database_url).database
            admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {info['pg_name']}"))
            admin.dispose()
            if (info["home"] / "artifacts").exists():
                shutil.copytree(info["home"] / "artifacts", home / "artifacts", dirs_exist_ok=True)
        return info

    def drop(self) -> None:
        if not self.pg_names:
            return
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.pg_names:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="session")
def web_templates(tmp_path_factory, pg_template, synthetic_district) -> Iterator[WebTemplates]:
    templates = WebTemplates(
        tmp_path_factory.mktemp("web-templates"), pg_template, synthetic_district
    )
    yield templates
    templates.drop()


@pytest.fixture
def web(request, backend, store: Store, web_templates: WebTemplates) -> Iterator[Web]:
    """The app over a store with tenants and users (seeded too when the test asks `seeded`)."""
    kind = "seeded" if "seeded" in request.fixturenames else "bare"
    info = web_templates.restore(backend.name, store, kind)
    app = create_app(store, job_workers=1)
    with TestClient(app) as lifespan:  # starts the job runner once for every client
        result = Web(app, store, [lifespan])
        result.run_id, result.school_year = info["run_id"], info["school_year"]
        yield result
        for client in result._clients[1:]:
            client.close()


@pytest.fixture
def seeded(web: Web) -> Web:
    """`web` with the district ingested from its Campus extracts, mapped and validated (October)."""
    assert web.run_id is not None
    return web
