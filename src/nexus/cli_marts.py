"""`nexus marts …`: grade-card indicators as definitions (`indicators`, `explain`), building the
marts (`refresh`), reading them (`show`, suppressed for the public), the students behind a
cell (`drill`, audited) and the grade card (`report`, HTML + XLSX); thin shells over
`nexus.marts`."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nexus.cli_canonical import TenantOption, tenant_code
from nexus.cli_common import JsonFlag, YearOption, checked_store, emit_json, handles_errors, out
from nexus.marts import definitions
from nexus.marts.access import ROLES
from nexus.marts.mosis_marts import refresh_operational
from nexus.marts.query import cells, drill
from nexus.marts.refresh import refresh
from nexus.marts.report import write_report
from nexus.mosis.layouts import DEFAULT_SCHOOL_YEAR, parse_school_year, school_year_label

marts_app = typer.Typer(
    help="Grade-card marts: indicator definitions, refresh, show, drill-through, report.",
    no_args_is_help=True,
)

IndicatorArgument = Annotated[str, typer.Argument(help="Indicator.")]
CsvFlag = Annotated[bool, typer.Option("--csv", help="Write CSV to stdout.")]
RoleOption = Annotated[
    str,
    typer.Option(
        "--role",
        help=f"Who is looking: {', '.join(ROLES)}. Only analyst and admin see suppressed "
        "cells and students.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add these commands to the `nexus` app."""
    app.add_typer(marts_app, name="marts")


@marts_app.command("indicators")
@handles_errors
def indicators_command(
    year: YearOption = str(DEFAULT_SCHOOL_YEAR), as_json: JsonFlag = False
) -> None:
    """The indicators defined for a school year, with their source tag and groups."""
    school_year = parse_school_year(year)
    found = definitions.indicators(school_year)
    if as_json:
        emit_json(
            {
                "school_year": school_year,
                "school_year_label": school_year_label(school_year),
                "indicators": [i.as_dict(with_sql=False) for i in found],
            }
        )
        return
    table = Table(
        "indicator",
        "title",
        "kind",
        "source",
        "groups",
        title=f"Indicators {school_year_label(school_year)}",
    )
    for ind in found:
        table.add_row(
            ind.name,
            ind.title,
            ind.kind,
            ind.words.get("source_tag", ""),
            "standard" if len(ind.groups) > 1 else "all only",
        )
    out.print(table)


@marts_app.command("explain")
@handles_errors
def explain_command(
    name: Annotated[str, typer.Argument(help="Indicator, e.g. proportional_attendance.")],
    year: YearOption = str(DEFAULT_SCHOOL_YEAR),
    as_json: JsonFlag = False,
) -> None:
    """An indicator's definition in plain words and in SQL."""
    ind = definitions.indicator(name, year)
    doc = ind.as_dict()
    if as_json:
        emit_json(doc)
        return
    out.print(f"[bold]{ind.title}[/bold] ({ind.name}, {school_year_label(ind.school_year)})")
    for key in (
        "framework",
        "source_tag",
        "reference",
        "purpose",
        "variant",
        "population",
        "count_date",
        "numerator",
        "denominator",
        "threshold",
        "minimum",
        "caveat",
    ):
        if doc.get(key):
            out.print(f"[bold]{key}[/bold]: {doc[key]}", highlight=False)
    out.print(
        f"[bold]rounding[/bold]: {ind.decimals} decimal(s); kind {ind.kind}, scale {ind.scale:g}",
        highlight=False,
    )
    out.print(f"[bold]groups[/bold]: {', '.join(ind.groups)}", highlight=False)
    out.print(f"[bold]sha256[/bold]: {ind.sha256}", highlight=False)
    sql = doc["sql"]
    out.print("[bold]SQL base[/bold]:", highlight=False)
    out.print(sql["base"], highlight=False, markup=False)
    for key in ("components", "population", "numerator", "denominator"):
        out.print(f"[bold]SQL {key}[/bold]: {sql[key]}", highlight=False)


