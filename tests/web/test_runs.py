"""The Runs pages and API: ingestion runs with entities, files, map runs and (for roles that see
students) audited row errors; daily pipeline runs with their steps; map and ingest-now jobs."""

from __future__ import annotations

import time

import sqlalchemy as sa

from nexus.integration.sources import add_connection
from nexus.jobs.config import set_config
from nexus.jobs.pipeline import run_daily
from nexus.store.tables import audit_events

# A CSV drop whose last student row has a day-first birth date: one row error.
MAPPING = """
version: 1
entities:
  - entity: students
    file: students.csv
    natural_key: [student_id]
    columns:
      student_id: integer
      last_name: string
      birth_date: {type: date, format: "%m/%d/%Y"}
"""
STUDENTS = (
    "student_id,last_name,birth_date\n1,Ash,03/04/2012\n2,Birch,11/30/2011\n3,Elm,31/12/2012\n"
)


def wait_for_job(client, url: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if job["status"] in ("succeeded", "partial", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {url} did not finish")


def audit_rows(store, action: str) -> list[dict]:
    with store.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(audit_events).where(audit_events.c.action == action)
            ).mappings()
        ]


def test_run_list_detail_and_map_job_on_the_seeded_district(seeded):
    client = seeded.client("operator")
    run_id = seeded.run_id
    page = client.get("/t/demo/runs")
    assert page.status_code == 200
    assert f'href="/t/demo/runs/{run_id}"' in page.text
    assert "campus-extract" in page.text and "Ingestion runs" in page.text
    listed = client.get("/api/v1/tenants/demo/runs").json()
    assert listed["ingestion_runs"][0]["run_id"] == run_id
    assert listed["ingestion_runs"][0]["new"] > 0

    detail = client.get(f"/t/demo/runs/{run_id}")
    assert detail.status_code == 200
    assert "students.csv" in detail.text and "enrollments" in detail.text
    assert "Map this run" in detail.text
    run = client.get(f"/api/v1/tenants/demo/runs/{run_id}").json()
    students = next(e for e in run["entities"] if e["entity"] == "students")
    assert students["new"] == 80
    students_file = next(f for f in run["files"] if f["name"] == "students.csv")
    assert students_file["sha256"][:12] in detail.text and students_file["size_bytes"] > 0
    assert "artifact_path" not in students_file  # a server path is nobody's business
    assert [m["status"] for m in run["map_runs"]] in (["succeeded"], ["partial"])

    # Map it again from the page: a background job, then a second map run of this run.
    assert (
        client.post(f"/t/demo/runs/{run_id}/map", headers={"X-CSRF-Token": ""}).status_code == 403
    )
    started = client.post(f"/t/demo/runs/{run_id}/map", data={"replay": "on"})
    assert started.status_code == 303
    job_id = int(started.headers["location"].rsplit("/", 1)[1])
    job = wait_for_job(client, f"/api/v1/tenants/demo/jobs/{job_id}")
    assert job["kind"] == "map" and job["params"] == {"run_id": run_id, "replay": True}
    assert job["status"] in ("succeeded", "partial"), job["error"]
    maps = client.get(f"/api/v1/tenants/demo/runs/{run_id}").json()["map_runs"]
    assert len(maps) == 2 and maps[0]["replay"] is True

    analyst = seeded.client("analyst")
    assert analyst.get(f"/t/demo/runs/{run_id}").status_code == 200  # aggregates
    assert analyst.post(f"/t/demo/runs/{run_id}/map").status_code == 403
    assert analyst.get(f"/api/v1/tenants/demo/runs/{run_id}/errors").status_code == 403

    other = seeded.client("opother")
    for url in (f"/t/demo/runs/{run_id}", f"/t/other/runs/{run_id}"):
        assert other.get(url).status_code == 404
    assert other.get(f"/api/v1/tenants/other/runs/{run_id}").status_code == 404
    assert other.get(f"/api/v1/tenants/other/runs/{run_id}/errors").status_code == 404
    assert other.post(f"/t/other/runs/{run_id}/map").status_code == 404
    assert other.post(f"/api/v1/tenants/other/runs/{run_id}/map").status_code == 404
    assert other.get("/api/v1/tenants/other/runs").json()["ingestion_runs"] == []


