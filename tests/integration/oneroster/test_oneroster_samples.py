"""The public sample bundles in ../shared/data: 1.1 and 1.2, bulk and delta, and near misses.

Each sample's known quirks (see its SOURCE.md) must come out as clear file reasons or row
errors, never as a crash or a silent success. Skipped when ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.oneroster.bundles import files_by_name, ingest, rows, snapshot

CATALYST = "oneroster-catalyst-moodle-fixtures"


def test_catalyst_11_bulk_bundle_snapshots_reproduce_the_files(nexus, tenant, shared_data):
    bundle = shared_data / CATALYST / "Test_full_data_set"
    code, run = ingest(nexus, bundle)
    assert (code, run["status"]) == (0, "succeeded"), run
    assert set(run["entities"]) == {"academicSessions", "classes", "enrollments", "orgs", "users"}
    for entity in run["entities"]:
        source = (bundle / f"{entity}.csv").read_text(encoding="utf-8-sig")
        assert snapshot(nexus, run["run_id"], entity) == rows(source), entity


def test_catalyst_12_delta_bundle_ingests_every_file(nexus, tenant, shared_data):
    code, run = ingest(nexus, shared_data / CATALYST / "oneroster_test_data")
    assert (code, run["status"]) == (0, "succeeded"), run
    assert set(run["entities"]) == {
        "academicSessions",
        "classes",
        "courses",
        "demographics",
        "enrollments",
        "orgs",
        "roles",
        "userProfiles",
        "users",
    }
    assert all(counts["new"] == 1 for counts in run["entities"].values())
    # The fixture's users.csv omits resourceSourcedIds (noted in the reference).
    assert files_by_name(run)["users.csv"]["reason"] == "columns missing: resourceSourcedIds"


def test_catalyst_12_bulk_bundle_reports_its_known_mistakes(nexus, tenant, shared_data):
    code, run = ingest(nexus, shared_data / CATALYST / "v1p2_full_dataset")
    assert (code, run["status"]) == (3, "partial")
    files = files_by_name(run)
    # roles.csv ends its header with two empty names; userprofiles.csv is not read because the
    # manifest leaves file.userProfiles empty (no information).
    assert files["roles.csv"]["status"] == "failed"
    assert "header column 10, 11 has no name" in files["roles.csv"]["reason"]
    assert "userprofiles.csv" not in files
    assert "prefferedGivenName" in files["users.csv"]["reason"]
    bad_dates = [e for e in run["errors"] if e["column"] == "dateLastModified"]
    assert {e["value"] for e in bad_dates} == {"1/05/2023", "15/06/2023"}
    assert all(e["file"] == "users.csv" and e["line"] >= 2 for e in bad_dates)
    assert run["entities"]["classes"]["new"] == 2


def test_oat_sa_vendor_bundle_fails_header_only_files_and_reports_drift(nexus, tenant, shared_data):
    code, run = ingest(nexus, shared_data / "oneroster-oat-sa-samples" / "OneRosterv1p1BaseCSV")
    assert (code, run["status"]) == (3, "partial")
    files = files_by_name(run)
    for name in ("academicSessions.csv", "courses.csv", "demographics.csv"):
        assert files[name]["status"] == "failed"
        assert files[name]["reason"].endswith("file has a header but no rows")
    # ext_* and metadata.* columns are extensions, not drift; 1.0-style names are.
    assert files["users.csv"]["reason"].startswith("columns added: userId, agents; ")
    assert files["orgs.csv"]["reason"] is None
    assert set(run["entities"]) == {"orgs", "classes", "users", "enrollments"}


@pytest.mark.parametrize("folder", ["SDS_v2.1", "SDS_v1_100_Users"])
def test_microsoft_sds_folders_are_rejected(nexus, tenant, shared_data, folder):
    code, run = ingest(nexus, Path(shared_data / "microsoft-sds-csv-samples" / folder))
    assert (code, run["status"]) == (1, "failed")
    assert run["reason"].startswith(f"{folder} has no manifest.csv, so it is not a OneRoster")
    assert "Microsoft School Data Sync (SDS)" in run["reason"]
    assert run["entities"] == {}
