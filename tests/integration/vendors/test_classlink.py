"""ClassLink OneRoster 1.1 rosters through `nexus ingest classlink`."""

from __future__ import annotations

from nexus.integration.connectors.oneroster.spec import spec_header
from tests.integration.test_csv_ingest import snapshot, write
from tests.integration.vendors.conftest import ingest, rows_of

USERS = (
    ",".join(spec_header("1.1", "users") or ())
    + "\n30001,,,true,ORG1,student,t@x.example,,Tindley,Dunwell,,5471823,t@x.example,,,,04,\n"
)


def test_synth_users_and_orgs_ingest_and_snapshots_reproduce_them(nexus, tenant, vendor_dir):
    source = vendor_dir / "classlink"
    code, result = ingest(nexus, "classlink", source)
    assert code == 0, result
    assert result["errors"] == []
    for entity in ("users", "orgs"):
        text = (source / f"{entity}.csv").read_text()
        assert result["entities"][entity]["new"] == len(rows_of(text)) - 1
        assert rows_of(snapshot(nexus, result["run_id"], entity)) == rows_of(text)
    assert all(f["reason"] is None for f in result["files"]), result["files"]


def test_users_alone_is_enough(nexus, tenant, tmp_path):
    folder = write(tmp_path / "cl", {"users.csv": USERS})
    code, result = ingest(nexus, "classlink", folder)
    assert code == 0, result
    assert set(result["entities"]) == {"users"}


def test_missing_users_fails(nexus, tenant, tmp_path):
    orgs = ",".join(spec_header("1.1", "orgs") or ()) + "\nORG1,,,Hall,school,4000,\n"
    folder = write(tmp_path / "cl", {"orgs.csv": orgs})
    code, result = ingest(nexus, "classlink", folder)
    assert code == 3
    failed = {f["name"]: f["reason"] for f in result["files"] if f["status"] == "failed"}
    assert failed == {"users.csv": "expected file users.csv was not delivered"}


def test_spec_columns_are_checked(nexus, tenant, tmp_path):
    bad = USERS.replace("30001,,,true,", "30001,,,sometimes,")
    folder = write(tmp_path / "cl", {"users.csv": bad})
    code, result = ingest(nexus, "classlink", folder)
    assert code == 3
    assert [(e["line"], e["column"]) for e in result["errors"]] == [(2, "enabledUser")]
