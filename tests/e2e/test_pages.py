"""The workspace's other pages in a real browser, after the day run from the browser: Runs (list and
detail), MOSIS (generate an extract, download it, its run), Identity, Compare, Admin, and what
an analyst may and may not open. Every page is screenshotted and checked for accessibility.
"""

from __future__ import annotations

import json

from tests.e2e.conftest import DAY_TIMEOUT_MS, FINISHED, Site


def test_runs_list_and_detail(site: Site, day, page):
    site.sign_in(page, "operator")
    site.visit(page, "/t/demo/runs", "runs")
    ingestion = page.locator("section[aria-labelledby=h-ingestion] tbody tr")
    assert ingestion.count() >= 1
    assert "campus" in ingestion.first.inner_text()
    run_link = ingestion.first.locator("a").first
    run_id = run_link.inner_text().strip()
    with page.expect_navigation():
        run_link.click()
    assert page.url.endswith(f"/t/demo/runs/{run_id}"), page.url
    site.shoot(page, "run-detail")
    site.check_page(page, f"run {run_id}")
    assert f"Ingestion run {run_id}" in page.locator("h1").inner_text()

    site.visit(page, "/t/demo/runs", "runs-again", check=False)
    daily = page.locator("section[aria-labelledby=h-daily] tbody tr a").first
    with page.expect_navigation():
        daily.click()
    assert "/t/demo/runs/daily/" in page.url
    site.shoot(page, "run-daily-detail")
    site.check_page(page, "daily run")
    text = page.locator("main").inner_text()
    for step in ("ingest", "map", "validate", "marts", "extract"):
        assert step in text, f"the daily run page does not show its {step} step"


def test_mosis_generate_an_extract_and_download_it(site: Site, day, page):
    site.sign_in(page, "operator")
    site.visit(page, "/t/demo/mosis", "mosis")
    assert "student_core" in page.locator("section[aria-labelledby=h-layouts]").inner_text()
    generate = page.get_by_role("region", name="Generate an extract")
    generate.get_by_label("Cycle", exact=True).select_option("october")
    generate.get_by_label("Layout", exact=True).select_option("student_core")
    with page.expect_navigation():
        generate.get_by_role("button", name="Generate").click()
    assert "/t/demo/jobs/" in page.url, f"{page.url}: {page.locator('main').inner_text()}"
    page.wait_for_selector(FINISHED, timeout=DAY_TIMEOUT_MS)
    site.shoot(page, "mosis-extract-job")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download the file").click()
    download = downloading.value
    content = download.path().read_text(encoding="utf-8").splitlines()
    assert len(content) >= 10, f"the extract has {len(content)} line(s)"
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    assert site.audit_rows("download.mosis_file"), "no audit row for the MOSIS file download"

    site.visit(page, "/t/demo/mosis", "mosis-with-runs", check=False)
    runs = page.locator("section[aria-labelledby=h-runs] tbody tr")
    assert runs.count() >= 2  # the day's and this one
    with page.expect_navigation():
        runs.first.locator("a").first.click()
    site.shoot(page, "mosis-extract-run")
    site.check_page(page, "extract run")
    site.visit(page, "/t/demo/mosis/layouts/student_core", "mosis-layout-student-core")
    site.visit(page, "/t/demo/mosis/runs", "mosis-runs")
    site.visit(page, "/t/demo/mosis/spec", "mosis-spec-import")


def test_identity_review_queue_and_unmatched(site: Site, day, page):
    site.sign_in(page, "operator")
    site.visit(page, "/t/demo/identity", "identity")
    assert page.locator("h1").inner_text() == "Identity"
    site.visit(page, "/t/demo/identity/unmatched", "identity-unmatched")


def test_admin_pages(site: Site, day, page):
    site.sign_in(page, "admin")
    # A site admin sees both tenants and picks one.
    site.visit(page, "/", "tenants")
    site.visit(page, "/t/demo/admin", "admin")
    text = page.locator("main").inner_text()
    assert "operator" in text and "analyst" in text, "the users are not listed"
    assert "campus" in text, "the connection is not listed"


def test_an_analyst_sees_aggregates_and_is_refused_student_rows(site: Site, day, page):
    site.sign_in(page, "analyst")
    nav = page.locator("nav[aria-label=Main]").inner_text()
    for hidden in ("Exceptions", "Compare", "Identity", "Admin"):
        assert hidden not in nav, f"the analyst's navigation offers {hidden}"
    site.visit(page, "/t/demo/runs", "runs-analyst")
    site.visit(page, "/t/demo/mosis", "mosis-analyst")
    assert page.get_by_role("button", name="Generate").count() == 0
    site.visit(page, "/t/demo/marts", "marts-analyst")
    assert page.get_by_role("link", name="students").count() == 0
    site.visit(page, "/t/demo/identity", "identity-analyst-refused", status=403, check=False)
    site.visit(page, "/t/demo/exceptions", "exceptions-analyst-refused", status=403, check=False)
    drill = "/t/demo/marts/drill?indicator=proportional_attendance"
    site.visit(page, drill, "drill-analyst-refused", status=403, check=False)


def test_another_tenants_operator_gets_not_found(site: Site, day, page):
    site.sign_in(page, "opother")
    assert page.url.endswith("/t/other/today"), page.url
    site.visit(page, "/t/demo/today", "today-foreign-tenant", status=404, check=False)
    district = json.loads((site.district / "district.json").read_text())["name"]
    assert district not in page.content(), "the 404 page names the other tenant's district"
    site.visit(page, f"/t/demo/jobs/{day['job_id']}", "job-foreign-tenant", status=404, check=False)


def test_compare_a_students_values_from_an_exception(site: Site, day, page):
    site.sign_in(page, "operator")
    site.visit(page, "/t/demo/compare", "compare-empty")
    # An exception of a student who has a MOSIS ID (the API, with the browser's session).
    answer = page.request.get(
        f"{site.url}/api/v1/tenants/demo/exceptions?cycle=october&status=all&limit=1000"
    )
    assert answer.ok, answer.status
    found = [x for x in answer.json()["exceptions"] if x.get("state_id")]
    assert found, "no exception of a student with a MOSIS ID"
    site.visit(page, f"/t/demo/exceptions/{found[0]['exception_id']}", "exception-to-compare")
    link = page.get_by_role("link", name="Compare this student's")
    assert link.count() == 1, f"exception page {page.url} offers no comparison"
    with page.expect_navigation():
        link.click()
    assert "/t/demo/compare?" in page.url, page.url
    site.shoot(page, "compare-student")
    site.check_page(page, "compare")
    fields = page.get_by_role("table", name="Field by field").locator("tbody tr")
    assert fields.count() >= 5, "the comparison shows too few fields"
    assert "student_core" in page.locator("main h2").first.inner_text()
    compared = site.audit_rows("view.compare")
    assert compared and compared[-1]["user_name"] == "operator"
