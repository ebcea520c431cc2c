"""`nexus map`, `nexus reconcile`, `nexus mappings …` and `nexus identity …`: the commands of
the canonical and identity layers, thin shells over their public functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
import yaml
from rich.table import Table

from nexus.canonical import MappingError, catalog, map_run
from nexus.canonical.engine import MapResult, reconcile
from nexus.cli_common import JsonFlag, checked_store, emit_json, err, handles_errors, out
from nexus.identity import people as identity_people
from nexus.identity import review as identity_review
from nexus.store import Store, audit
from nexus.store.canonical_tables import mapping_errors, mapping_runs
from nexus.store.engine import current_user
from nexus.store.tables import ingestion_runs
from nexus.store.tenants import find_tenant, list_tenants

mappings_app = typer.Typer(
    help="Mappings: how each source kind's fields become canonical ones.", no_args_is_help=True
)
identity_app = typer.Typer(
    help="People across sources: match report, review queue, unmatched.", no_args_is_help=True
)
review_app = typer.Typer(help="Pairs waiting for a human decision.", no_args_is_help=True)
identity_app.add_typer(review_app, name="review")

TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="Tenant code (default: the only tenant).")
]


def tenant_code(store: Store, code: str | None) -> str:
    """The tenant named, or the only tenant there is (for other command modules)."""
    return _tenant_id(store, code)[0]


def _tenant_id(store: Store, code: str | None, run_id: int | None = None) -> tuple[str, int]:
    """The tenant named, or the tenant of the run named, or the only tenant there is."""
    with store.engine.connect() as conn:
        if code:
            tenant = find_tenant(conn, code)
            if tenant is None:
                raise MappingError(f"no tenant {code!r}")
            return tenant.code, tenant.tenant_id
        if run_id is not None:
            tenant_id = conn.execute(
                sa.select(ingestion_runs.c.tenant_id).where(ingestion_runs.c.run_id == run_id)
            ).scalar()
            if tenant_id is None:
                raise MappingError(f"no ingestion run {run_id}")
            found = [t for t in list_tenants(conn) if t.tenant_id == tenant_id]
            return found[0].code, tenant_id
        tenants = list_tenants(conn)
    if len(tenants) != 1:
        raise MappingError("name the tenant with --tenant")
    return tenants[0].code, tenants[0].tenant_id


# --- map and reconcile -------------------------------------------------------------------------


def map_command(
    tenant: TenantOption = None,
    run: Annotated[
        int | None, typer.Option("--run", help="Ingestion run (default: the newest).")
    ] = None,
    replay: Annotated[
        bool,
        typer.Option("--replay", help="Rebuild canonical from an older run's snapshot."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Map an ingestion run into the canonical model (staged, checked, promoted)."""
    store = checked_store()
    code, _ = _tenant_id(store, tenant, run)
    say = None if as_json else (lambda m: err.print(f"[dim]{m}[/dim]"))
    result = map_run(store, code, run, replay=replay, progress=say)
    if as_json:
        emit_json(result.as_dict())
    else:
        _print_map(result)
    raise typer.Exit(result.exit_code)


def _print_map(result: MapResult) -> None:
    colour = {"succeeded": "green", "partial": "yellow"}.get(result.status, "red")
    out.print(
        f"map run {result.map_run_id} of ingestion run {result.ingestion_run_id} "
        f"({result.source_kind}): [{colour}]{result.status}[/{colour}]",
        highlight=False,
    )
    table = Table("source entity -> target", "rows", "new", "changed", "deleted", "errors")
    for label, c in result.targets.items():
        if "absent" in c:
            table.add_row(label, "entity not delivered", "", "", "", "")
            continue
        table.add_row(
            label,
            *(f"{c.get(k, 0):,}" for k in ("rows", "inserted", "updated", "deleted", "errors")),
        )
    out.print(table)
    if result.identity:
        out.print(
            "people: "
            + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.identity.items())
        )
    if result.match_rates and not result.match_rates["creates_people"]:
        rates = result.match_rates
        out.print(
            f"match rate {rates['rate']:.1%} (required {rates['required']:.0%}): "
            + ", ".join(f"{p} {r:.0%}" for p, r in rates["pairs"].items())
        )
    if result.status == "failed" and result.reason:
        err.print(f"[red]error:[/red] {result.reason}", highlight=False)
    if result.error_count:
        out.print(
            f"{result.error_count:,} mapping errors: `nexus mappings errors {result.map_run_id}`"
        )


