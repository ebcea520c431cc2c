"""The district gate: no file updates a tenant until its district is verified (seed 001)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.identity.district_gate import normalise_name
from nexus.synth import generate


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    """A small synthetic district with its vendor files and OneRoster bundle."""
    out = tmp_path_factory.mktemp("district")
    generate(out, students=60, seed=3, formats=("oneroster", "vendors"))
    return out


def register(nexus, district: Path, code: bool = True, nces: bool = True) -> dict:
    facts = json.loads((district / "district.json").read_text())
    args = ["tenants", "add", "t", "--name", facts["name"]]
    if code:
        args += ["--district-code", facts["county_district_code"]]
    if nces:
        args += ["--nces-id", facts["nces_id"]]
    assert nexus(*args).exit_code == 0
    return facts


def ingest(nexus, kind: str, source: Path) -> tuple[int, dict]:
    result = nexus("ingest", kind, str(source), "--tenant", "t", "--json")
    return result.exit_code, json.loads(result.stdout)


def rewrite_star(path: Path, **values: str) -> None:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for row in rows:
        row.update(values)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def versions(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM integration.source_records")).scalar()


def test_names_normalise_across_the_spellings_sources_use():
    spellings = [
        "Stratford R-XI School District",
        "STRATFORD R-XI",
        "Stratford Public Schools",
        "Stratford PD",
        "STRATFORD SCHOOL DISTRICT",
    ]
    assert {normalise_name(s) for s in spellings} == {"stratford"}
    assert normalise_name("Jefferson County R-VII") != normalise_name("Jefferson City")


def test_the_spellings_of_one_district_all_reach_its_tenant(nexus, district):
    facts = register(nexus, district)
    names = facts["name_variants"]
    assert len({names["campus"], names["star"], names["classlink"]}) == 3
    for kind, source in (
        ("oneroster", district / "oneroster"),
        ("classlink", district / "vendors" / "classlink"),
        ("star", district / "vendors" / "star"),
    ):
        code, run = ingest(nexus, kind, source)
        assert code == 0, (kind, run["reason"], run["files"])


def test_a_file_of_another_district_is_refused_and_nothing_is_applied(
    nexus, district, store, tmp_path
):
    facts = register(nexus, district)
    star = tmp_path / "star"
    star.mkdir()
    (star / "SR.csv").write_bytes((district / "vendors" / "star" / "SR.csv").read_bytes())
    rewrite_star(star / "SR.csv", DistrictStateID="048078", DistrictName="Belleville PD")
    before = versions(store)
    code, run = ingest(nexus, "star", star)
    assert code == 1
    assert run["status"] == "failed"
    assert run["reason"] == (
        "SR.csv: refused by the district gate: the file's DESE county-district code 048078 is "
        f"not this tenant's ({facts['county_district_code']})"
    )
    assert run["entities"] == {}
    assert versions(store) == before
    shown = json.loads(nexus("runs", "files", str(run["run_id"]), "--json").stdout)
    assert shown[0]["status"] == "failed" and len(shown[0]["sha256"]) == 64


def test_a_name_alone_is_matched_fuzzily_and_aliases_widen_it(nexus, district, tmp_path):
    facts = register(nexus, district, code=False, nces=False)
    star = tmp_path / "star"
    star.mkdir()
    (star / "SM.csv").write_bytes((district / "vendors" / "star" / "SM.csv").read_bytes())
    town = facts["name_variants"]["star"].split()[0]
    typo = town[0] + town[2] + town[1] + town[3:]
    rewrite_star(star / "SM.csv", DistrictStateID="", DistrictName=f"{typo} Public Schools")
    code, run = ingest(nexus, "star", star)
    assert code == 0, run["reason"]  # a typo still scores above the threshold
    rewrite_star(star / "SM.csv", DistrictName="Old Orchard Consolidated")
    code, run = ingest(nexus, "star", star)
    assert code == 1
    assert "the file's district 'Old Orchard Consolidated' does not match" in run["reason"]
    assert "`nexus districts aliases add`" in run["reason"]
    assert (
        nexus("districts", "aliases", "add", "Old Orchard Consolidated", "--tenant", "t").exit_code
        == 0
    )
    code, run = ingest(nexus, "star", star)
    assert code == 0, run["reason"]
    listed = json.loads(nexus("districts", "list", "--tenant", "t", "--json").stdout)
    assert listed[0]["aliases"] == ["Old Orchard Consolidated"]


def test_a_tenant_outside_missouri_is_gated_by_name(nexus, tmp_path):
    assert (
        nexus(
            "tenants", "add", "t", "--name", "Belleville Public Schools", "--nces-id", "3401530"
        ).exit_code
        == 0
    )
    folder = tmp_path / "classlink"
    folder.mkdir()
    (folder / "users.csv").write_text(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
        "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
        "password\n"
        "s1,,,true,d1,student,ava@bps.example.org,,Ava,Ash,,1001,ava@bps.example.org,,,,05,\n"
    )
    (folder / "orgs.csv").write_text(
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "d1,,,Belleville PD,district,,\n"
    )
    code, run = ingest(nexus, "classlink", folder)
    assert code == 0, run["reason"]
    (folder / "orgs.csv").write_text(
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "d1,,,Nutley Public Schools,district,,\n"
    )
    code, run = ingest(nexus, "classlink", folder)
    assert code == 1
    assert "the file's district 'Nutley Public Schools' does not match" in run["reason"]
