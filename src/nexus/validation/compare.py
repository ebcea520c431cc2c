"""Compare the four values of a record, field by field: what the SIS sent (the source record's
column), the canonical value derived now (the layout's derivation over canonical data, with
its trace), the value in the newest extract file of the cycle, and DESE's post-submission
correction (`nexus mosis corrections import`).

The SIS column of a field is found through the field's derivation (its canonical table and
column) and the source's mapping (`nexus/canonical/mappings/<source>.yaml`); where that chain
is not a plain column (a computed field), the SIS value is left blank and the trace says why.

DESE's returned file: its format is not in the reference, so Nexus reads a CSV with a header
naming at least `StateID`, the field (`Column`, `Field` or `ColumnName`) and the corrected
value (`CorrectedValue`, `Value` or `NewValue`), optionally `RuleID`, `Severity`, `Message`.
The whole file is checked before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
import yaml

from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.cycles import cycle_dates, parse_collection
from nexus.mosis.derivations import DERIVATIONS, ExtractContext, load_all
from nexus.mosis.extract import in_session
from nexus.store import Store, audit
from nexus.store.engine import current_user
from nexus.store.reporting_tables import (
    mosis_extract_rows,
    mosis_extract_runs,
    mosis_extract_values,
)
from nexus.store.validation_tables import mosis_corrections
from nexus.validation.engine import ValidationError, _tenant_facts
from nexus.validation.work import WorkArea

STATE_ID = ("stateid", "mosisid", "state_id", "mosis_id")
FIELD = ("column", "field", "columnname", "column_name", "fieldname")
VALUE = ("correctedvalue", "value", "newvalue", "corrected_value")


@cache
def _mapping(kind: str) -> dict:
    try:
        text = (
            resources.files("nexus.canonical")
            .joinpath("mappings", f"{kind}.yaml")
            .read_text("utf-8")
        )
    except FileNotFoundError:
        return {}
    return yaml.safe_load(text) or {}


def _source_column(kind: str, table: str, column: str) -> str | None:
    """The source column a canonical (table, column) is mapped from by source `kind`."""
    for m in _mapping(kind).get("maps", []):
        if m.get("target") != table:
            continue
        expr = (m.get("fields") or {}).get(column)
        if expr is None:
            for ident in m.get("identifiers") or []:
                if ident.get("type") == column:
                    expr = ident.get("value")
        if expr:
            first = str(expr).split("|")[0].strip()
            if re.fullmatch(r"[A-Za-z_][\w]*\.[\w]+", first):
                return first
    return None


def _canonical_ref(derivation) -> tuple[str, str] | None:
    """(canonical table, column) a derivation reads, when it names one."""
    if derivation is None:
        return None
    m = re.match(r"(census|education)\.(\w+)(?:\.(\w+)|\((\w+)\))?", derivation.source or "")
    if not m:
        return None
    table, column = m.group(2), m.group(3) or m.group(4)
    if column is None and re.fullmatch(r"\w+", derivation.sql.strip()):
        column = derivation.sql.strip()
    if table == "person_identifiers":
        table = "identities"
    return (table, column) if column else None


def compare_student(
    store: Store,
    tenant_code: str,
    state_id: str,
    school_year: int,
    cycle: str,
    layout_name: str,
    user: str | None = None,
) -> dict:
    """Field by field, the SIS, canonical, extract and corrected values of one student's row
    (an audited view by `user`, the process's user by default)."""
    load_all()
    cycle = parse_collection(cycle)
    with store.engine.begin() as conn:
        tenant, district = _tenant_facts(conn, tenant_code)
        mosis_layouts.load_package(conn)
        layout = mosis_layouts.get_layout(conn, layout_name, school_year)
        person = conn.execute(
            sa.text(
                "SELECT min(i.person_id) FROM census.person_identifiers p "
                "JOIN census.identities i ON i.tenant_id = p.tenant_id "
                "AND i.key_scope = p.key_scope AND i.person_kind = p.person_kind "
                "AND i.source_key = p.source_key WHERE p.tenant_id = :t "
                "AND p.identifier_type = 'mosis_state_id' AND p.value = :v "
                "AND p.valid_to_run IS NULL"
            ),
            {"t": tenant.tenant_id, "v": state_id},
        ).scalar()
        if person is None:
            raise ValidationError(f"no student with MOSIS ID {state_id}")
        dates = cycle_dates(cycle, school_year, in_session(conn, tenant.tenant_id))
        audit.record(
            conn,
            tenant.tenant_id,
            user or current_user(),
            "view.compare",
            {"layout": layout_name, "cycle": cycle, "person_ids": [int(person)]},
        )
    work = WorkArea(store, tenant.tenant_id)
    try:
        ctx = ExtractContext(
            tenant_id=tenant.tenant_id,
            school_year=school_year,
            dates=dates,
            collection_version=mosis_layouts.collection_version(layout, school_year, cycle),
            district_code=district,
            school_code=None,
        )
        _, fields = work.derive(layout, ctx)
        cols = [column for _, column, *_ in fields]
        row = work.db.execute(
            f"SELECT {', '.join(cols)} FROM vals WHERE person_id = {int(person)} "
            "ORDER BY row_no LIMIT 1"
        ).fetchall()
        row = row[0] if row else None
        pop_cols = {r[0] for r in work.db.execute("DESCRIBE pop").fetchall()}
        enrollment = None
        if "enrollment_id" in pop_cols:
            enrollment = work.db.execute(
                f"SELECT min(enrollment_id) FROM pop WHERE person_id = {int(person)}"
            ).fetchall()[0][0]
    finally:
        work.close()
    canonical = dict(zip(cols, row, strict=True)) if row else {}
    sis = _sis_payloads(store, tenant.tenant_id, int(person), enrollment)
    extract, run_id = _extract_values(
        store, tenant.tenant_id, school_year, cycle, layout_name, int(person)
    )
    corrected = _corrections(store, tenant.tenant_id, school_year, cycle, layout_name, state_id)
    out = []
    for f, column, name, rule, source in fields:
        d = DERIVATIONS.get(name or "")
        ref = _canonical_ref(d)
        sis_value, sis_from = None, None
        if ref is not None:
            table, col = ref
            kind, payload = sis.get(table, (None, None))
            if kind is not None:
                src_col = _source_column(kind, table, col)
                if src_col is not None:
                    sis_value, sis_from = payload.get(src_col), f"{kind} {src_col}"
        out.append(
            {
                "field": f.header,
                "sis": sis_value,
                "sis_column": sis_from,
                "canonical": canonical.get(column),
                "extract": extract.get(f.header),
                "correction": corrected.get(f.header),
                "trace": {"derivation": name, "rule": rule, "source": source},
            }
        )
    return {
        "state_id": state_id,
        "person_id": int(person),
        "school_year": school_year,
        "cycle": cycle,
        "layout": layout_name,
        "in_population": bool(row),
        "extract_run_id": run_id,
        "fields": out,
    }


def _sis_payloads(store: Store, tenant_id: int, person: int, enrollment: int | None) -> dict:
    """{canonical table: (source kind, payload)} of the person's SIS records."""
    query = (
        "SELECT :table AS t, s.kind, r.payload FROM integration.source_records r "
        "JOIN integration.source_entities e ON e.tenant_id = r.tenant_id "
        "AND e.entity_id = r.entity_id JOIN integration.source_systems s "
        "ON s.tenant_id = e.tenant_id AND s.source_system_id = e.source_system_id "
        "WHERE r.tenant_id = :tenant AND r.record_id = :rid"
    )
    out = {}
    with store.engine.connect() as conn:
        ident = conn.execute(
            sa.text(
                "SELECT i.source_record_id FROM census.identities i JOIN "
                "(SELECT key_scope, count(*) AS n FROM education.enrollments "
                "WHERE tenant_id = :tenant GROUP BY key_scope) k ON k.key_scope = i.key_scope "
                "WHERE i.tenant_id = :tenant AND i.person_id = :p AND i.person_kind = 'student' "
                "ORDER BY k.n DESC LIMIT 1"
            ),
            {"tenant": tenant_id, "p": person},
        ).scalar()
        targets = [("identities", ident)]
        if enrollment is not None:
            targets.append(
                (
                    "enrollments",
                    conn.execute(
                        sa.text(
                            "SELECT source_record_id FROM education.enrollments "
                            "WHERE tenant_id = :tenant AND enrollment_id = :e"
                        ),
                        {"tenant": tenant_id, "e": enrollment},
                    ).scalar(),
                )
            )
        for table, rid in targets:
            if rid is None:
                continue
            got = conn.execute(
                sa.text(query), {"table": table, "tenant": tenant_id, "rid": rid}
            ).first()
            if got is not None:
                out[table] = (got[1], json.loads(got[2]))
    return out


def _extract_values(
    store, tenant_id, school_year, cycle, layout, person
) -> tuple[dict, int | None]:
    t, rows, v = mosis_extract_runs, mosis_extract_rows, mosis_extract_values
    with store.engine.connect() as conn:
        run_id = conn.execute(
            sa.select(sa.func.max(t.c.extract_run_id)).where(
                t.c.tenant_id == tenant_id,
                t.c.school_year == school_year,
                t.c.cycle == cycle,
                t.c.layout == layout,
                t.c.status == "succeeded",
                t.c.school_code.is_(None),
            )
        ).scalar()
        if run_id is None:
            return {}, None
        row_no = conn.execute(
            sa.select(sa.func.min(rows.c.row_no)).where(
                rows.c.tenant_id == tenant_id,
                rows.c.extract_run_id == run_id,
                rows.c.subject_key == str(person),
            )
        ).scalar()
        if row_no is None:
            return {}, run_id
        values = dict(
            conn.execute(
                sa.select(v.c.column_name, v.c.value).where(
                    v.c.tenant_id == tenant_id,
                    v.c.extract_run_id == run_id,
                    v.c.row_no == row_no,
                )
            ).all()
        )
    return values, run_id


def _corrections(store, tenant_id, school_year, cycle, layout, state_id) -> dict:
    c = mosis_corrections
    with store.engine.connect() as conn:
        return {
            r.column_name: r.corrected_value
            for r in conn.execute(
                sa.select(c.c.column_name, c.c.corrected_value)
                .where(
                    c.c.tenant_id == tenant_id,
                    c.c.school_year == school_year,
                    c.c.cycle == cycle,
                    c.c.layout == layout,
                    c.c.state_id == state_id,
                )
                .order_by(c.c.correction_id)
            )
        }


def _pick(header: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in header:
            return header[name]
    return None


def import_corrections(
    store: Store,
    tenant_code: str,
    path: Path,
    school_year: int,
    cycle: str,
    layout_name: str,
    user: str | None = None,
) -> dict:
    """Load DESE's returned correction / error file; all of it or nothing."""
    cycle = parse_collection(cycle)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{path.name}: cannot read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{path.name}: not UTF-8 text") from None
    delimiter = (
        "\t" if text.split("\n", 1)[0].count("\t") > text.split("\n", 1)[0].count(",") else ","
    )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        head = next(reader)
    except StopIteration:
        raise ValidationError(f"{path.name}: empty file") from None
    header = {h.strip().lower().replace(" ", ""): h for h in head}
    names = {
        "state": _pick(header, STATE_ID),
        "field": _pick(header, FIELD),
        "value": _pick(header, VALUE),
    }
    missing = [k for k, v in names.items() if v is None]
    if missing:
        raise ValidationError(
            f"{path.name}: no {', '.join(missing)} column (needs StateID, Column, CorrectedValue; "
            f"found {', '.join(head)})"
        )
    index = {h: i for i, h in enumerate(head)}
    optional = {k: _pick(header, (k,)) for k in ("ruleid", "severity", "message")}
    now = datetime.now(UTC)
    sha = hashlib.sha256(data).hexdigest()
    rows, problems = [], []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(head):
            problems.append(f"line {line}: {len(values)} values, header has {len(head)}")
            continue

        def get(name: str | None, values=values) -> str | None:
            return values[index[name]].strip() or None if name else None

        state = get(names["state"])
        column = get(names["field"])
        if not state or not re.fullmatch(r"\d{10}", state):
            problems.append(f"line {line}: StateID {state!r} is not a 10-digit MOSIS ID")
            continue
        if not column:
            problems.append(f"line {line}: no column name")
            continue
        rows.append(
            {
                "school_year": school_year,
                "cycle": cycle,
                "layout": layout_name,
                "state_id": state,
                "column_name": column,
                "corrected_value": get(names["value"]),
                "rule_id": get(optional["ruleid"]),
                "severity": get(optional["severity"]),
                "message": get(optional["message"]),
                "file_name": path.name,
                "sha256": sha,
                "line": line,
                "imported_by": user or current_user(),
                "imported_at": now,
            }
        )
    if problems:
        raise ValidationError(
            f"{path.name}: {len(problems)} bad rows, nothing imported: " + "; ".join(problems[:5])
        )
    with store.engine.begin() as conn:
        tenant, _ = _tenant_facts(conn, tenant_code)
        c = mosis_corrections
        done = conn.execute(
            sa.select(sa.func.count()).where(c.c.tenant_id == tenant.tenant_id, c.c.sha256 == sha)
        ).scalar()
        if done:
            return {"file": path.name, "sha256": sha, "rows": 0, "already_imported": True}
        if rows:
            conn.execute(c.insert(), [{**r, "tenant_id": tenant.tenant_id} for r in rows])
        audit.record(
            conn,
            tenant.tenant_id,
            user or current_user(),
            "import.mosis_corrections",
            {"file": path.name, "rows": len(rows)},
        )
    return {"file": path.name, "sha256": sha, "rows": len(rows), "already_imported": False}
