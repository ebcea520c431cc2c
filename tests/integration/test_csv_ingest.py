"""Generic delimited files through `nexus ingest csv`: formats, versioning, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

MAPPING = """
version: 1
entities:
  - entity: students
    file: students.csv
    natural_key: [student_id]
    columns:
      student_id: integer
      last_name: string
      birth_date: {type: date, format: "%m/%d/%Y"}
      credits: decimal
  - entity: schools
    file: schools.csv
    natural_key: [school_code]
    columns:
      school_code: string
      name: string
"""

STUDENTS = """student_id,last_name,birth_date,credits
1,Ash,03/04/2012,1.5
2,Birch,11/30/2011,2
3,Cedar,05/06/2011,0
"""

SCHOOLS = """school_code,name
1050,Lincoln Elementary
2050,Central High
"""


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def ingest(nexus, folder: Path, *extra: str):
    result = nexus("ingest", "csv", str(folder), "--tenant", "demo", "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


def snapshot(nexus, run_id: int, entity: str, fmt: str = "csv") -> str:
    result = nexus("runs", "snapshot", str(run_id), entity, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def version_count(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM integration.source_records")).scalar()


def test_first_run_versions_every_row_and_snapshot_reproduces_the_file(
    nexus, tenant, store, tmp_path
):
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": STUDENTS, "schools.csv": SCHOOLS},
    )
    code, run = ingest(nexus, folder)
    assert code == 0
    assert run["status"] == "succeeded"
    assert run["entities"]["students"] == {
        "new": 3,
        "changed": 0,
        "unchanged": 0,
        "deleted": 0,
        "errors": 0,
    }
    assert [f["name"] for f in run["files"]] == ["students.csv", "schools.csv"]
    assert all(f["status"] == "succeeded" and f["reason"] is None for f in run["files"])
    assert snapshot(nexus, run["run_id"], "students") == STUDENTS
    assert version_count(store) == 5


def test_same_files_twice_changes_nothing(nexus, tenant, store, tmp_path):
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": STUDENTS, "schools.csv": SCHOOLS},
    )
    ingest(nexus, folder)
    before = version_count(store)
    code, run = ingest(nexus, folder)
    assert code == 0
    assert run["entities"]["students"] == {
        "new": 0,
        "changed": 0,
        "unchanged": 3,
        "deleted": 0,
        "errors": 0,
    }
    assert version_count(store) == before


def test_daily_run_versions_only_changes_and_old_snapshots_stay_exact(
    nexus, tenant, store, tmp_path
):
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": STUDENTS, "schools.csv": SCHOOLS},
    )
    _, first = ingest(nexus, folder)
    changed = (
        "student_id,last_name,birth_date,credits\n"
        "1,Ash,03/04/2012,2.5\n3,Cedar,05/06/2011,0\n4,Dogwood,01/01/2013,0\n"
    )
    write(folder, {"students.csv": changed})
    _, second = ingest(nexus, folder)
    assert second["entities"]["students"] == {
        "new": 1,
        "changed": 1,
        "unchanged": 1,
        "deleted": 1,
        "errors": 0,
    }
    assert snapshot(nexus, second["run_id"], "students") == changed
    assert snapshot(nexus, first["run_id"], "students") == STUDENTS


def test_tab_pipe_headerless_bom_and_quoted_newlines(nexus, tenant, tmp_path):
    mapping = """
version: 1
entities:
  - entity: notes
    file: notes.tsv
    delimiter: tab
    natural_key: [id]
    columns: {id: integer, note: string}
  - entity: codes
    file: codes.txt
    delimiter: pipe
    header: false
    natural_key: [code]
    columns: {code: string, meaning: string}
