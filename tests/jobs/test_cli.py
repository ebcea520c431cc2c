"""`nexus daily`, `nexus pipeline …` and `nexus schedules …` through the CLI: exit 0 / 3 / 1
for a succeeded / partial / failed day, `--json` documents, the configuration edited option by
option, one clear line for bad input."""

from __future__ import annotations

import json

from tests.jobs.conftest import TENANT, make_tenant


def _json(result, code: int = 0) -> dict:
    assert result.exit_code == code, result.stderr + result.stdout
    return json.loads(result.stdout)


def test_daily_exit_codes_and_json(store, nexus, synthetic, tmp_path):
    make_tenant(store, synthetic)
    config = _json(
        nexus(
            "pipeline", "set", "--tenant", TENANT, "--extract", "october:student_core",
            "--no-marts", "--max-error-rate", "0.02", "--output-dir", str(tmp_path / "mosis"),
            "--json",
        )
    )["config"]  # fmt: skip
    assert config["extracts"] == [{"cycle": "october", "layout": "student_core", "school": None}]
    assert config["marts"] is False and config["max_error_rate"] == 0.02

    day = _json(nexus("daily", "--tenant", TENANT, "--date", "2026-10-05", "--json"))
    assert day["status"] == "succeeded" and day["trigger"] == "manual"
    assert day["school_year"] == 2027 and day["cycles"] == ["october"]
    assert [s["step"] for s in day["steps"]] == ["ingest", "map", "validate", "marts", "extract"]
    assert day["steps"][-1]["counts"]["file"].startswith(str(tmp_path / "mosis"))

    added = nexus(
        "connections", "add", "late", "--tenant", TENANT, "--kind", "campus-extract",
        "--url", str(tmp_path / "not-yet"),
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    partial = nexus("daily", "--tenant", TENANT, "--date", "2026-10-05")
    assert partial.exit_code == 3
    assert "ingest" in partial.stdout and "blocked" in partial.stdout
    assert "partial: ingest late failed: " in partial.stderr

    runs = _json(nexus("pipeline", "runs", "--tenant", TENANT, "--json"))["runs"]
    assert [r["status"] for r in runs] == ["partial", "succeeded"]
    one = _json(nexus("pipeline", "runs", "--run", str(runs[1]["pipeline_run_id"]), "--json"))
    assert one["steps"] == day["steps"]
    listed = nexus("pipeline", "runs")
    assert listed.exit_code == 0 and "partial" in listed.stdout

    # Only the broken connection and nothing else to do: nothing succeeds, the day failed.
    _json(
        nexus(
            "pipeline", "set", "--connections", "late", "--cycles", "", "--no-extracts", "--json"
        )
    )  # fmt: skip
    failed = nexus("daily", "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["status"] == "failed"


def test_pipeline_show_and_bad_settings(store, nexus, synthetic):
    make_tenant(store, synthetic)
    shown = _json(nexus("pipeline", "show", "--json"))
    assert shown["tenant"] == TENANT and shown["updated_by"] is None
    assert shown["config"]["connections"] is None
    text = nexus("pipeline", "show")
    assert "all ingest connections" in text.stdout and "open on the run date" in text.stdout

    saved = _json(
        nexus(
            "pipeline", "set", "--webhook", "https://hooks.example/n", "--smtp-host",
            "smtp.example", "--smtp-from", "nexus@halland.example", "--smtp-to",
            "a@halland.example,b@halland.example", "--smtp-user", "nexus",
            "--smtp-password-env", "SMTP_PASSWORD", "--cycles", "october,feb", "--year", "2027",
            "--json",
        )
    )["config"]  # fmt: skip
    assert saved["notify"]["smtp"]["to"] == ["a@halland.example", "b@halland.example"]
    assert saved["notify"]["smtp"]["password_ref"] == "env:SMTP_PASSWORD"
    assert saved["cycles"] == ["october", "february"] and saved["school_year"] == 2027
    # Changing one setting keeps the others.
    again = _json(nexus("pipeline", "set", "--smtp-port", "587", "--json"))["config"]
    assert again["notify"]["smtp"]["port"] == 587 and again["notify"]["smtp"]["host"]
    assert again["notify"]["webhook_url"] == "https://hooks.example/n"

    for args, message in [
        (("--max-error-rate", "2"), "error: pipeline config: max_error_rate: Input should be"),
        (("--connections", "nowhere"), "error: pipeline config: connections: no connection"),
        (("--extract", "october"), "error: --extract 'october': write cycle:layout[:school]"),
        (("--webhook", "hooks.example"), "error: pipeline config: notify.webhook_url: "),
    ]:
        refused = nexus("pipeline", "set", *args)
        assert refused.exit_code == 1
        assert refused.stderr.startswith(message), refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    bad_date = nexus("daily", "--date", "05/10/2026")
    assert bad_date.exit_code == 1 and "--date '05/10/2026': use YYYY-MM-DD" in bad_date.stderr


def test_schedules_commands(store, nexus, synthetic):
    make_tenant(store, synthetic)
    added = _json(nexus("schedules", "add", "--cron", "30 5 * * 1-5", "--json"))
    assert added["timezone"] == "America/Chicago" and added["enabled"]
    sid = str(added["schedule_id"])
    assert _json(nexus("schedules", "disable", sid, "--json"))["enabled"] is False
    assert _json(nexus("schedules", "enable", sid, "--json"))["enabled"] is True
    listed = nexus("schedules", "list", "--tenant", TENANT)
    assert "30 5 * * 1-5" in listed.stdout and "America/Chicago" in listed.stdout
    assert _json(nexus("schedules", "remove", sid, "--json")) == {
        "schedule_id": int(sid),
        "removed": True,
    }
    assert _json(nexus("schedules", "list", "--json")) == {"schedules": []}

    bad = nexus("schedules", "add", "--cron", "30 5 * *", "--timezone", "UTC")
    assert bad.exit_code == 1
    assert bad.stderr.strip() == (
        "error: cron '30 5 * *': expected 5 fields (minute hour day-of-month month "
        "day-of-week, e.g. '30 5 * * 1-5'), got 4"
    )
    gone = nexus("schedules", "remove", "99")
    assert gone.exit_code == 1 and "no schedule 99 for this tenant" in gone.stderr
