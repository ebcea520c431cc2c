"""MOSIS ID assignment: the batch request for students without a MOSIS ID, DESE's response
imported as their MOSIS identifiers, and the next Student Core reporting them; malformed
responses refused or rejected record by record, nothing good lost. DuckDB and PostgreSQL.

The request below was checked by hand against the layout (`mosis_id_batch.csv`: record type
ID, school 4, resident district 6, last, first, middle names, then birth date, gender, SSN and
the local student number; tab-delimited, no line of column names).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.canonical import map_run
from nexus.integration import ingest
from nexus.mosis.extract import run_extract
from nexus.mosis.ids import IdImportError, import_ids, request_ids
from tests.canonical.campus_files import CALENDAR, enrollment, student, write_extract

YEAR = 2027


def _ingest(store, tenant: str, folder: Path) -> None:
    entities = write_extract(
        folder,
        calendars=[CALENDAR],
        students=[
            student(1, "Arden", "Maya"),
            student(2, "Bell", "Noor"),
            student(3, "Cole", "Ivy", **{"student.stateID": "", "student.gender": "M"}),
            student(4, "Dunn", "Ada", **{"student.stateID": "", "student.birthdate": "11/30/2012"}),
            # No MOSIS ID, but a no-show: nobody to request an ID for.
            student(5, "Eyre", "Jo", **{"student.stateID": ""}),
        ],
        enrollments=[
            enrollment(1, 1),
            enrollment(2, 2),
            enrollment(3, 3, **{"enrollment.residentDistrict": "048999"}),
            enrollment(4, 4, **{"enrollment.grade": "08"}),
            enrollment(5, 5, **{"enrollment.noShow": "1"}),
        ],
    )
    run = ingest(store, tenant, "campus-extract", str(folder), options={"entities": entities})
    assert run.status == "succeeded", run.as_dict()
    assert map_run(store, tenant, run.run_id).status == "succeeded"


@pytest.fixture
def district(store, tenant, tmp_path):
    _ingest(store, tenant, tmp_path / "campus")
    return tmp_path


REQUEST = (
    "ID\t1050\t048999\tCole\tIvy\t\t04/02/2011\tM\t\t0000003\r\n"
    "ID\t1050\t048078\tDunn\tAda\t\t11/30/2012\tF\t\t0000004\r\n"
)


def _state_ids(store) -> dict[str, list[str]]:
    """Current MOSIS identifiers by Campus person id."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT source_key, value FROM census.person_identifiers WHERE key_scope = "
                "'campus' AND person_kind = 'student' AND identifier_type = 'mosis_state_id' "
                "AND valid_to_run IS NULL ORDER BY source_key, value"
            )
        ).all()
    out: dict[str, list[str]] = {}
    for key, value in rows:
        out.setdefault(key, []).append(value)
    return out


def _core_ids(store, tenant, out: Path) -> list[str]:
    result = run_extract(store, tenant, YEAR, "october", "student_core", out)
    with open(result.file, newline="") as fh:
        return [r["StateID"] for r in csv.DictReader(fh)]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_request_import_and_student_core_closes_the_loop(store, tenant, district, nexus):
    before = _core_ids(store, tenant, district / "core-before")
    assert before == ["1000000001", "1000000002"]  # Cole and Dunn are blocked: no MOSIS ID

    shown = nexus(
        "mosis",
        "ids",
        "request",
        "--tenant",
        tenant,
        "--out",
        str(district / "req"),
        "--year",
        "2026-27",
        "--json",
    )
    request = json.loads(shown.stdout)
    assert request["rows"] == 2 and request["blocking"] == 0
    path = Path(request["file"])
    assert path.name.startswith("mosis_id_batch_2027_048078_") and path.suffix == ".txt"
    assert path.read_bytes().decode() == REQUEST
    again = request_ids(store, tenant, YEAR, district / "req2")
    assert Path(again.file).read_bytes() == path.read_bytes()
    assert again.sha256 == request["sha256"]

    response = _write(
        district / "response.txt",
        "LocalStudentID\tStateID\tLastName\tFirstName\tDateOfBirth\n"
        "0000003\t2000000003\tCole\tIvy\t04/02/2011\n"
        "0000004\t2000000004\tDunne\tAda\t11/30/2012\n",
    )
    done = nexus("mosis", "ids", "import", str(response), "--tenant", tenant, "--json")
    result = json.loads(done.stdout)
    assert (result["status"], result["assigned"], result["rejected"]) == ("succeeded", 2, 0)
    assert result["warnings"] == 1
    assert result["outcomes"][1]["warnings"] == ["last name differs from the SIS's"]
    assert _state_ids(store)["3"] == ["2000000003"]
    assert _state_ids(store)["4"] == ["2000000004"]

    # The next Student Core reports them; nobody is left to request an ID for.
    # (Ivy Cole, a non-resident, stays left out: her resident building is not known.)
    after = _core_ids(store, tenant, district / "core-after")
    assert after == ["1000000001", "1000000002", "2000000004"]
    assert request_ids(store, tenant, YEAR, district / "req3").rows == 0

    # The same response again changes nothing.
    repeat = import_ids(store, tenant, response)
    assert (repeat.assigned, repeat.already_held, repeat.rejected) == (0, 2, 0)

    # A new SIS run (still without the IDs) does not take them away: they are DESE's.
    _ingest(store, tenant, district / "campus-2")
    assert _state_ids(store)["3"] == ["2000000003"]
    assert _core_ids(store, tenant, district / "core-later") == after

    listed = json.loads(nexus("mosis", "ids", "imports", "--tenant", tenant, "--json").stdout)
    assert [i["status"] for i in listed["imports"]] == ["succeeded", "succeeded"]


