"""MOSIS ID assignment: the batch request for students without a MOSIS ID, and the import of
DESE's response, which closes the "enrolled but no MOSIS ID" loop.

- `request_ids` is an extract run of the `mosis_id_batch` layout (annual): the file, its
  sha256, rows and traces are kept like any MOSIS file's (`nexus mosis runs show`).
- `import_ids` reads DESE's response and stores each assigned ID as a `mosis_state_id`
  identifier (authority DESE) in `census.person_identifiers`, on every identity of the student
  that carries the local student number it was requested with. Those identifiers belong to
  the tenant's `mosis-id` source system, so no SIS map closes them; their `valid_from_run` is
  the import's id in `reporting.mosis_id_imports`. The next Student Core extract (and every
  other student file) then reports the student.

DESE's response layout was not found (the reference has vendor pages only). Nexus reads a
delimited text file (tab or comma) whose first line names its columns: the local student
number (`LocalStudentID`, `Local Student Number`, `StudentNumber`, …) and the MOSIS ID
(`StateID`, `MOSIS ID`, …) are needed; last name, first name and birth date, when present,
are compared with the student's (a difference only warns, as vendors do).

A file that cannot be read as such (not text, no records, the needed columns missing) is
refused whole. Otherwise each record is assigned, found already held, or rejected with its
reason (unknown local id, an id of a bad form, an id another student holds, a student who
holds another id, a record the file contradicts); rejected records change nothing and the
good ones are kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from nexus.errors import NexusError
from nexus.integration.artifacts import keep
from nexus.integration.sources import ensure_source_system
from nexus.mosis.extract import ExtractResult, run_extract
from nexus.store import Store
from nexus.store.bulk import bulk_load
from nexus.store.canonical_tables import identities, person_identifiers
from nexus.store.engine import current_user
from nexus.store.reporting_tables import mosis_id_imports
from nexus.store.tenants import find_tenant

ID_SOURCE_KIND = "mosis-id"
ID_SOURCE_NAME = "DESE MOSIS ID assignment"
# DESE's MOSIS ID is Text 10; every one seen is ten digits.
MOSIS_ID = re.compile(r"\d{10}")

# Accepted column names, compared lower-case without spaces, dashes or underscores.
COLUMNS = {
    "local_id": ("localstudentid", "localstudentnumber", "localid", "studentnumber"),
    "state_id": ("stateid", "mosisid", "mosisstudentid", "mosisstateid"),
    "last_name": ("lastname", "legallastname"),
    "first_name": ("firstname", "legalfirstname"),
    "birth_date": ("dateofbirth", "birthdate"),
}


class IdImportError(NexusError):
    """A response file refused whole (the message names the file and says why)."""


@dataclass
class IdImportResult:
    import_id: int | None
    file: str
    status: str  # succeeded | partial | refused
    records: int = 0
    assigned: int = 0
    already_held: int = 0
    rejected: int = 0
    warnings: int = 0
    outcomes: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "import_id": self.import_id,
            "file": self.file,
            "status": self.status,
            "records": self.records,
            "assigned": self.assigned,
            "already_held": self.already_held,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "outcomes": self.outcomes,
        }


def request_ids(
    store: Store,
    tenant_code: str,
    school_year: int,
    out_dir: Path,
    *,
    school_code: str | None = None,
    user: str | None = None,
) -> ExtractResult:
    """Write the MOSIS ID batch request of the year's students without a MOSIS ID."""
    return run_extract(
        store,
        tenant_code,
        school_year,
        "annual",
        "mosis_id_batch",
        out_dir,
        school_code=school_code,
        user=user,
    )


def _key(name: str) -> str:
    return re.sub(r"[\s_\-/]", "", name.strip().lower())


def read_response(path: Path) -> list[dict]:
    """The response's records as dicts of `COLUMNS` keys, with their line numbers."""
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise IdImportError(f"{name}: not a readable text file ({exc.__class__.__name__})") from exc
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise IdImportError(f"{name}: empty file")
    delimiter = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [_key(h) for h in rows[0]]
    where: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                where.setdefault(key, i)
    missing = [k for k in ("local_id", "state_id") if k not in where]
    if missing:
        need = " and ".join(
            {"local_id": "LocalStudentID", "state_id": "StateID"}[k] for k in missing
        )
        raise IdImportError(
            f"{name}: wrong columns: no {need} column (found: {', '.join(rows[0]) or 'none'})"
        )
    records = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        record = {"line": n}
        for key, i in where.items():
            record[key] = row[i].strip() if i < len(row) else ""
        records.append(record)
    if not records:
        raise IdImportError(f"{name}: no records after the column names")
    return records


