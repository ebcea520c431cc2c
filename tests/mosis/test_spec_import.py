"""`nexus mosis spec import`: DESE FileSpec / FileSpecRules pages into a new layout version, the
differences it reports, and bad pages refused whole, on DuckDB and PostgreSQL.

The fixtures under `fixtures/` are written in the table format of DESE's pages; they are not
DESE's pages (items beyond 055 are made up)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.mosis import layouts as L
from nexus.mosis.layouts import spec_import as S
from nexus.store.reporting_tables import (
    mosis_business_rules,
    mosis_code_sets,
    mosis_layout_fields,
    mosis_layouts,
)

YEAR = 2027
FIXTURES = Path(__file__).parent / "fixtures"
LAYOUT_PAGE = FIXTURES / "FileSpec_202710OctoberCycleStudentCore.html"
RULES_PAGE = FIXTURES / "FileSpecRules_202710OctoberCycleStudentCore.html"
HEAD = (
    "<tr><th>Item</th><th>Item Name</th><th>Column Name</th><th>Required</th>"
    "<th>Definition</th><th>Code Set</th><th>Data Type</th><th>Length</th><th>Precision</th></tr>"
)


def _page(rows: str, head: str = HEAD) -> str:
    return f"<html><head><title>t</title></head><body><table>{head}{rows}</table></body></html>"


EDSCHOOL_ROWS = (
    "<tr><td>005</td><td>Collection Version</td><td>CollectionVersion</td><td>Required</td>"
    "<td>d</td><td></td><td>Text</td><td>50</td><td></td></tr>"
    "<tr><td>090</td><td>FTE</td><td>FTE</td><td>Required</td><td>d</td><td></td>"
    "<td>Text</td><td>4</td><td>2</td></tr>"
)


def _snapshot(store) -> dict:
    with store.engine.connect() as conn:
        out = {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (mosis_layouts, mosis_layout_fields, mosis_code_sets, mosis_business_rules)
        }
        out["versions"] = sorted(
            tuple(r)
            for r in conn.execute(
                sa.select(mosis_layouts.c.layout, mosis_layouts.c.version, mosis_layouts.c.origin)
            )
        )
    return out


# --- page names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "year", "cycle", "layout"),
    [
        (
            "FileSpec_202510OctoberCycleEducatorSchool.html",
            "layout",
            2025,
            "Oct",
            "educator_school",
        ),
        ("FileSpecRules_202504AprilCycleStudentCore.html", "rules", 2025, "Apr", "student_core"),
        ("FileSpec_202300EOCException.html", "layout", 2023, "EOCEXP", "assessment_precode"),
        (
            "Filespec_202400PostSec-AdultCourseAssignment.html",
            "layout",
            2024,
            "ALL",
            "postsecondary_adult_course_assignment",
        ),
        (
            "FileSpecRules_202508AugustCycleStudentEnrollandAttend.html",
            "rules",
            2025,
            "Aug",
            "student_enrollment_attendance",
        ),
        ("FileSpec_202306JuneASVAB.html", "layout", 2023, "Jun", "asvab"),
        ("FileSpecRules_202506CTSO.html", "rules", 2025, "Jun", "ctso"),
        (
            "FileSpec_00DirectCertification.html",
            "layout",
            2021,
            "ALL",
            "direct_certification_lookup",
        ),
    ],
)
def test_page_names(tmp_path, name, kind, year, cycle, layout):
    head = HEAD
    if kind == "rules":
        head = (
            "<tr><th>Item_Number</th><th>Item_Name</th><th>Collection_Rule_ID</th>"
            "<th>Severity</th><th>Business_Rule</th><th>Short_Title</th>"
            "<th>General_Message</th><th>Detailed_Message</th></tr>"
        )
        rows = "<tr><td>005</td><td>CV</td><td>XX00001</td><td>Error</td><td>r</td></tr>"
    else:
        rows = EDSCHOOL_ROWS
    path = tmp_path / name
    path.write_text(_page(rows, head))
    page = S.read_page(path, school_year=2021)
    assert (page.kind, page.school_year, page.cycle, page.layout) == (kind, year, cycle, layout)


@pytest.mark.parametrize(
    "name", ["download.html", "FileSpec_202710OctoberCycleEducatorSchool (1).html"]
)
def test_the_title_names_a_renamed_page(tmp_path, name):
    path = tmp_path / name
    path.write_text(
        _page(EDSCHOOL_ROWS).replace(
            "<title>t</title>", "<title>FileSpec:202710OctoberCycleEducatorSchool</title>"
        )
    )
    page = S.read_page(path)
    assert (page.school_year, page.cycle, page.layout) == (2027, "Oct", "educator_school")
    assert page.rows[1]["precision"] == "2"


# --- importing ----------------------------------------------------------------------------------


def test_import_completes_student_core(store):
    with store.engine.begin() as conn:
        result = S.import_pages(conn, [RULES_PAGE, LAYOUT_PAGE])
    assert [(p.kind, p.layout, p.cycle, p.rows) for p in result.pages] == [
        ("rules", "student_core", "Oct", 9),
        ("layout", "student_core", "Oct", 25),
    ]
    [c] = result.layouts
    assert (c.old_version, c.old_origin, c.new_version) == (1, "package", 2)
    assert [f["column"] for f in c.fields_added] == ["TestOnlyIndicator"]
    # 114 packaged fields, 24 of them on the page: the third-party names DESE's page lacks go.
    assert len(c.fields_removed) == 90
    assert {f["provenance"] for f in c.fields_removed} == {"unverified"}
    changed = {f["column"]: f["changes"] for f in c.fields_changed}
    assert changed["TeacherName"] == {"length": [40, 50]}
    assert changed["LastName"] == {
        "requirement": ["Unknown", "Required"],
        "provenance": ["inferred", "verified"],
    }
    assert changed["County"]["item"] == [None, "085"]
    assert changed["County"]["provenance"] == ["unverified", "verified"]
    assert "StateID" not in changed  # the same on the page as in the package
    assert len(changed) == 14
    assert c.rules_added == [{"rule_id": "STC00999", "severity": "W", "item": "130"}]
    removed = {r["rule_id"]: r["deleted"] for r in c.rules_removed}
    assert removed["STC06905"] is True  # an October-only rule not on the October page
    assert removed["STC06500"] is False  # still applies to the other cycles
    assert "STC03410" not in removed  # a June rule: the October page says nothing of it
    assert {r["rule_id"] for r in c.rules_changed} >= {"STC00001", "STC00401", "STC00402"}

    with store.engine.begin() as conn:
        core = L.get_layout(conn, "student_core", YEAR)
        kept = L.load_package(conn, YEAR)  # the imported version stays the current one
        summary = {s.name: s for s in L.list_layouts(conn, YEAR)}["student_core"]
    assert kept.layouts["student_core"] == "kept imported version 2"
    assert (core.version, core.origin, core.source_year) == (2, "import", 2027)
    assert (summary.fields, summary.verified, summary.inferred, summary.unverified) == (
        25,
        25,
        0,
        0,
    )
    last = core.field("LastName")
    assert (last.requirement, last.provenance, last.source_year) == (
        "Required",
        "verified",
        "2027 Oct (DESE page)",
    )
    assert last.definition == "Legal last name."
    assert last.derivation == "student_core.last_name"
    assert core.field("TestOnlyIndicator").derivation == "student_core.test_only_indicator"
    rules = {r.rule_id: r for r in core.rules}
    assert "STC06905" not in rules
    assert rules["STC06500"].cycles == ("Dec", "Feb", "Apr", "Jun")
    assert rules["STC00401"].short_title == "CollectionVersion must be '2027Oct1.0StuCore'"
    assert rules["STC00999"].cycles == ("Oct",) and rules["STC00999"].provenance == "verified"
    assert rules["STC03410"].provenance == "verified" and rules["STC03410"].cycles == ("Jun",)


def test_importing_the_same_pages_again_changes_nothing(store):
    with store.engine.begin() as conn:
        S.import_pages(conn, [LAYOUT_PAGE])
    before = _snapshot(store)
    with store.engine.begin() as conn:
        again = S.import_pages(conn, [LAYOUT_PAGE])
    assert again.layouts[0].unchanged
    assert _snapshot(store) == before


def test_a_year_nexus_does_not_ship(store, tmp_path):
    path = tmp_path / "FileSpec_202510OctoberCycleEducatorSchool.html"
    path.write_text(_page(EDSCHOOL_ROWS))
    with store.engine.begin() as conn:
        result = S.import_pages(conn, [path])
        layout = L.get_layout(conn, "educator_school", 2025)
    [c] = result.layouts
    assert (c.old_version, c.new_version, len(c.fields_added)) == (None, 1, 2)
    assert (layout.origin, layout.cycles, layout.file_code) == ("import", ("Oct",), "EdSchool")
    assert layout.collection_version("october") == "2025Oct1.0EdSchool"
    assert layout.field("FTE").precision == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "FileSpec_202710OctoberCycleStudentCore.html",
            "Item,Item Name\n005,x\n",
            "not an HTML page",
        ),
        (
            "FileSpec_202710OctoberCycleStudentCore.html",
            "<html><body><p>Page not found</p></body></html>",
            "no table on the page",
        ),
        (
            "FileSpec_202502FebruaryCycleStudentGraduateFollow.html",
            _page(EDSCHOOL_ROWS),
            "unknown collection 'StudentGraduateFollow'",
        ),
        (
            "FileSpec_202710OctoberCycleStudentCore.html",
            _page(
                "<tr><td>005</td><td>x</td></tr>",
                "<tr><th>Item</th><th>Item Name</th><th>Description</th></tr>",
            ),
            "wrong columns for a FileSpec page",
        ),
        (
            "FileSpecRules_202710OctoberCycleStudentCore.html",
            _page(EDSCHOOL_ROWS),
            "wrong columns for a FileSpecRules page",
        ),
        (
            "FileSpec_202710OctoberCycleStudentCore.html",
            _page(EDSCHOOL_ROWS.replace("<td>Required</td>", "<td>Maybe</td>", 1)),
            "item 005: Required is 'Maybe'",
        ),
        ("notes.html", _page(EDSCHOOL_ROWS), "cannot tell the year, cycle and collection"),
    ],
)
def test_bad_pages_are_refused_and_nothing_is_written(store, tmp_path, name, content, message):
    with store.engine.begin() as conn:
        L.load_package(conn, YEAR)
    before = _snapshot(store)
    bad = tmp_path / name
    bad.write_text(content)
    with pytest.raises(L.SpecImportError, match=message) as caught, store.engine.begin() as conn:
        # A good page beside the bad one: it is not written either.
        S.import_pages(conn, [LAYOUT_PAGE, bad])
    assert str(caught.value).startswith(f"{name}: ")
    assert _snapshot(store) == before


def test_cli_spec_import(nexus, store, tmp_path):
    result = nexus("mosis", "spec", "import", str(LAYOUT_PAGE), str(RULES_PAGE), "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    [c] = payload["layouts"]
    assert (c["layout"], c["new_version"], c["unchanged"]) == ("student_core", 2, False)
    assert [f["column"] for f in c["fields_added"]] == ["TestOnlyIndicator"]
    listed = json.loads(nexus("mosis", "layouts", "--json").stdout)
    core = next(x for x in listed["layouts"] if x["name"] == "student_core")
    assert (core["origin"], core["version"], core["unverified"]) == ("import", 2, 0)
    text = nexus("mosis", "spec", "import", str(LAYOUT_PAGE))
    assert text.exit_code == 0 and "nothing changed" in text.stdout
    bad = tmp_path / "FileSpec_202710OctoberCycleStudentCore.html"
    bad.write_text("not a page")
    failed = nexus("mosis", "spec", "import", str(bad))
    assert failed.exit_code == 1
    assert "FileSpec_202710OctoberCycleStudentCore.html: not an HTML page" in failed.stderr