def reconcile_command(
    tenant: TenantOption = None,
    run: Annotated[
        int | None, typer.Option("--run", help="Ingestion run (default: the newest).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compare a run's source records with the canonical rows: per entity and per field."""
    store = checked_store()
    code, tenant_id = _tenant_id(store, tenant, run)
    result = reconcile(store, code, run)
    with store.engine.begin() as conn:
        audit.record(
            conn, tenant_id, current_user(), "view.reconcile", {"run": result.ingestion_run_id}
        )
    if as_json:
        payload = result.as_dict()
        payload["differences"] = payload.pop("errors")
        payload["difference_count"] = payload.pop("error_count")
        for key in ("map_run_id", "identity", "match_rates", "reason"):
            payload.pop(key, None)
        emit_json(payload)
        return
    out.print(
        f"ingestion run {result.ingestion_run_id} ({result.source_kind}) against canonical: "
        f"{result.status}",
        highlight=False,
    )
    table = Table("source entity -> target", "source", "canonical", "missing", "extra", "fields")
    for label, c in result.targets.items():
        if "absent" in c:
            continue
        fields = ", ".join(f"{k} {v}" for k, v in c["fields_differing"].items())
        table.add_row(
            label,
            f"{c['source_rows']:,}",
            f"{c['canonical_rows']:,}",
            f"{c['missing_in_canonical']:,}",
            f"{c['extra_in_canonical']:,}",
            fields,
        )
    out.print(table)


# --- mappings ----------------------------------------------------------------------------------


@mappings_app.command("list")
@handles_errors
def mappings_list(as_json: JsonFlag = False) -> None:
    """The packaged mappings, one per source kind."""
    rows = catalog.list_mappings()
    if as_json:
        emit_json({"mappings": rows})
        return
    table = Table("source kind", "version", "scope", "maps", "fields", "targets")
    for r in rows:
        table.add_row(
            r["source_kind"],
            str(r["version"]),
            r["key_scope"],
            str(r["maps"]),
            str(r["fields"]),
            ", ".join(r["targets"]),
        )
    out.print(table)


@mappings_app.command("show")
@handles_errors
def mappings_show(
    source_kind: Annotated[str, typer.Argument(help="e.g. campus-extract, star.")],
    as_json: JsonFlag = False,
) -> None:
    """Every mapped field: source entity and field, canonical target and field, the rule."""
    shown = catalog.show_mapping(source_kind)
    if as_json:
        emit_json(shown)
        return
    out.print(
        f"{shown['source_kind']} mapping v{shown['version']} (scope {shown['key_scope']})",
        highlight=False,
    )
    table = Table("source entity", "source field", "target", "target field", "rule")
    for f in shown["fields"]:
        table.add_row(
            f["source_entity"], f["source_fields"] or "", f["target"], f["target_field"], f["rule"]
        )
    out.print(table)


@mappings_app.command("crosswalks")
@handles_errors
def mappings_crosswalks(
    name: Annotated[str | None, typer.Argument(help="One crosswalk (default: all).")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Code crosswalks as the tenant has them (package defaults and the tenant's edits)."""
    store = checked_store()
    _, tenant_id = _tenant_id(store, tenant)
    with store.engine.begin() as conn:
        rows = catalog.list_crosswalk_rows(conn, tenant_id, name)
    if as_json:
        emit_json({"crosswalks": rows})
        return
    table = Table("crosswalk", "source code", "canonical code", "origin")
    for r in rows:
        table.add_row(r["crosswalk"], r["source_code"], r["canonical_code"], r["origin"])
    out.print(table)


@mappings_app.command("crosswalk-set")
@handles_errors
def mappings_crosswalk_set(
    name: Annotated[str, typer.Argument(help="Crosswalk, e.g. grade_level.")],
    source_code: Annotated[str, typer.Argument(help="The source's code.")],
    canonical_code: Annotated[str, typer.Argument(help="The canonical code it means.")],
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Set the tenant's own translation of one source code (used from the next map)."""
    store = checked_store()
    _, tenant_id = _tenant_id(store, tenant)
    with store.engine.begin() as conn:
        catalog.set_crosswalk(conn, tenant_id, name, source_code, canonical_code)
    row = {"crosswalk": name, "source_code": source_code, "canonical_code": canonical_code}
    if as_json:
        emit_json(row)
    else:
        out.print(f"{name}: {source_code} -> {canonical_code} (tenant)", highlight=False)


@mappings_app.command("runs")
@handles_errors
def mappings_runs(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """The tenant's map runs, newest first."""
    store = checked_store()
    _, tenant_id = _tenant_id(store, tenant)
    with store.engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(mapping_runs)
                .where(mapping_runs.c.tenant_id == tenant_id)
                .order_by(mapping_runs.c.map_run_id.desc())
                .limit(100)
            ).mappings()
        ]
    if as_json:
        emit_json({"map_runs": rows})
        return
    table = Table("map run", "ingestion run", "kind", "status", "replay", "started", "by")
    for r in rows:
        table.add_row(
            str(r["map_run_id"]),
            str(r["ingestion_run_id"]),
            r["source_kind"],
            r["status"],
            "yes" if r["replay"] else "",
            r["started_at"].isoformat(timespec="seconds"),
            r["started_by"],
        )
    out.print(table)


@mappings_app.command("errors")
@handles_errors
def mappings_errors(
    map_run_id: Annotated[int, typer.Argument(help="Map run id.")],
    limit: Annotated[int, typer.Option("--limit")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """A map run's mapping errors: entity, record key, field, rule, value."""
    store = checked_store()
    with store.engine.begin() as conn:
        tenant_id = conn.execute(
            sa.select(mapping_runs.c.tenant_id).where(mapping_runs.c.map_run_id == map_run_id)
        ).scalar()
        if tenant_id is None:
            raise MappingError(f"no map run {map_run_id}")
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(mapping_errors)
                .where(
                    mapping_errors.c.tenant_id == tenant_id,
                    mapping_errors.c.map_run_id == map_run_id,
                )
                .order_by(mapping_errors.c.error_no)
                .limit(limit)
            ).mappings()
        ]
        audit.record(
            conn, tenant_id, current_user(), "view.mapping_errors", {"map_run": map_run_id}
        )
    for r in rows:
        r.pop("tenant_id")
    if as_json:
        emit_json({"map_run_id": map_run_id, "errors": rows})
        return
    table = Table("#", "entity", "target", "key", "field", "rule", "value", "message")
    for r in rows:
        table.add_row(
            str(r["error_no"]),
            r["source_entity"],
            r["target"],
            (r["natural_key"] or "").replace("\x1f", "|"),
            r["field"] or "",
            r["rule"],
            r["value"] or "",
            r["message"],
        )
    out.print(table)


# --- identity ----------------------------------------------------------------------------------


@identity_app.command("report")
@handles_errors
def identity_report(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Source persons per source kind: matched, waiting for review, unmatched."""
    store = checked_store()
    _, tenant_id = _tenant_id(store, tenant)
    with store.engine.connect() as conn:
        shown = identity_review.report(conn, tenant_id)
    if as_json:
        emit_json(shown)
        return
    table = Table("source kind", "matched", "review", "unmatched")
    for kind, c in shown["sources"].items():
        table.add_row(kind, f"{c['matched']:,}", f"{c['review']:,}", f"{c['unmatched']:,}")
    out.print(table)


@identity_app.command("unmatched")
@handles_errors
def identity_unmatched(
    tenant: TenantOption = None,
    source: Annotated[str | None, typer.Option("--source", help="One source kind.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Source persons linked to no one: kept and listed, never dropped."""
    store = checked_store()
    _, tenant_id = _tenant_id(store, tenant)
    with store.engine.begin() as conn:
        rows = identity_review.unmatched(conn, tenant_id, current_user(), source)
    if as_json:
        emit_json({"unmatched": rows})
        return
    table = Table("source", "kind", "source key", "status", "name", "birth date", "grade")
    for r in rows:
        table.add_row(
            r["source_kind"],
            r["person_kind"],
            r["source_key"],
            r["link_status"],
            f"{r['last_name'] or ''}, {r['first_name'] or ''}",
            str(r["birth_date"] or ""),
            r["grade"] or "",
        )
    out.print(table)


@identity_app.command("settings")
@handles_errors
def identity_settings(
    tenant: TenantOption = None,
    set_file: Annotated[
        Path | None,
        typer.Option("--set", help="YAML with chains / thresholds / required_match_rate."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the tenant's match settings, or replace its overrides from a YAML file."""
    store = checked_store()
    _, tenant_id = _tenant_id(store, tenant)
    with store.engine.begin() as conn:
        if set_file is not None:
            try:
                document = yaml.safe_load(set_file.read_text())
            except (OSError, yaml.YAMLError) as exc:
                raise identity_people.IdentityError(f"{set_file}: {exc}") from exc
            if not isinstance(document, dict):
                raise identity_people.IdentityError(f"{set_file}: expected a YAML mapping")
            identity_people.set_settings(conn, tenant_id, document)
        shown = identity_people.settings_for(conn, tenant_id)
    if as_json:
        emit_json(shown)
    else:
        out.print(yaml.safe_dump(shown, sort_keys=False), highlight=False)


@review_app.command("list")
@handles_errors
def review_list(
    tenant: TenantOption = None,
    status: Annotated[str, typer.Option("--status")] = "pending",
    as_json: JsonFlag = False,
) -> None:
    """Pairs Splink scored between the thresholds, both sides shown."""
    store = checked_store()
    _, tenant_id = _tenant_id(store, tenant)
    with store.engine.begin() as conn:
        rows = identity_review.list_reviews(conn, tenant_id, current_user(), status)
    if as_json:
        emit_json({"reviews": json.loads(json.dumps(rows, default=str))})
        return
    table = Table("review", "source", "key", "name", "birth date", "candidate", "cand. birth", "p")
    for r in rows:
        table.add_row(
            str(r["review_id"]),
            r["key_scope"],
            r["source_key"],
            f"{r['last_name'] or ''}, {r['first_name'] or ''}",
            str(r["birth_date"] or ""),
            f"{r['candidate_person_id']}: {r['candidate_name'] or ''}",
            str(r["candidate_birth_date"] or ""),
            f"{r['match_probability']:.3f}",
        )
    out.print(table)


def _decide(review_id: int, accept: bool, tenant: str | None, as_json: bool) -> None:
    store = checked_store()
    _, tenant_id = _tenant_id(store, tenant)
    with store.engine.begin() as conn:
        outcome = identity_review.decide(conn, tenant_id, review_id, accept, current_user())
    if as_json:
        emit_json(outcome)
    else:
        out.print(f"review {review_id}: {outcome['status']}", highlight=False)


@review_app.command("accept")
@handles_errors
def review_accept(review_id: int, tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Link the source person to the candidate."""
    _decide(review_id, True, tenant, as_json)


@review_app.command("reject")
@handles_errors
def review_reject(review_id: int, tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Keep them apart: the pair is not proposed again."""
    _decide(review_id, False, tenant, as_json)


def register(app: typer.Typer) -> None:
    app.command("map")(handles_errors(map_command))
    app.command("reconcile")(handles_errors(reconcile_command))
    app.add_typer(mappings_app, name="mappings")
    app.add_typer(identity_app, name="identity")
