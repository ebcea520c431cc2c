"""The MOSIS page and API: layouts with their completeness, an extract and a validation run as
background jobs, the run's rows and file behind the role check (audited), DESE spec import."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa

from nexus.store import audit
from nexus.store.reporting_tables import mosis_extract_runs, mosis_layouts

SPEC_FIXTURES = Path(__file__).parents[1] / "mosis" / "fixtures"
LAYOUT_PAGE = SPEC_FIXTURES / "FileSpec_202710OctoberCycleStudentCore.html"


def _finished(client, job_url: str, timeout: float = 60.0) -> dict:
    """Poll a job through the API until it has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(job_url).json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_url} did not finish: {job}")


def _audited(web, action: str) -> list[dict]:
    with web.store.engine.connect() as conn:
        return [e for e in audit.events(conn, web.tenant_id("demo")) if e["action"] == action]


def _artifact(web, extract_run_id: int) -> tuple[Path, str]:
    with web.store.engine.connect() as conn:
        row = conn.execute(
            sa.select(mosis_extract_runs.c.artifact_path, mosis_extract_runs.c.file_name).where(
                mosis_extract_runs.c.extract_run_id == extract_run_id
            )
        ).one()
    return Path(row.artifact_path), row.file_name


def test_layouts_show_what_is_derived_to_every_role(web):
    client = web.client("analyst")
    page = client.get("/t/demo/mosis?year=2027")
    assert page.status_code == 200
    assert "Layouts and their completeness" in page.text
    assert "student_core" in page.text
    assert "Generate an extract" not in page.text  # an analyst starts nothing
    layouts = client.get("/api/v1/tenants/demo/mosis/layouts?year=2026-27").json()
    assert layouts["school_year"] == 2027
    core = next(x for x in layouts["layouts"] if x["name"] == "student_core")
    assert 0 < core["derived"] <= core["total"] == core["fields"]
    assert core["extract"] is True
    assert f"{core['derived']} / {core['total']}" in page.text
    detail = client.get("/api/v1/tenants/demo/mosis/layouts/student_core?year=2027").json()
    assert sum(f["derived"] for f in detail["fields"]) == core["derived"]
    assert detail["required_blank"] == core["required_blank"]
    assert client.get("/t/demo/mosis/layouts/student_core").status_code == 200
    assert client.get("/t/demo/mosis/layouts/no_such_layout").status_code == 404
    bad_year = client.get("/api/v1/tenants/demo/mosis/layouts?year=next year")
    assert bad_year.status_code == 400 and "school year" in bad_year.json()["error"]
    assert web.client("opother").get("/t/demo/mosis").status_code == 404


def test_an_extract_from_the_browser_to_the_downloaded_file(seeded):
    client = seeded.client("operator")
    assert "Generate an extract" in client.get("/t/demo/mosis").text
    started = client.post(
        "/t/demo/mosis/extract",
        data={"year": str(seeded.school_year), "cycle": "october", "layout": "student_core"},
    )
    assert started.status_code == 303
    job_page = started.headers["location"]
    assert client.get(job_page).status_code == 200
    job_id = job_page.rsplit("/", 1)[1]
    job = _finished(client, f"/api/v1/tenants/demo/jobs/{job_id}")
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    run_id = result["extract_run_id"]
    assert result["rows"] > 0 and result["problems"] == []  # rows live behind the role check
    assert result["file_url"] == f"/t/demo/mosis/runs/{run_id}/file"
    assert "Download the file" in client.get(f"{job_page}/status").text

    download = client.get(result["file_url"])
    assert download.status_code == 200
    artifact, file_name = _artifact(seeded, run_id)
    assert download.content == artifact.read_bytes()
    assert download.headers["content-disposition"] == f'attachment; filename="{file_name}"'
    assert file_name.startswith(f"{seeded.school_year}Oct")
    (event,) = _audited(seeded, "download.mosis_file")
    assert event["user_name"] == "operator" and event["subject"]["extract_run_id"] == run_id

    run = client.get(f"/api/v1/tenants/demo/mosis/runs/{run_id}").json()
    assert run["sha256"] == result["sha256"] and "artifact_path" not in run
    assert len(run["blocked_rows"]) == run["blocking"] == result["blocking"]
    page = client.get(f"/t/demo/mosis/runs/{run_id}")
    assert page.status_code == 200 and run["sha256"] in page.text
    assert "Rows left out" in page.text
    for row in run["blocked_rows"][:3]:
        assert row["subject_key"] in page.text
    assert len(_audited(seeded, "view.mosis_problems")) == 2
    runs = client.get("/api/v1/tenants/demo/mosis/runs").json()["extract_runs"]
    assert [r["extract_run_id"] for r in runs] == [run_id]

    analyst = seeded.client("analyst")
    shown = analyst.get(f"/t/demo/mosis/runs/{run_id}")
    assert shown.status_code == 200 and run["sha256"] in shown.text
    assert "Rows left out" not in shown.text and "Download" not in shown.text
    assert analyst.get(result["file_url"]).status_code == 403
    assert analyst.get(f"/api/v1/tenants/demo/mosis/runs/{run_id}").status_code == 403
    assert analyst.get(f"/api/v1/tenants/demo/mosis/runs/{run_id}?rows=false").status_code == 200
    assert analyst.get(f"/api/v1/tenants/demo/mosis/runs/{run_id}/file").status_code == 403
    assert len(_audited(seeded, "view.mosis_problems")) == 2  # the analyst saw no rows
    refused = analyst.post(
        "/t/demo/mosis/extract", data={"year": "2027", "cycle": "october", "layout": "student_core"}
    )
    assert refused.status_code == 403

    foreign = seeded.client("opother")
    for url in (
        f"/t/demo/mosis/runs/{run_id}",
        f"/t/demo/mosis/runs/{run_id}/file",
        f"/api/v1/tenants/demo/mosis/runs/{run_id}",
        f"/t/other/mosis/runs/{run_id}",
        f"/t/other/mosis/runs/{run_id}/file",
        f"/api/v1/tenants/other/mosis/runs/{run_id}/file",
    ):
        assert foreign.get(url).status_code == 404, url
    assert client.get("/t/demo/mosis/runs/99999").status_code == 404
    assert client.get("/api/v1/tenants/demo/mosis/runs/99999/file").status_code == 404


