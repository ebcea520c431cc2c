"""Renaissance Star extracts through `nexus ingest star`: layout detection by header."""

from __future__ import annotations

from nexus.integration.connectors.star import detect
from nexus.integration.connectors.star.layouts import HEADERS
from tests.integration.test_csv_ingest import snapshot, write
from tests.integration.vendors.conftest import ingest, rows_of


def _csv(header: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    lines = [",".join(header)]
    lines += [",".join(row.get(c, "") for c in header) for row in rows]
    return "\n".join(lines) + "\n"


LEGACY_SM = _csv(
    HEADERS[("legacy", "SM")],
    [
        {"StudentLocalID": "5471823", "StudentAssessmentID": "771", "ScaledScore": "512"},
        {"StudentLocalID": "8120317", "StudentAssessmentID": "772", "ScaledScore": "618"},
    ],
)
V2_SR = _csv(
    HEADERS[("v2", "SR")],
    [
        {
            "StudentIdentifier": "5471823",
            "AssessmentID": "A-1",
            "CompletedDate": "2023-08-21T17:28:05.852Z",
        },
        {
            "StudentIdentifier": "8120317",
            "AssessmentID": "A-2",
            "CompletedDate": "2023-10-02 15:47:56.065",
        },
    ],
)


def test_synth_star_files_ingest_and_snapshots_reproduce_them(nexus, tenant, vendor_dir):
    source = vendor_dir / "star"
    code, result = ingest(nexus, "star", source)
    assert code == 0, result
    assert result["errors"] == []
    for name, entity in (
        ("SR.csv", "star_reading"),
        ("SM.csv", "star_math"),
        ("SEL.csv", "star_early_literacy"),
    ):
        text = (source / name).read_text()
        assert result["entities"][entity]["new"] == len(rows_of(text)) - 1
        assert rows_of(snapshot(nexus, result["run_id"], entity)) == rows_of(text)
    assert all(f["reason"] is None for f in result["files"]), result["files"]


def test_v2_and_legacy_headers_are_both_detected(nexus, tenant, tmp_path):
    folder = write(tmp_path / "star", {"SM.csv": LEGACY_SM, "sr_v2.csv": V2_SR})
    code, result = ingest(nexus, "star", folder)
    assert code == 0, result
    assert result["entities"]["star_math"]["new"] == 2
    assert result["entities"]["star_reading"]["new"] == 2
    assert set(result["entities"]) == {"star_math", "star_reading"}
    assert detect(list(HEADERS[("legacy", "SEL")]), "SEL") == ("legacy", "SEL")
    assert detect(list(HEADERS[("v2", "SEL")]), None) == ("v2", "SEL")


def test_unknown_header_fails_with_the_nearest_layouts_missing_columns(nexus, tenant, tmp_path):
    header = HEADERS[("v2", "SM")][:60]  # cut short: no score columns
    folder = write(tmp_path / "star", {"SM.csv": _csv(header, [{"AssessmentID": "1"}])})
    code, result = ingest(nexus, "star", folder)
    assert code == 1, result  # nothing could be ingested: the run fails
    assert result["status"] == "failed"
    (failed,) = [f for f in result["files"] if f["status"] == "failed"]
    assert failed["name"] == "SM.csv"
    assert failed["reason"].startswith(
        "SM.csv: header matches neither Star layout (v2, legacy); nearest is v2 SM, "
        "missing 58 of its 118 columns: GradePlacement, Grade, ExtraTime,"
    )
    assert failed["reason"].endswith("and 46 more")


def test_bad_datetime_is_an_error_row(nexus, tenant, tmp_path):
    bad = V2_SR.replace("2023-10-02 15:47:56.065", "10/02/2023 3:47 PM")
    folder = write(tmp_path / "star", {"SR.csv": bad})
    code, result = ingest(nexus, "star", folder)
    assert code == 3
    assert [(e["line"], e["column"], e["value"]) for e in result["errors"]] == [
        (3, "CompletedDate", "10/02/2023 3:47 PM")
    ]


def test_only_delivered_products_are_expected_unless_named(nexus, tenant, tmp_path):
    folder = write(tmp_path / "star", {"SM.csv": LEGACY_SM, "notes.csv": "a,b\n1,2\n"})
    code, result = ingest(nexus, "star", folder)
    assert code == 0, result
    assert [f["name"] for f in result["files"]] == ["SM.csv"]
    code, result = ingest(nexus, "star", folder, "--entities", "star_math,star_reading")
    assert code == 3
    failed = {f["name"]: f["reason"] for f in result["files"] if f["status"] == "failed"}
    assert failed == {"SR.csv": "expected Star extract for star_reading was not delivered"}


def test_folder_without_star_files_is_refused(nexus, tenant, tmp_path):
    folder = write(tmp_path / "star", {"notes.csv": "a,b\n1,2\n"})
    result = nexus("ingest", "star", str(folder), "--tenant", "demo")
    assert result.exit_code == 1
    assert "holds no Star extract" in result.stderr


def test_shared_star_sample_ingests(nexus, tenant, shared_data):
    folder = shared_data / "renaissance-star-edanalytics" / "data"
    code, result = ingest(nexus, "star", folder)
    assert code == 0, result
    assert [f["name"] for f in result["files"]] == ["SR_sample_anonymized_file.csv"]
    assert result["entities"]["star_reading"]["new"] == 5
    assert result["errors"] == []
