"""Notifications of a daily run, received by a real local HTTP server and a local SMTP server:
sent on new blocking exceptions and on failed steps, never naming a student; a notification
that cannot be delivered is recorded as a failed `notify` step and does not change the run."""

from __future__ import annotations

import json
import socket

from nexus.jobs import list_pipeline_runs, run_daily
from tests.jobs.conftest import INGEST_ONLY, TENANT, TODAY, make_tenant, student_identifiers


def _notify(webhook_url: str | None, smtp_port: int | None = None) -> dict:
    notify: dict = {"webhook_url": webhook_url, "link_base": "https://nexus.halland.example"}
    if smtp_port is not None:
        notify["smtp"] = {
            "host": "127.0.0.1",
            "port": smtp_port,
            "sender": "nexus@halland.example",
            "to": ["data-office@halland.example", "registrar@halland.example"],
        }
    return notify


def test_new_blocking_exceptions_are_told_by_webhook_and_email_without_student_data(
    store, synthetic, webhook, smtp
):
    tenant_id = make_tenant(
        store, synthetic, config={"marts": False, "notify": _notify(webhook.url, smtp.port)}
    )
    first = run_daily(store, TENANT, today=TODAY)
    assert first.status == "succeeded", first.reason
    validated = next(s for s in first.steps if s.step == "validate").counts
    assert validated["new_blocking"] > 0
    assert [(s.step, s.target, s.status) for s in first.steps[-2:]] == [
        ("notify", "webhook", "succeeded"),
        ("notify", "email", "succeeded"),
    ]
    assert first.steps[-1].counts == {"recipients": 2}

    [body] = webhook.bodies
    assert body["event"] == "nexus.daily" and body["reasons"] == ["new_blocking_exceptions"]
    assert body["tenant"] == TENANT and body["pipeline_run_id"] == first.pipeline_run_id
    assert body["new_blocking_exceptions"] == validated["new_blocking"]
    assert body["new_blocking_by_cycle"] == {"2026-27 october": validated["new_blocking"]}
    assert (
        body["link"]
        == f"https://nexus.halland.example/t/{TENANT}/runs/daily/{first.pipeline_run_id}"
    )
    assert [s["step"] for s in body["steps"]] == ["ingest", "map", "validate", "marts"]
    assert all(isinstance(v, int | float) for s in body["steps"] for v in s["counts"].values())
    [mail] = smtp.messages
    assert mail["to"] == ["<data-office@halland.example>", "<registrar@halland.example>"]
    assert f"Subject: Nexus {TENANT}: daily run {first.pipeline_run_id} found" in mail["data"]
    assert body["link"] in mail["data"]

    # Nothing about a student leaves: no name, no id, in either message.
    sent = webhook.raw[0] + mail["data"]
    leaked = [x for x in student_identifiers(synthetic) if x in sent]
    assert leaked == []

    # The next day finds no new blocking exception and nothing failed: no message.
    second = run_daily(store, TENANT, today=TODAY)
    assert second.status == "succeeded"
    assert [s.step for s in second.steps if s.step == "notify"] == []
    assert len(webhook.bodies) == 1 and len(smtp.messages) == 1
    with store.engine.connect() as conn:
        recorded = list_pipeline_runs(conn, tenant_id)[1]
    assert [s["step"] for s in recorded["steps"]][-2:] == ["notify", "notify"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_failed_run_is_told_and_an_undeliverable_notice_is_a_failed_step(
    store, synthetic, tmp_path, webhook
):
    webhook.status = 500
    make_tenant(
        store,
        synthetic,
        tmp_path / "missing",
        config={**INGEST_ONLY, "notify": _notify(webhook.url, _closed_port())},
    )
    result = run_daily(store, TENANT, today=TODAY)
    assert result.status == "failed"
    assert [(s.step, s.status) for s in result.steps] == [
        ("ingest", "failed"),
        ("map", "blocked"),
        ("marts", "skipped"),
        ("notify", "failed"),
        ("notify", "failed"),
    ]
    assert result.steps[3].reason == "webhook answered HTTP 500"
    assert result.steps[4].reason.startswith("email not delivered: ConnectionRefusedError")
    # The run's own status and reason are the pipeline's, not the notifications'.
    assert result.reason.startswith("ingest sis failed:")
    [body] = webhook.bodies
    assert body["reasons"] == ["run_failed"] and body["status"] == "failed"
    # Step reasons stay out of notifications: they may quote a path or a value.
    assert "reason" not in json.dumps(body["steps"]) and str(tmp_path) not in webhook.raw[0]
