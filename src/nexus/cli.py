"""The `nexus` command line: every command a thin shell over a layer's public functions.

Each command accepts `--json` for machine-readable output (a contract: fields are added, never
renamed). Problems are reported in one clear line on stderr; no traceback reaches the user.
Exit status: 0 succeeded, 3 partial (finished with row errors), 1 failed, 2 usage.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nexus import (
    cli_canonical,
    cli_edfi,
    cli_jobs,
    cli_marts,
    cli_mosis,
    cli_users,
    cli_validation,
    cli_web,
    identity,
)
from nexus.cli_common import JsonFlag, checked_store, emit_json, err, handles_errors, out
from nexus.integration import IngestionError, ingest, runs, sources, write_snapshot
from nexus.store import secrets
from nexus.store.engine import current_user
from nexus.store.migrate import upgrade
from nexus.store.tenants import add_tenant, get_tenant, list_tenants
from nexus.synth.command import synth

app = typer.Typer(
    help="Nexus: Missouri MOSIS operational data platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
tenants_app = typer.Typer(
    help="Tenants: the districts whose data Nexus keeps apart.", no_args_is_help=True
)
connections_app = typer.Typer(
    help="Connections: how Nexus reaches a tenant's sources.", no_args_is_help=True
)
runs_app = typer.Typer(
    help="Ingestion runs: list, inspect, read errors, rebuild snapshots.", no_args_is_help=True
)
app.add_typer(tenants_app, name="tenants")
app.add_typer(connections_app, name="connections")
app.add_typer(runs_app, name="runs")
districts_app = typer.Typer(
    help="Districts: what the district gate recognises as a tenant's.", no_args_is_help=True
)
aliases_app = typer.Typer(
    help="Other names a district goes by in some source.", no_args_is_help=True
)
districts_app.add_typer(aliases_app, name="aliases")
app.add_typer(districts_app, name="districts")


@app.command()
@handles_errors
def init(as_json: JsonFlag = False) -> None:
    """Create or upgrade the database to the newest schema."""
    store = checked_store(require_schema=False)
    before, after = upgrade(store.engine)
    if as_json:
        emit_json({"database": store.settings.redacted_url(), "from": before, "to": after})
    elif before == after:
        out.print(f"database {store.settings.redacted_url()} is up to date (schema {after})")
    else:
        out.print(
            f"database {store.settings.redacted_url()} upgraded {before or 'empty'} → {after}"
        )


# --- tenants ------------------------------------------------------------------------------------


@tenants_app.command("add")
@handles_errors
def tenants_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. springfield-r12.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    district_code: Annotated[
        str | None,
        typer.Option(
            "--district-code", help="DESE county-district code (6 digits), if a Missouri district."
        ),
    ] = None,
    nces_id: Annotated[str | None, typer.Option("--nces-id", help="NCES LEA id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a tenant."""
    store = checked_store()
    with store.engine.begin() as conn:
        tenant = add_tenant(conn, code, name, district_code, nces_id)
        identity.register_district(conn, tenant)
    if as_json:
        emit_json(tenant.__dict__)
    else:
        out.print(f"tenant {tenant.code} added")


@tenants_app.command("list")
@handles_errors
def tenants_list(as_json: JsonFlag = False) -> None:
    """List tenants."""
    store = checked_store()
    with store.engine.connect() as conn:
        found = list_tenants(conn)
    if as_json:
        emit_json([t.__dict__ for t in found])
        return
    table = Table("code", "name", "district code", "NCES id")
    for t in found:
        table.add_row(t.code, t.name, t.county_district_code or "", t.nces_id or "")
    out.print(table)


# --- districts ----------------------------------------------------------------------------------


@districts_app.command("list")
@handles_errors
def districts_list(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant code.")],
    as_json: JsonFlag = False,
) -> None:
    """The tenant's districts: codes, names and aliases."""
    store = checked_store()
    with store.engine.connect() as conn:
        found = identity.list_districts(conn, get_tenant(conn, tenant).tenant_id)
    if as_json:
        emit_json([d.__dict__ for d in found])
        return
    table = Table("district", "DESE code", "NCES id", "account id", "aliases", "threshold")
    for d in found:
        table.add_row(
            d.name,
            d.county_district_code or "",
            d.nces_id or "",
            d.account_id or "",
            ", ".join(d.aliases),
            str(d.name_threshold),
        )
    out.print(table)


