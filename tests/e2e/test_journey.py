"""The operator's day in a real browser: sign in, run the district's day and watch it finish,
work an exception, export it, explore a mart, drill to students, and find the audit row.

One store per backend for the module: `day` runs the synthetic district's daily pipeline from
the browser once ("Run the day now" on Today, then the job page updating live), and the tests
after it work on what that run produced.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DAY_TIMEOUT_MS, Site

FINISHED = '#job-status[data-status="succeeded"], #job-status[data-status="partial"]'


@pytest.fixture(scope="module")
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


def test_sign_in_with_the_keyboard_and_a_wrong_password(site: Site, page):
    site.visit(page, "/sign-in", "sign-in", check=False)
    from tests.e2e.conftest import assert_accessible

    assert_accessible(page, "sign-in")  # the form autofocuses the user name: no skip-link check
    page.get_by_label("User name").fill("operator")
    page.get_by_label("Password").fill("not-the-password")
    page.keyboard.press("Enter")
    page.wait_for_selector("[role=alert]")
    site.shoot(page, "sign-in-refused")
    assert "/sign-in" in page.url

    site.sign_in(page, "operator")
    assert page.url.endswith("/t/demo/today"), page.url
    assert page.locator("h1").inner_text() == "Today"


def test_the_day_runs_from_the_browser_and_the_job_page_updates_live(day):
    assert day["status"] in ("succeeded", "partial"), day
    assert day["marker"] == "kept", "the job page was reloaded instead of updating itself"
    steps = "\n".join(day["steps"])
    for step in ("ingest", "map", "validate", "marts", "extract"):
        assert step in steps, f"no {step} step on the job page:\n{steps}"
    assert "student_core" in steps


def test_today_after_the_day_shows_the_runs_and_readiness(site: Site, day, page):
    site.sign_in(page, "operator")
    site.visit(page, "/t/demo/today", "today-after-the-day")
    text = page.locator("main").inner_text()
    assert "campus-extract" in text
    assert f"{site.school_year} october" in text
    assert "Readiness by layout and school" in text
    daily = page.locator("section[aria-labelledby=h-daily] tbody tr")
    assert daily.count() >= 1
    assert day["status"] in daily.first.inner_text()


def test_jobs_page_lists_the_day(site: Site, day, page):
    site.sign_in(page, "operator")
    site.visit(page, "/t/demo/jobs", "jobs")
    link = page.locator(f'a[href="/t/demo/jobs/{day["job_id"]}"]')
    assert link.count() >= 1, "the day's job is not listed"
    with page.expect_navigation():
        link.first.click()
    assert page.locator(FINISHED).count() == 1


def test_an_analyst_sees_today_without_the_run_button(site: Site, day, page):
    site.sign_in(page, "analyst")
    site.visit(page, "/t/demo/today", "today-analyst")
    assert page.get_by_role("button", name="Run the day now").count() == 0
    assert "Readiness by layout and school" in page.locator("main").inner_text()
