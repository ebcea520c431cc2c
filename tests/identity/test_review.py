"""Probabilistic person matching through the product: Splink links the sure pairs, queues the
doubtful ones for review (`nexus identity review list | accept | reject`), and people keep
their ids across runs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.canonical import map_run
from nexus.integration import ingest
from nexus.synth import generate

TENANT = "demo"


@pytest.fixture(scope="module")
def vendors(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("review-district")
    generate(out, students=50, seed=3, formats=("vendors",))
    return out / "vendors"


def _students(vendors: Path) -> list[dict]:
    with (vendors / "powerschool" / "students.csv").open() as fh:
        return list(csv.DictReader(fh))


def _classlink_users(vendors: Path, folder: Path, users: list[dict]) -> Path:
    """A ClassLink users.csv holding only `users` (other columns blank)."""
    with (vendors / "classlink" / "users.csv").open() as fh:
        header = next(csv.reader(fh))
    folder.mkdir()
    with (folder / "users.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for user in users:
            writer.writerow({**dict.fromkeys(header, ""), "enabledUser": "true", **user})
    return folder


def _user(sourced_id: str, first: str, last: str, grade: str) -> dict:
    return {
        "sourcedId": sourced_id,
        "role": "student",
        "username": f"cl{sourced_id}",
        "givenName": first,
        "familyName": last,
        "identifier": f"X{sourced_id}",  # a number no one else uses
        "email": f"cl{sourced_id}@elsewhere.example",
        "grades": grade,
    }


def _grade(row: dict) -> str:
    return (
        f"{int(row['STUDENTS.GRADE_LEVEL']):02d}" if int(row["STUDENTS.GRADE_LEVEL"]) > 0 else "KG"
    )


def _identity(store, source_key: str) -> tuple:
    with store.engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.text(
                    "SELECT person_id, link_status, link_rule FROM census.identities "
                    "WHERE key_scope = 'classlink' AND source_key = :k"
                ),
                {"k": source_key},
            ).one()
        )


def _accept_any_match_rate(nexus, tmp_path: Path) -> None:
    """These ClassLink files are a handful of hand-made users: the tenant waives the gate."""
    settings = tmp_path / "identity.yaml"
    settings.write_text("required_match_rate: 0.0\n")
    done = nexus("identity", "settings", "--tenant", TENANT, "--set", str(settings), "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["required_match_rate"] == 0.0


def test_splink_links_sure_pairs_and_queues_doubtful_ones(store, tenant, vendors, tmp_path, nexus):
    _accept_any_match_rate(nexus, tmp_path)
    ps_run = ingest(store, TENANT, "powerschool", str(vendors / "powerschool"))
    assert map_run(store, TENANT, ps_run.run_id).status == "succeeded"
    students = _students(vendors)
    sure, doubtful, other = students[0], students[1], students[2]
    different_grade = "12" if _grade(doubtful) != "12" else "01"
    users = [
        # Same names and grade, no identifier in common: a sure match on names alone.
        _user("9001", sure["STUDENTS.FIRST_NAME"], sure["STUDENTS.LAST_NAME"], _grade(sure)),
        # A misspelt first name and another grade: doubtful.
        _user(
            "9002",
            doubtful["STUDENTS.FIRST_NAME"][:-1] + "x",
            doubtful["STUDENTS.LAST_NAME"],
            different_grade,
        ),
        # Another misspelling of someone else: doubtful too, and rejected below.
        _user(
            "9003",
            other["STUDENTS.FIRST_NAME"][:-1] + "x",
            other["STUDENTS.LAST_NAME"],
            "12" if _grade(other) != "12" else "01",
        ),
    ]
    folder = _classlink_users(vendors, tmp_path / "classlink", users)
    run = ingest(store, TENANT, "classlink", str(folder))
    assert run.status == "succeeded", run.as_dict()

    mapped = map_run(store, TENANT, run.run_id)

    assert mapped.identity["linked_probabilistic"] == 1
    assert mapped.identity["sent_to_review"] == 2
    with store.engine.connect() as conn:
        ps_person = dict(
            conn.execute(
                sa.text(
                    "SELECT source_key, person_id FROM census.identities "
                    "WHERE key_scope = 'powerschool'"
                )
            ).all()
        )
    person, status, rule = _identity(store, "9001")
    assert (person, status, rule) == (ps_person[sure["STUDENTS.DCID"]], "linked", "probabilistic")
    assert _identity(store, "9002") == (None, "review", "probabilistic")
    assert mapped.status == "succeeded", mapped.reason


@pytest.fixture
def queued(store, tenant, vendors, tmp_path, nexus):
    _accept_any_match_rate(nexus, tmp_path)
    ps_run = ingest(store, TENANT, "powerschool", str(vendors / "powerschool"))
    map_run(store, TENANT, ps_run.run_id)
    students = _students(vendors)
    users = [
        _user(
            f"90{i}",
            s["STUDENTS.FIRST_NAME"][:-1] + "x",
            s["STUDENTS.LAST_NAME"],
            "12" if _grade(s) != "12" else "01",
        )
        for i, s in enumerate(students[:2], start=1)
    ]
    run = ingest(store, TENANT, "classlink", str(_classlink_users(vendors, tmp_path / "cl", users)))
    map_run(store, TENANT, run.run_id)
    return run.run_id, students


def test_review_accept_links_and_reject_keeps_apart(store, queued, nexus):
    run_id, students = queued
    listed = nexus("identity", "review", "list", "--tenant", TENANT, "--json")
    assert listed.exit_code == 0, listed.stderr
    reviews = json.loads(listed.stdout)["reviews"]
    assert [(r["source_key"], r["status"]) for r in reviews] == [
        ("901", "pending"),
        ("902", "pending"),
    ]
    assert all(0.70 <= r["match_probability"] < 0.95 for r in reviews)
    first, second = reviews

    accepted = nexus("identity", "review", "accept", str(first["review_id"]), "--tenant", TENANT)
    rejected = nexus("identity", "review", "reject", str(second["review_id"]), "--tenant", TENANT)

    assert accepted.exit_code == rejected.exit_code == 0
    assert _identity(store, "901") == (first["candidate_person_id"], "linked", "review:accepted")
    assert _identity(store, "902") == (None, "unmatched", "review:rejected")
    again = nexus("identity", "review", "accept", str(first["review_id"]), "--tenant", TENANT)
    assert again.exit_code == 1
    assert "already accepted" in again.stderr
    # Re-mapping neither re-proposes the rejected pair nor renumbers the accepted person.
    remap = map_run(store, TENANT, run_id)
    assert remap.identity["sent_to_review"] == 0
    assert _identity(store, "901")[0] == first["candidate_person_id"]
    assert _identity(store, "902")[:2] == (None, "unmatched")
    report = json.loads(nexus("identity", "report", "--tenant", TENANT, "--json").stdout)
    assert report["sources"]["classlink"] == {"matched": 1, "review": 0, "unmatched": 1}


def test_review_of_an_unknown_id_is_a_clear_error(store, tenant, nexus):
    missing = nexus("identity", "review", "accept", "4242", "--tenant", TENANT)
    assert missing.exit_code == 1
    assert "no review 4242" in missing.stderr
