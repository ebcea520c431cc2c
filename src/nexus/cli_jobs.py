"""`nexus daily`, `nexus pipeline …` and `nexus schedules …`: the daily pipeline run by hand,
its configuration and runs, and its cron schedules; thin shells over `nexus.jobs`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from nexus.cli_canonical import TenantOption, tenant_code
from nexus.cli_common import JsonFlag, checked_store, emit_json, err, handles_errors, out
from nexus.jobs import (
    JobsError,
    add_schedule,
    get_config,
    get_config_record,
    get_pipeline_run,
    list_pipeline_runs,
    list_schedules,
    remove_schedule,
    run_daily,
    set_config,
    set_enabled,
)
from nexus.jobs.schedule import DEFAULT_TIMEZONE
from nexus.store import Store, secrets
from nexus.store.engine import current_user
from nexus.store.tenants import get_tenant

pipeline_app = typer.Typer(
    help="The daily pipeline: its configuration and its runs.", no_args_is_help=True
)
schedules_app = typer.Typer(
    help="Cron schedules of the daily pipeline (run by `nexus serve`).", no_args_is_help=True
)

_COLOURS = {
    "succeeded": "green",
    "partial": "yellow",
    "failed": "red",
    "blocked": "red",
    "skipped": "dim",
    "running": "cyan",
}


def register(app: typer.Typer) -> None:
    """Add these commands to the `nexus` app."""
    app.command("daily")(daily_command)
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(schedules_app, name="schedules")


def _tenant(store: Store, code: str | None) -> tuple[str, int]:
    found = tenant_code(store, code)
    with store.engine.connect() as conn:
        return found, get_tenant(conn, found).tenant_id


def _status(status: str) -> str:
    colour = _COLOURS.get(status, "white")
    return f"[{colour}]{status}[/{colour}]"


def _print_run(run: dict) -> None:
    out.print(
        f"daily run {run['pipeline_run_id']} ({run['trigger']}, {run['started_by']}): "
        f"{_status(run['status'])}"
        + (f" in {run['seconds']:.1f} s" if run.get("seconds") is not None else ""),
        highlight=False,
    )
    table = Table("step", "target", "status", "seconds", "counts", "reason")
    for s in run["steps"]:
        counts = ", ".join(f"{k} {v}" for k, v in s["counts"].items() if k != "file")
        table.add_row(
            s["step"],
            s["target"],
            _status(s["status"]),
            f"{s['seconds']:.1f}" if s.get("seconds") is not None else "",
            counts,
            s.get("reason") or "",
        )
    out.print(table)
    if run["status"] in ("partial", "failed") and run.get("reason"):
        err.print(f"[red]{run['status']}:[/red] {run['reason']}", highlight=False)


@handles_errors
def daily_command(
    tenant: TenantOption = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Run as on this date, YYYY-MM-DD (it picks the default school year and the "
            "open cycles; default today).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run the tenant's daily pipeline: ingest → map (gated) → validate the open cycles →
    refresh the marts → generate the configured MOSIS extracts. Exit 0 succeeded, 3 partial,
    1 failed."""
    store = checked_store()
    code = tenant_code(store, tenant)
    try:
        today = date.fromisoformat(on) if on else None
    except ValueError:
        raise JobsError(f"--date {on!r}: use YYYY-MM-DD") from None
    show = not as_json and err.is_terminal
    result = run_daily(
        store,
        code,
        trigger="manual",
        user=current_user(),
        progress=(lambda line: err.print(f"  {line}", highlight=False)) if show else None,
        today=today,
    )
    if as_json:
        emit_json(result.as_dict())
    else:
        _print_run(result.as_dict())
    raise typer.Exit(result.exit_code)


# --- pipeline ---------------------------------------------------------------------------------


@pipeline_app.command("show")
@handles_errors
def show_command(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """The tenant's pipeline configuration (defaults where never set)."""
    store = checked_store()
    code, tenant_id = _tenant(store, tenant)
    with store.engine.connect() as conn:
        record = get_config_record(conn, tenant_id)
    if as_json:
        emit_json({"tenant": code, **record})
        return
    config = record["config"]
    smtp = config["notify"]["smtp"]
    rows = [
        ("connections", ", ".join(config["connections"]) if config["connections"] is not None
         else "all ingest connections"),
        ("max error rate", f"{config['max_error_rate']:.1%}"),
        ("school year", str(config["school_year"] or "current by date")),
        ("cycles", ", ".join(config["cycles"]) if config["cycles"] else "open on the run date"),
        ("marts", "refreshed" if config["marts"] else "off"),
        ("extracts", ", ".join(
            f"{e['cycle']}:{e['layout']}" + (f":{e['school']}" if e["school"] else "")
            for e in config["extracts"]) or "none"),
        ("output folder", config["output_dir"] or f"$NEXUS_HOME/mosis/{code}"),
        ("webhook", config["notify"]["webhook_url"] or "none"),
        ("email", f"{smtp['host']}:{smtp['port']} → {', '.join(smtp['to'])}" if smtp else "none"),
        ("stale after", f"{config['stale_after_minutes']} minutes"),
        ("updated", f"{record['updated_at']} by {record['updated_by']}" if record["updated_at"]
         else "never (defaults)"),
    ]  # fmt: skip
    table = Table("setting", "value", title=f"Daily pipeline of {code}")
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)


