"""Seed 001's identifier chain: ClassLink e-mail = PowerSchool e-mail, Star StudentIdentifier =
STUDENTS.STUDENT_NUMBER, district names that differ by source, and labelled deliberate mismatches.
"""

from __future__ import annotations

import pytest

from nexus.synth.writers.star import STAR_HEADERS
from tests.synth.conftest import header, read_csv

# Star v2 headers as published (reference/sources/renaissance-star.md): column counts and ends.
STAR_COUNTS = {"SR": 126, "SM": 118, "SEL": 118}


@pytest.fixture(scope="module")
def vendor_files(larger):
    result, out = larger
    v = out / "vendors"
    return (
        result,
        out,
        {
            "ps": read_csv(v / "powerschool/students.csv"),
            "cl": read_csv(v / "classlink/users.csv"),
            "cl_orgs": read_csv(v / "classlink/orgs.csv"),
            "star": {p: read_csv(v / f"star/{p}.csv") for p in ("SR", "SM", "SEL")},
            "crosswalk": read_csv(v / "crosswalk.csv"),
        },
    )


def test_star_headers(vendor_files) -> None:
    _, out, _ = vendor_files
    for product, count in STAR_COUNTS.items():
        cols = header(out / "vendors" / "star" / f"{product}.csv")
        assert len(cols) == count and tuple(cols) == STAR_HEADERS[product]
        assert cols[:7] == [
            "RenaissanceClientID",
            "SchoolYear",
            "SchoolYearStartDate",
            "SchoolYearEndDate",
            "StudentRenaissanceID",
            "StudentSourcedID",
            "StudentIdentifier",
        ]
    assert header(out / "vendors/star/SM.csv")[-3:] == [
        "TeacherDisplayID",
        "SATBenchmarkCategory",
        "ACTBenchmarkCategory",
    ]
    assert header(out / "vendors/star/SEL.csv")[-2:] == ["Lexile", "LexileRange"]


def test_classlink_email_matches_powerschool_email(vendor_files) -> None:
    _, _, f = vendor_files
    ps = {p["STUDENTS.EMAIL"]: p for p in f["ps"]}
    variation = {c["classlink_sourcedId"]: c["variation"] for c in f["crosswalk"]}
    students = [u for u in f["cl"] if u["role"] == "student"]
    assert students
    unmatched = [u for u in students if u["email"] not in ps]
    assert unmatched, "some e-mails must deliberately not match"
    assert {variation[u["sourcedId"]] for u in unmatched} <= {"email_case", "email_legacy_domain"}
    assert len(unmatched) <= 0.05 * len(students)
    for u in students:
        if u["email"] in ps:
            assert ps[u["email"]]["STUDENTS.STUDENT_NUMBER"] == u["identifier"]
            assert ps[u["email"]]["STUDENTS.DCID"] == u["sourcedId"]
    case_only = [u for u in unmatched if variation[u["sourcedId"]] == "email_case"]
    assert all(u["email"].lower() in ps for u in case_only)


def test_star_identifier_matches_student_number(vendor_files) -> None:
    _, _, f = vendor_files
    numbers = {p["STUDENTS.STUDENT_NUMBER"] for p in f["ps"]}
    dropped = {
        c["star_student_identifier"]
        for c in f["crosswalk"]
        if c["variation"] == "star_leading_zero_dropped"
    }
    assert dropped
    rows = [r for p in f["star"].values() for r in p]
    ids = {r["StudentIdentifier"] for r in rows}
    assert ids - numbers == dropped & ids
    assert all(
        ("0" + i) in numbers or any(n.lstrip("0") == i for n in numbers) for i in ids - numbers
    )


def test_crosswalk_labels_every_mismatch(vendor_files) -> None:
    _, _, f = vendor_files
    for c in f["crosswalk"]:
        same = (
            c["powerschool_email"] == c["classlink_email"]
            and c["star_student_identifier"] == c["studentNumber"]
        )
        assert same == (c["variation"] == "")


def test_district_name_varies_by_source(vendor_files) -> None:
    result, out, f = vendor_files
    import json

    doc = json.loads((out / "district.json").read_text())
    star_names = {r["DistrictName"] for p in f["star"].values() for r in p}
    assert star_names == {doc["name_variants"]["star"]}
    assert star_names.pop().endswith("Public Schools")
    district = [o for o in f["cl_orgs"] if o["type"] == "district"][0]
    assert district["name"].endswith(" PD")
    assert doc["name_variants"]["account"].endswith("SCHOOL DISTRICT")
    assert len({doc["name"], district["name"], doc["name_variants"]["star"]}) == 3
    assert result.counts["schools"] == len(doc["schools"])
