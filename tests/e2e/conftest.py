"""End-to-end fixtures: the real app served by uvicorn, driven by the system's headless Chromium.

`site` (package-scoped, parametrised over the backends like `store`: one store and one server
per backend for the whole e2e folder, or per file under `--dist loadfile`) is a fresh migrated
store with the web tests' tenants and users (tests/web/conftest.py) and
`nexus.web.create_app(store, job_workers=1)` served by uvicorn in a background thread on a free
127.0.0.1 port. `day` configures the tenant's daily pipeline (`site.configure_day()`: the
synthetic district's Campus extracts, October validated, an October student_core extract) and
runs it from the browser once: "Run the day now" on Today, then the job page updating itself
(htmx) until the run has succeeded or is partial. The tests work on what that day produced.

`browser` is one Chromium per session (`/usr/bin/chromium`, Debian's package: never a
downloaded browser); `page` a fresh context per test. When Chromium is absent the tests skip,
unless NEXUS_TEST_REQUIRE_BROWSER=1 (CI), where they fail.

`site.visit(page, path, name)` opens a page, checks its status, writes a full-page screenshot
to `$NEXUS_TEST_ARTIFACTS/screenshots/<backend>/<NN>-<name>.png` (default `test-artifacts/`),
and runs `site.check_page`: the accessibility smoke check (labelled controls, one <h1>,
<html lang>, <th scope>), every POST form carrying the CSRF token, and Tab from the top
reaching the skip link first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.store import Settings, Store, open_store
from nexus.store.migrate import upgrade
from tests.conftest import BACKENDS, PG_ADMIN_URL
from tests.web.conftest import PASSWORD, add_tenants_and_users, synthetic_district  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("NEXUS_TEST_ARTIFACTS", ROOT / "test-artifacts"))
SCREENSHOTS = ARTIFACTS / "screenshots"
# Playwright's default is 30 s; a page of this app answers in well under a second.
TIMEOUT_MS = 15_000
DAY_TIMEOUT_MS = 120_000
FINISHED = '#job-status[data-status="succeeded"], #job-status[data-status="partial"]'

# In the page: every problem the accessibility smoke check finds, as one line each.
_ACCESSIBILITY_JS = """() => {
  const problems = [];
  const skip = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.tagName === 'INPUT' && skip.has(el.type)) continue;
    if ((el.labels && el.labels.length) || el.getAttribute('aria-label')
        || el.getAttribute('aria-labelledby')) continue;
    const tag = el.tagName.toLowerCase();
    problems.push(`<${tag} name="${el.name || ''}" id="${el.id || ''}"> has no label`);
  }
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(`${h1} <h1> elements (one expected)`);
  if (!document.documentElement.getAttribute('lang')) problems.push('<html> has no lang');
  for (const th of document.querySelectorAll('th')) {
    if (!th.getAttribute('scope')) {
      problems.push(`<th> "${th.textContent.trim().slice(0, 40)}" has no scope`);
    }
  }
  return problems;
}"""


# Screenshots taken so far per backend (their numbers), across the run's modules.
_shots: dict[str, int] = {}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The screenshot folder, emptied once per run (under xdist each worker only overwrites)."""
    if SCREENSHOTS.exists() and "PYTEST_XDIST_WORKER" not in os.environ:
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium (the OS package) for the e2e tests. Package-scoped: Playwright's
    sync API keeps an event loop running in this thread while it is started, so it must be
    stopped before the worker goes on to other packages' tests."""
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is absent: install Debian's chromium package (see .ci/run)"
        if os.environ.get("NEXUS_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and its page, for one test."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a background thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="e2e-uvicorn", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the e2e server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class Site:
    """One live server over one store, with the district's folder and the pages' helpers."""

    backend: str
    store: Store
    url: str
    district: Path
    home: Path
    school_year: int
    shots: Path

    # --- data ------------------------------------------------------------------------------
    def tenant_id(self, code: str = "demo") -> int:
        from nexus.store.tenants import get_tenant

        with self.store.engine.connect() as conn:
            return get_tenant(conn, code).tenant_id

    def configure_day(self) -> None:
        """The tenant's daily pipeline: the district's Campus extracts, October validated, an
        October student_core extract written under the site's home."""
        from nexus.integration.sources import add_connection
        from nexus.jobs.config import set_config

        tenant_id = self.tenant_id()
        with self.store.engine.begin() as conn:
            add_connection(
                conn,
                tenant_id,
                "campus",
                "campus-extract",
                url=str(self.district / "campus-extract"),
            )
            set_config(
                conn,
                tenant_id,
                {
                    "connections": ["campus"],
                    "school_year": self.school_year,
                    "cycles": ["october"],
                    "extracts": [{"cycle": "october", "layout": "student_core"}],
                    "output_dir": str(self.home / "mosis"),
                },
                "admin",
            )

    def audit_rows(self, action: str | None = None) -> list[dict]:
        from nexus.store.tables import audit_events

        query = sa.select(audit_events).order_by(audit_events.c.event_id)
        if action:
            query = query.where(audit_events.c.action == action)
        with self.store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # --- pages ----------------------------------------------------------------------------
    def shoot(self, page, name: str) -> Path:
        """A full-page screenshot, numbered in the order the run took them."""
        number = _shots[self.backend] = _shots.get(self.backend, 0) + 1
        path = self.shots / f"{number:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def sign_in(self, page, username: str, password: str = PASSWORD) -> None:
        """Sign in through the form with the keyboard: type, Tab, type, Enter."""
        page.goto(f"{self.url}/sign-in")
        page.get_by_label("User name").click()
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/sign-in" not in page.url, f"{username} was not signed in: {page.url}"

    def visit(self, page, path: str, name: str, *, status: int = 200, check: bool = True):
        """Open a page, expect `status`, screenshot it, run the accessibility checks."""
        response = page.goto(f"{self.url}{path}")
        assert response is not None and response.status == status, (
            f"GET {path}: {response.status if response else 'no answer'}"
        )
        self.shoot(page, name)
        if check:
            self.check_page(page, path)
        return response

    def check_page(self, page, what: str) -> None:
        """Accessibility smoke check, forms that can be submitted, skip link (the page must be
        freshly loaded: the keyboard check starts from the top)."""
        assert_accessible(page, what)
        assert_forms_carry_csrf(page, what)
        assert_skip_link_first(page, what)


def accessibility_problems(page) -> list[str]:
    """Controls without a label, not exactly one <h1>, no <html lang>, <th> without scope."""
    return page.evaluate(_ACCESSIBILITY_JS)


def assert_accessible(page, what: str) -> None:
    problems = accessibility_problems(page)
    assert not problems, f"{what}: " + "; ".join(problems)


def assert_forms_carry_csrf(page, what: str) -> None:
    """Every POST form of a signed-in page sends the session's CSRF token (a blank one is
    refused by the server: the form could never be submitted from a browser)."""
    blank = page.evaluate(
        """() => Array.from(document.querySelectorAll('form[method=post]'))
            .filter(f => f.getAttribute('action') !== '/sign-in')
            .filter(f => { const t = f.querySelector('input[name=csrf_token]');
                           return !t || !t.value; })
            .map(f => `${f.getAttribute('action')} (${f.innerText.trim().slice(0, 40)})`)"""
    )
    assert not blank, f"{what}: POST forms without the CSRF token: " + "; ".join(blank)


def assert_skip_link_first(page, what: str) -> None:
    """From the top of the page, the first Tab lands on the skip link, and it leads to main."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const a = document.activeElement;"
        " return {cls: a.className, href: a.getAttribute('href'), text: a.textContent.trim()}; }"
    )
    assert focused["href"] == "#main" and "skip" in focused["cls"], (
        f"{what}: the first Tab reached {focused}, not the skip link"
    )


@pytest.fixture(scope="package", params=BACKENDS)
def e2e_settings(request, tmp_path_factory, pg_template) -> Iterator[tuple[str, Settings]]:
    """A fresh migrated database on one backend (as tests/conftest.py's `backend`, but
    package-scoped so the e2e tests share one seeded store per backend)."""
    home = tmp_path_factory.mktemp(f"e2e-{request.param}")
    if request.param == "duckdb":
        settings = Settings(home=home, database_url=f"duckdb:///{home / 'nexus.duckdb'}")
        opened = open_store(settings)
        upgrade(opened.engine)
        opened.dispose()
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("NEXUS_HOME", str(home))
            mp.setenv("NEXUS_DATABASE_URL", settings.database_url)
            yield request.param, settings
        return
    if pg_template is None:
        pytest.skip("PostgreSQL is not reachable")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"nexus_e2e_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {pg_template}"))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    settings = Settings(home=home, database_url=url.render_as_string(hide_password=False))
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("NEXUS_HOME", str(home))
            mp.setenv("NEXUS_DATABASE_URL", settings.database_url)
            yield request.param, settings
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="package")
def site(e2e_settings, synthetic_district: Path, screenshots: Path) -> Iterator[Site]:  # noqa: F811
    """The app over a store with tenants demo/other and the web tests' users, served live."""
    from nexus.web import create_app

    backend, settings = e2e_settings
    store = open_store(settings)
    add_tenants_and_users(store, synthetic_district)
    district = json.loads((synthetic_district / "district.json").read_text())
    shots = screenshots / backend
    shots.mkdir(parents=True, exist_ok=True)
    server = LiveServer(create_app(store, job_workers=1))
    server.start()
    try:
        yield Site(
            backend,
            store,
            server.url,
            synthetic_district,
            settings.home,
            int(district["end_year"]),
            shots,
        )
    finally:
        server.stop()
        store.dispose()


@pytest.fixture(scope="package")
def day(site: Site, browser) -> dict:
    """The day run from the browser by the operator; what the job page showed."""
    site.configure_day()
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        site.sign_in(page, "operator")
        site.visit(page, "/t/demo/today", "today-before-the-day")
        with page.expect_navigation():
            page.get_by_role("button", name="Run the day now").click()
        assert "/t/demo/jobs/" in page.url, f"{page.url}: {page.locator('main').inner_text()}"
        job_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        first_status = page.get_attribute("#job-status", "data-status")
        site.shoot(page, "job-running")
        # A marker in the document: if it survives, the page updated itself (htmx), not a reload.
        page.evaluate("() => { window.__e2e_marker = 'kept'; }")
        page.wait_for_selector(FINISHED, timeout=DAY_TIMEOUT_MS)
        site.shoot(page, "job-finished")
        result = {
            "job_id": job_id,
            "first_status": first_status,
            "status": page.get_attribute("#job-status", "data-status"),
            "marker": page.evaluate("() => window.__e2e_marker || null"),
            "steps": page.locator("#job-status table tbody tr").all_inner_texts(),
        }
        site.check_page(page, "job page")
        return result
    finally:
        context.close()