def test_validate_and_bad_extracts_through_the_api(seeded):
    client = seeded.client("operator")
    started = client.post(
        "/api/v1/tenants/demo/mosis/validate",
        json={"year": seeded.school_year, "cycle": "october"},
    )
    assert started.status_code == 202
    job = _finished(client, started.json()["url"])
    assert job["status"] == "succeeded", job["error"]
    assert job["kind"] == "validate" and job["result"]["cycle"] == "october"
    assert job["result"]["validation_run_id"] > 0

    unknown_cycle = client.post(
        "/api/v1/tenants/demo/mosis/extract", json={"cycle": "someday", "layout": "student_core"}
    )
    assert unknown_cycle.status_code == 400 and "unknown cycle" in unknown_cycle.json()["error"]
    unknown_layout = client.post(
        "/api/v1/tenants/demo/mosis/extract", json={"cycle": "october", "layout": "nothing"}
    )
    assert unknown_layout.status_code == 400 and "unknown MOSIS layout" in unknown_layout.text
    annual = client.post(
        "/api/v1/tenants/demo/mosis/extract",
        json={"year": seeded.school_year, "cycle": "annual", "layout": "student_core"},
    )
    assert annual.status_code == 202  # a collection outside the cycles: the job says why not
    job = _finished(client, annual.json()["url"])
    assert job["status"] == "failed" and "not collected" in job["error"]

    no_csrf = seeded.anonymous()
    no_csrf.cookies = client.cookies
    refused = no_csrf.post(
        "/t/demo/mosis/validate", data={"year": str(seeded.school_year), "cycle": "october"}
    )
    assert refused.status_code == 403 and "CSRF" in refused.text


def _versions(web) -> int:
    with web.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(mosis_layouts)).scalar_one()


def test_dese_pages_import_and_a_malformed_page_imports_nothing(web):
    client = web.client("operator")
    assert client.get("/t/demo/mosis/spec").status_code == 200
    web.client("admin").get("/api/v1/tenants/demo/mosis/layouts")  # the shipped layouts load
    before = _versions(web)
    bad = client.post(
        "/t/demo/mosis/spec",
        files=[
            ("files", ("FileSpec_202710OctoberCycleStudentCore.html", b"just text", "text/html"))
        ],
    )
    assert bad.status_code == 400
    assert "FileSpec_202710OctoberCycleStudentCore.html: not an HTML page" in bad.text
    assert _versions(web) == before

    good = client.post(
        "/t/demo/mosis/spec",
        files=[("files", (LAYOUT_PAGE.name, LAYOUT_PAGE.read_bytes(), "text/html"))],
    )
    assert good.status_code == 200, good.text
    assert f"{LAYOUT_PAGE.name}: layout page of student_core" in good.text
    assert "(import) over version 1" in good.text
    assert _versions(web) == before + 1

    api = client.post(
        "/api/v1/tenants/demo/mosis/spec",
        files=[("files", (LAYOUT_PAGE.name, LAYOUT_PAGE.read_bytes(), "text/html"))],
    )
    assert api.status_code == 200
    assert api.json()["layouts"][0]["unchanged"] is True  # the same page again changes nothing
    assert _versions(web) == before + 1

    analyst = web.client("analyst")
    files = [("files", (LAYOUT_PAGE.name, LAYOUT_PAGE.read_bytes(), "text/html"))]
    assert analyst.post("/t/demo/mosis/spec", files=files).status_code == 403
    assert analyst.get("/t/demo/mosis/spec").status_code == 403
