"""The Identity page and API: the review queue with its evidence, accept / reject, unmatched
records per source, the per-source report and the files the district gate refused."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nexus.canonical import map_run
from nexus.identity.district_gate import district_gate
from nexus.identity.people import set_settings
from nexus.integration import ingest
from nexus.store import audit

USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
ORGS_HEADER = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _classlink(folder: Path, users: list[dict], district: str | None = None) -> Path:
    """A ClassLink folder of hand-made users (and a district org, when `district` is given)."""
    folder.mkdir()
    header = USERS_HEADER.split(",")
    with (folder / "users.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for user in users:
            writer.writerow({**dict.fromkeys(header, ""), "enabledUser": "true", **user})
    if district is not None:
        (folder / "orgs.csv").write_text(
            f"{ORGS_HEADER}\nd1,,,Belleville PD,district,{district},\n"
        )
    return folder


def _doubtful(student: dict, grade: str, key: str) -> dict:
    """A ClassLink user like a Campus student: first name misspelt, another grade, no id."""
    return {
        "sourcedId": key,
        "role": "student",
        "username": f"cl{key}",
        "givenName": student["student.firstName"][:-1] + "x",
        "familyName": student["student.lastName"],
        "identifier": f"X{key}",
        "email": f"cl{key}@elsewhere.example",
        "grades": "12" if grade != "12" else "01",
    }


@pytest.fixture
def queued(seeded, synthetic_district, tmp_path):
    """`seeded` plus a ClassLink delivery whose two students need review, and a refused file."""
    campus = synthetic_district / "campus-extract"
    grades = {
        e["enrollment.personID"]: e["enrollment.grade"] for e in _rows(campus / "enrollments.csv")
    }
    students = _rows(campus / "students.csv")[:2]
    users = [
        _doubtful(s, grades.get(s["student.personID"], ""), f"90{i}")
        for i, s in enumerate(students)
    ]
    with seeded.store.engine.begin() as conn:
        # A handful of hand-made users: the match-rate gate waived; every pair Splink scores
        # goes to review rather than linking by itself.
        set_settings(
            conn,
            seeded.tenant_id("demo"),
            {"required_match_rate": 0.0, "thresholds": {"auto_link": 1.0, "review": 0.3}},
        )
    run = ingest(seeded.store, "demo", "classlink", str(_classlink(tmp_path / "cl", users)))
    assert run.status == "succeeded", run.reason
    mapped = map_run(seeded.store, "demo", run.run_id)
    assert mapped.identity["sent_to_review"] == 2, mapped.identity
    foreign = _classlink(tmp_path / "foreign", users, "048078")
    refused = ingest(seeded.store, "demo", "classlink", str(foreign), gate=district_gate)
    assert refused.status == "failed"
    seeded.refused_run = refused.run_id
    return seeded


def _audited(web, action: str) -> list[dict]:
    with web.store.engine.connect() as conn:
        return [e for e in audit.events(conn, web.tenant_id("demo")) if e["action"] == action]


def test_review_queue_shows_the_evidence_and_a_decision_links_the_pair(queued):
    client = queued.client("operator")
    listed = client.get("/api/v1/tenants/demo/identity/reviews").json()["reviews"]
    assert [r["source_key"] for r in listed] == ["900", "901"]
    first = listed[0]
    assert "last name" in first["agree"] and "first name" in first["disagree"]
    assert 0 < first["match_probability"] < 1
    page = client.get("/t/demo/identity")
    assert page.status_code == 200
    assert f'id="review-{first["review_id"]}"' in page.text
    assert first["last_name"] in page.text and "Accept" in page.text
    assert "refused by the district gate" in page.text  # the refused file and why
    assert len(_audited(queued, "view.identity_reviews")) == 2

    accepted = client.post(
        f"/t/demo/identity/reviews/{first['review_id']}", data={"decision": "accept"}
    )
    assert accepted.status_code == 303
    decided = client.get("/api/v1/tenants/demo/identity/reviews?status=accepted").json()
    ((row,),) = [decided["reviews"]]
    assert (row["review_id"], row["status"]) == (first["review_id"], "accepted")
    pending = client.get("/api/v1/tenants/demo/identity/reviews").json()["reviews"]
    assert [r["review_id"] for r in pending] == [listed[1]["review_id"]]
    again = client.post(
        f"/api/v1/tenants/demo/identity/reviews/{first['review_id']}", json={"decision": "reject"}
    )
    assert again.status_code == 400 and "already accepted" in again.json()["error"]
    rejected = client.post(
        f"/api/v1/tenants/demo/identity/reviews/{listed[1]['review_id']}",
        json={"decision": "reject"},
    )
    assert rejected.json()["status"] == "rejected"
    (event,) = _audited(queued, "identity.review.accepted")
    assert event["user_name"] == "operator"

    report = client.get("/api/v1/tenants/demo/identity/report").json()
    assert report["sources"]["classlink"] == {"matched": 1, "review": 0, "unmatched": 1}
    unmatched = client.get("/api/v1/tenants/demo/identity/unmatched?source=classlink").json()
    assert [r["source_key"] for r in unmatched["unmatched"]] == ["901"]
    shown = client.get("/t/demo/identity/unmatched?source=classlink")
    assert shown.status_code == 200 and listed[1]["last_name"] in shown.text
    refused = client.get("/api/v1/tenants/demo/identity/refused").json()["refused_files"]
    assert [(f["run_id"], f["file"]) for f in refused] == [(queued.refused_run, "orgs.csv")]
    assert "048078" in refused[0]["reason"] and len(refused[0]["sha256"]) == 64


def test_identity_roles_tenants_csrf_and_unknown_ids(queued):
    operator = queued.client("operator")
    review_id = operator.get("/api/v1/tenants/demo/identity/reviews").json()["reviews"][0][
        "review_id"
    ]
    analyst = queued.client("analyst")
    for url in (
        "/t/demo/identity",
        "/t/demo/identity/unmatched",
        "/api/v1/tenants/demo/identity/reviews",
        "/api/v1/tenants/demo/identity/unmatched",
    ):
        assert analyst.get(url).status_code == 403, url
    assert analyst.get("/api/v1/tenants/demo/identity/report").status_code == 200
    refused = analyst.post(f"/t/demo/identity/reviews/{review_id}", data={"decision": "accept"})
    assert refused.status_code == 403

    foreign = queued.client("opother")
    assert foreign.get("/t/demo/identity").status_code == 404
    assert foreign.get("/api/v1/tenants/demo/identity/report").status_code == 404
    taken = foreign.post(f"/t/other/identity/reviews/{review_id}", data={"decision": "accept"})
    assert taken.status_code == 404
    taken = foreign.post(
        f"/api/v1/tenants/other/identity/reviews/{review_id}", json={"decision": "accept"}
    )
    assert taken.status_code == 404
    assert foreign.get("/api/v1/tenants/other/identity/reviews").json() == {"reviews": []}

    no_csrf = queued.anonymous()
    no_csrf.cookies = operator.cookies
    forged = no_csrf.post(f"/t/demo/identity/reviews/{review_id}", data={"decision": "accept"})
    assert forged.status_code == 403
    assert (
        operator.post("/t/demo/identity/reviews/424242", data={"decision": "accept"}).status_code
        == 404
    )
    bad = operator.post(f"/t/demo/identity/reviews/{review_id}", data={"decision": "maybe"})
    assert bad.status_code == 422
    assert operator.get("/api/v1/tenants/demo/identity/reviews?status=lost").status_code == 400
    still = operator.get("/api/v1/tenants/demo/identity/reviews").json()["reviews"]
    assert [r["status"] for r in still] == ["pending", "pending"]  # nothing above decided
