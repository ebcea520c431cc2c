"""`nexus mosis …`: MOSIS layouts as data (`layouts`, `layout`), `spec import` of DESE's
FileSpec pages, extracts (`extract`, `runs list|show`) and MOSIS ID assignment (`ids request`,
`ids import`, `ids imports`) and a tenant's field defaults (`defaults set|unset|list`); thin
shells over `nexus.mosis`.
Each command loads the layouts Nexus ships for the year on first use (idempotent; a layout
imported from DESE's pages is kept)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nexus.cli_canonical import TenantOption, tenant_code
from nexus.cli_common import (
    JsonFlag,
    YearOption,
    checked_store,
    emit_json,
    handles_errors,
    out,
)
from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.defaults import list_defaults, set_default, unset_default
from nexus.mosis.extract import ExtractError, list_extract_runs, run_extract, show_extract_run
from nexus.mosis.ids import import_ids, list_id_imports, request_ids
from nexus.mosis.layouts import spec_import

mosis_app = typer.Typer(
    help="MOSIS: DESE's layouts, code sets and rules by school year; DESE page imports.",
    no_args_is_help=True,
)
spec_app = typer.Typer(
    help="DESE's published FileSpec / FileSpecRules pages.", no_args_is_help=True
)
mosis_app.add_typer(spec_app, name="spec")

SchoolOption = Annotated[str | None, typer.Option("--school", help="One school's DESE code.")]
OutDirOption = Annotated[Path, typer.Option("--out", help="Folder to write the file into.")]


def register(app: typer.Typer) -> None:
    app.add_typer(mosis_app, name="mosis")


@mosis_app.command("layouts")
@handles_errors
def layouts_command(
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR), as_json: JsonFlag = False
) -> None:
    """Per layout of the year: version, origin, fields verified / inferred / unverified."""
    school_year = mosis_layouts.parse_school_year(year)
    store = checked_store()
    with store.engine.begin() as conn:
        mosis_layouts.ensure_loaded(conn, school_year)
        found = mosis_layouts.list_layouts(conn, school_year)
    if as_json:
        emit_json(
            {
                "school_year": school_year,
                "school_year_label": mosis_layouts.school_year_label(school_year),
                "layouts": [s.as_dict() for s in found],
            }
        )
        return
    if not found:
        out.print(f"no MOSIS layouts loaded for {mosis_layouts.school_year_label(school_year)}")
        return
    table = Table(
        "layout",
        "ver",
        "origin",
        "DESE year",
        "fields",
        "verified",
        "inferred",
        "unverified",
        "rules",
        "cycles",
        title=f"MOSIS layouts {mosis_layouts.school_year_label(school_year)}",
    )
    for s in found:
        table.add_row(
            s.name,
            str(s.version),
            s.origin,
            str(s.source_year or "-"),
            str(s.fields),
            str(s.verified),
            str(s.inferred),
            str(s.unverified),
            str(s.rules),
            " ".join(s.cycles),
        )
    out.print(table)


@mosis_app.command("layout")
@handles_errors
def layout_command(
    name: Annotated[str, typer.Argument(help="Layout, e.g. student_core.")],
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    version: Annotated[
        int | None, typer.Option("--version", help="A version (default: the newest).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """One layout: its fields in file order (with provenance), code sets and rules."""
    school_year = mosis_layouts.parse_school_year(year)
    store = checked_store()
    with store.engine.begin() as conn:
        mosis_layouts.ensure_loaded(conn, school_year)
        layout = mosis_layouts.get_layout(conn, name, school_year, version)
    if as_json:
        emit_json(layout.as_dict())
        return
    counts = layout.counts()
    out.print(
        f"[bold]{layout.title}[/bold] ({layout.name}) "
        f"{mosis_layouts.school_year_label(layout.school_year)} "
        f"version {layout.version} ({layout.origin}), fields from DESE year "
        f"{layout.source_year or 'none (vendor copies)'}; cycles {' '.join(layout.cycles)}",
        highlight=False,
    )
    out.print(
        f"CollectionVersion {layout.collection_version_pattern or 'none'}; delimiter "
        f"{layout.delimiter!r}, header row {'yes' if layout.header_row else 'no'}, dates "
        f"{layout.date_format}; fields: {counts['verified']} verified, {counts['inferred']} "
        f"inferred, {counts['unverified']} unverified",
        highlight=False,
    )
    table = Table(
        "#",
        "item",
        "column",
        "item name",
        "required",
        "type",
        "len",
        "prec",
        "code set",
        "provenance",
        "derivation",
    )
    for f in layout.fields:
        requirement = f.requirement
        if f.requirement_by_cycle:
            requirement += " (" + ", ".join(f"{k}: {v}" for k, v in f.requirement_by_cycle.items())
            requirement += ")"
        table.add_row(
            str(f.field_order),
            f.item or "",
            f.column_name,
            f.item_name,
            requirement,
            f.data_type,
            "" if f.length is None else str(f.length),
            "" if f.precision is None else str(f.precision),
            f.code_set or "",
            f.provenance,
            f.derivation or "",
        )
    out.print(table)
    if layout.missing_code_sets:
        out.print(
            "code sets named but not held: " + ", ".join(layout.missing_code_sets),
            highlight=False,
        )
    if layout.rules:
        rules = Table("rule", "sev", "item", "title / rule", "cycles", "provenance")
        for r in layout.rules:
            rules.add_row(
                r.rule_id,
                r.severity,
                r.item or "",
                r.short_title or r.business_rule or "",
                " ".join(r.cycles or ()),
                r.provenance,
            )
        out.print(rules)
    if layout.notes:
        out.print(f"notes: {layout.notes}", highlight=False)


@spec_app.command("import")
@handles_errors
def spec_import_command(
    files: Annotated[
        list[Path], typer.Argument(help="FileSpec_*.html / FileSpecRules_*.html pages.")
    ],
    year: Annotated[
        str | None,
        typer.Option("--year", help="School year for pages whose name carries none."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import DESE's pages as a new layout version; print what changed."""
    school_year = mosis_layouts.parse_school_year(year) if year else None
    store = checked_store()
    with store.engine.begin() as conn:
        result = spec_import.import_pages(conn, files, school_year)
    if as_json:
        emit_json(result.as_dict())
        return
    for page in result.pages:
        out.print(
            f"{page.file}: {page.kind} page of {page.layout} "
            f"{mosis_layouts.school_year_label(page.school_year)} {page.cycle}, {page.rows} rows",
            highlight=False,
        )
    for c in result.layouts:
        label = f"{c.layout} {mosis_layouts.school_year_label(c.school_year)}"
        if c.unchanged:
            out.print(
                f"{label}: nothing changed (the pages say what version {c.old_version} says)",
                highlight=False,
            )
            continue
        was = f"version {c.old_version} ({c.old_origin})" if c.old_version else "nothing"
        out.print(
            f"[bold]{label}[/bold]: version {c.new_version} (import) over {was}: fields "
            f"+{len(c.fields_added)} -{len(c.fields_removed)} ~{len(c.fields_changed)}; rules "
            f"+{len(c.rules_added)} -{len(c.rules_removed)} ~{len(c.rules_changed)}",
            highlight=False,
        )
        if c.cycles_added:
            out.print(f"  cycles added: {', '.join(c.cycles_added)}", highlight=False)
        for f in c.fields_added:
            out.print(
                f"  + field {f['item'] or '-'} {f['column'] or f['item_name']}", highlight=False
            )
        for f in c.fields_removed:
            out.print(
                f"  - field {f['item'] or '-'} {f['column'] or f['item_name']} ({f['provenance']})",
                highlight=False,
            )
        for f in c.fields_changed:
            what = "; ".join(f"{k} {old!r} → {new!r}" for k, (old, new) in f["changes"].items())
            out.print(f"  ~ field {f['item'] or '-'} {f['column']}: {what}", highlight=False)
        for r in c.rules_added:
            out.print(f"  + rule {r['rule_id']} ({r['severity']})", highlight=False)
        for r in c.rules_removed:
            gone = "removed" if r["deleted"] else f"no longer in {r['cycle']}"
            out.print(f"  - rule {r['rule_id']}: {gone}", highlight=False)
        for r in c.rules_changed:
            out.print(f"  ~ rule {r['rule_id']}: {', '.join(r['changes'])}", highlight=False)


