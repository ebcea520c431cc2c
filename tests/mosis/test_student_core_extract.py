"""Student Core extracts from a small hand-written district, on DuckDB and PostgreSQL.

The expected values below were worked out by hand from the layout (reference
`student_core.csv`) and the district's files: October 2026-27 counts on Wednesday
30 September 2026.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.canonical import map_run
from nexus.errors import NexusError
from nexus.integration import ingest
from nexus.mosis.extract import ExtractError, run_extract
from tests.canonical.campus_files import CALENDAR, enrollment, student, write_extract

YEAR = 2027


def _district(store, tenant: str, folder: Path) -> None:
    entities = write_extract(
        folder,
        calendars=[CALENDAR],
        students=[
            student(1, "Arden", "Maya"),
            student(2, "Bell", "Noor", **{"student.hispanicEthnicity": "Y"}),
            student(3, "Cole", "Ivy", **{"student.gender": "M"}),
            student(4, "Dunn", "Ada", **{"student.stateID": ""}),  # no MOSIS ID yet
            student(5, "Eyre", "Jo"),
        ],
        enrollments=[
            enrollment(1, 1),
            # Two enrollments in the window: the primary wins over a later partial one.
            enrollment(2, 2, **{"enrollment.grade": "10"}),
            enrollment(
                3,
                2,
                **{
                    "enrollment.serviceType": "S",
                    "enrollment.startDate": "09/01/2026",
                    "enrollment.grade": "11",
                },
            ),
            # A non-resident student, half time.
            enrollment(
                4,
                3,
                **{
                    "enrollment.residentDistrict": "048999",
                    "enrollment.residencyStatus": "NR",
                    "enrollment.percentEnrolled": "50",
                },
            ),
            enrollment(5, 4),
            # Left for another district before the count date: June only.
            enrollment(
                6,
                5,
                **{"enrollment.endDate": "09/15/2026", "enrollment.endStatus": "T002"},
            ),
        ],
    )
    run = ingest(store, tenant, "campus-extract", str(folder), options={"entities": entities})
    assert run.status == "succeeded", run.as_dict()
    assert map_run(store, tenant, run.run_id).status == "succeeded"


def _person(store, campus_person_id: str) -> str:
    with store.engine.connect() as conn:
        return str(
            conn.execute(
                sa.text(
                    "SELECT person_id FROM census.identities WHERE key_scope = 'campus' "
                    "AND person_kind = 'student' AND source_key = :k"
                ),
                {"k": campus_person_id},
            ).scalar_one()
        )


def _values(store, extract_run_id: int, subject: str) -> dict[str, str | None]:
    with store.engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text(
                    "SELECT v.column_name, v.value FROM reporting.mosis_extract_values v "
                    "JOIN reporting.mosis_extract_rows r ON r.tenant_id = v.tenant_id "
                    "AND r.extract_run_id = v.extract_run_id AND r.row_no = v.row_no "
                    "WHERE v.extract_run_id = :r AND r.subject_key = :s"
                ),
                {"r": extract_run_id, "s": subject},
            ).all()
        )


def _rows(path: str) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def district(store, tenant, tmp_path):
    _district(store, tenant, tmp_path / "campus")
    return tmp_path


def test_october_student_core(store, tenant, district):
    result = run_extract(store, tenant, YEAR, "october", "student_core", district / "out")

    assert result.count_date.isoformat() == "2026-09-30"
    assert Path(result.file).name == "2027Oct1.0StuCore_048078.csv"
    rows = _rows(result.file)
    got = [
        {
            k: r[k]
            for k in (
                "CollectionVersion",
                "CurrentSchoolYear",
                "AttendingDistrictCode",
                "AttendingSchoolCode",
                "ResidentDistrictCode",
                "ResidentSchoolCode",
                "StateID",
                "LocalStudentID",
                "LastName",
                "FirstName",
                "DateOfBirth",
                "StudentGradeLevel",
                "Gender",
                "RaceEthnicity",
            )
        }
        for r in rows
    ]
    common = {
        "CollectionVersion": "2027Oct1.0StuCore",
        "CurrentSchoolYear": "2027",
        "AttendingDistrictCode": "048078",
        "AttendingSchoolCode": "1050",
        "DateOfBirth": "04/02/2011",
    }
    assert got == [
        {
            **common,
            "ResidentDistrictCode": "048078",
            "ResidentSchoolCode": "1050",
            "StateID": "1000000001",
            "LocalStudentID": "0000001",
            "LastName": "Arden",
            "FirstName": "Maya",
            "StudentGradeLevel": "09",
            "Gender": "F",
            "RaceEthnicity": "W",
        },
        {
            **common,
            "ResidentDistrictCode": "048078",
            "ResidentSchoolCode": "1050",
            "StateID": "1000000002",
            "LocalStudentID": "0000002",
            "LastName": "Bell",
            "FirstName": "Noor",
            "StudentGradeLevel": "10",
            "Gender": "F",
            "RaceEthnicity": "H",
        },
    ]
    assert [r["MemberFTE"] for r in rows] == ["1.00", "1.00"]
    assert {r["EnrolledOnCntDate"] for r in rows} == {"Y"}
    assert {r["IEPDisability"] for r in rows} == {"00"}
    assert {r["LEPELL"] for r in rows} == {"NLP"}
    # Left out and listed as blocking: the student without a MOSIS ID, and the non-resident
    # whose resident building the SIS does not give (Resident School Code is required).
    assert result.rows == 2
    assert result.blocking == 2
    by_person = {(p["subject"], p["column"], p["severity"]) for p in result.problems}
    assert by_person == {
        (_person(store, "3"), "ResidentSchoolCode", "blocking"),
        (_person(store, "4"), "StateID", "blocking"),
    }
    # The non-resident's other values are derived and kept with the run.
    values = _values(store, result.extract_run_id, _person(store, "3"))
    assert (values["ResidentDistrictCode"], values["ResidencyStatus"], values["MemberFTE"]) == (
        "048999",
        "NR",
        "0.50",
    )


def test_rerun_is_byte_identical_and_stored_with_traces(store, tenant, district):
    first = run_extract(store, tenant, YEAR, "october", "student_core", district / "a")
    second = run_extract(store, tenant, YEAR, "october", "student_core", district / "b")

    assert first.sha256 == second.sha256
    assert Path(first.file).read_bytes() == Path(second.file).read_bytes()
    with store.engine.connect() as conn:
        run = conn.execute(
            sa.text(
                "SELECT rows, blocking, sha256, layout, cycle, input_snapshot, status "
                "FROM reporting.mosis_extract_runs WHERE extract_run_id = :r"
            ),
            {"r": first.extract_run_id},
        ).one()
        trace = conn.execute(
            sa.text(
                "SELECT v.value, v.trace FROM reporting.mosis_extract_values v "
                "JOIN reporting.mosis_extract_rows r ON r.tenant_id = v.tenant_id "
                "AND r.extract_run_id = v.extract_run_id AND r.row_no = v.row_no "
                "WHERE v.extract_run_id = :r AND v.column_name = 'StateID' AND r.line = 2"
            ),
            {"r": first.extract_run_id},
        ).one()
    assert (run.rows, run.blocking, run.sha256, run.layout, run.cycle, run.status) == (
        2,
        2,
        first.sha256,
        "student_core",
        "october",
        "succeeded",
    )
    snapshot = (
        run.input_snapshot
        if isinstance(run.input_snapshot, dict)
        else json.loads(run.input_snapshot)
    )
    assert set(snapshot["mapped_runs"]) == {"campus-extract"}
    value, raw = trace
    assert value == "1000000001"
    assert (json.loads(raw) if isinstance(raw, str) else raw) == {
        "derivation": "student_core.state_id",
        "rule": "MOSIS ID (DESE)",
        "source": "census.person_identifiers(mosis_state_id)",
    }


def test_june_takes_everyone_enrolled_in_the_year(store, tenant, district):
    june = run_extract(store, tenant, YEAR, "june", "student_core", district / "june")
    # Cole (non-resident) and Dunn (no MOSIS ID) stay blocked; Eyre left in September.
    assert [r["LastName"] for r in _rows(june.file)] == ["Arden", "Bell", "Eyre"]
    assert {r["LastName"]: r["EnrolledOnCntDate"] for r in _rows(june.file)}["Eyre"] == "N"


def test_one_school_only_and_a_layout_outside_its_cycles(store, tenant, district):
    none = run_extract(
        store, tenant, YEAR, "october", "student_core", district / "s", school_code="9999"
    )
    assert none.rows == 0
    assert Path(none.file).name == "2027Oct1.0StuCore_048078_9999.csv"
    # Every layout has derivations now; one is refused in a cycle it is not collected in.
    with pytest.raises(ExtractError, match="ctso is not collected in october"):
        run_extract(store, tenant, YEAR, "october", "ctso", district / "e")
    with pytest.raises(NexusError, match="unknown cycle 'fall'"):
        run_extract(store, tenant, YEAR, "fall", "student_core", district / "e")


def test_extract_cli_json_and_runs(nexus, store, tenant, district):
    made = nexus(
        "mosis",
        "extract",
        "--tenant",
        tenant,
        "--year",
        "2026-27",
        "--cycle",
        "october",
        "--layout",
        "student_core",
        "--out",
        str(district / "cli"),
        "--json",
    )
    assert made.exit_code == 0, made.stderr
    payload = json.loads(made.stdout)
    assert {"extract_run_id", "file", "sha256", "rows", "blocking", "warnings"} <= set(payload)
    assert (payload["rows"], payload["blocking"]) == (2, 2)
    listed = json.loads(nexus("mosis", "runs", "list", "--tenant", tenant, "--json").stdout)
    assert listed["extract_runs"][0]["extract_run_id"] == payload["extract_run_id"]
    shown = json.loads(
        nexus(
            "mosis", "runs", "show", str(payload["extract_run_id"]), "--tenant", tenant, "--json"
        ).stdout
    )
    assert [p["column"] for row in shown["left_out"] for p in row["problems"]] == [
        "ResidentSchoolCode",
        "StateID",
    ]
    bad = nexus(
        "mosis",
        "extract",
        "--tenant",
        tenant,
        "--cycle",
        "fall",
        "--layout",
        "student_core",
        "--out",
        str(district / "cli"),
    )
    assert bad.exit_code == 1
    assert "unknown cycle 'fall'" in bad.stderr


def test_non_resident_takes_the_resident_building_the_sis_gives(store, tenant, tmp_path):
    entities = write_extract(
        tmp_path / "campus",
        calendars=[CALENDAR],
        students=[student(1, "Arden", "Maya"), student(2, "Bell", "Noor")],
        enrollments=[
            # Campus's Enrollment.residentSchool: a building of the resident district.
            enrollment(
                1,
                1,
                **{
                    "enrollment.residentDistrict": "048999",
                    "enrollment.residentSchool": "2030",
                    "enrollment.residencyStatus": "NR",
                },
            ),
            # A resident without one: the attending school, as before.
            enrollment(2, 2),
        ],
    )
    run = ingest(
        store, tenant, "campus-extract", str(tmp_path / "campus"), options={"entities": entities}
    )
    assert map_run(store, tenant, run.run_id).status == "succeeded"

    result = run_extract(store, tenant, YEAR, "october", "student_core", tmp_path / "out")

    assert (result.rows, result.blocking) == (2, 0)
    got = {
        r["StateID"]: (r["ResidentDistrictCode"], r["ResidentSchoolCode"])
        for r in _rows(result.file)
    }
    assert sorted(got.values()) == [("048078", "1050"), ("048999", "2030")]
    with store.engine.connect() as conn:
        trace = conn.execute(
            sa.text(
                "SELECT v.trace FROM reporting.mosis_extract_values v "
                "JOIN reporting.mosis_extract_rows r ON r.tenant_id = v.tenant_id "
                "AND r.extract_run_id = v.extract_run_id AND r.row_no = v.row_no "
                "WHERE v.extract_run_id = :r AND v.column_name = 'ResidentSchoolCode' "
                "AND v.value = '2030'"
            ),
            {"r": result.extract_run_id},
        ).scalar_one()
    assert "resident_school" in json.dumps(trace)


def test_two_or_more_races_without_the_races_is_multiracial(store, tenant, tmp_path):
    # Campus's federal code 7 says "two or more races" and names none of them.
    entities = write_extract(
        tmp_path / "campus",
        calendars=[CALENDAR],
        students=[
            student(1, "Arden", "Maya", **{"student.raceEthnicityFed": "7"}),
            student(2, "Bell", "Noor", **{"student.raceEthnicityFed": "3"}),
        ],
        enrollments=[enrollment(1, 1), enrollment(2, 2)],
    )
    run = ingest(
        store, tenant, "campus-extract", str(tmp_path / "campus"), options={"entities": entities}
    )
    assert map_run(store, tenant, run.run_id).status == "succeeded"
    with store.engine.connect() as conn:
        flags = dict(
            conn.execute(
                sa.text(
                    "SELECT source_key, race_two_or_more FROM census.identities "
                    "WHERE key_scope = 'campus' AND person_kind = 'student'"
                )
            ).all()
        )
    assert flags == {"1": True, "2": False}

    result = run_extract(store, tenant, YEAR, "october", "student_core", tmp_path / "out")

    races = {r["LastName"]: r["RaceEthnicity"] for r in _rows(result.file)}
    assert races == {"Arden": "M", "Bell": "A"}
