"""`nexus demo`: synthesise, ingest through every connector, and again with nothing changed."""

from __future__ import annotations

import json


def test_demo_ingests_every_format_cleanly_and_is_idempotent(nexus, backend):
    first = nexus("demo", "--students", "120", "--json")
    assert first.exit_code == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["district"]["county_district_code"].isdigit()
    runs = result["runs"]
    assert set(runs) == {"campus-extract", "campus-sql", "oneroster"}
    for kind, run in runs.items():
        assert run["status"] == "succeeded", (kind, run["files"], run["errors"])
        assert run["error_total"] == 0
        assert sum(e["new"] for e in run["entities"].values()) > 0, kind
    assert runs["campus-extract"]["entities"]["attendance"]["new"] > 120 * 100

    maps = result["maps"]
    assert set(maps) == set(runs)
    for kind, mapped in maps.items():
        assert mapped["status"] == "succeeded", (kind, mapped["reason"], mapped["errors"])
    assert maps["campus-extract"]["identity"]["people_created"] > 120
    # Campus SQL maps onto the same rows as the extracts; OneRoster's people are the same people.
    assert maps["campus-sql"]["identity"]["people_created"] == 0
    assert maps["oneroster"]["identity"]["people_created"] == 0
    assert maps["oneroster"]["match_rates"]["rate"] == 1.0

    mosis = result["mosis"]
    assert mosis["rows"] > 100 and mosis["file"].endswith(".csv")

    again = json.loads(nexus("demo", "--students", "120", "--json").stdout)
    # Same input, same file.
    assert again["mosis"]["sha256"] == mosis["sha256"]
    for kind, mapped in again["maps"].items():
        assert mapped["status"] == "succeeded", kind
        changes = sum(
            c.get("inserted", 0) + c.get("updated", 0) + c.get("deleted", 0)
            for c in mapped["targets"].values()
        )
        assert changes == 0, (kind, mapped["targets"])
    for kind, run in again["runs"].items():
        assert run["status"] == "succeeded", kind
        changes = sum(e["new"] + e["changed"] + e["deleted"] for e in run["entities"].values())
        assert changes == 0, (kind, run["entities"])