def _students(conn: sa.Connection, tenant_id: int) -> tuple[dict, dict, dict]:
    """(local id → {person_id: [(scope, source key)]}, MOSIS ID → person ids, person → names)."""
    ids = conn.execute(
        sa.select(
            person_identifiers.c.identifier_type,
            person_identifiers.c.value,
            person_identifiers.c.key_scope,
            person_identifiers.c.source_key,
            identities.c.person_id,
        )
        .select_from(
            person_identifiers.join(
                identities,
                (identities.c.tenant_id == person_identifiers.c.tenant_id)
                & (identities.c.key_scope == person_identifiers.c.key_scope)
                & (identities.c.person_kind == person_identifiers.c.person_kind)
                & (identities.c.source_key == person_identifiers.c.source_key),
            )
        )
        .where(
            person_identifiers.c.tenant_id == tenant_id,
            person_identifiers.c.person_kind == "student",
            person_identifiers.c.valid_to_run.is_(None),
            person_identifiers.c.identifier_type.in_(("student_number", "mosis_state_id")),
            identities.c.person_id.is_not(None),
        )
    )
    by_local: dict[str, dict[int, list[tuple[str, str]]]] = {}
    by_state: dict[str, set[int]] = {}
    for kind, value, scope, source_key, person_id in ids:
        if kind == "student_number":
            by_local.setdefault(value, {}).setdefault(int(person_id), []).append(
                (scope, source_key)
            )
        else:
            by_state.setdefault(value, set()).add(int(person_id))
    names: dict[int, tuple] = {}
    for person_id, last, first, birth in conn.execute(
        sa.select(
            identities.c.person_id,
            identities.c.legal_last_name,
            identities.c.legal_first_name,
            identities.c.birth_date,
        )
        .where(
            identities.c.tenant_id == tenant_id,
            identities.c.person_kind == "student",
            identities.c.person_id.is_not(None),
        )
        .order_by(identities.c.key_scope, identities.c.source_key)
    ):
        names.setdefault(int(person_id), (last, first, birth))
    return by_local, by_state, names


