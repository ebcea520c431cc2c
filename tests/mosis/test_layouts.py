"""MOSIS layouts as data: the package against the reference, loading, reading, CollectionVersion
and the CLI, on DuckDB and PostgreSQL."""

from __future__ import annotations

import filecmp
import json

import pytest
import sqlalchemy as sa

from nexus.mosis import layouts as L
from nexus.mosis.layouts import build
from nexus.store.reporting_tables import (
    mosis_business_rules,
    mosis_code_sets,
    mosis_layout_fields,
    mosis_layouts,
)
from tests.conftest import SHARED

YEAR = 2027
REFERENCE = SHARED / "reference" / "mosis"


def _counts(store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (mosis_layouts, mosis_layout_fields, mosis_code_sets, mosis_business_rules)
        }


# --- without a database -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year"), [("2026-27", 2027), ("2027", 2027), ("2026-2027", 2027), (2027, 2027)]
)
def test_parse_school_year(text, year):
    assert L.parse_school_year(text) == year


@pytest.mark.parametrize("text", ["2026-28", "27", "next year"])
def test_parse_school_year_refuses(text):
    with pytest.raises(L.LayoutError):
        L.parse_school_year(text)


@pytest.mark.parametrize(
    ("layout", "cycle", "expected"),
    [
        ("student_core", "october", "2027Oct1.0StuCore"),
        ("student_core", "Apr", "2027Apr1.0StuCore"),
        ("student_enrollment_attendance", "august", "2027Aug1.0StuEnrlAttnd"),
        ("student_enrollment_attendance", "june", "2027Jun1.0StuEnrlAttnd"),
        ("educator_core", "october", "2027Oct1.0EdCore"),
        ("educator_school", "october", "2027Oct1.0EdSchool"),
        ("course_assignment", "october", "2027Oct1.0CrsAssign"),
        ("student_assignment", "october", "2027Oct1.0StuAssign"),
        ("summer_course_assignment", "june", "2027Jun1.0SumCrsAssign"),
        ("summer_student_assignment", "june", "2027Jun1.0SumStuAssign"),
        ("student_course_completion", "june", "2027Jun1.0StuCRSComp"),
        ("student_discipline", "december", "2027Dec1.0StuDiscipline"),
        ("ctso", "june", "2027Jun1.0CTSO"),
        ("asvab", "june", "2027ALL1.0ASVAB"),
        ("postsecondary_adult_course_assignment", "annual", "2027ALL1.0PSACourseAssign"),
        ("school_calendar_header", "june", "2027JunSchoolCalHeader"),
        ("school_calendar_days", "august", "2027AugSchoolCalDays"),
        ("assessment_precode", "EOCEXP", "2027EOCEXP1.0AsmPre"),
        ("assessment_precode", "eocspr", "2027EOCSPR1.0AsmPre"),
        ("direct_certification_lookup", "annual", "ALL1.0DirectCert"),
    ],
)
def test_collection_version(layout, cycle, expected):
    assert L.collection_version(layout, YEAR, cycle) == expected


@pytest.mark.parametrize(
    ("layout", "cycle", "message"),
    [
        ("educator_core", "june", "not collected in cycle"),
        ("student_core", "august", "not collected in cycle"),
        ("mosis_id_batch", "annual", "no CollectionVersion"),
        ("student_core", "march", "unknown cycle"),
        ("no_such_layout", "june", "unknown MOSIS layout"),
    ],
)
def test_collection_version_refuses(layout, cycle, message):
    with pytest.raises(L.LayoutError, match=message):
        L.collection_version(layout, YEAR, cycle)


def test_package_is_built_from_the_reference(tmp_path):
    """The packaged CSVs are exactly what build.py makes of the reference: no field, code or
    rule is added by hand."""
    if not (REFERENCE / "README.md").exists():
        pytest.skip("../shared/reference/mosis is not present")
    counts = build.build(REFERENCE, YEAR, tmp_path)
    packaged = L.PACKAGE_DIR / str(YEAR)
    assert set(counts) == set(build.LAYOUTS)
    for sub in ("", "code_sets", "rules"):
        names = sorted(p.name for p in (tmp_path / sub).glob("*.csv"))
        assert names == sorted(p.name for p in (packaged / sub).glob("*.csv"))
        match, mismatch, errors = filecmp.cmpfiles(tmp_path / sub, packaged / sub, names, False)
        assert not mismatch and not errors, (sub, mismatch, errors)


def test_requirements_by_cycle():
    assert build.parse_requirement("Aug: Optional (2014); Jun: Required (2025)") == (
        "By cycle",
        {"Aug": "Optional", "Jun": "Required"},
    )
    assert build.parse_requirement("Required (per vendor)") == ("Required", None)
    assert build.parse_requirement("") == ("Unknown", None)
    assert build.snake("IEPDisability") == "iep_disability"
    assert build.snake("4DaySchoolWeek") == "4_day_school_week"


# --- loading and reading ------------------------------------------------------------------------


def test_load_is_idempotent(store):
    with store.engine.begin() as conn:
        first = L.load_package(conn, YEAR)
    assert first.changed
    assert set(first.layouts.values()) == {"loaded version 1"}
    loaded = _counts(store)
    with store.engine.begin() as conn:
        second = L.load_package(conn, YEAR)
    assert not second.changed
    assert set(second.layouts.values()) == {"unchanged"}
    assert _counts(store) == loaded
    assert loaded["mosis_layouts"] == len(build.LAYOUTS)