def _csv(value: str) -> list[str]:
    return [x.strip() for x in value.split(",") if x.strip()]


@pipeline_app.command("set")
@handles_errors
def set_command(
    tenant: TenantOption = None,
    connections: Annotated[
        str | None, typer.Option("--connections", help="Comma-separated connections to ingest.")
    ] = None,
    all_connections: Annotated[
        bool, typer.Option("--all-connections", help="Ingest every ingest connection (default).")
    ] = False,
    extract: Annotated[
        list[str] | None,
        typer.Option(
            "--extract",
            help="A MOSIS file to generate, cycle:layout[:school], e.g. october:student_core "
            "(repeat; replaces the list).",
        ),
    ] = None,
    no_extracts: Annotated[
        bool, typer.Option("--no-extracts", help="Generate no extracts.")
    ] = False,
    cycles: Annotated[
        str | None, typer.Option("--cycles", help="Comma-separated cycles to validate.")
    ] = None,
    open_cycles: Annotated[
        bool, typer.Option("--open-cycles", help="Validate the cycles open on the run date.")
    ] = False,
    year: Annotated[
        str | None, typer.Option("--year", help="School year (default: current by date).")
    ] = None,
    current_year: Annotated[
        bool, typer.Option("--current-year", help="The current school year by date.")
    ] = False,
    max_error_rate: Annotated[
        float | None,
        typer.Option("--max-error-rate", help="Row-error share above which a run is not mapped."),
    ] = None,
    marts: Annotated[
        bool | None, typer.Option("--marts/--no-marts", help="Refresh the marts.")
    ] = None,
    output_dir: Annotated[
        str | None, typer.Option("--output-dir", help="Folder for the MOSIS extracts.")
    ] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="URL to POST notifications to.")
    ] = None,
    no_webhook: Annotated[bool, typer.Option("--no-webhook")] = False,
    smtp_host: Annotated[str | None, typer.Option("--smtp-host")] = None,
    smtp_port: Annotated[int | None, typer.Option("--smtp-port")] = None,
    smtp_from: Annotated[str | None, typer.Option("--smtp-from")] = None,
    smtp_to: Annotated[
        str | None, typer.Option("--smtp-to", help="Comma-separated recipients.")
    ] = None,
    smtp_user: Annotated[str | None, typer.Option("--smtp-user")] = None,
    smtp_password_env: Annotated[
        str | None,
        typer.Option("--smtp-password-env", help="Environment variable holding the password."),
    ] = None,
    smtp_password_file: Annotated[
        str | None, typer.Option("--smtp-password-file", help="File holding the password.")
    ] = None,
    smtp_starttls: Annotated[bool | None, typer.Option("--smtp-starttls/--no-smtp-tls")] = None,
    no_email: Annotated[bool, typer.Option("--no-email")] = False,
    link_base: Annotated[
        str | None,
        typer.Option("--link-base", help="The web app's address, put before links."),
    ] = None,
    stale_after: Annotated[
        int | None,
        typer.Option("--stale-after", help="Minutes after which a running run is taken as dead."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change the tenant's pipeline configuration (only what is given changes)."""
    store = checked_store()
    code, tenant_id = _tenant(store, tenant)
    with store.engine.begin() as conn:
        doc = get_config(conn, tenant_id).as_dict()
        if connections is not None:
            doc["connections"] = _csv(connections)
        if all_connections:
            doc["connections"] = None
        if extract:
            specs = []
            for item in extract:
                parts = item.split(":")
                if len(parts) not in (2, 3):
                    raise JobsError(f"--extract {item!r}: write cycle:layout[:school]")
                specs.append(dict(zip(("cycle", "layout", "school"), parts, strict=False)))
            doc["extracts"] = specs
        if no_extracts:
            doc["extracts"] = []
        if cycles is not None:
            doc["cycles"] = _csv(cycles)
        if open_cycles:
            doc["cycles"] = None
        if year is not None:
            doc["school_year"] = year
        if current_year:
            doc["school_year"] = None
        if max_error_rate is not None:
            doc["max_error_rate"] = max_error_rate
        if marts is not None:
            doc["marts"] = marts
        if output_dir is not None:
            doc["output_dir"] = output_dir
        if stale_after is not None:
            doc["stale_after_minutes"] = stale_after
        notify = doc["notify"]
        if webhook is not None:
            notify["webhook_url"] = webhook
        if no_webhook:
            notify["webhook_url"] = None
        if link_base is not None:
            notify["link_base"] = link_base
        given = {
            "host": smtp_host,
            "port": smtp_port,
            "sender": smtp_from,
            "to": _csv(smtp_to) if smtp_to is not None else None,
            "username": smtp_user,
            "starttls": smtp_starttls,
        }
        reference = secrets.reference(smtp_password_env, smtp_password_file)
        if reference:
            given["password_ref"] = reference
        if any(v is not None for v in given.values()):
            notify["smtp"] = {**(notify["smtp"] or {}), **{k: v for k, v in given.items()
                                                          if v is not None}}  # fmt: skip
        if no_email:
            notify["smtp"] = None
        saved = set_config(conn, tenant_id, doc, current_user())
    if as_json:
        emit_json({"tenant": code, "config": saved.as_dict()})
        return
    out.print(f"pipeline config of {code} saved: `nexus pipeline show`", highlight=False)


@pipeline_app.command("runs")
@handles_errors
def runs_command(
    tenant: TenantOption = None,
    run: Annotated[int | None, typer.Option("--run", help="One run, with its steps.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's daily runs, newest first (or one run's steps)."""
    store = checked_store()
    code, tenant_id = _tenant(store, tenant)
    with store.engine.connect() as conn:
        if run is not None:
            found = get_pipeline_run(conn, tenant_id, run)
            if as_json:
                emit_json({"tenant": code, **found})
            else:
                _print_run(found)
            return
        runs = list_pipeline_runs(conn, tenant_id, limit)
    if as_json:
        emit_json({"tenant": code, "runs": runs})
        return
    table = Table("run", "trigger", "by", "started", "seconds", "status", "steps", "reason")
    for r in runs:
        done = sum(1 for s in r["steps"] if s["status"] in ("succeeded", "partial"))
        table.add_row(
            str(r["pipeline_run_id"]),
            r["trigger"],
            r["started_by"],
            (r["started_at"] or "")[:19],
            f"{r['seconds']:.1f}" if r["seconds"] is not None else "",
            _status(r["status"]),
            f"{done}/{len(r['steps'])}",
            r["reason"] or "",
        )
    out.print(table)


# --- schedules --------------------------------------------------------------------------------


def _print_schedules(found: list[dict]) -> None:
    table = Table("id", "tenant", "cron", "time zone", "enabled", "next", "last fired", "by")
    for s in found:
        table.add_row(
            str(s["schedule_id"]),
            s["tenant"],
            s["cron"],
            s["timezone"],
            "yes" if s["enabled"] else "no",
            (s["next_fire_at"] or "")[:16],
            (s["last_fired_at"] or "")[:16],
            s["created_by"],
        )
    out.print(table)


@schedules_app.command("add")
@handles_errors
def schedules_add(
    cron: Annotated[
        str,
        typer.Option("--cron", help="Crontab fields, e.g. '30 5 * * 1-5' (05:30 Mon-Fri)."),
    ],
    tenant: TenantOption = None,
    timezone: Annotated[str, typer.Option("--timezone")] = DEFAULT_TIMEZONE,
    as_json: JsonFlag = False,
) -> None:
    """Schedule the tenant's daily run (fired by `nexus serve`)."""
    store = checked_store()
    _, tenant_id = _tenant(store, tenant)
    with store.engine.begin() as conn:
        added = add_schedule(conn, tenant_id, cron, timezone, user=current_user())
    if as_json:
        emit_json(added)
        return
    out.print(
        f"schedule {added['schedule_id']} added: next run {added['next_fire_at']} "
        f"(runs inside `nexus serve`)",
        highlight=False,
    )


@schedules_app.command("list")
@handles_errors
def schedules_list(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """The schedules (of one tenant, or of all when there are several and none is named)."""
    store = checked_store()
    with store.engine.connect() as conn:
        tenant_id = _tenant(store, tenant)[1] if tenant else None
        found = list_schedules(conn, tenant_id)
    if as_json:
        emit_json({"schedules": found})
        return
    _print_schedules(found)


def _edit(tenant: str | None, schedule_id: int, enabled: bool | None, as_json: bool) -> None:
    store = checked_store()
    _, tenant_id = _tenant(store, tenant)
    with store.engine.begin() as conn:
        if enabled is None:
            remove_schedule(conn, tenant_id, schedule_id)
            result: dict = {"schedule_id": schedule_id, "removed": True}
        else:
            result = set_enabled(conn, tenant_id, schedule_id, enabled)
    if as_json:
        emit_json(result)
        return
    said = "removed" if enabled is None else ("enabled" if enabled else "disabled")
    out.print(f"schedule {schedule_id} {said} (a running `nexus serve` reads it within a minute)")


ScheduleArgument = Annotated[int, typer.Argument(help="Schedule id (`nexus schedules list`).")]


@schedules_app.command("remove")
@handles_errors
def schedules_remove(
    schedule_id: ScheduleArgument, tenant: TenantOption = None, as_json: JsonFlag = False
) -> None:
    """Remove a schedule."""
    _edit(tenant, schedule_id, None, as_json)


@schedules_app.command("enable")
@handles_errors
def schedules_enable(
    schedule_id: ScheduleArgument, tenant: TenantOption = None, as_json: JsonFlag = False
) -> None:
    """Enable a schedule."""
    _edit(tenant, schedule_id, True, as_json)


@schedules_app.command("disable")
@handles_errors
def schedules_disable(
    schedule_id: ScheduleArgument, tenant: TenantOption = None, as_json: JsonFlag = False
) -> None:
    """Disable a schedule (kept, not fired)."""
    _edit(tenant, schedule_id, False, as_json)
