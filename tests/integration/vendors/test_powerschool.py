"""PowerSchool student exports through `nexus ingest powerschool`."""

from __future__ import annotations

from nexus.integration.connectors.powerschool import presets
from tests.integration.test_csv_ingest import snapshot, write
from tests.integration.vendors.conftest import ingest, rows_of

EXPORT = (
    "STUDENTS.DCID,STUDENTS.STUDENT_NUMBER,STUDENTS.LAST_NAME,STUDENTS.FIRST_NAME,"
    "STUDENTS.DOB,Student Email\n"
    "30001,5471823,Dunwell,Tindley,08/03/2016,tdunwell@students.example\n"
    "30002,8120317,Hartworth,Emavine,02/19/2009,ehartworth@students.example\n"
)


def test_synth_export_ingests_and_snapshot_reproduces_it(nexus, tenant, vendor_dir):
    source = vendor_dir / "powerschool"
    code, result = ingest(nexus, "powerschool", source)
    assert code == 0, result
    assert result["errors"] == []
    text = (source / "students.csv").read_text()
    assert result["entities"]["students"]["new"] == text.count("\n") - 1
    assert rows_of(snapshot(nexus, result["run_id"], "students")) == rows_of(text)
    assert presets()[0].natural_key == ("STUDENTS.DCID",)


def test_email_column_renamed_by_mapping(nexus, tenant, tmp_path):
    folder = write(tmp_path / "ps", {"Student Export.csv": EXPORT})
    (tmp_path / "renames.yaml").write_text('columns:\n  STUDENTS.EMAIL: "Student Email"\n')
    code, result = ingest(nexus, "powerschool", folder, "--mapping", str(tmp_path / "renames.yaml"))
    assert code == 0, result
    assert result["entities"]["students"]["new"] == 2
    drift = result["files"][0]["reason"]  # the export leaves out preset columns
    assert "Student Email" not in drift
    assert "STUDENTS.EMAIL" not in drift
    assert rows_of(snapshot(nexus, result["run_id"], "students")) == rows_of(EXPORT)


def test_without_the_rename_the_email_column_is_drift(nexus, tenant, tmp_path):
    folder = write(tmp_path / "ps", {"students.csv": EXPORT})
    code, result = ingest(nexus, "powerschool", folder)
    assert code == 0, result
    drift = result["files"][0]["reason"]
    assert "STUDENTS.EMAIL" in drift.split("columns missing: ")[1]
    assert "Student Email" in drift


def test_bad_date_is_an_error_row_with_line_and_column(nexus, tenant, tmp_path):
    bad = EXPORT.replace("02/19/2009", "2009-02-19")
    folder = write(tmp_path / "ps", {"students.csv": bad})
    code, result = ingest(nexus, "powerschool", folder)
    assert code == 3
    assert [(e["line"], e["column"], e["value"], e["reason"]) for e in result["errors"]] == [
        (3, "STUDENTS.DOB", "2009-02-19", "not a date in the form MM/DD/YYYY"),
    ]


def test_renaming_an_unknown_column_is_refused(nexus, tenant, tmp_path):
    folder = write(tmp_path / "ps", {"students.csv": EXPORT})
    (tmp_path / "renames.yaml").write_text('columns:\n  STUDENTS.MAIL: "Student Email"\n')
    result = nexus(
        "ingest",
        "powerschool",
        str(folder),
        "--tenant",
        "demo",
        "--mapping",
        str(tmp_path / "renames.yaml"),
    )
    assert result.exit_code == 1
    assert "renames STUDENTS.MAIL, not a column of the students export" in result.stderr
