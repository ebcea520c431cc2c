"""`nexus edfi build | send | status` on a tiny canonical district, on both databases, against
the fake ODS/API served on 127.0.0.1."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from nexus.store import audit
from nexus.store import canonical_tables as ct
from nexus.store.edfi_tables import edfi_record_problems, edfi_records, edfi_send_log

from .canonical_rows import write_district
from .fake_ods import FakeOds


@pytest.fixture
def district(store, tenant):
    return write_district(store, tenant)


@pytest.fixture
def ods(monkeypatch):
    fake = FakeOds(district_lea=48078)
    server, url = fake.serve()
    fake.url = url
    monkeypatch.setenv("ODS_SECRET", "nexus-secret")
    yield fake
    server.shutdown()
    server.server_close()


def add_connection(nexus, ods, name="state-ods", *options):
    opts = [x for o in options for x in ("--option", o)]
    result = nexus(
        "connections",
        "add",
        name,
        "--tenant",
        "demo",
        "--kind",
        "edfi",
        "--url",
        ods.url,
        "--client-id",
        "nexus-client",
        "--client-secret-env",
        "ODS_SECRET",
        "--option",
        "backoff=0.001",
        *opts,
    )
    assert result.exit_code == 0, result.stderr


def build(nexus, out):
    result = nexus("edfi", "build", "--year", "2026-27", "--out", str(out), "--json")
    assert result.exit_code in (0, 3), result.stderr
    return result, json.loads(result.stdout)


def send(nexus, name="state-ods"):
    result = nexus("edfi", "send", "--year", "2026-27", "--connection", name, "--json")
    assert result.exit_code in (0, 3), result.stderr
    return result, json.loads(result.stdout)


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_build_writes_valid_jsonl_keeps_invalid_records_as_problems(
    nexus, store, district, tmp_path
):
    result, built = build(nexus, tmp_path)
    assert result.exit_code == 3  # student 103 has no state id
    counts = built["resources"]
    assert counts["courseTranscripts"] == {"built": 2, "valid": 1, "invalid": 1, "warnings": 1}
    assert counts["studentAssessments"]["valid"] == 4
    assert built["not_sent_by_rule"]["courseTranscripts"] == {"score_null": 1}
    transcripts = lines(tmp_path / "courseTranscripts.jsonl")
    assert [t["studentAcademicRecordReference"]["studentUniqueId"] for t in transcripts] == [
        "1000000101"
    ]
    t = transcripts[0]
    assert t["courseReference"] == {"courseCode": "051000", "educationOrganizationId": 1}
    assert (t["attemptedCredits"], t["earnedCredits"], t["finalLetterGradeEarned"]) == (
        0.5,
        0.5,
        "A",
    )
    assert t["_ext"]["mo"]["gradingPeriodDescriptor"].endswith("#S1")
    kinds = sorted(
        a["assessmentReference"]["assessmentIdentifier"]
        for a in lines(tmp_path / "studentAssessments.jsonl")
    )
    assert kinds == [
        "ASVAB-48078",
        "EOCEX3-ENGLI2-48078",
        "EOCSPR-BIOLO1-48078",
        "MAPSPR-MATH-48078",
    ]
    # Nothing is dropped silently: the invalid record is kept and its problems are stored.
    problems = lines(tmp_path / "problems.jsonl")
    assert {"missing_state_id", "schema", "unresolved_reference"} <= {p["rule"] for p in problems}
    with store.engine.connect() as conn:
        stored = conn.execute(
            sa.select(edfi_records.c.valid).where(edfi_records.c.record_key == "campus/t-103")
        ).scalar_one()
        rules = {
            r.rule
            for r in conn.execute(
                sa.select(edfi_record_problems.c.rule, edfi_record_problems.c.layer).where(
                    edfi_record_problems.c.record_key == "campus/t-103"
                )
            )
        }
    assert stored is False
    assert "missing_state_id" in rules
    # Same input, same bytes.
    before = (tmp_path / "studentAssessments.jsonl").read_bytes()
    build(nexus, tmp_path)
    assert (tmp_path / "studentAssessments.jsonl").read_bytes() == before


def test_send_twice_the_second_sends_nothing_and_status_shows_it(
    nexus, store, district, ods, tmp_path
):
    build(nexus, tmp_path)
    add_connection(nexus, ods)
    result, first = send(nexus)
    assert result.exit_code == 0, first["failures"]
    assert first["resources"]["courseTranscripts"]["created"] == 1
    assert first["resources"]["studentAssessments"]["created"] == 4
    assert first["resources"]["courseTranscripts"]["not_valid"] == 1
    assert len(ods.items["studentAssessments"]) == 4
    posts = ods.count("POST")
    result, second = send(nexus)
    assert result.exit_code == 0
    assert ods.count("POST") == posts
    assert sum(r["posted"] + r["deleted"] for r in second["resources"].values()) == 0
    assert second["resources"]["studentAssessments"]["unchanged"] == 4
    status = json.loads(nexus("edfi", "status", "--year", "2027", "--json").stdout)
    rows = {r["resource"]: r for r in status["resources"]}
    assert rows["courseTranscripts"] == {
        "resource": "courseTranscripts",
        "built": 2,
        "valid": 1,
        "sent": 1,
        "failed": 0,
        "pending": 0,
        "unchanged": 1,
    }
    assert status["connection"] == "state-ods"
    table = nexus("edfi", "status", "--year", "2026-27")
    assert "studentAssessments" in table.stdout
    with store.engine.connect() as conn:
        actions = [e["action"] for e in audit.events(conn, district)]
    assert actions.count("export.edfi_send") == 2 and "export.edfi_build" in actions


def test_a_400_is_remembered_and_not_resent_until_the_payload_changes(
    nexus, store, district, ods, tmp_path
):
    build(nexus, tmp_path)
    add_connection(nexus, ods)
    ods.fail_next("POST", "students", 400)
    result, first = send(nexus)
    assert result.exit_code == 3
    assert first["resources"]["students"]["failed"] == 1
    statuses = {f["status"]: f for f in first["failures"]}
    assert "injected 400" in statuses[400]["message"]
    # Its dependants were refused too: 409, the referenced student does not exist.
    refused = {f["message"] for f in first["failures"] if f["status"] == 409}
    assert "The referenced 'Student' item does not exist." in refused
    dependants = sum(f["records"] for f in first["failures"] if f["status"] == 409)
    result, second = send(nexus)
    assert ods.count("POST", "students") == 2  # two students (101, 102), none resent
    assert second["resources"]["students"]["unchanged"] == 2
    assert sum(r["posted"] for r in second["resources"].values()) == 0
    status = json.loads(nexus("edfi", "status", "--year", "2027", "--json").stdout)
    assert {r["resource"]: r["failed"] for r in status["resources"]}["students"] == 1
    # The refusals are exceptions in the ledger, with the server's message.
    ledger = json.loads(nexus("exceptions", "list", "--layout", "edfi-send", "--json").stdout)
    refusals = {(e["entity_type"], e["rule_id"]) for e in ledger["exceptions"]}
    assert ("students", "EDFI-server-400") in refusals
    assert any(e["message"] == "injected 400" for e in ledger["exceptions"])
    # The failed student's payload changes (a new first name): it is sent again.
    with store.engine.begin() as conn:
        failed_key = conn.execute(
            sa.select(edfi_send_log.c.record_key).where(
                edfi_send_log.c.outcome == "failed", edfi_send_log.c.resource == "students"
            )
        ).scalar_one()
        person_id = int(failed_key.split("/")[1])
        conn.execute(
            ct.identities.update()
            .where(ct.identities.c.person_id == person_id)
            .values(legal_first_name="Changed")
        )
    build(nexus, tmp_path)
    result, third = send(nexus)
    assert third["resources"]["students"]["posted"] == 1
    # With the student there, the records refused for its absence (409) go again.
    resent = sum(r["posted"] for name, r in third["resources"].items() if name != "students")
    assert resent == dependants
    assert result.exit_code == 0
    assert third["exceptions"]["auto_resolved"] == 1 + dependants
    ledger = json.loads(nexus("exceptions", "list", "--layout", "edfi-send", "--json").stdout)
    assert ledger["exceptions"] == []


def test_natural_key_change_is_delete_then_post_and_removed_records_are_deleted(
    nexus, store, district, ods, tmp_path
):
    build(nexus, tmp_path)
    add_connection(nexus, ods)
    send(nexus)
    (old_id,) = ods.items["courseTranscripts"]
    # Credits change: seed 003 deletes and posts (the record keeps its natural key).
    with store.engine.begin() as conn:
        conn.execute(
            ct.course_transcripts.update()
            .where(ct.course_transcripts.c.source_key == "t-101")
            .values(credits_earned=Decimal("0.25"))
        )
    build(nexus, tmp_path)
    result, second = send(nexus)
    assert second["resources"]["courseTranscripts"]["key_changes"] == 1
    assert ods.count("DELETE", "courseTranscripts") == 1
    assert old_id not in ods.items["courseTranscripts"]
    (new_id,) = ods.items["courseTranscripts"]
    assert ods.items["courseTranscripts"][new_id]["earnedCredits"] == 0.25
    deletes_then_posts = [
        m for m, p, _ in ods.log if "/courseTranscripts" in p and m in ("DELETE", "POST")
    ][-2:]
    assert deletes_then_posts == ["DELETE", "POST"]
    # A Fail is a different natural key (courseAttemptResultDescriptor is part of it): the
    # Fail record is posted and the Pass record deleted.
    with store.engine.begin() as conn:
        conn.execute(
            ct.course_transcripts.update()
            .where(ct.course_transcripts.c.source_key == "t-101")
            .values(mark="F")
        )
    build(nexus, tmp_path)
    result, third = send(nexus)
    assert third["resources"]["courseTranscripts"]["posted"] == 1
    assert third["resources"]["courseTranscripts"]["deleted"] == 1
    (item,) = ods.items["courseTranscripts"].values()
    assert item["courseAttemptResultDescriptor"].endswith("#Fail")
    # The transcript is deleted at the source: the next send deletes it from the ODS.
    with store.engine.begin() as conn:
        conn.execute(
            ct.course_transcripts.delete().where(ct.course_transcripts.c.source_key == "t-101")
        )
    build(nexus, tmp_path)
    result, fourth = send(nexus)
    assert fourth["resources"]["courseTranscripts"]["deleted"] == 1
    assert ods.items["courseTranscripts"] == {}
    result, fifth = send(nexus)
    assert sum(r["posted"] + r["deleted"] for r in fifth["resources"].values()) == 0


def test_transient_failures_are_retried_and_never_remembered(nexus, district, ods, tmp_path):
    build(nexus, tmp_path)
    add_connection(nexus, ods, "state-ods", "retries=1", "concurrency=1")
    ods.fail_next("POST", "courseTranscripts", 429)  # retried within the send
    ods.fail_next("POST", "studentAssessments", 503, 503)  # more than one retry
    result, first = send(nexus)
    assert first["resources"]["courseTranscripts"]["posted"] == 1
    assert first["resources"]["studentAssessments"]["retry_later"] == 1
    assert first["retried"] >= 2
    assert result.exit_code == 3
    result, second = send(nexus)  # the 503 is not remembered: it goes again
    assert second["resources"]["studentAssessments"]["posted"] == 1
    assert result.exit_code == 0


def test_clear_errors_for_bad_input(nexus, district, ods, tmp_path):
    bad_year = nexus("edfi", "build", "--year", "27", "--out", str(tmp_path))
    assert bad_year.exit_code == 1 and "2026-27" in bad_year.stderr
    add_connection(nexus, ods)
    nothing = nexus("edfi", "send", "--year", "2026-27", "--connection", "state-ods")
    assert nothing.exit_code == 1 and "nexus edfi build" in nothing.stderr
    build(nexus, tmp_path)
    missing = nexus("edfi", "send", "--year", "2026-27", "--connection", "nope")
    assert missing.exit_code == 1 and "no connection 'nope'" in missing.stderr
    unknown = nexus(
        "edfi", "build", "--year", "2026-27", "--out", str(tmp_path), "--resource", "grades"
    )
    assert unknown.exit_code == 1 and "unknown resource grades" in unknown.stderr
    nexus(
        "connections",
        "add",
        "down",
        "--tenant",
        "demo",
        "--kind",
        "edfi",
        "--url",
        "http://127.0.0.1:9",
        "--client-id",
        "x",
        "--client-secret-env",
        "ODS_SECRET",
        "--option",
        "retries=1",
        "--option",
        "backoff=0.01",
    )
    down = nexus("edfi", "send", "--year", "2026-27", "--connection", "down")
    assert down.exit_code == 1 and "cannot reach the ODS/API" in down.stderr
    # Nothing good was lost: the build is still there and sends through the good connection.
    result, sent = send(nexus)
    assert sent["resources"]["studentAssessments"]["created"] == 4


def test_build_one_resource_only(nexus, district, tmp_path):
    result = nexus(
        "edfi",
        "build",
        "--year",
        "2026-27",
        "--out",
        str(tmp_path),
        "--resource",
        "studentAssessments",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert list(json.loads(result.stdout)["resources"]) == ["studentAssessments"]
    assert not (tmp_path / "courseTranscripts.jsonl").exists()


def test_invalid_records_are_exceptions_in_the_validation_ledger(nexus, store, district, tmp_path):
    result, built = build(nexus, tmp_path)
    assert built["exceptions"]["new"] == len(lines(tmp_path / "problems.jsonl"))
    listed = json.loads(
        nexus("exceptions", "list", "--layout", "edfi:courseTranscripts", "--json").stdout
    )["exceptions"]
    mine = [e for e in listed if e["record_key"] == "campus/t-103"]
    assert {e["rule_id"] for e in mine} >= {
        "EDFI-missing_state_id",
        "EDFI-schema",
        "EDFI-unresolved_reference",
    }
    assert {e["severity"] for e in mine if e["rule_id"] != "EDFI-missouri_required"} == {"blocking"}
    assert all(e["cycle"] == "edfi" and e["entity_type"] == "courseTranscripts" for e in mine)
    # Built again unchanged: the same exceptions, none new.
    result, again = build(nexus, tmp_path)
    assert again["exceptions"]["new"] == 0
    # The student gets a state id: the transcript is valid, its exceptions resolve themselves.
    with store.engine.begin() as conn:
        conn.execute(
            ct.person_identifiers.insert().values(
                tenant_id=district,
                key_scope="campus",
                source_key="103",
                person_kind="student",
                identifier_type="mosis_state_id",
                authority="DESE",
                value="1000000103",
                source_system_id=1,
                valid_from_run=1,
            )
        )
    result, fixed = build(nexus, tmp_path)
    assert fixed["resources"]["courseTranscripts"]["invalid"] == 0
    assert fixed["exceptions"]["auto_resolved"] >= 3
    active = json.loads(
        nexus("exceptions", "list", "--layout", "edfi:courseTranscripts", "--json").stdout
    )["exceptions"]
    assert not [e for e in active if e["rule_id"] == "EDFI-missing_state_id"]


def test_a_record_taking_over_a_natural_key_is_not_deleted(nexus, store, district, ods, tmp_path):
    build(nexus, tmp_path)
    add_connection(nexus, ods)
    send(nexus)
    before = set(ods.items["studentAssessments"])
    # The source re-keys the ASVAB score: a new record key, the same Ed-Fi natural key.
    with store.engine.begin() as conn:
        conn.execute(
            ct.assessment_results.update()
            .where(ct.assessment_results.c.source_key == "r-asvab")
            .values(source_key="r-asvab-rekeyed")
        )
    build(nexus, tmp_path)
    result, second = send(nexus)
    assert second["resources"]["studentAssessments"]["updated"] == 1
    assert second["resources"]["studentAssessments"]["deleted"] == 0
    assert ods.count("DELETE", "studentAssessments") == 0
    assert set(ods.items["studentAssessments"]) == before
    result, third = send(nexus)
    assert sum(r["posted"] + r["deleted"] for r in third["resources"].values()) == 0


def test_send_one_resource_only_then_the_rest(nexus, district, ods, tmp_path):
    build(nexus, tmp_path)
    add_connection(nexus, ods)
    result = nexus(
        "edfi",
        "send",
        "--year",
        "2026-27",
        "--connection",
        "state-ods",
        "--resource",
        "creditTypeDescriptors",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert list(json.loads(result.stdout)["resources"]) == ["creditTypeDescriptors"]
    assert [p for m, p, _ in ods.log if m == "POST" and "/data/" in p] == [
        "/data/v3/ed-fi/creditTypeDescriptors"
    ] * 3
    result, rest = send(nexus)
    assert rest["resources"]["creditTypeDescriptors"]["unchanged"] == 3
    assert rest["resources"]["courseTranscripts"]["created"] == 1


def test_status_before_any_build(nexus, tenant):
    result = nexus("edfi", "status", "--year", "2026-27")
    assert result.exit_code == 0 and "nothing built" in result.stdout
    found = json.loads(nexus("edfi", "status", "--year", "2026-27", "--json").stdout)
    assert found["resources"] == [] and found["last_build"] is None


def test_send_from_a_thread_already_running_an_event_loop(nexus, store, district, ods, tmp_path):
    """A caller inside async code (an event loop running in its thread) can still send: the
    send's own loop then runs in a thread of its own instead of failing in asyncio.run."""
    import asyncio

    from nexus.edfi.send import run_send

    build(nexus, tmp_path)
    add_connection(nexus, ods)

    async def caller():
        return run_send(store, "demo", 2027, "state-ods")

    result = asyncio.run(caller())
    assert result.status == "succeeded"
    assert len(ods.items["studentAssessments"]) == 4
