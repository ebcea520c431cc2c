"""The operator's day in a real browser: sign in, run the district's day and watch it finish,
work an exception, export it, explore a mart, drill to students, and find the audit row.

One store per backend for the e2e folder: `day` (tests/e2e/conftest.py) runs the synthetic
district's daily pipeline from the browser once ("Run the day now" on Today, then the job page
updating live), and the tests work on what that run produced.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO

from tests.e2e.conftest import FINISHED, Site


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


def test_work_an_exception_filter_open_and_suppress(site: Site, day, page):
    site.sign_in(page, "operator")
    site.visit(page, "/t/demo/exceptions", "exceptions")
    queue = page.get_by_role("form", name="Filter the queue")
    queue.get_by_label("cycle").select_option("october")
    queue.get_by_label("severity").select_option("blocking")
    with page.expect_navigation():
        queue.get_by_role("button", name="Filter").click()
    assert "severity=blocking" in page.url, page.url
    site.shoot(page, "exceptions-blocking")
    site.check_page(page, "exceptions filtered")
    rows = page.locator("main table").first.locator("tbody tr")
    assert rows.count() >= 1, "no blocking exception after the day"
    for text in rows.all_inner_texts():
        assert "blocking" in text, f"a row outside the filter: {text}"

    message = rows.first.locator("a[href*='/exceptions/']").first
    with page.expect_navigation():
        message.click()
    exception_id = page.url.rstrip("/").rsplit("/", 1)[1]
    site.shoot(page, "exception-detail")
    site.check_page(page, f"exception {exception_id}")
    assert "active" in page.locator("h1").inner_text() or "open" in page.locator("h1").inner_text()

    until = (date.today() + timedelta(days=30)).isoformat()
    page.get_by_label("Reason").fill("e2e: the registrar corrects it next week")
    page.get_by_label("Until").fill(until)
    with page.expect_navigation():
        page.get_by_role("button", name="Suppress").click()
    assert page.url.endswith(f"/exceptions/{exception_id}"), (
        f"{page.url}: {page.locator('main').inner_text()[:300]}"
    )
    site.shoot(page, "exception-suppressed")
    site.check_page(page, f"exception {exception_id} suppressed")
    assert "suppressed" in page.locator("h1").inner_text()
    facts = page.locator("dl.facts").first.inner_text()
    assert "e2e: the registrar corrects it next week" in facts
    assert "suppressed until" in facts
    assert "suppress" in page.get_by_role("table", name="History").inner_text()
    assert site.audit_rows("view.exceptions"), "no audit row for the queue's student rows"


def test_export_the_filtered_queue_as_xlsx(site: Site, day, page):
    from openpyxl import load_workbook

    site.sign_in(page, "operator")
    site.visit(page, "/t/demo/exceptions?cycle=october&severity=blocking", "exceptions-to-export")
    caption = page.locator("main table caption").first.inner_text()
    shown = int(re.search(r"\(([\d,]+)\)", caption).group(1).replace(",", ""))
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Export XLSX").click()
    download = downloading.value
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    # openpyxl tells the format by the name's extension; the download's path has none.
    sheet = load_workbook(BytesIO(download.path().read_bytes()), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert "severity" in header, header
    severity = header.index("severity")
    assert len(data) == shown, f"the XLSX has {len(data)} rows, the page says {shown}"
    assert {r[severity] for r in data} == {"blocking"}
    exports = site.audit_rows("export.exceptions")
    assert exports and exports[-1]["user_name"] == "operator"


def test_mart_chart_drill_to_students_and_the_admin_finds_the_audit_row(
    site: Site, day, page, browser
):
    site.sign_in(page, "operator")
    site.visit(page, "/t/demo/marts", "marts")
    chart = page.locator("figure.chart svg").first
    assert chart.is_visible(), "the mart's chart is not drawn"
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"^How .* is defined$")).click()
    assert "/t/demo/marts/indicators/" in page.url, page.url
    site.shoot(page, "marts-indicator-definition")
    site.check_page(page, "indicator definition")
    page.go_back()
    drills = page.get_by_role("link", name="students")
    assert drills.count() >= 1, "no cell offers its students"
    with page.expect_navigation():
        drills.first.click()
    assert "/t/demo/marts/drill" in page.url, page.url
    site.shoot(page, "marts-drill")
    site.check_page(page, "drill")
    students = page.locator("main table").first.locator("tbody tr")
    assert students.count() >= 1, "the drill shows no students"
    drills_audited = site.audit_rows("view.drill")
    assert drills_audited and drills_audited[-1]["user_name"] == "operator"
    person_ids = drills_audited[-1]["subject"]["person_ids"]
    assert person_ids, "the drill's audit row names no students"

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    admin = context.new_page()
    try:
        site.sign_in(admin, "admindemo")
        site.visit(admin, "/t/demo/admin/audit", "admin-audit")
        events = admin.locator("main table").first.locator("tbody tr")
        drill_rows = events.filter(has_text="view.drill").filter(has_text="operator")
        assert drill_rows.count() >= 1, "the drill's audit row is not on the audit page"
        assert str(len(person_ids)) in drill_rows.first.inner_text()
    finally:
        context.close()
