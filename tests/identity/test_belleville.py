"""Seed 001's Belleville scenario, end to end on a synthetic district and both databases.

A district outside Missouri (no DESE code on the tenant) sends ClassLink users, a PowerSchool
student export and Renaissance Star files. The three sources spell the district three ways;
all are gated to the one tenant, and another district's file is refused. Students are matched
by the chain (ClassLink email -> PowerSchool STUDENTS.EMAIL, STUDENT_NUMBER -> Star
StudentIdentifier), Star scores land on the right canonical students, a student with two
e-mails is one person, and a Star row that matches nobody is kept and listed as unmatched.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.canonical import map_run
from nexus.identity import district_gate, register_district
from nexus.integration import ingest
from nexus.store.tenants import add_tenant
from nexus.synth import generate

TENANT = "belleville"


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("belleville")
    generate(out, students=60, seed=5, formats=("vendors",))
    return out


@pytest.fixture
def belleville(store, district) -> dict:
    """The tenant as an operator registers it: the account's name, the NCES id, no DESE code."""
    info = json.loads((district / "district.json").read_text())
    with store.engine.begin() as conn:
        tenant = add_tenant(conn, TENANT, info["name_variants"]["account"], None, info["nces_id"])
        register_district(conn, tenant)
    return info


def _crosswalk(district: Path) -> list[dict]:
    with (district / "vendors" / "crosswalk.csv").open() as fh:
        return list(csv.DictReader(fh))


def _ingest(store, kind: str, source: Path):
    return ingest(store, TENANT, kind, str(source), gate=district_gate)


def _star_with_a_stranger(district: Path, folder: Path) -> Path:
    """The Star files plus one test event of a student nobody else knows."""
    shutil.copytree(district / "vendors" / "star", folder)
    path = folder / "SM.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    stranger = dict(rows[0])
    stranger.update(
        StudentRenaissanceID="00000000-0000-4000-8000-000000000001",
        StudentSourcedID="",
        StudentIdentifier="9999001",
        StudentUserID="",
        StudentStateID="",
        StudentEmail="",
        StudentFirstName="Zephyrine",
        StudentMiddleName="",
        StudentLastName="Quillfeather",
        BirthDate="2012-01-01T00:00:00.000Z",
        AssessmentID="STRANGER-1",
    )
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows, stranger])
    return folder


