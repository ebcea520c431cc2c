"""The Marts pages and API on the seeded district: explorer with chart and suppressed table,
definitions, refresh as a background job, drill-through for roles that see students (audited)."""

from __future__ import annotations

import html
import re
import time

from nexus.store import audit

INDICATOR = "k12_enrollment"
_DRILL_LINK = re.compile(r'href="(/t/demo/marts/drill\?[^"]+)"')


def _refresh_through_the_web(client, year: int) -> dict:
    started = client.post(f"/api/v1/tenants/demo/marts/refresh?year={year}")
    assert started.status_code == 202, started.text
    url = started.json()["url"]
    for _ in range(600):
        job = client.get(url).json()
        if job["status"] in ("succeeded", "partial", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"marts refresh did not finish: {job}")


def _drills(store) -> list[dict]:
    with store.engine.connect() as conn:
        return [e for e in audit.events(conn) if e["action"] == "view.drill"]


def test_explorer_chart_suppression_definition_and_audited_drill(seeded):
    year = seeded.school_year
    operator = seeded.client("operator")
    job = _refresh_through_the_web(operator, year)
    assert job["status"] == "succeeded", job
    assert job["result"]["aggregates"] > 0

    # Operator: chart, table, definition link, drill links on the cells.
    page = operator.get(f"/t/demo/marts?year={year}&indicator={INDICATOR}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<svg" in text and "<table>" in text
    assert f'/t/demo/marts/indicators/{INDICATOR}?year={year}"' in text
    links = [html.unescape(u) for u in _DRILL_LINK.findall(text)]
    assert links and any("group=all" in u for u in links)

    # The definition, one click away, and through the API.
    definition = operator.get(f"/t/demo/marts/indicators/{INDICATOR}?year={year}")
    assert definition.status_code == 200
    assert "SQL" in definition.text and "denominator" in definition.text
    explained = operator.get(f"/api/v1/tenants/demo/marts/indicators/{INDICATOR}?year={year}")
    assert explained.json()["name"] == INDICATOR and explained.json()["sql"]["base"]
    listed = operator.get(f"/api/v1/tenants/demo/marts/indicators?year={year}").json()
    assert INDICATOR in {i["name"] for i in listed["indicators"]}

    # Drill from the district's all-students cell: the students, and one audit row with them.
    district = next(u for u in links if "school=&" in u and "group=all" in u)
    assert _drills(seeded.store) == []
    drilled = operator.get(district)
    assert drilled.status_code == 200, drilled.text
    api = operator.get(f"/api/v1/tenants/demo/marts/drill?indicator={INDICATOR}&year={year}").json()
    assert len(api["rows"]) > 10
    shown = api["rows"][0]
    assert (shown["mosis_state_id"] or shown["last_name"]) in drilled.text
    events = _drills(seeded.store)
    assert len(events) == 2  # the page and the API; drill() audits once each
    assert {e["user_name"] for e in events} == {"operator"}
    assert sorted(events[0]["subject"]["person_ids"]) == sorted(
        {r["person_id"] for r in api["rows"]}
    )
    assert events[0]["subject"]["indicator"] == INDICATOR

    # The admin sees the drill in the audit trail.
    trail = seeded.client("admindemo").get("/t/demo/admin/audit")
    assert trail.status_code == 200 and "view.drill" in trail.text and "operator" in trail.text

    # Analyst: the explorer with suppressed small cells, no drill links, 403 on drill.
    analyst = seeded.client("analyst")
    by_group = analyst.get(
        f"/api/v1/tenants/demo/marts/cells?year={year}&indicator={INDICATOR}"
    ).json()
    hidden = [c for c in by_group["cells"] if c["suppressed"]]
    assert hidden, "the tiny district should have suppressed group cells"
    assert all(c["value"] == "*" and c["n"] == "*" for c in hidden)
    unsuppressed = operator.get(
        f"/api/v1/tenants/demo/marts/cells?year={year}&indicator={INDICATOR}"
    ).json()
    same = next(c for c in unsuppressed["cells"] if c["group"] == hidden[0]["group"])
    assert same["value"] != "*" and same["suppressed"] and same["suppression_reason"]

    page = analyst.get(f"/t/demo/marts?year={year}&indicator={INDICATOR}")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "/marts/drill" not in page.text
    row = re.search(
        rf"<th scope=\"row\">{re.escape(hidden[0]['group_label'])}</th>(.*?)</tr>",
        page.text,
        re.S,
    )
    assert row and "suppressed" in row.group(1) and ">*<" in row.group(1)
    assert "Refresh marts" not in page.text
    assert analyst.get(district).status_code == 403
    assert analyst.get(f"/api/v1/tenants/demo/marts/drill?indicator={INDICATOR}").status_code == 403
    assert analyst.post(f"/api/v1/tenants/demo/marts/refresh?year={year}").status_code == 403
    assert len(_drills(seeded.store)) == 2  # refused drills write nothing

    # By school and by grade.
    schools = operator.get(
        f"/api/v1/tenants/demo/marts/cells?year={year}&indicator={INDICATOR}&level=school"
    ).json()
    assert schools["by"] == "school" and all(c["school_code"] for c in schools["cells"])
    grade = schools["cells"][0]["school_code"]
    graded = operator.get(
        f"/t/demo/marts?year={year}&indicator={INDICATOR}&level=school&school={grade}&grade=09"
    )
    assert graded.status_code == 200


def test_marts_refuse_bad_choices_foreign_tenants_and_forms_without_csrf(web):
    operator = web.client("operator")
    missing = operator.get("/t/demo/marts")
    assert missing.status_code == 200 and "no marts for" in missing.text
    assert "Refresh marts" in missing.text
    bad = operator.get("/api/v1/tenants/demo/marts/cells?indicator=no_such_thing")
    assert bad.status_code == 400 and "no_such_thing" in bad.json()["error"]
    level = operator.get(f"/api/v1/tenants/demo/marts/cells?indicator={INDICATOR}&level=state")
    assert level.status_code == 400 and "level 'state'" in level.json()["error"]
    assert operator.get("/t/demo/marts?year=1850").status_code == 400

    token = operator.headers.pop("X-CSRF-Token")
    assert operator.post("/t/demo/marts/refresh", data={"year": "2027"}).status_code == 403
    form = re.search(
        r'action="/t/demo/marts/refresh">\s*<input type="hidden" name="csrf_token" '
        r'value="([^"]*)"',
        missing.text,
    )
    assert form and form.group(1) == token  # the page's form carries the session's token
    operator.headers["X-CSRF-Token"] = token

    other = web.client("opother")
    for url in (
        "/t/demo/marts",
        f"/t/demo/marts/indicators/{INDICATOR}",
        f"/t/demo/marts/drill?indicator={INDICATOR}",
        "/api/v1/tenants/demo/marts/cells",
        f"/api/v1/tenants/demo/marts/drill?indicator={INDICATOR}",
    ):
        assert other.get(url).status_code == 404, url
    assert other.post("/api/v1/tenants/demo/marts/refresh").status_code == 404
