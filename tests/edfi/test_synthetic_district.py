"""End to end: a synthetic district (`nexus synth`) ingested and mapped, its Ed-Fi resources
built and sent to the fake ODS/API twice; the second send sends nothing."""

from __future__ import annotations

import json

from .fake_ods import FakeOds


def test_synthetic_district_builds_validates_and_sends_idempotently(nexus, tmp_path, monkeypatch):
    synth = tmp_path / "synth"
    made = nexus(
        "synth",
        "--students",
        "120",
        "--seed",
        "7",
        "--out",
        str(synth),
        "--formats",
        "campus-extract",
    )
    assert made.exit_code == 0, made.stderr
    district = json.loads((synth / "district.json").read_text())
    code = district["county_district_code"]
    assert (
        nexus(
            "tenants", "add", "synth", "--name", district["name"], "--district-code", code
        ).exit_code
        == 0
    )
    ingested = nexus("ingest", "campus-extract", str(synth / "campus-extract"), "--tenant", "synth")
    assert ingested.exit_code == 0, ingested.stderr
    assert nexus("map", "--tenant", "synth").exit_code == 0

    built = nexus(
        "edfi",
        "build",
        "--year",
        "2026-27",
        "--out",
        str(tmp_path / "edfi"),
        "--tenant",
        "synth",
        "--json",
    )
    assert built.exit_code in (0, 3), built.stderr
    counts = json.loads(built.stdout)["resources"]
    assert counts["courseTranscripts"]["valid"] > 0
    assert counts["studentAssessments"]["valid"] > 0
    problems = [
        json.loads(x) for x in (tmp_path / "edfi" / "problems.jsonl").read_text().splitlines()
    ]
    # Schema, descriptor, key and reference rules hold for everything the district gives;
    # what remains are warnings: the Missouri fields the canonical model cannot carry.
    assert [p for p in problems if p["severity"] == "error"] == []
    assert {p["rule"] for p in problems} <= {"missouri_required", "missouri_conditional_required"}

    fake = FakeOds(district_lea=int(code))
    server, url = fake.serve()
    try:
        monkeypatch.setenv("ODS_SECRET", "nexus-secret")
        assert (
            nexus(
                "connections",
                "add",
                "ods",
                "--tenant",
                "synth",
                "--kind",
                "edfi",
                "--url",
                url,
                "--client-id",
                "nexus-client",
                "--client-secret-env",
                "ODS_SECRET",
                "--option",
                "concurrency=4",
            ).exit_code
            == 0
        )
        first = nexus(
            "edfi",
            "send",
            "--year",
            "2026-27",
            "--connection",
            "ods",
            "--tenant",
            "synth",
            "--json",
        )
        assert first.exit_code == 0, first.stdout + first.stderr
        sent = json.loads(first.stdout)
        valid = sum(c["valid"] for c in counts.values())
        assert sum(r["posted"] for r in sent["resources"].values()) == valid
        assert len(fake.items["courseTranscripts"]) == counts["courseTranscripts"]["valid"]
        requests = len(fake.log)
        second = nexus(
            "edfi",
            "send",
            "--year",
            "2026-27",
            "--connection",
            "ods",
            "--tenant",
            "synth",
            "--json",
        )
        assert second.exit_code == 0
        again = json.loads(second.stdout)
        assert sum(r["posted"] + r["deleted"] for r in again["resources"].values()) == 0
        assert sum(r["unchanged"] for r in again["resources"].values()) == valid
        # Only discovery and the token: no resource request.
        assert [m for m, p, _ in fake.log[requests:] if "/data/" in p] == []
    finally:
        server.shutdown()
        server.server_close()