@aliases_app.command("add")
@handles_errors
def aliases_add(
    alias: Annotated[str, typer.Argument(help='Another name, e.g. "Belleville PD".')],
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant code.")],
    as_json: JsonFlag = False,
) -> None:
    """Register another name of the tenant's district for the district gate."""
    store = checked_store()
    with store.engine.begin() as conn:
        identity.add_alias(conn, get_tenant(conn, tenant).tenant_id, alias)
    if as_json:
        emit_json({"tenant": tenant, "alias": alias})
    else:
        out.print(f"alias {alias!r} added")


@aliases_app.command("list")
@handles_errors
def aliases_list(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant code.")],
    as_json: JsonFlag = False,
) -> None:
    """The names the tenant's district goes by."""
    store = checked_store()
    with store.engine.connect() as conn:
        found = identity.list_aliases(conn, get_tenant(conn, tenant).tenant_id)
    if as_json:
        emit_json(found)
    else:
        for alias in found:
            out.print(alias, highlight=False)


# --- connections --------------------------------------------------------------------------------


@connections_app.command("add")
@handles_errors
def connections_add(
    name: Annotated[str, typer.Argument(help="Connection name, unique within the tenant.")],
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant code.")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="csv, campus-extract, campus-sql, oneroster, powerschool, star, classlink; "
            "edfi (an ODS/API to send to).",
        ),
    ],
    url: Annotated[str, typer.Option("--url", help="Folder, database URL or REST base URL.")],
    client_id: Annotated[str | None, typer.Option("--client-id")] = None,
    client_secret_env: Annotated[
        str | None,
        typer.Option("--client-secret-env", help="Environment variable holding the secret."),
    ] = None,
    client_secret_file: Annotated[
        str | None, typer.Option("--client-secret-file", help="File holding the secret.")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            help="Connector option KEY=VALUE, repeatable (e.g. token_url=…, limit=500, "
            "entities=students,enrollments).",
        ),
    ] = None,
    client_secret_stdin: Annotated[
        bool,
        typer.Option(
            "--client-secret-stdin",
            help="Read the secret from stdin; stored encrypted with NEXUS_SECRET_KEY.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a connection. Secrets are stored by reference or encrypted, never printed."""
    store = checked_store()
    value = sys.stdin.readline().rstrip("\n") if client_secret_stdin else None
    ref = secrets.reference(client_secret_env, client_secret_file)
    with store.engine.begin() as conn:
        t = get_tenant(conn, tenant)
        connection = sources.add_connection(
            conn,
            t.tenant_id,
            name,
            kind,
            url,
            client_id=client_id,
            secret_ref=ref,
            secret_value=value,
            secret_key=store.settings.secret_key,
            options=_options(option or []),
        )
    if as_json:
        emit_json(_connection_json(connection, tenant))
    else:
        out.print(f"connection {name} added (secret: {connection.secret_held_as})")


def _options(pairs: list[str]) -> dict:
    options: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise IngestionError(f"--option {pair!r}: write KEY=VALUE")
        key = key.strip()
        options[key] = [v.strip() for v in value.split(",")] if key == "entities" else value
    return options


def _connection_json(c: sources.Connection, tenant_code: str) -> dict:
    return {
        "name": c.name,
        "tenant": tenant_code,
        "kind": c.kind,
        "url": c.url,
        "client_id": c.client_id,
        "secret": c.secret_held_as,
        "options": c.options,
    }


@connections_app.command("list")
@handles_errors
def connections_list(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant code.")],
    as_json: JsonFlag = False,
) -> None:
    """List a tenant's connections (secrets show only how they are held)."""
    store = checked_store()
    with store.engine.connect() as conn:
        t = get_tenant(conn, tenant)
        found = sources.list_connections(conn, t.tenant_id)
    if as_json:
        emit_json([_connection_json(c, tenant) for c in found])
        return
    table = Table("name", "kind", "url", "client id", "secret")
    for c in found:
        table.add_row(c.name, c.kind, c.url, c.client_id or "", c.secret_held_as)
    out.print(table)


# --- ingest -------------------------------------------------------------------------------------


@app.command("ingest")
@handles_errors
def ingest_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="csv, campus-extract, campus-sql, oneroster, powerschool, star or classlink."
        ),
    ],
    source: Annotated[
        str | None,
        typer.Argument(
            help="Folder, file, zip, database URL or REST URL; defaults to the connection's."
        ),
    ] = None,
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant code.")] = ...,
    connection: Annotated[str | None, typer.Option("--connection")] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping", help="Mapping YAML for csv sources; column renames for powerschool."
        ),
    ] = None,
    entities: Annotated[
        str | None,
        typer.Option(
            "--entities", help="Comma-separated entities to take (default: all expected)."
        ),
    ] = None,
    accept_type_changes: Annotated[
        bool,
        typer.Option(
            "--accept-type-changes", help="Accept a SQL source whose column types changed."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Ingest a source into versioned source records, as one run."""
    sources.check_kind(kind)
    store = checked_store()
    options: dict = {}
    if mapping is not None:
        options["mapping"] = str(mapping)
    if entities:
        options["entities"] = [e.strip() for e in entities.split(",") if e.strip()]
    show_progress = not as_json and out.is_terminal
    if show_progress:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        task = progress.add_task("starting", total=None)

        def report(name: str, rows: int | None) -> None:
            done = f" ({rows:,} rows)" if rows is not None else ""
            progress.update(task, description=f"{name}{done}")

        with progress:
            result = ingest(
                store,
                tenant,
                kind,
                source,
                connection_name=connection,
                accept_type_changes=accept_type_changes,
                gate=identity.district_gate,
                options=options,
                progress=report,
            )
    else:
        result = ingest(
            store,
            tenant,
            kind,
            source,
            connection_name=connection,
            accept_type_changes=accept_type_changes,
            gate=identity.district_gate,
            options=options,
        )
    if as_json:
        emit_json(result.as_dict())
    else:
        _print_result(result)
    raise typer.Exit(result.exit_code)


def _print_result(result: runs.RunResult) -> None:
    colour = {"succeeded": "green", "partial": "yellow", "failed": "red"}[result.status]
    out.print(f"run {result.run_id}: [{colour}]{result.status}[/{colour}]", highlight=False)
    if result.files:
        table = Table("file", "rows", "status", "reason")
        for f in result.files:
            table.add_row(f.name, f"{f.rows:,}", f.status, f.reason or "")
        out.print(table)
    if result.entities:
        table = Table("entity", "new", "changed", "unchanged", "deleted", "errors")
        for name, c in result.entities.items():
            table.add_row(
                name, *(f"{c[k]:,}" for k in ("new", "changed", "unchanged", "deleted", "errors"))
            )
        out.print(table)
    if result.status == "failed" and result.reason:
        err.print(f"[red]error:[/red] {result.reason}", highlight=False)
    if result.error_total:
        out.print(f"{result.error_total:,} row errors: `nexus runs errors {result.run_id}`")


# --- demo and synth ----------------------------------------------------------------------------


@app.command()
@handles_errors
def demo(
    students: Annotated[int, typer.Option("--students")] = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Synthesise a Missouri district, ingest it through every connector and map it."""
    from nexus.demo import run_demo

    store = checked_store(require_schema=False)
    result = run_demo(
        store, students, seed, report=None if as_json else lambda m: err.print(f"[dim]{m}[/dim]")
    )
    if as_json:
        emit_json(
            {
                "district": result.district,
                "out_dir": str(result.out_dir),
                "runs": {kind: run.as_dict(error_limit=20) for kind, run in result.runs},
                "maps": {kind: m.as_dict(error_limit=20) for kind, m in result.maps},
                "mosis": result.extract.as_dict(problem_limit=20) if result.extract else None,
                "validation": result.validation,
                "readiness": result.readiness,
                "exceptions_by_owner": result.top_owners,
            }
        )
        return
    d = result.district
    out.print(
        f"[bold]{d['name']}[/bold] (county-district {d.get('county_district_code')}, "
        f"{len(d.get('schools', []))} schools), files in {result.out_dir}"
    )
    table = Table(
        "source", "run", "status", "entities", "new", "changed", "unchanged", "deleted", "errors"
    )
    for kind, run in result.runs:
        sums = {
            k: sum(e[k] for e in run.entities.values())
            for k in ("new", "changed", "unchanged", "deleted", "errors")
        }
        table.add_row(
            kind,
            str(run.run_id),
            run.status,
            str(len(run.entities)),
            *(f"{sums[k]:,}" for k in ("new", "changed", "unchanged", "deleted", "errors")),
        )
    out.print(table)
    table = Table("mapped", "map run", "status", "new", "changed", "deleted", "errors", "people")
    for kind, m in result.maps:
        counts = [c for c in m.targets.values() if "absent" not in c]
        table.add_row(
            kind,
            str(m.map_run_id),
            m.status,
            *(f"{sum(c[k] for c in counts):,}" for k in ("inserted", "updated", "deleted")),
            f"{m.error_count:,}",
            ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in m.identity.items() if v),
        )
    out.print(table)
    if result.extract:
        x = result.extract
        out.print(
            f"MOSIS October Student Core: {x.rows:,} rows in {x.file} "
            f"({x.blocking:,} left out, see `nexus mosis runs show {x.extract_run_id}`)"
        )
    if result.readiness:
        cli_validation.print_readiness(result.readiness)
    if result.top_owners is not None:
        cli_validation.print_top_owners(result.top_owners)
    out.print(
        "next: `nexus runs list`, `nexus runs snapshot RUN students`, `nexus identity report`, "
        "`nexus reconcile --run RUN`, `nexus exceptions list --owner registrar`"
    )


app.command("synth")(synth)


# --- runs ---------------------------------------------------------------------------------------


@runs_app.command("list")
@handles_errors
def runs_list(
    tenant: Annotated[str | None, typer.Option("--tenant")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List recent ingestion runs."""
    store = checked_store()
    with store.engine.connect() as conn:
        tenant_id = get_tenant(conn, tenant).tenant_id if tenant else None
        found = runs.list_runs(conn, tenant_id, limit)
    if as_json:
        emit_json(found)
        return
    table = Table("run", "kind", "source", "status", "started", "by")
    for r in found:
        table.add_row(
            str(r["run_id"]),
            r["kind"],
            r["source"],
            r["status"],
            r["started_at"][:19],
            r["started_by"],
        )
    out.print(table)


@runs_app.command("show")
@handles_errors
def runs_show(run_id: int, as_json: JsonFlag = False) -> None:
    """Show one run with its entities' counts."""
    store = checked_store()
    with store.engine.connect() as conn:
        run = runs.get_run(conn, run_id)
    if as_json:
        emit_json(run)
        return
    for key in (
        "run_id",
        "kind",
        "source",
        "status",
        "reason",
        "started_by",
        "started_at",
        "ended_at",
        "error_total",
    ):
        out.print(f"{key:>12}: {run.get(key)}", highlight=False)
    table = Table("entity", "mode", "new", "changed", "unchanged", "deleted", "errors")
    for name, c in run["entities"].items():
        table.add_row(
            name,
            c["mode"],
            *(str(c[k]) for k in ("new", "changed", "unchanged", "deleted", "errors")),
        )
    out.print(table)


@runs_app.command("files")
@handles_errors
def runs_files(run_id: int, as_json: JsonFlag = False) -> None:
    """The files (or queries) a run read: size, sha256, rows, status, drift."""
    store = checked_store()
    with store.engine.connect() as conn:
        found = runs.run_files(conn, run_id)
    if as_json:
        emit_json(found)
        return
    table = Table("file", "entity", "rows", "status", "sha256", "reason")
    for f in found:
        table.add_row(
            f["name"],
            f["entity"] or "",
            str(f["rows_read"]),
            f["status"],
            (f["sha256"] or "")[:12],
            f["reason"] or "",
        )
    out.print(table)


@runs_app.command("errors")
@handles_errors
def runs_errors(
    run_id: int,
    limit: Annotated[int | None, typer.Option("--limit")] = None,
    offset: Annotated[int, typer.Option("--offset")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Row errors of a run: file, line, column, value, reason."""
    store = checked_store()
    with store.engine.begin() as conn:
        found = runs.view_errors(conn, run_id, current_user(), limit=limit, offset=offset)
    if as_json:
        emit_json(found)
        return
    table = Table("file", "line", "column", "value", "reason")
    for e in found:
        table.add_row(
            e["file"] or "",
            str(e["line"] or ""),
            e["column"] or "",
            (e["value"] or "")[:40],
            e["reason"],
        )
    out.print(table)


@runs_app.command("snapshot")
@handles_errors
def runs_snapshot(
    run_id: int,
    entity: str,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "csv",
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
) -> None:
    """Write an entity's records as they stood at a run, with the source's own columns."""
    store = checked_store()
    with store.engine.begin() as conn:
        if out_file is None:
            write_snapshot(conn, run_id, entity, sys.stdout, fmt)
        else:
            with out_file.open("w", encoding="utf-8", newline="") as handle:
                count = write_snapshot(conn, run_id, entity, handle, fmt)
            err.print(f"{count:,} records written to {out_file}")


cli_canonical.register(app)
cli_mosis.register(app)
cli_validation.register(app)
cli_edfi.register(app)
cli_marts.register(app)
cli_jobs.register(app)
cli_users.register(app)
cli_web.register(app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except Exception as exc:  # the last guard: one line, never a traceback (NEXUS_DEBUG=1 shows it)
        import os

        if os.environ.get("NEXUS_DEBUG"):
            raise
        err.print(f"[red]error:[/red] unexpected {type(exc).__name__}: {exc}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
