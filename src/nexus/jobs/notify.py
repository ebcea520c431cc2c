"""Notifications of a daily run: a webhook POST and/or an email, when a step failed or was
blocked, or validation found new blocking exceptions.

A notification carries counts only: the tenant, the run's id, status and trigger, each step's
name, target, status and numeric counts, the new blocking exceptions per cycle, and the link
path of the run's page. Never a student's name or id, never a step's reason (an error message
may quote a record's value): the operator follows the link, signed in, to see the details.

Sending never raises: each channel's outcome becomes a `notify` step of the run (failed with
why when the webhook or mail server did not take it). The module owns the message and its
delivery; when to send is decided here too (`message_for`), the pipeline only calls it.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

import httpx

from nexus.errors import NexusError
from nexus.jobs.config import NotifyConfig
from nexus.store import secrets

log = logging.getLogger(__name__)

# The run's page in the web app; `link_base` (config) is put in front of it.
RUN_LINK_PATH = "/t/{tenant}/runs/daily/{pipeline_run_id}"
WEBHOOK_TIMEOUT_SECONDS = 5.0
SMTP_TIMEOUT_SECONDS = 10.0
WEBHOOK, EMAIL = "webhook", "email"


def channels(config: NotifyConfig) -> list[str]:
    """The channels configured: `webhook`, `email`."""
    found = []
    if config.webhook_url:
        found.append(WEBHOOK)
    if config.smtp is not None:
        found.append(EMAIL)
    return found


def message_for(run: dict, config: NotifyConfig) -> dict | None:
    """The notification of a finished run (`PipelineResult.as_dict()`), or None when there is
    nothing to tell: every step ran, and no new blocking exception was found."""
    steps = [s for s in run["steps"] if s["step"] != "notify"]
    troubled = [s for s in steps if s["status"] in ("failed", "blocked")]
    by_cycle: dict[str, int] = {}
    for s in steps:
        if s["step"] == "validate" and s["counts"].get("new_blocking"):
            by_cycle[s["target"]] = by_cycle.get(s["target"], 0) + int(s["counts"]["new_blocking"])
    events = []
    if run["status"] == "failed" or troubled:
        events.append("run_failed" if run["status"] == "failed" else "steps_failed")
    if by_cycle:
        events.append("new_blocking_exceptions")
    if not events:
        return None
    path = RUN_LINK_PATH.format(tenant=run["tenant"], pipeline_run_id=run["pipeline_run_id"])
    return {
        "event": "nexus.daily",
        "reasons": events,
        "tenant": run["tenant"],
        "pipeline_run_id": run["pipeline_run_id"],
        "status": run["status"],
        "trigger": run["trigger"],
        "started_at": run["started_at"],
        "ended_at": run["ended_at"],
        "steps": [
            {
                "step": s["step"],
                "target": s["target"],
                "status": s["status"],
                # Numbers only: no file paths, no values.
                "counts": {
                    k: v
                    for k, v in s["counts"].items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                },
            }
            for s in steps
        ],
        "new_blocking_exceptions": sum(by_cycle.values()),
        "new_blocking_by_cycle": by_cycle,
        "link": (config.link_base.rstrip("/") if config.link_base else "") + path,
    }


def subject(message: dict) -> str:
    what = {
        "run_failed": "failed",
        "steps_failed": "had failed or blocked steps",
        "new_blocking_exceptions": f"found {message['new_blocking_exceptions']:,} new blocking "
        "exception(s)",
    }
    said = " and ".join(what[e] for e in message["reasons"])
    return f"Nexus {message['tenant']}: daily run {message['pipeline_run_id']} {said}"


def body(message: dict) -> str:
    lines = [
        subject(message),
        "",
        f"tenant: {message['tenant']}",
        f"run: {message['pipeline_run_id']} ({message['trigger']}), status {message['status']}",
        f"started {message['started_at']}, ended {message['ended_at']}",
        "",
    ]
    for s in message["steps"]:
        counts = ", ".join(f"{k} {v}" for k, v in s["counts"].items())
        said = f"- {s['step']} {s['target']}: {s['status']}"
        lines.append(said + (f" ({counts})" if counts else ""))
    if message["new_blocking_by_cycle"]:
        lines.append("")
        for cycle, n in message["new_blocking_by_cycle"].items():
            lines.append(f"new blocking exceptions, {cycle}: {n:,}")
    lines += ["", f"details (sign in): {message['link']}"]
    return "\n".join(lines) + "\n"


def send(channel: str, config: NotifyConfig, message: dict) -> tuple[str, dict, str | None]:
    """Deliver on one channel; the outcome as (status, counts, reason), never an exception."""
    try:
        if channel == WEBHOOK:
            return _webhook(config.webhook_url or "", message)
        return _email(config, message)
    except (httpx.HTTPError, smtplib.SMTPException, OSError, NexusError) as exc:
        log.info("notification by %s failed: %s", channel, exc)
        return "failed", {}, f"{channel} not delivered: {type(exc).__name__}: {exc}"


def _webhook(url: str, message: dict) -> tuple[str, dict, str | None]:
    response = httpx.post(url, json=message, timeout=WEBHOOK_TIMEOUT_SECONDS)
    if response.status_code >= 300:
        return (
            "failed",
            {"http_status": response.status_code},
            f"webhook answered HTTP {response.status_code}",
        )
    return "succeeded", {"http_status": response.status_code}, None


def _email(config: NotifyConfig, message: dict) -> tuple[str, dict, str | None]:
    smtp = config.smtp
    assert smtp is not None
    mail = EmailMessage()
    mail["Subject"] = subject(message)
    mail["From"] = smtp.sender
    mail["To"] = ", ".join(smtp.to)
    mail.set_content(body(message))
    with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS) as server:
        if smtp.starttls:
            server.starttls()
        if smtp.username:
            password = secrets.resolve(smtp.password_ref, None, None) or ""
            server.login(smtp.username, password)
        refused = server.send_message(mail)
    delivered = len(smtp.to) - len(refused)
    if refused:
        return "failed", {"recipients": delivered}, f"{len(refused)} recipient(s) refused"
    return "succeeded", {"recipients": delivered}, None
