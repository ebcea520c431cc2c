"""The Exceptions queue, detail, bulk actions and export over HTTP, on a validated district."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import sqlalchemy as sa
from openpyxl import load_workbook

from nexus.store.tables import audit_events


def audit_rows(store, action: str) -> list[dict]:
    with store.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(audit_events)
                .where(audit_events.c.action == action)
                .order_by(audit_events.c.event_id)
            ).mappings()
        ]


def test_queue_filters_bulk_suppress_detail_and_export(seeded):
    client = seeded.client("operator")
    everything = client.get("/api/v1/tenants/demo/exceptions").json()
    assert everything["count"] == len(everything["exceptions"]) > 10
    assert everything["filters"] == {"status": "active"}
    first = everything["exceptions"][0]
    assert first["severity"] == "blocking"  # blocking first

    page = client.get("/t/demo/exceptions")
    assert page.status_code == 200
    assert f"({everything['count']})" in page.text  # the caption's count
    assert f'href="/t/demo/exceptions/{first["exception_id"]}"' in page.text
    assert "Trend by owner" in page.text and "attendance_clerk" in page.text
    viewed = audit_rows(seeded.store, "view.exceptions")
    mine = [r for r in viewed if r["user_name"] == "operator"]
    assert mine[-1]["subject"]["total"] == everything["count"]
    assert mine[-1]["subject"]["rows"] == min(50, everything["count"])  # the page shown
    assert mine[-1]["subject"]["person_ids"]  # which students were shown

    # Filters narrow the queue, on the page and in the API alike.
    hr = client.get("/api/v1/tenants/demo/exceptions?owner=hr").json()["exceptions"]
    assert hr and {x["owner"] for x in hr} == {"hr"} and len(hr) < everything["count"]
    warnings = client.get(
        f"/api/v1/tenants/demo/exceptions?severity=warning&year={seeded.school_year}&cycle=october"
    ).json()["exceptions"]
    assert warnings and {x["severity"] for x in warnings} == {"warning"}
    hr_page = client.get("/t/demo/exceptions?owner=hr")
    assert f"({len(hr)})" in hr_page.text and "counselor</td>" not in hr_page.text
    assert audit_rows(seeded.store, "view.exceptions")[-1]["subject"]["filters"] == {
        "owner": "hr",
        "status": "active",
    }

    # Bulk suppress two exceptions of the page: they leave "open" with a reason and a history.
    students = [x for x in everything["exceptions"] if x["state_id"]]
    ids = [students[0]["exception_id"], students[1]["exception_id"]]
    until = (date.today() + timedelta(days=30)).isoformat()
    done = client.post(
        "/t/demo/exceptions/bulk",
        data={
            "ids": [str(i) for i in ids],
            "action": "suppress",
            "reason": "DESE agreed by email",
            "until": until,
            "back": "/t/demo/exceptions?owner=hr&done=9",
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/t/demo/exceptions?owner=hr&done=2"
    shown = client.get(f"/api/v1/tenants/demo/exceptions/{ids[0]}").json()
    assert shown["status"] == "suppressed" and shown["status_reason"] == "DESE agreed by email"
    assert shown["suppressed_until"].startswith(until)
    assert [h["action"] for h in shown["history"]] == ["found", "suppress"]
    assert shown["history"][-1]["changed_by"] == "operator"
    detail = client.get(f"/t/demo/exceptions/{ids[0]}")
    assert detail.status_code == 200
    assert "status-suppressed" in detail.text and "DESE agreed by email" in detail.text
    assert "Derivation trace" in detail.text and shown["trace"]
    assert all(f"<dt>{key}</dt>" in detail.text for key in shown["trace"])
    assert f"/t/demo/compare?student={students[0]['state_id']}" in detail.text
    suppressed = client.get("/api/v1/tenants/demo/exceptions?status=suppressed").json()
    assert sorted(x["exception_id"] for x in suppressed["exceptions"]) == sorted(ids)
    last = audit_rows(seeded.store, "view.exception")[-1]
    assert last["user_name"] == "operator" and last["subject"]["id"] == ids[0]

    # The API's actions: assign to a person, then resolve from the detail form.
    assigned = client.post(
        "/api/v1/tenants/demo/exceptions/actions",
        json={"ids": [ids[1]], "action": "assign", "owner": "registrar:jdoe"},
    ).json()["changed"][0]
    assert (assigned["status"], assigned["assigned_to"]) == ("assigned", "registrar:jdoe")
    resolved = client.post(
        "/t/demo/exceptions/bulk",
        data={
            "ids": str(ids[1]),
            "action": "resolve",
            "note": "fixed in Campus",
            "back": f"/t/demo/exceptions/{ids[1]}",
        },
    )
    assert resolved.headers["location"] == f"/t/demo/exceptions/{ids[1]}"
    assert "status-resolved" in client.get(resolved.headers["location"]).text

    # Export: XLSX opens and has the active queue; CSV follows the filters.
    xlsx = client.get("/t/demo/exceptions/export?format=xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "exception_id" and len(rows) - 1 == everything["count"] - 1  # 1 resolved
    hr_csv = client.get("/api/v1/tenants/demo/exceptions/export?format=csv&owner=hr")
    assert [r["owner"] for r in csv.DictReader(io.StringIO(hr_csv.text))] == ["hr"] * len(hr)
    exported = audit_rows(seeded.store, "export.exceptions")
    assert [e["subject"]["format"] for e in exported] == ["xlsx", "csv"]
    assert exported[0]["subject"]["rows"] == everything["count"] - 1
    assert exported[0]["user_name"] == "operator" and exported[0]["subject"]["person_ids"]

    # Bad input is a clear 400 / 404 / 403, never a 500 or a silently empty queue.
    bogus = client.get("/api/v1/tenants/demo/exceptions?severity=bogus")
    assert bogus.status_code == 400 and "severity" in bogus.json()["error"]
    assert client.get("/t/demo/exceptions?year=abc").status_code == 400
    assert "cycle" in client.get("/api/v1/tenants/demo/exceptions?cycle=may").json()["error"]
    assert client.get("/t/demo/exceptions/export?format=pdf").status_code == 400
    assert client.get("/t/demo/exceptions/999999").status_code == 404
    assert client.get("/api/v1/tenants/demo/exceptions/999999").status_code == 404
    past = client.post(
        "/api/v1/tenants/demo/exceptions/actions",
        json={
            "ids": [first["exception_id"]],
            "action": "suppress",
            "reason": "x",
            "until": "2001-01-01",
        },
    )
    assert past.status_code == 400 and "not in the future" in past.json()["error"]
    no_reason = client.post(
        "/api/v1/tenants/demo/exceptions/actions",
        json={"ids": [first["exception_id"]], "action": "suppress", "until": until},
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]
    unknown = client.post(
        "/api/v1/tenants/demo/exceptions/actions",
        json={"ids": [first["exception_id"], 999999], "action": "resolve"},
    )
    assert unknown.status_code == 404
    assert (
        client.get(f"/api/v1/tenants/demo/exceptions/{first['exception_id']}").json()["status"]
        == "open"
    )  # nothing changed by the refused requests
    stale = client.post(
        "/t/demo/exceptions/bulk",
        data={"ids": str(first["exception_id"]), "action": "resolve"},
        headers={"X-CSRF-Token": ""},
    )
    assert stale.status_code == 403


def test_analyst_and_other_tenant_never_reach_an_exception(seeded):
    operator = seeded.client("operator")
    some_id = operator.get("/api/v1/tenants/demo/exceptions").json()["exceptions"][0][
        "exception_id"
    ]
    analyst = seeded.client("analyst")
    for url in (
        "/t/demo/exceptions",
        f"/t/demo/exceptions/{some_id}",
        "/t/demo/exceptions/export?format=csv",
        "/api/v1/tenants/demo/exceptions",
        f"/api/v1/tenants/demo/exceptions/{some_id}",
        "/api/v1/tenants/demo/exceptions/export?format=xlsx",
    ):
        assert analyst.get(url).status_code == 403, url
    assert (
        analyst.post(
            "/t/demo/exceptions/bulk", data={"ids": str(some_id), "action": "resolve"}
        ).status_code
        == 403
    )
    assert (
        analyst.post(
            "/api/v1/tenants/demo/exceptions/actions", json={"ids": [some_id], "action": "resolve"}
        ).status_code
        == 403
    )
    assert analyst.get("/api/v1/tenants/demo/exceptions/trend?by=owner").status_code == 200

    other = seeded.client("opother")
    for url in (
        "/t/demo/exceptions",
        f"/t/demo/exceptions/{some_id}",
        f"/t/other/exceptions/{some_id}",
        f"/api/v1/tenants/other/exceptions/{some_id}",
        "/api/v1/tenants/demo/exceptions/export?format=csv",
    ):
        assert other.get(url).status_code == 404, url
    assert other.get("/api/v1/tenants/other/exceptions").json()["count"] == 0
    assert (
        other.post(
            "/t/other/exceptions/bulk", data={"ids": str(some_id), "action": "resolve"}
        ).status_code
        == 404
    )
    assert (
        other.post(
            "/api/v1/tenants/other/exceptions/actions", json={"ids": [some_id], "action": "resolve"}
        ).status_code
        == 404
    )
    status = operator.get(f"/api/v1/tenants/demo/exceptions/{some_id}").json()["status"]
    assert status == "open"
