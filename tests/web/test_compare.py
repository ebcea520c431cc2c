"""The Compare page and API: one student's SIS, canonical, extract and corrected values."""

from __future__ import annotations

import sqlalchemy as sa

from nexus.store.tables import audit_events

IDS = sa.text(
    "SELECT m.value AS mosis, n.value AS local FROM census.person_identifiers m "
    "JOIN census.person_identifiers n ON n.tenant_id = m.tenant_id "
    "AND n.key_scope = m.key_scope AND n.source_key = m.source_key "
    "AND n.person_kind = m.person_kind AND n.identifier_type = 'student_number' "
    "JOIN census.identities i ON i.tenant_id = m.tenant_id AND i.key_scope = m.key_scope "
    "AND i.source_key = m.source_key AND i.person_kind = m.person_kind "
    "JOIN education.enrollments e ON e.tenant_id = i.tenant_id AND e.person_id = i.person_id "
    "WHERE m.identifier_type = 'mosis_state_id' AND e.exit_date IS NULL "
    "ORDER BY e.entry_date, m.value LIMIT 1"
)


def test_compare_a_student_by_mosis_id_or_local_number(seeded):
    with seeded.store.engine.connect() as conn:
        mosis, local = conn.execute(IDS).one()
    client = seeded.client("operator")
    year = seeded.school_year
    page = client.get(f"/t/demo/compare?student={mosis}&year={year}&cycle=october")
    assert page.status_code == 200
    assert f"MOSIS ID {mosis}" in page.text
    assert "campus-extract student.stateID" in page.text and "Field by field" in page.text

    url = f"/api/v1/tenants/demo/compare/student/{mosis}?year={year}&cycle=october"
    found = client.get(url).json()
    fields = {f["field"]: f for f in found["fields"]}
    assert (found["state_id"], found["layout"], found["cycle"]) == (
        mosis,
        "student_core",
        "october",
    )
    assert fields["StateID"]["sis"] == mosis
    assert found["in_population"] and fields["StateID"]["canonical"] == mosis
    assert fields["StateID"]["trace"]["derivation"] == "student_core.state_id"
    by_local = client.get(
        f"/api/v1/tenants/demo/compare/student/{local}?year={year}&cycle=october"
    ).json()
    assert by_local["state_id"] == mosis and by_local["person_id"] == found["person_id"]

    with seeded.store.engine.connect() as conn:
        viewed = [
            dict(r)
            for r in conn.execute(
                sa.select(audit_events).where(
                    audit_events.c.action == "view.compare",
                    audit_events.c.user_name == "operator",
                )
            ).mappings()
        ]
    assert len(viewed) == 3
    assert viewed[0]["subject"]["person_ids"] == [found["person_id"]]
    assert viewed[0]["subject"]["layout"] == "student_core"

    # Unknown students are 404; bad year, cycle or layout a clear 400; no student: the form.
    assert client.get("/api/v1/tenants/demo/compare/student/0000000000").status_code == 404
    missing = client.get("/t/demo/compare?student=0000000000")
    assert missing.status_code == 404 and "no student with MOSIS ID" in missing.text
    bad_year = client.get(f"/api/v1/tenants/demo/compare/student/{mosis}?year=abc")
    assert bad_year.status_code == 400 and "school year" in bad_year.json()["error"]
    bad_cycle = client.get(f"/api/v1/tenants/demo/compare/student/{mosis}?cycle=may")
    assert bad_cycle.status_code == 400 and "cycle" in bad_cycle.json()["error"]
    assert client.get(f"/t/demo/compare?student={mosis}&layout=nope").status_code == 400
    empty = client.get("/t/demo/compare")
    assert empty.status_code == 200 and "MOSIS ID or local number" in empty.text

    analyst = seeded.client("analyst")
    assert analyst.get(f"/t/demo/compare?student={mosis}").status_code == 403
    assert analyst.get("/t/demo/compare").status_code == 403
    assert analyst.get(url).status_code == 403
    other = seeded.client("opother")
    assert other.get(url).status_code == 404
    assert other.get(f"/api/v1/tenants/other/compare/student/{mosis}").status_code == 404
    assert other.get(f"/t/other/compare?student={mosis}").status_code == 404