# --- extracts ----------------------------------------------------------------------------------

runs_app = typer.Typer(
    help="MOSIS extract runs: what was generated, from what.", no_args_is_help=True
)
mosis_app.add_typer(runs_app, name="runs")


@mosis_app.command("extract")
@handles_errors
def extract_command(
    cycle: Annotated[
        str,
        typer.Option(
            "--cycle",
            help="october, december, february, april, june, august; annual (DESE's ALL); a "
            "precode window: eocfal, lepell, eocspr, mapspr, eocexp, act.",
        ),
    ],
    layout: Annotated[str, typer.Option("--layout", help="e.g. student_core.")],
    out_dir: OutDirOption,
    tenant: TenantOption = None,
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    school: SchoolOption = None,
    count_date: Annotated[
        str | None,
        typer.Option(
            "--count-date", help="YYYY-MM-DD (April: the MAP testing date; a precode window's)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Generate one MOSIS file for a school year, cycle and layout (and school)."""
    store = checked_store()
    code = tenant_code(store, tenant)
    when = None
    if count_date:
        try:
            when = date.fromisoformat(count_date)
        except ValueError:
            raise ExtractError(f"--count-date {count_date!r} is not a date (YYYY-MM-DD)") from None
    result = run_extract(
        store,
        code,
        mosis_layouts.parse_school_year(year),
        cycle,
        layout,
        out_dir,
        school_code=school,
        count_date=when,
    )
    if as_json:
        payload = result.as_dict()
        emit_json(payload)
        return
    out.print(
        f"extract run {result.extract_run_id}: {result.rows:,} rows to {result.file} "
        f"(count date {result.count_date}, sha256 {result.sha256[:12]}…); "
        f"{result.blocking:,} left out (blocking), {result.warnings:,} warnings",
        highlight=False,
    )
    _print_problems(result.problems)


def _print_problems(problems: list[dict]) -> None:
    """The rows a file run left out or warned about (the first 200), as a table."""
    if not problems:
        return
    table = Table("row", "subject", "column", "severity", "message")
    for p in problems[:200]:
        table.add_row(str(p["row_no"]), str(p["subject"]), p["column"], p["severity"], p["message"])
    out.print(table)


@runs_app.command("list")
@handles_errors
def runs_list_command(
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's extract runs, newest first."""
    store = checked_store()
    code = tenant_code(store, tenant)
    runs = list_extract_runs(store, code)
    if as_json:
        emit_json({"extract_runs": runs})
        return
    table = Table("run", "year", "cycle", "layout", "school", "rows", "blocking", "file", "sha256")
    for r in runs:
        table.add_row(
            str(r["extract_run_id"]),
            str(r["school_year"]),
            r["cycle"],
            r["layout"],
            r["school_code"] or "",
            f"{r['rows']:,}",
            f"{r['blocking']:,}",
            r["file_name"] or "",
            (r["sha256"] or "")[:12],
        )
    out.print(table)


@runs_app.command("show")
@handles_errors
def runs_show_command(
    extract_run_id: int,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """One extract run: its input snapshot, layout version, file, counts, left-out rows."""
    store = checked_store()
    shown = show_extract_run(store, tenant_code(store, tenant), extract_run_id)
    if as_json:
        emit_json(shown)
        return
    out.print(json.dumps(shown, indent=2, default=str), highlight=False)


ids_app = typer.Typer(
    help="MOSIS ID assignment: the batch request for students without a MOSIS ID, and DESE's "
    "response.",
    no_args_is_help=True,
)
mosis_app.add_typer(ids_app, name="ids")


@ids_app.command("request")
@handles_errors
def ids_request_command(
    out_dir: OutDirOption,
    tenant: TenantOption = None,
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    school: SchoolOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the MOSIS ID batch request: the year's enrolled students without a MOSIS ID."""
    store = checked_store()
    result = request_ids(
        store,
        tenant_code(store, tenant),
        mosis_layouts.parse_school_year(year),
        out_dir,
        school_code=school,
    )
    if as_json:
        emit_json(result.as_dict())
        return
    out.print(
        f"extract run {result.extract_run_id}: {result.rows:,} students without a MOSIS ID "
        f"to {result.file}; {result.blocking:,} left out (blocking)",
        highlight=False,
    )
    _print_problems(result.problems)


@ids_app.command("import")
@handles_errors
def ids_import_command(
    file: Annotated[Path, typer.Argument(help="DESE's MOSIS ID response file.")],
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Store the MOSIS IDs of DESE's response as the students' MOSIS identifiers.

    Exit 0 when every record was assigned (or already held), 3 when some were rejected (the
    rest are kept), 1 when the file was refused whole."""
    store = checked_store()
    result = import_ids(store, tenant_code(store, tenant), file)
    if as_json:
        emit_json(result.as_dict())
    else:
        out.print(
            f"import {result.import_id} of {result.file}: {result.records:,} records, "
            f"{result.assigned:,} assigned, {result.already_held:,} already held, "
            f"{result.rejected:,} rejected, {result.warnings:,} warnings",
            highlight=False,
        )
        shown = [o for o in result.outcomes if o["outcome"] == "rejected" or o.get("warnings")]
        if shown:
            table = Table("line", "local id", "MOSIS ID", "outcome", "message")
            for o in shown[:500]:
                message = "; ".join([o["message"], *o.get("warnings", [])])
                table.add_row(str(o["line"]), o["local_id"], o["state_id"], o["outcome"], message)
            out.print(table)
    if result.rejected:
        raise typer.Exit(3)


@ids_app.command("imports")
@handles_errors
def ids_imports_command(
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's MOSIS ID response imports, newest first."""
    store = checked_store()
    found = list_id_imports(store, tenant_code(store, tenant))
    if as_json:
        emit_json({"imports": found})
        return
    table = Table("import", "file", "status", "records", "assigned", "held", "rejected", "when")
    for r in found:
        table.add_row(
            str(r["import_id"]),
            r["file_name"],
            r["status"],
            str(r["records"]),
            str(r["assigned"]),
            str(r["already_held"]),
            str(r["rejected"]),
            str(r["started_at"])[:19],
        )
    out.print(table)


defaults_app = typer.Typer(
    help="A tenant's field defaults: the value a MOSIS field takes where canonical has none.",
    no_args_is_help=True,
)
mosis_app.add_typer(defaults_app, name="defaults")


@defaults_app.command("set")
@handles_errors
def defaults_set_command(
    layout: Annotated[str, typer.Argument(help="Layout, e.g. school_calendar_header.")],
    column: Annotated[str, typer.Argument(help="The field's column name, e.g. ExitCode.")],
    value: Annotated[str, typer.Argument(help="The value, as it is written in the file.")],
    tenant: TenantOption = None,
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    note: Annotated[
        str | None, typer.Option("--note", help="Why (kept in every value's trace).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set the value a field takes where its derivation gives none (a value from canonical
    always wins)."""
    store = checked_store()
    made = set_default(
        store,
        tenant_code(store, tenant),
        mosis_layouts.parse_school_year(year),
        layout,
        column,
        value,
        note=note,
    )
    if as_json:
        emit_json(made.as_dict())
        return
    out.print(f"{made.layout}.{made.column_name} defaults to {made.value!r}", highlight=False)


@defaults_app.command("unset")
@handles_errors
def defaults_unset_command(
    layout: Annotated[str, typer.Argument(help="Layout.")],
    column: Annotated[str, typer.Argument(help="The field's column name.")],
    tenant: TenantOption = None,
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    as_json: JsonFlag = False,
) -> None:
    """Remove a field default."""
    store = checked_store()
    removed = unset_default(
        store, tenant_code(store, tenant), mosis_layouts.parse_school_year(year), layout, column
    )
    if as_json:
        emit_json({"layout": layout, "column_name": column, "removed": removed})
        return
    out.print(f"{layout}.{column}: {'removed' if removed else 'no default was set'}")


@defaults_app.command("list")
@handles_errors
def defaults_list_command(
    tenant: TenantOption = None,
    year: YearOption = str(mosis_layouts.DEFAULT_SCHOOL_YEAR),
    as_json: JsonFlag = False,
) -> None:
    """The tenant's field defaults of a school year."""
    store = checked_store()
    found = list_defaults(store, tenant_code(store, tenant), mosis_layouts.parse_school_year(year))
    if as_json:
        emit_json({"defaults": [d.as_dict() for d in found]})
        return
    table = Table("layout", "column", "value", "set by", "set at", "note")
    for d in found:
        table.add_row(d.layout, d.column_name, d.value, d.set_by, str(d.set_at)[:19], d.note or "")
    out.print(table)
