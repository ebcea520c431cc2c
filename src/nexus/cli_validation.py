"""The `nexus` commands of the validation layer: `validate`, `readiness`, `exceptions
list|show|assign|suppress|resolve|export|trend`, `compare student` and `mosis corrections
import`; thin shells over `nexus.validation`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nexus.cli_canonical import TenantOption, tenant_code
from nexus.cli_common import JsonFlag, YearOption, checked_store, emit_json, handles_errors, out
from nexus.mosis import layouts as mosis_layouts
from nexus.validation import exceptions as exc
from nexus.validation.engine import ValidationError, validate
from nexus.validation.readiness import readiness

exceptions_app = typer.Typer(
    help="Validation exceptions: list, show, assign, suppress, resolve, export, trend.",
    no_args_is_help=True,
)
compare_app = typer.Typer(
    help="SIS, canonical, MOSIS extract and DESE-corrected values side by side.",
    no_args_is_help=True,
)
corrections_app = typer.Typer(
    help="DESE's returned error / correction files (post-submission corrections).",
    no_args_is_help=True,
)

CycleOption = Annotated[
    str, typer.Option("--cycle", help="october, december, february, april, june, august.")
]
LayoutOption = Annotated[str, typer.Option("--layout", help="e.g. student_core.")]
LayoutOrSisOption = Annotated[str | None, typer.Option("--layout", help="Layout (or sis).")]
# The exception filters (`exceptions list | export | trend`): none given, no filter.
YearFilter = Annotated[str | None, typer.Option("--year", help="School year.")]
CycleFilter = Annotated[str | None, typer.Option("--cycle", help="Cycle.")]
SchoolFilter = Annotated[str | None, typer.Option("--school", help="School code.")]
OwnerFilter = Annotated[str | None, typer.Option("--owner", help="Owner role.")]


def register(app: typer.Typer) -> None:
    """Add these commands to the `nexus` app (and `corrections` to `nexus mosis`)."""
    app.command("validate")(validate_command)
    app.command("readiness")(readiness_command)
    app.add_typer(exceptions_app, name="exceptions")
    app.add_typer(compare_app, name="compare")
    from nexus.cli_mosis import mosis_app

    mosis_app.add_typer(corrections_app, name="corrections")


def _year(year: str) -> int:
    return mosis_layouts.parse_school_year(year)


@handles_errors
def validate_command(
    cycle: CycleOption,
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    layout: Annotated[
        list[str] | None,
        typer.Option("--layout", help="Only this layout (repeatable); `sis` for the SIS rules."),
    ] = None,
    count_date: Annotated[
        str | None, typer.Option("--count-date", help="YYYY-MM-DD (April: the MAP testing date).")
    ] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate a school year and cycle: every layout with derivations, and the SIS data."""
    store = checked_store()
    when = None
    if count_date:
        try:
            when = date.fromisoformat(count_date)
        except ValueError:
            raise ValidationError(f"--count-date {count_date!r} is not a date") from None
    result = validate(
        store,
        tenant_code(store, tenant),
        _year(year),
        cycle,
        layouts=list(layout) if layout else None,
        count_date=when,
    )
    if as_json:
        emit_json(result.as_dict())
        return
    severities = ", ".join(f"{n:,} {s}" for s, n in sorted(result.by_severity.items())) or "none"
    out.print(
        f"validation run {result.validation_run_id} ({result.cycle} {result.school_year}, count "
        f"date {result.count_date}): {result.found:,} exceptions ({severities}); "
        f"{result.new:,} new, {result.reopened:,} reopened, {result.auto_resolved:,} "
        f"auto-resolved; layouts {', '.join(result.layouts)}",
        highlight=False,
    )
    if result.not_evaluated:
        out.print(
            f"{len(result.not_evaluated)} DESE rules have no check in Nexus (DESE applies them "
            "after upload): see --json",
            highlight=False,
        )