def test_ingest_now_row_errors_and_daily_run(web, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "mapping.yaml").write_text(MAPPING)
    (drop / "students.csv").write_text(STUDENTS)
    demo = web.tenant_id("demo")
    with web.store.engine.begin() as conn:
        add_connection(conn, demo, "roster-drop", "csv", str(drop))
    client = web.client("operator")
    page = client.get("/t/demo/runs")
    assert "Nothing ingested yet." in page.text and "roster-drop (csv)" in page.text

    started = client.post("/t/demo/runs/ingest", data={"connection": "roster-drop"})
    assert started.status_code == 303
    job = wait_for_job(client, "/api/v1" + started.headers["location"].replace("/t/", "/tenants/"))
    assert job["kind"] == "ingest" and job["status"] == "partial", job
    run_id = job["result"]["run_id"]
    assert client.post("/t/demo/runs/ingest", data={"connection": "nope"}).status_code == 404

    detail = client.get(f"/t/demo/runs/{run_id}")
    assert detail.status_code == 200
    assert (
        "students.csv" in detail.text
        and "31/12/2012" in detail.text
        and "birth_date" in detail.text
    )
    errors = client.get(f"/api/v1/tenants/demo/runs/{run_id}/errors").json()
    assert errors["total"] == 1
    assert errors["errors"][0]["line"] == 4 and errors["errors"][0]["value"] == "31/12/2012"
    viewed = audit_rows(web.store, "view.run_errors")
    assert len(viewed) == 2 and {r["user_name"] for r in viewed} == {"operator"}
    assert viewed[0]["subject"]["run_id"] == run_id

    analyst = web.client("analyst")
    shown = analyst.get(f"/t/demo/runs/{run_id}")
    assert "your role sees aggregates only" in shown.text and "31/12/2012" not in shown.text
    assert len(audit_rows(web.store, "view.run_errors")) == 2

    # The daily pipeline over the same connection: one run with its steps.
    with web.store.engine.begin() as conn:
        set_config(conn, demo, {"cycles": [], "marts": False}, "operator")
    daily = run_daily(web.store, "demo", trigger="manual", user="operator")
    listed = client.get("/api/v1/tenants/demo/runs").json()["pipeline_runs"]
    assert listed[0]["pipeline_run_id"] == daily.pipeline_run_id
    page = client.get(f"/t/demo/runs/daily/{daily.pipeline_run_id}")
    assert page.status_code == 200
    assert "roster-drop" in page.text and "Steps, in order" in page.text
    shown = client.get(f"/api/v1/tenants/demo/runs/daily/{daily.pipeline_run_id}").json()
    assert shown["steps"][0]["step"] == "ingest" and shown["steps"][0]["target"] == "roster-drop"
    assert f'/t/demo/runs/daily/{daily.pipeline_run_id}"' in client.get("/t/demo/runs").text

    other = web.client("opother")
    assert other.get(f"/t/other/runs/daily/{daily.pipeline_run_id}").status_code == 404
    assert other.get(f"/api/v1/tenants/other/runs/daily/{daily.pipeline_run_id}").status_code == 404
    assert other.post("/t/other/runs/ingest", data={"connection": "roster-drop"}).status_code == 404

    # Unknown ids and bad parameters get a clear answer, never a 500.
    assert client.get("/t/demo/runs/999999").status_code == 404
    assert client.get("/t/demo/runs/daily/999999").status_code == 404
    bad = client.get(f"/api/v1/tenants/demo/runs/{run_id}/errors?page=abc")
    assert bad.status_code == 422 and "page" in bad.json()["error"]
    assert client.get("/t/demo/runs/abc").status_code == 422
