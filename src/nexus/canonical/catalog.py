"""Mappings and code crosswalks as data in the store: loading them, listing them, editing them.

The package ships one mapping per source kind (`mappings/<kind>.yaml`) and the default
crosswalks (`mappings/crosswalks.yaml`). Mapping a run registers the mapping version it used
in `integration.mappings` / `mapping_fields` (one row per target field: source field, target
field and the rule between), so an operator can always see what produced a canonical value.
Crosswalks are copied per tenant into `integration.code_crosswalks`; a tenant's own edits
(`origin = tenant`) win over the package's and survive package updates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
import yaml

from nexus.canonical.errors import MappingError
from nexus.canonical.spec import MAPPINGS_DIR, MappingSpec, available_kinds, load_spec
from nexus.store.canonical_tables import code_crosswalks, mapping_fields, mappings

CROSSWALKS_FILE = MAPPINGS_DIR / "crosswalks.yaml"


def package_crosswalks(path: Path = CROSSWALKS_FILE) -> dict[str, dict[str, str]]:
    """The shipped crosswalks: name -> {source code: canonical code}."""
    doc = yaml.safe_load(path.read_text()) or {}
    return {
        name: {str(k): str(v) for k, v in (body.get("codes") or {}).items()}
        for name, body in (doc.get("crosswalks") or {}).items()
    }


def field_rows(spec: MappingSpec) -> list[dict]:
    """One row per mapped field: source entity, target, target field, source fields, rule."""
    rows: list[dict] = []
    for m in spec.maps:
        target = m.target + (f"({m.person_kind})" if m.person_kind else "")
        target += f"#{m.key_suffix}" if m.key_suffix else ""
        items = [("(key)", r) for r in m.key] + list(m.fields.items())
        if m.when:
            items.append(("(when)", m.when))
        items += [(f"identifier:{i.type}@{i.authority}", i.value) for i in m.identifiers]
        for name, rule in items:
            rows.append(
                {
                    "source_entity": m.entity,
                    "target": target,
                    "target_field": name,
                    "source_fields": ", ".join(rule.source_fields) or None,
                    "rule": rule.text,
                }
            )
    return rows


def register(conn: sa.Connection, tenant_id: int, spec: MappingSpec) -> None:
    """Record the mapping version in the store (replacing a same-version, edited copy)."""
    current = conn.execute(
        sa.select(mappings.c.sha256).where(
            mappings.c.tenant_id == tenant_id,
            mappings.c.source_kind == spec.source_kind,
            mappings.c.version == spec.version,
        )
    ).scalar()
    if current != spec.sha256:
        where = (
            (mappings.c.tenant_id == tenant_id)
            & (mappings.c.source_kind == spec.source_kind)
            & (mappings.c.version == spec.version)
        )
        conn.execute(mappings.delete().where(where))
        conn.execute(
            mapping_fields.delete().where(
                (mapping_fields.c.tenant_id == tenant_id)
                & (mapping_fields.c.source_kind == spec.source_kind)
                & (mapping_fields.c.version == spec.version)
            )
        )
        conn.execute(
            mappings.insert().values(
                tenant_id=tenant_id,
                source_kind=spec.source_kind,
                version=spec.version,
                sha256=spec.sha256,
                key_scope=spec.key_scope,
                document=spec.document,
                loaded_at=datetime.now(UTC),
            )
        )
        rows = field_rows(spec)
        if rows:
            conn.execute(
                mapping_fields.insert(),
                [
                    {
                        "tenant_id": tenant_id,
                        "source_kind": spec.source_kind,
                        "version": spec.version,
                        "field_no": i,
                        **row,
                    }
                    for i, row in enumerate(rows, start=1)
                ],
            )
    sync_crosswalks(conn, tenant_id)


def sync_crosswalks(conn: sa.Connection, tenant_id: int) -> None:
    """Bring the tenant's package crosswalk rows up to the package; tenant edits stay."""
    edited = {
        (r.crosswalk, r.source_code)
        for r in conn.execute(
            sa.select(code_crosswalks.c.crosswalk, code_crosswalks.c.source_code).where(
                code_crosswalks.c.tenant_id == tenant_id, code_crosswalks.c.origin == "tenant"
            )
        )
    }
    conn.execute(
        code_crosswalks.delete().where(
            code_crosswalks.c.tenant_id == tenant_id, code_crosswalks.c.origin == "package"
        )
    )
    rows = [
        {
            "tenant_id": tenant_id,
            "crosswalk": name,
            "source_code": code,
            "canonical_code": value,
            "origin": "package",
        }
        for name, codes in package_crosswalks().items()
        for code, value in codes.items()
        if (name, code) not in edited
    ]
    if rows:
        conn.execute(code_crosswalks.insert(), rows)


def crosswalks(conn: sa.Connection, tenant_id: int) -> pa.Table:
    rows = conn.execute(
        sa.select(
            code_crosswalks.c.crosswalk,
            code_crosswalks.c.source_code,
            code_crosswalks.c.canonical_code,
        ).where(code_crosswalks.c.tenant_id == tenant_id)
    ).all()
    return pa.table(
        {
            "crosswalk": pa.array([r[0] for r in rows], pa.string()),
            "source_code": pa.array([r[1] for r in rows], pa.string()),
            "canonical_code": pa.array([r[2] for r in rows], pa.string()),
        }
    )


def set_crosswalk(
    conn: sa.Connection, tenant_id: int, crosswalk: str, source_code: str, canonical_code: str
) -> None:
    """A tenant's own code translation (wins over the package's from now on)."""
    if crosswalk not in package_crosswalks():
        raise MappingError(f"no crosswalk {crosswalk!r}; see `nexus mappings crosswalks`")
    conn.execute(
        code_crosswalks.delete().where(
            code_crosswalks.c.tenant_id == tenant_id,
            code_crosswalks.c.crosswalk == crosswalk,
            code_crosswalks.c.source_code == source_code,
        )
    )
    conn.execute(
        code_crosswalks.insert().values(
            tenant_id=tenant_id,
            crosswalk=crosswalk,
            source_code=source_code,
            canonical_code=canonical_code,
            origin="tenant",
        )
    )


def list_crosswalk_rows(conn: sa.Connection, tenant_id: int, name: str | None) -> list[dict]:
    sync_crosswalks(conn, tenant_id)
    query = sa.select(code_crosswalks).where(code_crosswalks.c.tenant_id == tenant_id)
    if name:
        query = query.where(code_crosswalks.c.crosswalk == name)
    rows = conn.execute(
        query.order_by(code_crosswalks.c.crosswalk, code_crosswalks.c.source_code)
    ).mappings()
    return [
        {k: r[k] for k in ("crosswalk", "source_code", "canonical_code", "origin")} for r in rows
    ]


def list_mappings() -> list[dict]:
    """The packaged mappings: kind, version, scope, entity maps and field count."""
    out = []
    for kind in available_kinds():
        spec = load_spec(kind)
        out.append(
            {
                "source_kind": kind,
                "version": spec.version,
                "key_scope": spec.key_scope,
                "maps": len(spec.maps),
                "fields": len(field_rows(spec)),
                "targets": sorted({m.target for m in spec.maps}),
            }
        )
    return out


def show_mapping(source_kind: str) -> dict:
    spec = load_spec(source_kind)
    return {
        "source_kind": spec.source_kind,
        "version": spec.version,
        "key_scope": spec.key_scope,
        "date_format": spec.date_format,
        "sha256": spec.sha256,
        "fields": field_rows(spec),
    }