@handles_errors
def readiness_command(
    cycle: CycleOption,
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Per layout and school: rows, blocking, warnings, percent error-free, ready or not."""
    store = checked_store()
    code = tenant_code(store, tenant)
    found = readiness(store, code, _year(year), cycle)
    if as_json:
        emit_json(found)
        return
    print_readiness(found)


def print_readiness(found: dict) -> None:
    table = Table(
        "layout",
        "school",
        "rows",
        "blocking",
        "warnings",
        "error-free",
        "worst rules (% rows free)",
        "ready",
        title=f"MOSIS readiness {found['cycle']} {found['school_year']} "
        f"(validation run {found['validation_run_id']})",
    )
    for row in found["rows"]:
        worst = sorted(row["rules"].items(), key=lambda kv: kv[1])[:3]
        table.add_row(
            row["layout"],
            row["school_code"],
            f"{row['rows']:,}",
            f"{row['blocking_rows']:,}",
            f"{row['warning_rows']:,}",
            f"{row['percent_error_free']:.1f}%",
            ", ".join(f"{k} {v:.1f}" for k, v in worst),
            "[green]yes[/green]" if row["ready"] else "[red]no[/red]",
        )
    out.print(table)


def print_top_owners(owners: list[dict]) -> None:
    table = Table("owner", "blocking", "warnings", "top rules", title="Open exceptions by owner")
    for o in owners:
        table.add_row(
            o["owner"],
            f"{o['blocking']:,}",
            f"{o['warning']:,}",
            ", ".join(f"{rule} ({n})" for rule, n in o["top_rules"]),
        )
    out.print(table)


@exceptions_app.command("list")
@handles_errors
def list_command(
    year: YearFilter = None,
    cycle: CycleFilter = None,
    layout: LayoutOrSisOption = None,
    field: Annotated[str | None, typer.Option("--field", help="Field (column name).")] = None,
    school: SchoolFilter = None,
    owner: OwnerFilter = None,
    severity: Annotated[
        str | None, typer.Option("--severity", help="blocking, warning or info.")
    ] = None,
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="active (default), open, assigned, suppressed, resolved, auto_resolved, all.",
        ),
    ] = "active",
    rule: Annotated[str | None, typer.Option("--rule", help="Rule id.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (0: all).")] = 200,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Exceptions, blocking first; filter by layout, field, school, owner, severity, status."""
    store = checked_store()
    rows = exc.list_exceptions(
        store,
        tenant_code(store, tenant),
        school_year=_year(year) if year else None,
        cycle=cycle,
        layout=layout,
        field=field,
        school=school,
        owner=owner,
        severity=severity,
        status=None if status == "all" else status,
        rule=rule,
        limit=limit or None,
    )
    if as_json:
        emit_json({"exceptions": rows})
        return
    table = Table(
        "id",
        "status",
        "sev",
        "rule",
        "layout",
        "field",
        "school",
        "owner",
        "record",
        "value",
        "message",
    )
    for x in rows:
        table.add_row(
            str(x["exception_id"]),
            x["status"],
            x["severity"],
            x["rule_id"],
            x["layout"],
            x["field"],
            x["school_code"],
            x["assigned_to"] or x["owner"],
            f"{x['source_entity'] or x['entity_type']} {x['record_key']}",
            "" if x["current_value"] is None else str(x["current_value"])[:30],
            x["message"][:90],
        )
    out.print(table)
    out.print(f"{len(rows):,} exceptions", highlight=False)


@exceptions_app.command("show")
@handles_errors
def show_command(exception_id: int, tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """One exception: record, value, expected shape, derivation trace, history."""
    store = checked_store()
    shown = exc.show_exception(store, tenant_code(store, tenant), exception_id)
    if as_json:
        emit_json(shown)
        return
    for key in (
        "exception_id",
        "status",
        "severity",
        "rule_id",
        "layout",
        "field",
        "school_code",
        "owner",
        "assigned_to",
        "entity_type",
        "source_system",
        "source_entity",
        "record_key",
        "state_id",
        "current_value",
        "expected",
        "message",
        "trace",
        "status_reason",
        "suppressed_until",
        "first_seen_run",
        "last_seen_run",
    ):
        out.print(f"{key:>16}: {shown.get(key)}", highlight=False)
    table = Table("#", "when", "by", "action", "from", "to", "run", "detail", title="history")
    for h in shown["history"]:
        table.add_row(
            str(h["seq"]),
            str(h["changed_at"])[:19],
            h["changed_by"],
            h["action"],
            h["from_status"] or "",
            h["to_status"],
            "" if h["validation_run_id"] is None else str(h["validation_run_id"]),
            "" if not h["detail"] else str(h["detail"]),
        )
    out.print(table)


def _print_changed(row: dict, as_json: bool) -> None:
    if as_json:
        emit_json(row)
        return
    out.print(
        f"exception {row['exception_id']}: {row['status']}"
        + (f" to {row['assigned_to']}" if row["status"] == "assigned" else "")
        + (f" until {row['suppressed_until']}" if row["status"] == "suppressed" else ""),
        highlight=False,
    )


@exceptions_app.command("assign")
@handles_errors
def assign_command(
    exception_id: int,
    role: Annotated[str, typer.Argument(help="Owner role, e.g. registrar (or registrar:jdoe).")],
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Give an exception to an owner role."""
    store = checked_store()
    _print_changed(exc.assign(store, tenant_code(store, tenant), exception_id, role), as_json)


@exceptions_app.command("suppress")
@handles_errors
def suppress_command(
    exception_id: int,
    reason: Annotated[str, typer.Option("--reason", help="Why it is accepted as it is.")],
    until: Annotated[str, typer.Option("--until", help="YYYY-MM-DD: it reopens after.")],
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Accept an exception as it is, with a reason, until a date."""
    try:
        until_date = date.fromisoformat(until)
    except ValueError:
        raise ValidationError(f"--until {until!r} is not a date (YYYY-MM-DD)") from None
    store = checked_store()
    _print_changed(
        exc.suppress(store, tenant_code(store, tenant), exception_id, reason, until_date), as_json
    )


@exceptions_app.command("resolve")
@handles_errors
def resolve_command(
    exception_id: int,
    note: Annotated[str | None, typer.Option("--note", help="What was done.")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Mark an exception fixed (the next validation reopens it if the data still fails)."""
    store = checked_store()
    _print_changed(exc.resolve(store, tenant_code(store, tenant), exception_id, note), as_json)


@exceptions_app.command("export")
@handles_errors
def export_command(
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
    year: YearFilter = None,
    cycle: CycleFilter = None,
    layout: LayoutOrSisOption = None,
    school: SchoolFilter = None,
    owner: OwnerFilter = None,
    status: Annotated[
        str, typer.Option("--status", help="active (default) or a status, all.")
    ] = "active",
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Export exceptions (one row each) as CSV or XLSX, to --out or (CSV) stdout."""
    if fmt not in ("csv", "xlsx"):
        raise ValidationError(f"--format {fmt!r}: csv or xlsx")
    if fmt == "xlsx" and out_file is None:
        raise ValidationError("--format xlsx needs --out FILE")
    store = checked_store()
    rows = exc.list_exceptions(
        store,
        tenant_code(store, tenant),
        school_year=_year(year) if year else None,
        cycle=cycle,
        layout=layout,
        school=school,
        owner=owner,
        status=None if status == "all" else status,
    )
    data = exc.export(rows, fmt, out_file)
    if as_json:
        emit_json({"rows": len(rows), "format": fmt, "file": str(out_file) if out_file else None})
    elif out_file is None:
        typer.echo(data.decode("utf-8"), nl=False)
    else:
        out.print(f"{len(rows):,} exceptions to {out_file}", highlight=False)


@exceptions_app.command("trend")
@handles_errors
def trend_command(
    by: Annotated[
        str, typer.Option("--by", help="cycle, layout, field, school, owner, rule, severity.")
    ] = "cycle",
    year: YearFilter = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Exceptions found per validation run, grouped: how the backlog moves day by day."""
    store = checked_store()
    rows = exc.trend(store, tenant_code(store, tenant), by, _year(year) if year else None)
    if as_json:
        emit_json({"by": by, "trend": rows})
        return
    table = Table("run", "when", "cycle", by, "found", "blocking", "new")
    for x in rows:
        table.add_row(
            str(x["validation_run_id"]),
            str(x["started_at"])[:19],
            x["cycle"],
            str(x[by]),
            f"{x['found']:,}",
            f"{x['blocking']:,}",
            f"{x['new']:,}",
        )
    out.print(table)


@compare_app.command("student")
@handles_errors
def compare_student_command(
    state_id: Annotated[str, typer.Argument(help="The student's MOSIS ID.")],
    cycle: CycleOption,
    layout: LayoutOption = "student_core",
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """SIS, canonical, MOSIS extract and DESE-corrected values of one student, side by side."""
    from nexus.validation.compare import compare_student

    store = checked_store()
    found = compare_student(store, tenant_code(store, tenant), state_id, _year(year), cycle, layout)
    if as_json:
        emit_json(found)
        return
    table = Table(
        "field",
        "SIS",
        "canonical",
        "extract",
        "correction",
        "derivation",
        title=f"{layout} {found['cycle']} {found['school_year']}: MOSIS ID {state_id}"
        + ("" if found["in_population"] else " (not in this cycle's population)"),
    )
    for f in found["fields"]:
        values = [f["sis"], f["canonical"], f["extract"], f["correction"]]
        differs = len({v for v in values if v is not None}) > 1
        style = "yellow" if differs else None
        table.add_row(
            f["field"],
            *("" if v is None else str(v) for v in values),
            f["trace"]["derivation"] or "-",
            style=style,
        )
    out.print(table)


@corrections_app.command("import")
@handles_errors
def corrections_import_command(
    file: Annotated[Path, typer.Argument(help="DESE's returned error / correction file (CSV).")],
    cycle: CycleOption,
    layout: LayoutOption = "student_core",
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import DESE's post-submission corrections so `nexus compare` can show them."""
    from nexus.validation.compare import import_corrections

    store = checked_store()
    result = import_corrections(store, tenant_code(store, tenant), file, _year(year), cycle, layout)
    if as_json:
        emit_json(result)
        return
    if result["already_imported"]:
        out.print(f"{file.name} was imported before (same sha256): nothing to do", highlight=False)
    else:
        out.print(f"{result['rows']:,} corrections imported from {file.name}", highlight=False)


@exceptions_app.command("rules")
@handles_errors
def rules_command(
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    layout: LayoutOrSisOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The rule catalog as the last validation evaluated it: DESE's and Nexus's rules, the
    check that evaluates each (none: DESE applies it after upload), severity and owner."""
    from nexus.validation.catalog import list_catalog

    store = checked_store()
    with store.engine.connect() as conn:
        rules = list_catalog(conn, _year(year), layout)
    if as_json:
        emit_json({"rules": rules})
        return
    if not rules:
        out.print("no rules evaluated yet for this year: run `nexus validate`", highlight=False)
        return
    table = Table("layout", "rule", "origin", "check", "severity", "owner", "title")
    for r in rules:
        table.add_row(
            r["layout"],
            r["rule_id"],
            r["origin"],
            r["kind"] or "[dim]not evaluated[/dim]",
            r["severity"],
            r["owner"],
            (r["title"] or "")[:80],
        )
    out.print(table)
