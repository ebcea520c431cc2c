"""The Today page and its API on a validated district: runs per source, readiness, owners."""

from __future__ import annotations


def test_today_shows_last_runs_readiness_and_owners(seeded):
    client = seeded.client("operator")
    page = client.get("/t/demo/today")
    assert page.status_code == 200
    text = page.text
    assert "campus-extract" in text
    assert f'/t/demo/runs/{seeded.run_id}"' in text
    assert f"{seeded.school_year} october" in text
    assert "Readiness by layout and school" in text
    assert "student_core" in text
    assert "Run the day now" in text  # an operator may start the day

    summary = client.get("/api/v1/tenants/demo/today").json()
    assert summary["sources"][0]["run_id"] == seeded.run_id
    assert summary["sources"][0]["new"] > 0
    cycle = summary["cycles"][0]
    assert (cycle["school_year"], cycle["cycle"]) == (seeded.school_year, "october")
    assert any(r["layout"] == "student_core" and r["rows"] > 0 for r in cycle["rows"])
    assert cycle["owners"] and all("blocking" in o for o in cycle["owners"])


def test_analyst_sees_todays_aggregates_without_links_to_rows(seeded):
    client = seeded.client("analyst")
    page = client.get("/t/demo/today")
    assert page.status_code == 200
    assert "Readiness by layout and school" in page.text
    assert "/t/demo/exceptions?" not in page.text
    assert "Run the day now" not in page.text
    assert client.post("/t/demo/daily").status_code == 403


def test_another_tenants_today_is_not_found(seeded):
    client = seeded.client("opother")
    assert client.get("/t/demo/today").status_code == 404
    assert client.get("/api/v1/tenants/demo/today").status_code == 404
    assert client.get("/t/nonexistent/today").status_code == 404


def test_today_follows_the_work_done_on_exceptions(seeded):
    """The summary is kept between requests; suppressing an exception must still show at once."""
    client = seeded.client("operator")
    before = client.get("/api/v1/tenants/demo/today").json()["cycles"][0]["owners"]
    blocking = client.get(
        "/api/v1/tenants/demo/exceptions?severity=blocking&status=open&limit=1"
    ).json()["exceptions"][0]
    owner_before = next(o for o in before if o["owner"] == blocking["owner"])
    done = client.post(
        "/api/v1/tenants/demo/exceptions/actions",
        json={
            "ids": [blocking["exception_id"]],
            "action": "suppress",
            "reason": "DESE approved",
            "until": "2099-06-30",
        },
    )
    assert done.status_code == 200, done.text
    after = client.get("/api/v1/tenants/demo/today").json()["cycles"][0]["owners"]
    owner_after = next((o for o in after if o["owner"] == blocking["owner"]), {"blocking": 0})
    assert owner_after["blocking"] == owner_before["blocking"] - 1