"""
    notes = '\ufeffid\tnote\n1\t"two\nlines"\n2\tplain\n3\t"bad\t2024"\n'
    folder = write(
        tmp_path / "drop",
        {
            "mapping.yaml": mapping,
            "notes.tsv": notes,
            "codes.txt": "R1|Resident\nNR|Non-resident\n",
        },
    )
    code, run = ingest(nexus, folder)
    assert code == 0, run
    assert run["entities"]["notes"]["new"] == 3
    assert run["entities"]["codes"]["new"] == 2
    rows = [
        json.loads(line) for line in snapshot(nexus, run["run_id"], "notes", "jsonl").splitlines()
    ]
    assert rows[0] == {"id": "1", "note": "two\nlines"}
    assert snapshot(nexus, run["run_id"], "codes") == "code,meaning\nNR,Non-resident\nR1,Resident\n"


def test_bad_values_become_error_rows_with_physical_line(nexus, tenant, tmp_path):
    students = (
        "student_id,last_name,birth_date,credits\n"
        '1,"Ash\nAsh",03/04/2012,1\n'  # a quoted newline: the next record starts on line 4
        "2,Birch,2011-11-30,2\n"
        "3,Cedar,05/06/2011,lots\n"
        "4,Dogwood,01/01/2013,1\n"
    )
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": students, "schools.csv": SCHOOLS},
    )
    code, run = ingest(nexus, folder)
    assert code == 3
    assert run["status"] == "partial"
    errors = [(e["file"], e["line"], e["column"], e["value"], e["reason"]) for e in run["errors"]]
    assert errors == [
        ("students.csv", 4, "birth_date", "2011-11-30", "not a date in the form MM/DD/YYYY"),
        ("students.csv", 5, "credits", "lots", "not a number"),
    ]
    assert run["entities"]["students"]["new"] == 2
    assert run["entities"]["students"]["errors"] == 2
    listed = json.loads(nexus("runs", "errors", str(run["run_id"]), "--json").stdout)
    assert [e["line"] for e in listed] == [4, 5]


def test_row_in_error_keeps_its_previous_version(nexus, tenant, tmp_path):
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": STUDENTS, "schools.csv": SCHOOLS},
    )
    ingest(nexus, folder)
    broken = STUDENTS.replace("11/30/2011", "30/11/2011")
    write(folder, {"students.csv": broken})
    code, run = ingest(nexus, folder)
    assert code == 3
    assert run["entities"]["students"]["deleted"] == 0
    assert snapshot(nexus, run["run_id"], "students") == STUDENTS


def test_repeated_natural_key_keeps_the_first_row(nexus, tenant, tmp_path):
    students = STUDENTS + "2,Birchwood,11/30/2011,2\n"
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": students, "schools.csv": SCHOOLS},
    )
    code, run = ingest(nexus, folder)
    assert code == 3
    assert run["errors"] == [
        {
            "file": "students.csv",
            "entity": "students",
            "line": 5,
            "column": None,
            "value": "2",
            "reason": "natural key repeated (first on line 3)",
        }
    ]
    assert "2,Birch," in snapshot(nexus, run["run_id"], "students")


def test_missing_key_column_fails_that_file_only(nexus, tenant, tmp_path):
    folder = write(
        tmp_path / "drop",
        {
            "mapping.yaml": MAPPING,
            "schools.csv": SCHOOLS,
            "students.csv": "last_name,birth_date\nAsh,03/04/2012\n",
        },
    )
    code, run = ingest(nexus, folder)
    assert code == 3
    files = {f["name"]: f for f in run["files"]}
    assert files["students.csv"]["status"] == "failed"
    assert files["students.csv"]["reason"] == "students.csv: missing key column student_id"
    assert files["schools.csv"]["status"] == "succeeded"
    assert "students" not in run["entities"]
    assert run["entities"]["schools"]["new"] == 2


def test_failed_file_leaves_the_entity_as_it_was(nexus, tenant, tmp_path):
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": STUDENTS, "schools.csv": SCHOOLS},
    )
    ingest(nexus, folder)
    write(folder, {"students.csv": ""})
    code, run = ingest(nexus, folder)
    assert code == 3
    assert run["files"][0] == {
        "name": "students.csv",
        "rows": 0,
        "status": "failed",
        "reason": "students.csv: file is empty",
    }
    assert snapshot(nexus, run["run_id"], "students") == STUDENTS


def test_header_only_file_is_not_read_as_delete_all(nexus, tenant, tmp_path):
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": STUDENTS, "schools.csv": SCHOOLS},
    )
    ingest(nexus, folder)
    write(folder, {"students.csv": "student_id,last_name,birth_date,credits\n"})
    _, run = ingest(nexus, folder)
    assert run["files"][0]["reason"] == "students.csv: file has a header but no rows"
    assert snapshot(nexus, run["run_id"], "students") == STUDENTS


def test_wrong_encoding_is_a_clear_file_error(nexus, tenant, tmp_path):
    cp1252 = "student_id,last_name,birth_date,credits\n1,Pe\u00f1a \u2013 Jr,03/04/2012,1\n"
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "schools.csv": SCHOOLS, "students.csv": cp1252.encode("cp1252")},
    )
    code, run = ingest(nexus, folder)
    assert code == 3
    assert run["files"][0]["reason"] == (
        "students.csv: not UTF-8 (byte 0xf1 on line 2); if the file is Windows-1252, "
        "say `encoding: windows-1252` in its mapping"
    )
    declared = MAPPING.replace(
        "    file: students.csv\n", "    file: students.csv\n    encoding: windows-1252\n"
    )
    write(folder, {"mapping.yaml": declared})
    code, run = ingest(nexus, folder)
    assert code == 0
    rows = snapshot(nexus, run["run_id"], "students", "jsonl")
    assert json.loads(rows)["last_name"] == "Pe\u00f1a \u2013 Jr"


def test_expected_file_not_delivered_is_an_error_not_an_empty_success(nexus, tenant, tmp_path):
    folder = write(tmp_path / "drop", {"mapping.yaml": MAPPING, "students.csv": STUDENTS})
    code, run = ingest(nexus, folder)
    assert code == 3
    assert run["files"][-1] == {
        "name": "schools.csv",
        "rows": 0,
        "status": "failed",
        "reason": "expected file schools.csv was not delivered",
    }


def test_nothing_delivered_fails_the_run(nexus, tenant, tmp_path):
    folder = write(tmp_path / "drop", {"mapping.yaml": MAPPING})
    code, run = ingest(nexus, folder)
    assert code == 1
    assert run["status"] == "failed"
    assert run["reason"] == (
        "no file could be ingested: expected file students.csv was not delivered; "
        "expected file schools.csv was not delivered"
    )


def test_vendor_drift_is_reported_on_the_file(nexus, tenant, tmp_path):
    drifted = "student_id,last_name,birth_date,grade\n1,Ash,03/04/2012,07\n"
    folder = write(
        tmp_path / "drop",
        {"mapping.yaml": MAPPING, "students.csv": drifted, "schools.csv": SCHOOLS},
    )
    code, run = ingest(nexus, folder)
    assert code == 0
    assert run["files"][0]["reason"] == "columns added: grade; columns missing: credits"
    files = json.loads(nexus("runs", "files", str(run["run_id"]), "--json").stdout)
    assert files[0]["columns_added"] == ["grade"]
    assert files[0]["columns_missing"] == ["credits"]
    assert len(files[0]["sha256"]) == 64
    assert Path(files[0]["artifact_path"]).read_text() == drifted


def test_bad_mapping_is_one_clear_line(nexus, tenant, tmp_path):
    folder = write(
        tmp_path / "drop",
        {
            "mapping.yaml": "entities: [{entity: x, natural_key: [id], columns: {id: money}}]",
            "x.csv": "id\n1\n",
        },
    )
    result = nexus("ingest", "csv", str(folder), "--tenant", "demo")
    assert result.exit_code == 1
    assert "column 'id' has unknown type 'money'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_kind_and_missing_tenant_are_usage_errors(nexus, tenant, tmp_path):
    assert nexus("ingest", "mystery", str(tmp_path), "--tenant", "demo").exit_code == 1
    result = nexus("ingest", "csv", str(tmp_path))
    assert result.exit_code == 2