def _rows(store, sql: str, **params) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def test_belleville_end_to_end(store, belleville, district, tmp_path, nexus):
    vendors = district / "vendors"
    star = _star_with_a_stranger(district, tmp_path / "star")

    # Three spellings of the district, one tenant.
    runs = {
        kind: _ingest(store, kind, source)
        for kind, source in (
            ("classlink", vendors / "classlink"),  # orgs.csv: "... PD"
            ("powerschool", vendors / "powerschool"),  # no district in the file: the bundle's
            ("star", star),  # DistrictName "... Public Schools"
        )
    }
    assert {k: r.status for k, r in runs.items()} == dict.fromkeys(runs, "succeeded")

    # PowerSchool is the SIS: its students become people; the others link into them.
    ps = map_run(store, TENANT, runs["powerschool"].run_id)
    assert ps.status == "succeeded", ps.as_dict()
    assert ps.identity["people_created"] == 60
    classlink = map_run(store, TENANT, runs["classlink"].run_id)
    assert classlink.status == "succeeded", (classlink.reason, classlink.match_rates)
    star_map = map_run(store, TENANT, runs["star"].run_id)
    assert star_map.status == "partial", star_map.as_dict()
    assert star_map.match_rates["rate"] >= 0.8
    assert star_map.match_rates["pairs"]["star_student_identifier->student_number"] >= 0.8

    # Every ClassLink and Star student is the PowerSchool student with their student number,
    # including the Star identifiers that lost their leading zero.
    expected = {r["studentNumber"]: r for r in _crosswalk(district)}
    ps_person = dict(
        _rows(
            store,
            "SELECT p.value, i.person_id FROM census.person_identifiers p "
            "JOIN census.identities i ON i.tenant_id = p.tenant_id AND i.key_scope = p.key_scope "
            "AND i.source_key = p.source_key AND i.person_kind = p.person_kind "
            "WHERE p.key_scope = 'powerschool' AND p.identifier_type = 'student_number'",
        )
    )
    assert len(ps_person) == 60
    star_people = _rows(
        store,
        "SELECT p.value, i.person_id, i.link_status FROM census.person_identifiers p "
        "JOIN census.identities i ON i.tenant_id = p.tenant_id AND i.key_scope = p.key_scope "
        "AND i.source_key = p.source_key AND i.person_kind = p.person_kind "
        "WHERE p.key_scope = 'star' AND p.identifier_type = 'star_student_identifier'",
    )
    by_star_id = {r["star_student_identifier"]: r["studentNumber"] for r in expected.values()}
    linked = [(value, person) for value, person, status in star_people if status == "linked"]
    assert linked and all(ps_person[by_star_id[value]] == person for value, person in linked)
    assert any(value != by_star_id[value] for value, _ in linked), "a leading-zero case"

    # Star scores sit on the right canonical students.
    scores = _rows(
        store,
        "SELECT r.person_id, s.natural_key FROM education.assessment_results r "
        "JOIN integration.source_records s ON s.tenant_id = r.tenant_id "
        "AND s.record_id = r.source_record_id WHERE r.key_scope = 'star'",
    )
    assert len(scores) >= 100
    with store.engine.connect() as conn:
        star_number = {
            row.record_key: json.loads(row.payload)["StudentIdentifier"]
            for row in conn.execute(
                sa.text(
                    "SELECT natural_key AS record_key, payload FROM integration.source_records "
                    "WHERE valid_to_run IS NULL AND entity_id IN (SELECT entity_id FROM "
                    "integration.source_entities WHERE name LIKE 'star_%')"
                )
            )
        }
    assert all(ps_person[by_star_id[star_number[key]]] == person for person, key in scores)

    # The stranger's score is not lost: the source record stays, their identity is listed as
    # unmatched, and their result is a mapping error waiting for a link.
    assert "STRANGER-1" in star_number
    assert ("STRANGER-1", "person_id", "broken_reference") in {
        (e["natural_key"], e["field"], e["rule"]) for e in star_map.errors
    }
    unmatched = json.loads(
        nexus("identity", "unmatched", "--tenant", TENANT, "--source", "star", "--json").stdout
    )["unmatched"]
    assert [(u["last_name"], u["link_status"]) for u in unmatched] == [
        ("Quillfeather", "unmatched")
    ]

    # A student with two e-mails: ClassLink's legacy domain and PowerSchool's; one person,
    # linked by the chain's next step (student number).
    legacy = next(r for r in expected.values() if r["variation"] == "email_legacy_domain")
    person = ps_person[legacy["studentNumber"]]
    emails = _rows(
        store,
        "SELECT DISTINCT lower(p.value) FROM census.person_identifiers p "
        "JOIN census.identities i ON i.tenant_id = p.tenant_id AND i.key_scope = p.key_scope "
        "AND i.source_key = p.source_key AND i.person_kind = p.person_kind "
        "WHERE p.identifier_type = 'email' AND i.person_id = :person ORDER BY 1",
        person=person,
    )
    assert sorted(e for (e,) in emails) == sorted(
        {legacy["powerschool_email"].lower(), legacy["classlink_email"].lower()}
    )
    rule = _rows(
        store,
        "SELECT link_rule FROM census.identities WHERE key_scope = 'classlink' "
        "AND person_id = :person AND person_kind = 'student'",
        person=person,
    )
    assert rule == [("chain:student_number->student_number",)]

    report = json.loads(nexus("identity", "report", "--tenant", TENANT, "--json").stdout)
    assert report["sources"]["powerschool"] == {"matched": 60, "review": 0, "unmatched": 0}
    assert report["sources"]["star"]["unmatched"] == 1
    assert report["sources"]["star"]["review"] == 0
    # ClassLink students all match; its staff have no staff source to match (PowerSchool's
    # export is students only), so they are kept and listed, not dropped nor held against it.
    with (vendors / "classlink" / "users.csv").open() as fh:
        roles = [row["role"] for row in csv.DictReader(fh)]
    assert report["sources"]["classlink"] == {
        "matched": roles.count("student"),
        "review": 0,
        "unmatched": len(roles) - roles.count("student"),
    }


def test_another_districts_file_is_refused(store, belleville, district, tmp_path):
    folder = tmp_path / "star"
    shutil.copytree(district / "vendors" / "star", folder)
    for path in folder.glob("*.csv"):
        text = path.read_text().replace(
            belleville["name_variants"]["star"], "Lakeview Public Schools"
        )
        path.write_text(text)

    refused = _ingest(store, "star", folder)

    assert refused.status == "failed"
    assert "Lakeview Public Schools" in refused.reason
    assert _rows(store, "SELECT count(*) FROM integration.source_records") == [(0,)]


def test_a_vendor_file_before_its_sis_is_refused_then_accepted(store, belleville, district):
    vendors = district / "vendors"
    star_run = _ingest(store, "star", vendors / "star")

    early = map_run(store, TENANT, star_run.run_id)

    assert early.status == "failed"
    assert "below the required 80%" in early.reason
    assert "star_student_identifier->student_number 0%" in early.reason
    # Its people are kept and listed; its scores stayed out of canonical.
    assert _rows(store, "SELECT count(*) FROM education.assessment_results") == [(0,)]
    kept = _rows(
        store, "SELECT count(*), count(person_id) FROM census.identities WHERE key_scope = 'star'"
    )
    assert kept[0][0] > 0 and kept[0][1] == 0

    map_run(store, TENANT, _ingest(store, "powerschool", vendors / "powerschool").run_id)
    again = map_run(store, TENANT, star_run.run_id)

    assert again.status == "succeeded", again.as_dict()
    assert _rows(store, "SELECT count(*) FROM education.assessment_results")[0][0] > 0
