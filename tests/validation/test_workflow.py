"""The operator's workflow through the CLI, across daily runs: validate, read readiness, work
exceptions through their statuses (assign, suppress, resolve), fix the data and validate again
(the fixed exception auto-resolves, a resolved one still failing reopens, the suppressed one
stays suppressed, identities and history survive), export CSV and XLSX, trend; DESE's
corrections imported and compared with the SIS, canonical and extract values."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from nexus.canonical import map_run
from nexus.integration import ingest
from nexus.store.locks import VALIDATION
from nexus.synth import generate
from nexus.validation.exceptions import EXPORT_COLUMNS
from tests.validation.district import TENANT, load_district


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small")
    generate(out, students=80, seed=5, formats=("campus-extract",), defect_rate=0.05)
    return out


def _json(result) -> dict:
    assert result.exit_code == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def _by_rule(nexus, rule: str, status: str = "active") -> list[dict]:
    return _json(
        nexus("exceptions", "list", "--rule", rule, "--status", status, "--limit", "0", "--json")
    )["exceptions"]


def test_exceptions_keep_identity_status_and_history_across_runs(store, nexus, small, tmp_path):
    district = tmp_path / "district"
    shutil.copytree(small, district)
    load_district(store, district, sources=(("campus-extract", "campus-extract"),))
    first = _json(nexus("validate", "--cycle", "october", "--json"))
    assert first["found"] == first["new"] > 0
    assert "sis" in first["layouts"] and "student_core" in first["layouts"]

    ready = _json(nexus("readiness", "--cycle", "october", "--json"))
    assert ready["validation_run_id"] == first["validation_run_id"]
    assert ready["ready"] is False
    sis = [r for r in ready["rows"] if r["layout"] == "sis" and r["blocking_rows"]]
    assert sis and all(0 <= r["percent_error_free"] < 100 for r in sis)

    dates = _by_rule(nexus, "NX-SIS-DATES")
    minutes = _by_rule(nexus, "NX-SIS-ATTMIN")
    assert len(dates) >= 2 and minutes
    fixed, accepted, claimed = dates[0], dates[1], minutes[0]
    assert fixed["owner"] == "registrar" and fixed["source_entity"] == "enrollments"

    assigned = _json(
        nexus("exceptions", "assign", str(fixed["exception_id"]), "registrar", "--json")
    )
    assert assigned["status"] == "assigned" and assigned["assigned_to"] == "registrar"
    suppressed = _json(
        nexus(
            "exceptions",
            "suppress",
            str(accepted["exception_id"]),
            "--reason",
            "DESE approved the late exit",
            "--until",
            "2099-06-30",
            "--json",
        )
    )
    assert suppressed["status"] == "suppressed"
    assert (
        _json(nexus("exceptions", "resolve", str(claimed["exception_id"]), "--json"))["status"]
        == "resolved"
    )

    # The registrar fixes one enrollment in the SIS; the next daily run picks it up.
    path = district / "campus-extract" / "enrollments.csv"
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    key, end, status = (
        header.index(c)
        for c in ("enrollment.enrollmentID", "enrollment.endDate", "enrollment.endStatus")
    )
    for row in rows[1:]:
        if row[key] == fixed["record_key"]:
            row[end], row[status] = "", ""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    run = ingest(store, TENANT, "campus-extract", str(district / "campus-extract"))
    assert run.status == "succeeded"
    assert map_run(store, TENANT, run.run_id).status in ("succeeded", "partial")

    second = _json(nexus("validate", "--cycle", "october", "--json"))
    assert second["auto_resolved"] >= 1 and second["reopened"] >= 1
    assert second["new"] == 0

    after = {x["exception_id"]: x for x in _by_rule(nexus, "NX-SIS-DATES", "all")}
    assert after[fixed["exception_id"]]["status"] == "auto_resolved"
    assert after[accepted["exception_id"]]["status"] == "suppressed"
    assert after[accepted["exception_id"]]["first_seen_run"] == first["validation_run_id"]
    assert after[accepted["exception_id"]]["last_seen_run"] == second["validation_run_id"]
    shown = _json(nexus("exceptions", "show", str(claimed["exception_id"]), "--json"))
    assert shown["status"] == "open"
    assert [h["action"] for h in shown["history"]] == ["found", "resolve", "reopened"]
    assert shown["seen_in_runs"] == [first["validation_run_id"], second["validation_run_id"]]
    gone = _json(nexus("exceptions", "show", str(fixed["exception_id"]), "--json"))
    assert [h["action"] for h in gone["history"]] == ["found", "assign", "auto_resolved"]
    assert gone["history"][-1]["validation_run_id"] == second["validation_run_id"]

    trend = _json(nexus("exceptions", "trend", "--by", "layout", "--json"))["trend"]
    assert {t["validation_run_id"] for t in trend} == {
        first["validation_run_id"],
        second["validation_run_id"],
    }

    # The suppression runs out: the next run that still finds it opens it again.
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE reporting.validation_exceptions SET suppressed_until = DATE '2020-01-01' "
            f"WHERE exception_id = {int(accepted['exception_id'])}"
        )
    third = _json(nexus("validate", "--cycle", "october", "--json"))
    assert third["reopened"] == 1 and third["auto_resolved"] == 0
    expired = _json(nexus("exceptions", "show", str(accepted["exception_id"]), "--json"))
    assert expired["status"] == "open"
    assert [h["action"] for h in expired["history"]] == ["found", "suppress", "expired"]

    # Exports: one row per active exception, with the rule and the source's natural key.
    exported = nexus("exceptions", "export", "--format", "csv")
    assert exported.exit_code == 0
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    active = _json(nexus("exceptions", "list", "--limit", "0", "--json"))["exceptions"]
    assert len(table) == len(active) > 0
    assert tuple(table[0]) == EXPORT_COLUMNS
    assert {(r["rule_id"], r["record_key"]) for r in table} == {
        (x["rule_id"], x["record_key"]) for x in active
    }
    xlsx = tmp_path / "exceptions.xlsx"
    assert nexus("exceptions", "export", "--format", "xlsx", "--out", str(xlsx)).exit_code == 0
    sheet = load_workbook(xlsx).active
    assert [c.value for c in sheet[1]] == list(EXPORT_COLUMNS)
    assert sheet.max_row == len(active) + 1


def test_bad_requests_say_why_and_change_nothing(store, nexus, small, tmp_path):
    load_district(store, small, sources=(("campus-extract", "campus-extract"),))
    assert nexus("readiness", "--cycle", "october").exit_code == 1  # nothing validated yet
    _json(nexus("validate", "--cycle", "october", "--json"))
    target = _json(nexus("exceptions", "list", "--limit", "1", "--json"))["exceptions"][0]
    eid = str(target["exception_id"])
    for args, words in (
        (("exceptions", "assign", eid, "janitor"), "unknown owner"),
        (("exceptions", "suppress", eid, "--reason", "x", "--until", "2001-01-01"), "future"),
        (("exceptions", "suppress", eid, "--reason", " ", "--until", "2099-01-01"), "reason"),
        (("exceptions", "suppress", eid, "--reason", "x", "--until", "soon"), "not a date"),
        (("exceptions", "show", "999999"), "no exception 999999"),
        (("exceptions", "list", "--status", "closed"), "unknown status"),
        (("exceptions", "export", "--format", "pdf"), "csv or xlsx"),
        (("validate", "--cycle", "october", "--layout", "report_card"), "unknown layout"),
    ):
        result = nexus(*args)
        assert result.exit_code == 1, args
        assert words in result.stderr, (args, result.stderr)
    again = _json(nexus("exceptions", "show", eid, "--json"))
    assert again["status"] == "open" and [h["action"] for h in again["history"]] == ["found"]


def test_corrections_import_and_compare_four_values(store, nexus, small, tmp_path):
    load_district(store, small, sources=(("campus-extract", "campus-extract"),))
    extracted = _json(
        nexus(
            "mosis",
            "extract",
            "--cycle",
            "october",
            "--layout",
            "student_core",
            "--out",
            str(tmp_path / "mosis"),
            "--json",
        )
    )
    with (tmp_path / "mosis" / Path(extracted["file"]).name).open(newline="") as fh:
        line = next(r for r in csv.DictReader(fh) if r["StateID"])
    state_id = line["StateID"]
    good = tmp_path / "dese-errors.csv"
    good.write_text(
        "StateID,Column,CorrectedValue,RuleID,Message\r\n"
        f"{state_id},LastName,Corrected,STC00001,name corrected by DESE\r\n",
        encoding="utf-8",
    )
    bad = tmp_path / "dese-bad.csv"
    bad.write_text("StateID,Column,CorrectedValue\r\n12,LastName,X\r\n", encoding="utf-8")
    wrong = tmp_path / "dese-wrong.csv"
    wrong.write_text("Student,Value\r\n1,2\r\n", encoding="utf-8")

    imported = _json(
        nexus("mosis", "corrections", "import", str(good), "--cycle", "october", "--json")
    )
    assert imported["rows"] == 1
    assert (
        _json(nexus("mosis", "corrections", "import", str(good), "--cycle", "october", "--json"))[
            "already_imported"
        ]
        is True
    )
    refused = nexus("mosis", "corrections", "import", str(bad), "--cycle", "october")
    assert refused.exit_code == 1 and "nothing imported" in refused.stderr
    assert "10-digit" in refused.stderr
    refused = nexus("mosis", "corrections", "import", str(wrong), "--cycle", "october")
    assert refused.exit_code == 1 and "no state" in refused.stderr

    compared = _json(nexus("compare", "student", state_id, "--cycle", "october", "--json"))
    fields = {f["field"]: f for f in compared["fields"]}
    assert compared["in_population"] is True
    assert fields["LastName"]["correction"] == "Corrected"
    assert fields["LastName"]["canonical"] == fields["LastName"]["extract"] == line["LastName"]
    assert fields["LastName"]["sis"] == line["LastName"]
    assert fields["LastName"]["sis_column"] == "campus-extract student.lastName"
    assert fields["StateID"]["canonical"] == state_id
    assert nexus("compare", "student", "0000000000", "--cycle", "october").exit_code == 1


def test_rules_imported_from_dese_pages_are_evaluated_as_they_come(store, nexus, small, tmp_path):
    load_district(store, small, sources=(("campus-extract", "campus-extract"),))
    _json(nexus("validate", "--cycle", "october", "--layout", "student_core", "--json"))
    before = _by_rule(nexus, "STC00001")
    assert before and before[0]["message"].startswith("The record is missing the field")
    # DESE's October rules page, with a rule Nexus does not ship (STC00700) and a reworded one.
    page = (
        Path(__file__).parents[1]
        / "mosis"
        / "fixtures"
        / ("FileSpecRules_202710OctoberCycleStudentCore.html")
    )
    html = (
        page.read_text(encoding="utf-8")
        .replace("The record is missing the field {0}.", "Fixture: the field {0} is missing.")
        .replace(
            "</table>",
            "<tr><td>025</td><td>Reporting District Code</td><td>STC00700</td><td>E</td>"
            "<td>ReportingDistrictCode must equal the district of the user.</td><td>The student "
            "is not from this district</td><td>Wrong district.</td><td>ReportingDistrictCode "
            "does not equal that of the trial.</td></tr></table>",
        )
    )
    imported = tmp_path / page.name
    imported.write_text(html, encoding="utf-8")
    assert nexus("mosis", "spec", "import", str(imported)).exit_code == 0

    again = _json(nexus("validate", "--cycle", "october", "--layout", "student_core", "--json"))
    assert "STC00999" in {r["rule_id"] for r in again["not_evaluated"]}  # no check for it
    after = {x["exception_id"]: x for x in _by_rule(nexus, "STC00001")}
    assert set(after) == {x["exception_id"] for x in before}  # same exceptions
    assert all(x["message"].startswith("Fixture: the field ") for x in after.values())
    with store.engine.connect() as conn:
        kinds = dict(
            conn.exec_driver_sql(
                "SELECT rule_id, kind FROM reporting.validation_rules "
                "WHERE layout = 'student_core' AND rule_id IN ('STC00700', 'STC00999')"
            ).all()
        )
    assert kinds == {"STC00700": "reporting_district", "STC00999": None}


def test_a_failed_run_is_recorded_and_loses_no_exception(store, nexus, small, monkeypatch):
    from nexus.validation import catalog
    from nexus.validation.catalog import Rule

    load_district(store, small, sources=(("campus-extract", "campus-extract"),))
    first = _json(nexus("validate", "--cycle", "october", "--json"))
    before = _json(nexus("exceptions", "list", "--limit", "0", "--json"))["exceptions"]
    rules = _json(nexus("exceptions", "rules", "--layout", "sis", "--json"))["rules"]
    assert {"NX-SIS-MOSISID", "NX-SIS-ROSTER"} <= {r["rule_id"] for r in rules}

    shipped = catalog.nexus_rules(2027)
    broken = tuple(
        Rule(**{**r.__dict__, "spec": {**r.spec, "sql": "SELECT * FROM no_such_table"}})
        if r.rule_id == "NX-SIS-ROSTER"
        else r
        for r in shipped
    )
    monkeypatch.setattr(catalog, "nexus_rules", lambda year: broken)
    failed = nexus("validate", "--cycle", "october")
    assert failed.exit_code == 1
    assert f"validation run {first['validation_run_id'] + 1} failed" in failed.stderr
    assert "no_such_table" in failed.stderr
    after = _json(nexus("exceptions", "list", "--limit", "0", "--json"))["exceptions"]
    assert [(x["exception_id"], x["status"]) for x in after] == [
        (x["exception_id"], x["status"]) for x in before
    ]
    with store.engine.connect() as conn:
        status = conn.exec_driver_sql(
            "SELECT status, reason FROM reporting.validation_runs ORDER BY validation_run_id"
        ).all()
    assert [s for s, _ in status] == ["succeeded", "failed"]
    assert "no_such_table" in status[1][1]
    # Readiness still reads the last run that succeeded.
    assert (
        _json(nexus("readiness", "--cycle", "october", "--json"))["validation_run_id"]
        == (first["validation_run_id"])
    )


def test_a_field_default_clears_its_exception_as_it_fills_the_file(store, nexus, small, tmp_path):
    # School Calendar Header's dateCalendarAdopted has no canonical source: every calendar's
    # row misses it until the operator sets the tenant's default, which the file then carries.
    district = tmp_path / "district"
    shutil.copytree(small, district)
    load_district(store, district, sources=(("campus-extract", "campus-extract"),))
    _json(nexus("validate", "--cycle", "june", "--layout", "school_calendar_header", "--json"))
    missing = [
        x
        for x in _json(nexus("exceptions", "list", "--field", "dateCalendarAdopted", "--json"))[
            "exceptions"
        ]
        if x["layout"] == "school_calendar_header"
    ]
    assert missing and {x["severity"] for x in missing} == {"blocking"}

    set_default = nexus(
        "mosis", "defaults", "set", "school_calendar_header", "dateCalendarAdopted", "06/12/2026"
    )
    assert set_default.exit_code == 0, set_default.stderr
    _json(nexus("validate", "--cycle", "june", "--layout", "school_calendar_header", "--json"))

    after = _json(
        nexus("exceptions", "list", "--field", "dateCalendarAdopted", "--status", "all", "--json")
    )["exceptions"]
    assert {x["exception_id"]: x["status"] for x in after} == {
        x["exception_id"]: "auto_resolved" for x in missing
    }


def test_two_validations_of_one_tenant_never_overlap(store, nexus, small, tmp_path):
    if not store.backend.advisory_locks:
        pytest.skip("a DuckDB file has one writing process: nothing to overlap")
    district = tmp_path / "district"
    shutil.copytree(small, district)
    load_district(store, district, sources=(("campus-extract", "campus-extract"),))
    with store.engine.connect() as other:
        tenant_id = other.execute(
            sa.text("SELECT tenant_id FROM platform.tenants WHERE code = :c"), {"c": TENANT}
        ).scalar_one()
        # Another process's validation of the same tenant holds the tenant's validation lock.
        other.execute(sa.text("SELECT pg_advisory_lock(:t, :k)"), {"t": tenant_id, "k": VALIDATION})
        refused = nexus("validate", "--cycle", "october", "--layout", "sis")
        assert refused.exit_code == 1
        assert "another validation of this tenant is running" in refused.stderr
        other.execute(
            sa.text("SELECT pg_advisory_unlock(:t, :k)"), {"t": tenant_id, "k": VALIDATION}
        )
    assert _json(nexus("validate", "--cycle", "october", "--layout", "sis", "--json"))["found"] > 0
