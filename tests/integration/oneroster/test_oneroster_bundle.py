"""OneRoster CSV bundles through `nexus ingest oneroster`: manifest, versions, bad input."""

from __future__ import annotations

import sqlalchemy as sa

from tests.integration.oneroster.bundles import (
    CAMPUS_12,
    ENROLLMENTS,
    MANIFEST_11,
    USERS,
    USERS_11,
    files_by_name,
    ingest,
    manifest,
    rows,
    snapshot,
    write_bundle,
    zip_bundle,
)

ENTITIES_12 = {
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "enrollments",
    "demographics",
    "roles",
}


def version_count(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM integration.source_records")).scalar()


def test_campus_bundle_ingests_and_snapshots_reproduce_the_files(nexus, tenant, tmp_path):
    bundle = write_bundle(tmp_path / "campus", CAMPUS_12)
    code, run = ingest(nexus, bundle)
    assert (code, run["status"]) == (0, "succeeded"), run
    assert set(run["entities"]) == ENTITIES_12
    # Campus conventions are valid data, and its metadata.* extension is not vendor drift.
    assert all(f["reason"] is None for f in run["files"]), run["files"]
    assert run["entities"]["users"]["new"] == 5
    for name, text in CAMPUS_12.items():
        if name != "manifest.csv":
            assert snapshot(nexus, run["run_id"], name.removesuffix(".csv")) == rows(text), name


def test_zip_bundle_reads_like_the_folder_and_twice_changes_nothing(nexus, tenant, store, tmp_path):
    code, first = ingest(nexus, zip_bundle(CAMPUS_12, tmp_path / "campus.zip"))
    assert (code, first["status"]) == (0, "succeeded"), first
    versions = version_count(store)
    # The same bundle again, zipped inside a folder this time: nothing changes.
    code, second = ingest(nexus, zip_bundle(CAMPUS_12, tmp_path / "again.zip", inside="export"))
    assert (code, second["status"]) == (0, "succeeded"), second
    for entity, counts in second["entities"].items():
        assert counts["new"] == counts["changed"] == counts["deleted"] == 0, entity
        assert counts["unchanged"] == first["entities"][entity]["new"], entity
    assert version_count(store) == versions
    assert snapshot(nexus, second["run_id"], "users") == rows(USERS)


def test_version_11_bundle_uses_the_11_headers(nexus, tenant, tmp_path):
    files = {"manifest.csv": MANIFEST_11, "users.csv": USERS_11, "enrollments.csv": ENROLLMENTS}
    code, run = ingest(nexus, write_bundle(tmp_path / "v11", files))
    assert (code, run["status"]) == (0, "succeeded"), run
    assert all(f["reason"] is None for f in run["files"]), run["files"]
    assert snapshot(nexus, run["run_id"], "users") == rows(USERS_11)


def test_manifest_naming_a_missing_file_fails_that_entity_and_keeps_its_snapshot(
    nexus, tenant, tmp_path
):
    _, first = ingest(nexus, write_bundle(tmp_path / "day1", CAMPUS_12))
    files = {k: v for k, v in CAMPUS_12.items() if k != "enrollments.csv"}
    code, run = ingest(nexus, write_bundle(tmp_path / "day2", files))
    assert (code, run["status"]) == (3, "partial")
    failed = files_by_name(run)["enrollments.csv"]
    assert failed["status"] == "failed"
    assert failed["reason"] == (
        "manifest.csv lists enrollments.csv as bulk but the bundle has no such file"
    )
    assert "enrollments" not in run["entities"]
    assert run["entities"]["users"]["unchanged"] == 5
    assert snapshot(nexus, run["run_id"], "enrollments") == rows(ENROLLMENTS)


def test_absent_means_no_information_never_delete_all(nexus, tenant, tmp_path):
    _, first = ingest(nexus, write_bundle(tmp_path / "day1", CAMPUS_12))
    files = {
        "manifest.csv": manifest(users="absent", enrollments="bulk", roles="absent"),
        "enrollments.csv": ENROLLMENTS,
    }
    code, run = ingest(nexus, write_bundle(tmp_path / "day2", files))
    assert (code, run["status"]) == (0, "succeeded"), run
    assert set(run["entities"]) == {"enrollments"}
    assert [f["name"] for f in run["files"]] == ["enrollments.csv"]
    assert snapshot(nexus, run["run_id"], "users") == rows(USERS)


def test_delta_tobedeleted_removes_exactly_that_record(nexus, tenant, tmp_path):
    _, first = ingest(nexus, write_bundle(tmp_path / "day1", CAMPUS_12))
    delta = (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate\n"
        "S5002,tobedeleted,2026-09-01T12:00:00.000Z,88001,,s1002,student,false,2026-08-17,"
        "2026-08-31\n"
        "S5003,active,2026-09-01T12:00:00.000Z,88002,,s1003,student,false,2026-08-17,"
        "2026-12-18\n"
        "S5004,active,2026-09-01T12:00:00.000Z,88002,,s1002,student,false,2026-09-01,\n"
    )
    files = {"manifest.csv": manifest(enrollments="delta"), "enrollments.csv": delta}
    code, run = ingest(nexus, write_bundle(tmp_path / "day2", files))
    assert (code, run["status"]) == (0, "succeeded"), run
    assert run["entities"]["enrollments"] == {
        "new": 1,
        "changed": 1,
        "unchanged": 0,
        "deleted": 1,
        "errors": 0,
    }
    after = {r["sourcedId"]: r for r in snapshot(nexus, run["run_id"], "enrollments")}
    assert set(after) == {"S5001", "S5003", "S5004", "T6001", "T6002"}
    assert after["S5003"]["endDate"] == "2026-12-18"
    assert after["S5001"] == rows(ENROLLMENTS)[0]
    # The day-1 snapshot still holds the deleted enrollment as it was.
    assert snapshot(nexus, first["run_id"], "enrollments") == rows(ENROLLMENTS)


def test_bulk_file_without_sourcedid_fails_alone(nexus, tenant, tmp_path):
    _, first = ingest(nexus, write_bundle(tmp_path / "day1", CAMPUS_12))
    no_key = USERS.replace("sourcedId,status", "id,status", 1)
    code, run = ingest(nexus, write_bundle(tmp_path / "day2", {**CAMPUS_12, "users.csv": no_key}))
    assert (code, run["status"]) == (3, "partial")
    users = files_by_name(run)["users.csv"]
    assert users["status"] == "failed"
    assert "missing key column sourcedId" in users["reason"]
    assert set(run["entities"]) == ENTITIES_12 - {"users"}
    assert snapshot(nexus, run["run_id"], "users") == rows(USERS)


def test_bad_date_is_an_error_row_and_the_record_keeps_its_version(nexus, tenant, tmp_path):
    _, first = ingest(nexus, write_bundle(tmp_path / "day1", CAMPUS_12))
    bad = ENROLLMENTS.replace("S5002,,,88001,", "S5002,,not-a-time,88001,").replace(
        "s1003,student,false,2026-08-17", "s1003,student,false,08/17/2026"
    )
    code, run = ingest(
        nexus, write_bundle(tmp_path / "day2", {**CAMPUS_12, "enrollments.csv": bad})
    )
    assert (code, run["status"]) == (3, "partial")
    assert run["errors"] == [
        {
            "file": "enrollments.csv",
            "entity": "enrollments",
            "line": 3,
            "column": "dateLastModified",
            "value": "not-a-time",
            "reason": "not an ISO 8601 date and time",
        },
        {
            "file": "enrollments.csv",
            "entity": "enrollments",
            "line": 4,
            "column": "beginDate",
            "value": "08/17/2026",
            "reason": "not a date in the form YYYY-MM-DD",
        },
    ]
    assert run["entities"]["enrollments"]["deleted"] == 0
    assert snapshot(nexus, run["run_id"], "enrollments") == rows(ENROLLMENTS)


def test_repeated_sourcedid_keeps_the_first_row(nexus, tenant, tmp_path):
    repeated = ENROLLMENTS + "S5001,,,88002,x,s1001,student,false,2026-08-17,\n"
    code, run = ingest(
        nexus, write_bundle(tmp_path / "b", {**CAMPUS_12, "enrollments.csv": repeated})
    )
    assert (code, run["status"]) == (3, "partial")
    assert run["errors"] == [
        {
            "file": "enrollments.csv",
            "entity": "enrollments",
            "line": 7,
            "column": None,
            "value": "S5001",
            "reason": "natural key repeated (first on line 2)",
        }
    ]
    assert snapshot(nexus, run["run_id"], "enrollments") == rows(ENROLLMENTS)


def test_spec_drift_is_reported_but_extensions_are_not(nexus, tenant, tmp_path):
    header, *lines = USERS.replace(",pronouns,", ",pronoun,").splitlines()
    drifted = "\n".join([header + ",ext_vendor_x"] + [line + ",x" for line in lines]) + "\n"
    code, run = ingest(nexus, write_bundle(tmp_path / "b", {**CAMPUS_12, "users.csv": drifted}))
    assert (code, run["status"]) == (0, "succeeded"), run
    assert files_by_name(run)["users.csv"]["reason"] == (
        "columns added: pronoun; columns missing: pronouns"
    )


def test_manifest_problems_are_one_clear_line(nexus, tenant, tmp_path):
    cases = {
        "no-version": (
            "propertyName,value\nfile.users,bulk\n",
            "no-version: manifest.csv does not say its oneroster.version (1.1 or 1.2)",
        ),
        "old-version": (
            "propertyName,value\noneroster.version,1.0\nfile.users,bulk\n",
            "old-version: manifest.csv: oneroster.version '1.0' is not supported (use 1.1 or 1.2)",
        ),
        "bad-header": ("name,mode\nusers,bulk\n", "must be `propertyName,value`"),
    }
    for name, (text, message) in cases.items():
        folder = write_bundle(tmp_path / name, {"manifest.csv": text, "users.csv": USERS})
        code, run = ingest(nexus, folder)
        assert (code, run["status"]) == (1, "failed"), name
        assert message in run["reason"], run["reason"]


def test_unknown_manifest_mode_fails_that_file(nexus, tenant, tmp_path):
    files = {
        "manifest.csv": manifest(users="full", enrollments="bulk"),
        "users.csv": USERS,
        "enrollments.csv": ENROLLMENTS,
    }
    code, run = ingest(nexus, write_bundle(tmp_path / "b", files))
    assert (code, run["status"]) == (3, "partial")
    assert files_by_name(run)["users.csv"]["reason"] == (
        "manifest.csv says file.users is 'full'; expected bulk, delta or absent"
    )


def test_folder_without_manifest_is_refused(nexus, tenant, tmp_path):
    folder = write_bundle(tmp_path / "loose", {"users.csv": USERS})
    code, run = ingest(nexus, folder)
    assert (code, run["status"]) == (1, "failed")
    assert run["reason"].startswith("loose has no manifest.csv, so it is not a OneRoster bundle")
    assert "School Data Sync" not in run["reason"]


def test_truncated_zip_fails_the_run_and_keeps_the_snapshot(nexus, tenant, store, tmp_path):
    _, first = ingest(nexus, zip_bundle(CAMPUS_12, tmp_path / "good.zip"))
    versions = version_count(store)
    whole = zip_bundle(CAMPUS_12, tmp_path / "whole.zip").read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(whole[: len(whole) // 2])
    code, run = ingest(nexus, truncated)
    assert (code, run["status"]) == (1, "failed")
    assert run["reason"].startswith("truncated.zip is not a readable zip: ")
    assert version_count(store) == versions
    assert snapshot(nexus, first["run_id"], "users") == rows(USERS)
    runs = nexus("runs", "list", "--json")
    assert '"status": "failed"' in runs.stdout


def test_zip_member_outside_the_bundle_is_refused(nexus, tenant, tmp_path):
    import zipfile

    target = tmp_path / "slip.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("manifest.csv", manifest(users="bulk"))
        archive.writestr("../../outside.csv", USERS)
    code, run = ingest(nexus, target)
    assert (code, run["status"]) == (1, "failed")
    assert "would land outside the bundle ('../../outside.csv')" in run["reason"]
    assert not (tmp_path.parent / "outside.csv").exists()


def test_entities_option_narrows_the_run_to_listed_files(nexus, tenant, tmp_path):
    bundle = write_bundle(tmp_path / "b", CAMPUS_12)
    code, run = ingest(nexus, bundle, "--entities", "users,roles")
    assert (code, run["status"]) == (0, "succeeded"), run
    assert set(run["entities"]) == {"users", "roles"}
    code, run = ingest(nexus, bundle, "--entities", "students")
    assert (code, run["status"]) == (1, "failed")
    assert run["reason"] == "b: the manifest names no file students"
