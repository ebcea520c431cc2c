"""The `nexus` commands of the Ed-Fi layer: `nexus edfi build | send | status`; thin shells over
`nexus.edfi`."""

from __future__ import annotations

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
    err,
    handles_errors,
    out,
)
from nexus.edfi import parse_school_year, run_build, run_send, status

edfi_app = typer.Typer(
    help="Ed-Fi (Missouri v3.6): build, validate and send courseTranscripts and "
    "studentAssessments with the resources they reference.",
    no_args_is_help=True,
)

ResourceOption = Annotated[
    list[str] | None,
    typer.Option("--resource", help="Only this resource (repeatable), e.g. courseTranscripts."),
]


def register(app: typer.Typer) -> None:
    """Add these commands to the `nexus` app."""
    app.add_typer(edfi_app, name="edfi")


@edfi_app.command("build")
@handles_errors
def build_command(
    year: YearOption,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for <resource>.jsonl files.")],
    tenant: TenantOption = None,
    resource: ResourceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Build and validate the year's resources; write JSONL; keep them for `edfi send`.
    Exit 3 when some records are invalid (listed in problems.jsonl and `edfi status`)."""
    store = checked_store()
    code = tenant_code(store, tenant)
    result = run_build(store, code, parse_school_year(year), out_dir, resource or None)
    invalid = sum(c["invalid"] for c in result.counts.values())
    if as_json:
        emit_json(result.as_dict())
    else:
        table = Table(
            "resource",
            "built",
            "valid",
            "invalid",
            "warnings",
            title=f"Ed-Fi build {result.build_id} ({result.as_dict()['school_year_label']})",
        )
        for name, c in result.counts.items():
            table.add_row(
                name, str(c["built"]), str(c["valid"]), str(c["invalid"]), str(c["warnings"])
            )
        out.print(table)
        for name, reasons in result.skipped.items():
            if reasons:
                listed = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))
                out.print(f"{name} not sent by rule: {listed}", highlight=False)
        if result.problems:
            listed = ", ".join(f"{k} {v}" for k, v in sorted(result.problems.items()))
            out.print(f"problems: {listed} (see {out_dir / 'problems.jsonl'})", highlight=False)
    if invalid:
        raise typer.Exit(3)


@edfi_app.command("send")
@handles_errors
def send_command(
    year: YearOption,
    connection: Annotated[
        str, typer.Option("--connection", help="An edfi connection (`nexus connections add`).")
    ],
    tenant: TenantOption = None,
    resource: ResourceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Send the year's built records: new and changed only, in dependency order. Exit 3 when
    the server refused some records."""
    store = checked_store()
    code = tenant_code(store, tenant)
    result = run_send(store, code, parse_school_year(year), connection, resource or None)
    if as_json:
        emit_json(result.as_dict())
    else:
        table = Table(
            "resource",
            "posted",
            "created",
            "updated",
            "unchanged",
            "failed",
            "retry later",
            "deleted",
            "key changes",
            "not valid",
            title=f"Ed-Fi send {result.send_id} via {connection}: {result.status}",
        )
        for name, c in result.counts.items():
            d = c.as_dict()
            table.add_row(
                name,
                *(
                    str(d[k])
                    for k in (
                        "posted",
                        "created",
                        "updated",
                        "unchanged",
                        "failed",
                        "retry_later",
                        "deleted",
                        "key_changes",
                        "not_valid",
                    )
                ),
            )
        out.print(table)
        for f in result.failures[:20]:
            err.print(
                f"{f['resource']}: {f['records']} x {f['status']} {f['message']}", highlight=False
            )
    if result.status != "succeeded":
        raise typer.Exit(3)


@edfi_app.command("status")
@handles_errors
def status_command(
    year: YearOption,
    tenant: TenantOption = None,
    connection: Annotated[
        str | None, typer.Option("--connection", help="Default: the last one sent through.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Per resource: built, valid, sent, failed, pending, unchanged at the last send."""
    store = checked_store()
    code = tenant_code(store, tenant)
    found = status(store, code, parse_school_year(year), connection)
    if as_json:
        emit_json(found)
        return
    if not found["resources"]:
        out.print("nothing built for this year: run `nexus edfi build`")
        return
    table = Table(
        "resource",
        "built",
        "valid",
        "sent",
        "failed",
        "pending",
        "unchanged",
        title=f"Ed-Fi {year} via {found['connection'] or '(not sent yet)'}",
    )
    for r in found["resources"]:
        table.add_row(
            r["resource"],
            *(str(r[k]) for k in ("built", "valid", "sent", "failed", "pending", "unchanged")),
        )
    out.print(table)