def test_bad_records_are_rejected_one_by_one_and_good_ones_kept(store, tenant, district, nexus):
    response = _write(
        district / "response.csv",
        "LocalStudentID,StateID\n"
        "0000003,2000000003\n"  # good
        "0009999,2000000099\n"  # nobody has this local student number
        "0000004,20000X0004\n"  # not ten digits
        "0000002,1000000001\n"  # Maya Arden's MOSIS ID, given to Noor Bell
        "0000001,2000000011\n"  # Maya Arden already holds 1000000001
        "0000004,2000000044\n"  # the file gives 0000004 two different ids...
        "0000004,2000000045\n"
        ",2000000046\n",  # no local student number
    )
    done = nexus("mosis", "ids", "import", str(response), "--tenant", tenant, "--json")
    assert done.exit_code == 3
    result = json.loads(done.stdout)
    assert (result["status"], result["assigned"], result["rejected"]) == ("partial", 1, 7)
    messages = {o["line"]: (o["outcome"], o["message"]) for o in result["outcomes"]}
    assert messages[2] == ("assigned", "stored as the student's MOSIS ID")
    assert messages[3][1] == "no student has local student number '0009999'"
    assert messages[4][1] == "MOSIS ID '20000X0004' is not ten digits"
    assert messages[5][1].startswith("MOSIS ID 1000000001 is already held by another student")
    assert messages[6][1] == "the student already holds MOSIS ID 1000000001: not replaced"
    assert messages[7][1] == messages[8][1]
    assert "2 different MOSIS IDs" in messages[7][1]
    assert messages[9][1] == "no local student number or no MOSIS ID"
    # The good record is stored; nobody else's identifiers moved.
    assert _state_ids(store) == {
        "1": ["1000000001"],
        "2": ["1000000002"],
        "3": ["2000000003"],
    }
    table = nexus("mosis", "ids", "import", str(response), "--tenant", tenant)
    assert table.exit_code == 3
    assert "no student has local student number" in table.stdout


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("LocalStudentID,MOSIS\n0000003,2000000003\n", "wrong columns: no StateID column"),
        ("Student,StateID\n0000003,2000000003\n", "wrong columns: no LocalStudentID column"),
        ("LocalStudentID\tStateID\n", "no records after the column names"),
        ("", "empty file"),
    ],
)
def test_a_malformed_response_is_refused_whole(store, tenant, district, nexus, text, error):
    before = _state_ids(store)
    path = _write(district / "bad.txt", text)
    with pytest.raises(IdImportError, match=error):
        import_ids(store, tenant, path)
    shown = nexus("mosis", "ids", "import", str(path), "--tenant", tenant)
    assert shown.exit_code == 1
    assert error in shown.stderr
    assert _state_ids(store) == before
    binary = district / "bad.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00")
    with pytest.raises(IdImportError, match="not a readable text file"):
        import_ids(store, tenant, binary)
    assert _state_ids(store) == before