@marts_app.command("refresh")
@handles_errors
def refresh_command(
    tenant: TenantOption = None,
    year: YearOption = str(DEFAULT_SCHOOL_YEAR),
    indicator: Annotated[
        list[str] | None, typer.Option("--indicator", help="Only these (or a family).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if unchanged.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild the year's grade-card marts (only indicators whose inputs changed), and the
    SIS-quality and MOSIS extract/readiness marts."""
    store = checked_store()
    code = tenant_code(store, tenant)
    result = refresh(store, code, year, indicator, force=force)
    operational = refresh_operational(store, code)
    if as_json:
        emit_json({**result.as_dict(), "operational": operational})
        return
    out.print(
        f"refreshed {len(result.rebuilt)} indicator(s), {len(result.unchanged)} unchanged, "
        f"{result.facts:,} facts, {result.aggregates:,} cells in {result.seconds:.1f} s "
        f"({school_year_label(result.school_year)})",
        highlight=False,
    )
    out.print(
        ", ".join(f"{k} {v}" for k, v in operational.items() if isinstance(v, int)),
        highlight=False,
    )


def _write_csv(rows: list[dict]) -> None:
    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


@marts_app.command("show")
@handles_errors
def show_command(
    name: IndicatorArgument,
    tenant: TenantOption = None,
    year: YearOption = str(DEFAULT_SCHOOL_YEAR),
    by: Annotated[str, typer.Option("--by", help="district, school, grade or group.")] = "district",
    school: Annotated[str | None, typer.Option("--school", help="One school's code.")] = None,
    role: RoleOption = "public",
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """An indicator's cells; suppressed cells show `*` unless the role sees student data."""
    store = checked_store()
    code = tenant_code(store, tenant)
    found = cells(store, code, name, year, by=by, school_code=school, role=role)
    if as_json:
        emit_json(found)
        return
    rows = [
        {
            k: c[k]
            for k in (
                "school_code",
                "school_name",
                "grade",
                "group",
                "n",
                "numerator",
                "denominator",
                "value",
            )
        }
        for c in found["cells"]
    ]
    if as_csv:
        _write_csv(rows)
        return
    table = Table(
        "school",
        "grade",
        "group",
        "n",
        "numerator",
        "denominator",
        "value",
        title=f"{found['title']} ({school_year_label(found['school_year'])})",
    )
    for c in found["cells"]:
        table.add_row(
            c["school_code"] or "district",
            c["grade"],
            c["group_label"],
            str(c["n"]),
            str(c["numerator"]),
            str(c["denominator"]),
            str(c["value"]),
        )
    out.print(table)


@marts_app.command("drill")
@handles_errors
def drill_command(
    name: IndicatorArgument,
    tenant: TenantOption = None,
    year: YearOption = str(DEFAULT_SCHOOL_YEAR),
    school: Annotated[
        str | None, typer.Option("--school", help="School code (default: the district).")
    ] = None,
    group: Annotated[str, typer.Option("--group", help="Student group (default all).")] = "all",
    grade: Annotated[str, typer.Option("--grade", help="Grade (default all).")] = "all",
    role: RoleOption = "analyst",
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """The students behind a cell and the facts that put them in it (audited)."""
    store = checked_store()
    code = tenant_code(store, tenant)
    found = drill(store, code, name, year, school_code=school, group=group, grade=grade, role=role)
    if as_json:
        emit_json(found)
        return
    if as_csv:
        _write_csv(found["rows"])
        return
    table = Table(
        "person",
        "MOSIS id",
        "name",
        "grade",
        "num",
        "den",
        "facts",
        title=f"{found['indicator']} · {found['school']} · {found['group']} "
        f"({len(found['rows'])} rows; numerator: {found['numerator_words']})",
    )
    for r in found["rows"]:
        table.add_row(
            str(r["person_id"]),
            r["mosis_state_id"] or "",
            f"{r['last_name'] or ''}, {r['first_name'] or ''}",
            r["grade"] or "",
            str(r["numerator_value"]),
            str(r["denominator_value"]),
            r["facts"] or "",
        )
    out.print(table)


@marts_app.command("report")
@handles_errors
def report_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the card into.")],
    tenant: TenantOption = None,
    year: YearOption = str(DEFAULT_SCHOOL_YEAR),
    district: Annotated[bool, typer.Option("--district", help="The district's card.")] = False,
    school: Annotated[str | None, typer.Option("--school", help="One school's card.")] = None,
    role: RoleOption = "public",
    as_json: JsonFlag = False,
) -> None:
    """Write the grade card as self-contained HTML (charts inline) and XLSX."""
    if district == bool(school):
        raise definitions.MartError("give --district or --school CODE (one of them)")
    store = checked_store()
    code = tenant_code(store, tenant)
    result = write_report(store, code, year, out_dir, school_code=school, role=role)
    if as_json:
        emit_json(result.as_dict())
        return
    out.print(
        f"wrote {result.html} and {result.xlsx} ({result.indicators} indicators, "
        f"{result.charts} charts)",
        highlight=False,
    )
