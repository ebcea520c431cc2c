"""The SIS against MOSIS before upload: a student enrolled in the SIS but left out of Student
Core, a student in the last Student Core file who is no longer in the SIS population, and the
cross-cycle checks DESE runs only after upload (this cycle against the last cycle's file)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from nexus.canonical import map_run
from nexus.integration import ingest
from nexus.synth import generate
from tests.validation.district import TENANT, load_district


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(out, students=60, seed=9, formats=("campus-extract",))
    return out


def _edit(path: Path, key_column: str, key: str, changes: dict[str, str]) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    for row in rows[1:]:
        if row[header.index(key_column)] == key:
            for column, value in changes.items():
                row[header.index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _rules(nexus, cycle: str) -> dict[str, list[dict]]:
    found = nexus("exceptions", "list", "--cycle", cycle, "--limit", "0", "--json")
    assert found.exit_code == 0, found.stderr
    out: dict[str, list[dict]] = {}
    for x in json.loads(found.stdout)["exceptions"]:
        out.setdefault(x["rule_id"], []).append(x)
    return out


def test_sis_against_mosis_populations_and_the_last_cycle(store, nexus, clean, tmp_path):
    district = tmp_path / "district"
    shutil.copytree(clean, district)
    load_district(store, district, sources=(("campus-extract", "campus-extract"),))
    made = nexus(
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
    assert made.exit_code == 0, made.stderr
    first = nexus("validate", "--cycle", "october", "--json")
    assert first.exit_code == 0, first.stderr
    assert not {"NX-POP-EXCLUDED", "NX-POP-INACTIVE"} & set(_rules(nexus, "october"))

    enrollments = list(csv.DictReader((district / "campus-extract" / "enrollments.csv").open()))
    singles = [
        r
        for r in enrollments
        if r["enrollment.endDate"] == ""
        and r["enrollment.startDate"].startswith("08/")
        and sum(x["enrollment.personID"] == r["enrollment.personID"] for x in enrollments) == 1
    ]
    excluded, reborn = singles[0], singles[1]
    _edit(
        district / "campus-extract" / "enrollments.csv",
        "enrollment.enrollmentID",
        excluded["enrollment.enrollmentID"],
        {"enrollment.stateExclude": "1"},
    )
    students = {
        r["student.personID"]: r
        for r in csv.DictReader((district / "campus-extract" / "students.csv").open())
    }
    old_birth = students[reborn["enrollment.personID"]]["student.birthdate"]
    month, day, year = old_birth.split("/")
    new_birth = f"{month}/{int(day) % 28 + 1:02d}/{year}"
    _edit(
        district / "campus-extract" / "students.csv",
        "student.personID",
        reborn["enrollment.personID"],
        {"student.birthdate": new_birth},
    )
    run = ingest(store, TENANT, "campus-extract", str(district / "campus-extract"))
    assert map_run(store, TENANT, run.run_id).status in ("succeeded", "partial")

    assert nexus("validate", "--cycle", "october", "--json").exit_code == 0
    october = _rules(nexus, "october")
    assert [x["record_key"] for x in october["NX-POP-EXCLUDED"]] == [
        excluded["enrollment.personID"]
    ]
    assert october["NX-POP-EXCLUDED"][0]["current_value"] == "state-excluded enrollment"
    assert [x["record_key"] for x in october["NX-POP-INACTIVE"]] == [
        excluded["enrollment.personID"]
    ]

    # February, before upload, against October's file.
    assert nexus("validate", "--cycle", "february", "--json").exit_code == 0
    february = _rules(nexus, "february")
    changed = february["NX-XC-BIRTHDATE"]
    assert len(changed) == 1
    assert changed[0]["expected"] == old_birth and changed[0]["current_value"] == new_birth
    assert changed[0]["owner"] == "registrar"
    vanished = {x["record_key"] for x in february["NX-XC-VANISHED"]}
    assert len(vanished) >= 1
    assert "NX-XC-GRADE" not in february


def test_every_cycle_validates_every_layout_it_collects(store, nexus, clean):
    load_district(store, clean, sources=(("campus-extract", "campus-extract"),))
    for cycle in ("august", "june"):
        result = nexus("validate", "--cycle", cycle, "--json")
        assert result.exit_code == 0, (cycle, result.stderr)
        layouts = json.loads(result.stdout)["layouts"]
        assert "school_calendar_days" in layouts and "sis" in layouts, layouts
        ready = json.loads(nexus("readiness", "--cycle", cycle, "--json").stdout)
        assert {r["layout"] for r in ready["rows"]} >= {"school_calendar_days", "sis"}