def test_counts_match_the_reference(store):
    """README: Student Core has 11 verified (005-055), 8 inferred (060-105) and 95 unverified
    names; vendor-only rows are unverified too."""
    with store.engine.begin() as conn:
        L.load_package(conn, YEAR)
        found = {s.name: s for s in L.list_layouts(conn, YEAR)}
    assert list(found) == list(build.LAYOUTS)
    core = found["student_core"]
    assert (core.fields, core.verified, core.inferred, core.unverified) == (114, 11, 8, 95)
    assert (core.version, core.origin, core.source_year) == (1, "package", 2024)
    assert core.cycles == ("Oct", "Dec", "Feb", "Apr", "Jun")
    educator = found["educator_core"]
    assert (educator.verified, educator.unverified) == (4, 15)
    assert found["mosis_id_batch"].verified == 0
    assert found["school_calendar_days"].source_year == 2027


def test_get_layout(store):
    with store.engine.begin() as conn:
        L.load_package(conn, YEAR)
        core = L.get_layout(conn, "student_core", YEAR)
        sea = L.get_layout(conn, "student_enrollment_attendance", YEAR)
        with pytest.raises(L.LayoutError, match="unknown MOSIS layout"):
            L.get_layout(conn, "student_cor", YEAR)
        with pytest.raises(L.LayoutError, match="2024-25 is loaded"):
            L.get_layout(conn, "student_core", 2025)
    assert [f.field_order for f in core.fields] == list(range(1, 115))
    state_id = core.field("StateID")
    assert (state_id.item, state_id.requirement, state_id.length) == ("050", "Required", 10)
    assert state_id.derivation == "student_core.state_id"
    assert state_id.null_handling_for("october") == "error"
    last = core.field("LastName")
    assert (last.provenance, last.requirement, last.null_handling) == (
        "inferred",
        "Unknown",
        "blank",
    )
    assert core.field("IEPDisability").derivation == "student_core.iep_disability"
    assert [
        c.code for c in core.code_sets["Race_Ethnicity_Codes"] if c.provenance != "verified"
    ] == ["H"]
    assert {c.provenance for c in core.code_sets["Gender_Codes"]} == {"unverified"}
    assert "DESE_District_Codes" in core.missing_code_sets
    assert {r.rule_id for r in core.rules} >= {"STC00001", "STC00401", "NOID-01"}
    assert {r.severity for r in core.rules} == {"E", "W", ""}
    assert core.delimiter == "," and core.header_row and core.date_format == "MM/DD/YYYY"
    assert core.collection_version("feb") == "2027Feb1.0StuCore"
    entry = sea.field("EntryDate")
    assert entry.requirement_by_cycle == {"Aug": "Not Allowed", "Jun": "Required"}
    assert entry.requirement_for("august") == "Not Allowed"
    assert L.requirement_for(entry, "Jun") == "Required"
    assert sea.field("RegHrsAttended").requirement_for("june") == "Unknown"
    assert sea.field("AttendingDistrictCode").requirement_for("Aug") == "Optional"


def test_a_changed_package_gets_a_new_version(store):
    with store.engine.begin() as conn:
        L.load_package(conn, YEAR)
        conn.execute(
            mosis_layouts.update()
            .where(mosis_layouts.c.layout == "ctso")
            .values(sha256="0" * 64)  # as if an older Nexus had shipped other metadata
        )
        result = L.load_package(conn, YEAR)
        ctso = L.get_layout(conn, "ctso", YEAR)
        old = L.get_layout(conn, "ctso", YEAR, version=1)
    assert result.layouts["ctso"] == "loaded version 2"
    assert result.layouts["asvab"] == "unchanged"
    assert (ctso.version, ctso.origin, len(ctso.fields)) == (2, "package", 6)
    assert len(old.fields) == 6  # the version an older extract named is still there


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_layouts(nexus, store):
    result = nexus("mosis", "layouts", "--year", "2026-27", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["school_year"] == 2027
    core = next(x for x in payload["layouts"] if x["name"] == "student_core")
    assert (core["verified"], core["inferred"], core["unverified"]) == (11, 8, 95)
    again = nexus("mosis", "layouts", "--year", "2027", "--json")
    assert json.loads(again.stdout) == payload
    table = nexus("mosis", "layouts")
    assert table.exit_code == 0 and "student_core" in table.stdout


def test_cli_layout(nexus, store):
    result = nexus("mosis", "layout", "educator_school", "--year", "2026-27", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["name"] == "educator_school" and payload["version"] == 1
    assert [f["column_name"] for f in payload["fields"][:3]] == [
        "CollectionVersion",
        "CurrentSchoolYear",
        "ReportingDistrictCode",
    ]
    assert payload["counts"] == {"verified": 14, "inferred": 0, "unverified": 2}
    assert payload["rules"][0]["rule_id"].startswith("EDS")
    text = nexus("mosis", "layout", "educator_school", "--year", "2027")
    assert text.exit_code == 0 and "EDSSN" in text.stdout
    bad = nexus("mosis", "layout", "educator_schol", "--year", "2027")
    assert bad.exit_code == 1
    assert "unknown MOSIS layout 'educator_schol'" in bad.stderr
    year = nexus("mosis", "layouts", "--year", "26-27")
    assert year.exit_code == 1 and "2026-27 or 2027" in year.stderr