def _parse_date(text: str) -> date | None:
    for fmt in ("%m/%d/%Y", "%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _mismatches(record: dict, known: tuple | None) -> list[str]:
    if known is None:
        return []
    last, first, birth = known
    out = []
    for key, value, label in (
        ("last_name", last, "last name"),
        ("first_name", first, "first name"),
    ):
        given = record.get(key)
        if given and value and given.casefold() != str(value).casefold():
            out.append(f"{label} differs from the SIS's")
    given = record.get("birth_date")
    if given and birth is not None and _parse_date(given) != birth:
        out.append("birth date differs from the SIS's")
    return out


def _judge(records: list[dict], by_local: dict, by_state: dict, names: dict) -> list[dict]:
    """Each record's outcome: assigned | already_held | rejected, with its message."""
    # What the file itself says twice, differently: both records are rejected.
    states_of_local: dict[str, set[str]] = {}
    locals_of_state: dict[str, set[str]] = {}
    for r in records:
        if r["local_id"] and MOSIS_ID.fullmatch(r["state_id"]):
            states_of_local.setdefault(r["local_id"], set()).add(r["state_id"])
            locals_of_state.setdefault(r["state_id"], set()).add(r["local_id"])
    held_by: dict[int, set[str]] = {}
    for state_id, people in by_state.items():
        for person_id in people:
            held_by.setdefault(person_id, set()).add(state_id)
    seen: set[tuple[str, str]] = set()
    outcomes = []
    for r in records:
        local_id, state_id = r["local_id"], r["state_id"]
        out = {"line": r["line"], "local_id": local_id, "state_id": state_id, "person_id": None}
        people = by_local.get(local_id, {})
        if not local_id or not state_id:
            outcome, message = "rejected", "no local student number or no MOSIS ID"
        elif not MOSIS_ID.fullmatch(state_id):
            outcome, message = "rejected", f"MOSIS ID {state_id!r} is not ten digits"
        elif not people:
            outcome, message = "rejected", f"no student has local student number {local_id!r}"
        elif len(people) > 1:
            outcome, message = (
                "rejected",
                (f"local student number {local_id!r} belongs to {len(people)} students"),
            )
        elif len(states_of_local[local_id]) > 1:
            outcome, message = (
                "rejected",
                (
                    f"the file gives local student number {local_id!r} "
                    f"{len(states_of_local[local_id])} different MOSIS IDs"
                ),
            )
        elif len(locals_of_state[state_id]) > 1:
            outcome, message = (
                "rejected",
                (
                    f"the file gives MOSIS ID {state_id} to "
                    f"{len(locals_of_state[state_id])} different students"
                ),
            )
        else:
            person_id = next(iter(people))
            out["person_id"] = person_id
            holders = by_state.get(state_id, set()) - {person_id}
            own = held_by.get(person_id, set())
            if holders:
                outcome, message = (
                    "rejected",
                    (
                        f"MOSIS ID {state_id} is already held by another student "
                        f"(person {min(holders)})"
                    ),
                )
            elif state_id in own:
                outcome, message = "already_held", "the student already holds this MOSIS ID"
            elif own:
                outcome, message = (
                    "rejected",
                    (f"the student already holds MOSIS ID {min(own)}: not replaced"),
                )
            elif (local_id, state_id) in seen:
                outcome, message = "already_held", "a repeated record of this file"
            else:
                outcome, message = "assigned", "stored as the student's MOSIS ID"
                seen.add((local_id, state_id))
            if outcome != "rejected":
                warnings = _mismatches(r, names.get(person_id))
                if warnings:
                    out["warnings"] = warnings
        out.update(outcome=outcome, message=message)
        outcomes.append(out)
    return outcomes


def import_ids(
    store: Store, tenant_code: str, path: Path, *, user: str | None = None
) -> IdImportResult:
    """Import DESE's MOSIS ID response file; see the module docstring."""
    path = Path(path)
    started = datetime.now(UTC)
    with store.engine.connect() as conn:
        tenant = find_tenant(conn, tenant_code)
    if tenant is None:
        raise IdImportError(f"no tenant {tenant_code!r}")
    try:
        records = read_response(path)
    except IdImportError as exc:
        with store.engine.begin() as conn:
            conn.execute(
                mosis_id_imports.insert().values(
                    tenant_id=tenant.tenant_id,
                    file_name=path.name,
                    status="refused",
                    reason=str(exc),
                    started_by=user or current_user(),
                    started_at=started,
                    ended_at=datetime.now(UTC),
                )
            )
        raise
    artifact = keep(store.settings.artifacts_dir, path)
    with store.engine.begin() as conn:
        by_local, by_state, names = _students(conn, tenant.tenant_id)
        outcomes = _judge(records, by_local, by_state, names)
        import_id = conn.execute(
            mosis_id_imports.insert()
            .values(
                tenant_id=tenant.tenant_id,
                file_name=path.name,
                sha256=artifact.sha256,
                artifact_path=str(artifact.path),
                status="running",
                started_by=user or current_user(),
                started_at=started,
            )
            .returning(mosis_id_imports.c.import_id)
        ).scalar_one()
        system = ensure_source_system(conn, tenant.tenant_id, ID_SOURCE_KIND, ID_SOURCE_NAME)
        rows = [
            (scope, source_key, o["state_id"])
            for o in outcomes
            if o["outcome"] == "assigned"
            for scope, source_key in by_local[o["local_id"]][o["person_id"]]
        ]
        if rows:
            n = len(rows)
            bulk_load(
                conn,
                person_identifiers,
                pa.table(
                    {
                        "tenant_id": pa.array([tenant.tenant_id] * n, pa.int64()),
                        "key_scope": pa.array([r[0] for r in rows], pa.string()),
                        "source_key": pa.array([r[1] for r in rows], pa.string()),
                        "person_kind": pa.array(["student"] * n, pa.string()),
                        "identifier_type": pa.array(["mosis_state_id"] * n, pa.string()),
                        "authority": pa.array(["DESE"] * n, pa.string()),
                        "value": pa.array([r[2] for r in rows], pa.string()),
                        "source_system_id": pa.array([system] * n, pa.int64()),
                        "valid_from_run": pa.array([import_id] * n, pa.int64()),
                    }
                ),
            )
        counts = {
            k: sum(1 for o in outcomes if o["outcome"] == k)
            for k in ("assigned", "already_held", "rejected")
        }
        warnings = sum(len(o.get("warnings", ())) for o in outcomes)
        status = "partial" if counts["rejected"] else "succeeded"
        conn.execute(
            mosis_id_imports.update()
            .where(
                mosis_id_imports.c.tenant_id == tenant.tenant_id,
                mosis_id_imports.c.import_id == import_id,
            )
            .values(
                records=len(outcomes),
                warnings=warnings,
                outcomes=outcomes,
                status=status,
                ended_at=datetime.now(UTC),
                **counts,
            )
        )
    return IdImportResult(
        import_id=import_id,
        file=path.name,
        status=status,
        records=len(outcomes),
        warnings=warnings,
        outcomes=outcomes,
        **counts,
    )


def list_id_imports(store: Store, tenant_code: str, limit: int = 50) -> list[dict]:
    """The tenant's response imports, newest first (without their per-record outcomes)."""
    with store.engine.connect() as conn:
        tenant = find_tenant(conn, tenant_code)
        if tenant is None:
            raise IdImportError(f"no tenant {tenant_code!r}")
        rows = conn.execute(
            sa.select(mosis_id_imports)
            .where(mosis_id_imports.c.tenant_id == tenant.tenant_id)
            .order_by(mosis_id_imports.c.import_id.desc())
            .limit(limit)
        ).mappings()
        return [{k: v for k, v in r.items() if k not in ("tenant_id", "outcomes")} for r in rows]
