"""`nexus edfi build`: the Missouri v3.6 resources of a school year from canonical data,
validated, written as JSONL per resource and kept in `edfi.records` for the send.

A build replaces the tenant's records of the year for the resources it builds; a record that
is no longer built is what the next send deletes from the ODS. Invalid records are kept (with
`valid` false) and their problems go to `edfi.record_problems` and, as exceptions, to the
validation ledger (`edfi/ledger.py`); they are never dropped silently.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from nexus.edfi import edorgs, resources, schema
from nexus.edfi.assessments import AssessmentBuilder
from nexus.edfi.errors import EdfiError
from nexus.edfi.facts import load_facts
from nexus.edfi.ledger import record_exceptions
from nexus.edfi.records import Record, canonical_json, digest
from nexus.edfi.transcripts import TranscriptBuilder
from nexus.store import Store, audit
from nexus.store.bulk import bulk_load
from nexus.store.edfi_tables import edfi_builds, edfi_record_problems, edfi_records
from nexus.store.tenants import get_tenant

# Seed 003: "Records will delete/post if the Credits Earned or Credits Attempted are changed".
KEY_CHANGE_FIELDS = {"courseTranscripts": ("attemptedCredits", "earnedCredits")}
PROBLEMS_FILE = "problems.jsonl"


def parse_school_year(value: str | int) -> int:
    """The ending year from `2026-27`, `2026-2027` or `2027`."""
    text = str(value).strip()
    if m := re.fullmatch(r"(\d{4})-(\d{2}|\d{4})", text):
        start, tail = int(m.group(1)), m.group(2)
        end = int(tail) if len(tail) == 4 else (start // 100) * 100 + int(tail)
        if end < start:
            end += 100
        if end == start + 1:
            return end
    elif re.fullmatch(r"\d{4}", text):
        return int(text)
    raise EdfiError(f"{value!r}: write the school year as 2026-27 or 2027")


def school_year_label(year: int) -> str:
    return f"{year - 1}-{str(year)[-2:]}"


def key_hash(resource: str, payload: dict) -> str:
    key = schema.natural_key(resource, payload)
    extra = {f: payload.get(f) for f in KEY_CHANGE_FIELDS.get(resource, ())}
    return digest({"key": key, "extra": extra})


@dataclass
class BuildResult:
    build_id: int
    school_year: int
    out_dir: str | None
    counts: dict[str, dict[str, int]]
    skipped: dict[str, dict[str, int]]
    problems: dict[str, int] = field(default_factory=dict)  # rule -> count
    seconds: dict[str, float] = field(default_factory=dict)  # per phase
    ledger: dict = field(default_factory=dict)  # the validation run that took the problems

    def as_dict(self) -> dict:
        return {
            "build_id": self.build_id,
            "school_year": self.school_year,
            "school_year_label": school_year_label(self.school_year),
            "out_dir": self.out_dir,
            "resources": self.counts,
            "not_sent_by_rule": self.skipped,
            "problems": self.problems,
            "seconds": self.seconds,
            "exceptions": self.ledger,
        }


def build_records(facts) -> tuple[list[Record], dict[str, dict[str, int]]]:
    """Every record of the year, validated; and the records not built by rule, per reason."""
    transcripts = TranscriptBuilder(facts)
    ct = transcripts.build()
    assessments = AssessmentBuilder(facts)
    sa_records = assessments.build()
    records: list[Record] = [
        *resources.descriptor_records(),
        *resources.school_records(facts),
        *resources.course_records(transcripts.ods_courses.values()),
        *resources.student_records(facts, _referenced_people(facts, ct, sa_records)),
        *resources.academic_record_records(ct),
        *resources.assessment_records(assessments.used.values()),
        *resources.objective_assessment_records(assessments.objectives),
        *ct,
        *sa_records,
    ]
    schema.validate(records, edorgs.server_side_references(facts.district_code))
    skipped = {"courseTranscripts": transcripts.skipped, "studentAssessments": assessments.skipped}
    return records, skipped


def _referenced_people(facts, transcripts: list[Record], assessments: list[Record]) -> set[int]:
    """People whose state id a built record names."""
    wanted = {r.payload["studentAcademicRecordReference"]["studentUniqueId"] for r in transcripts}
    wanted |= {r.payload["studentReference"]["studentUniqueId"] for r in assessments}
    return {p.person_id for p in facts.people.values() if p.state_id and p.state_id in wanted}


def run_build(
    store: Store,
    tenant_code: str,
    school_year: int,
    out_dir: str | Path | None = None,
    only: list[str] | None = None,
) -> BuildResult:
    """Build, validate, write and keep the year's resources (all, or `only` these)."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[phase] = round(now - clock, 3)
        clock = now

    with store.engine.connect() as conn:
        tenant = get_tenant(conn, tenant_code)
        facts = load_facts(
            conn, tenant.tenant_id, school_year, tenant.county_district_code, tenant.name
        )
    if not tenant.county_district_code:
        raise EdfiError(
            f"tenant {tenant_code} has no county-district code: the Reporting District Code "
            "names every Missouri Ed-Fi record (set it with `nexus tenants add`)"
        )
    lap("read_canonical")
    records, skipped = build_records(facts)
    lap("rules_and_validation")
    known = {r.resource for r in records}
    if only:
        unknown = sorted(set(only) - known - {"courseTranscripts", "studentAssessments"})
        if unknown:
            raise EdfiError(
                f"unknown resource {', '.join(unknown)}: use one of {', '.join(sorted(known))}"
            )
        records = [r for r in records if r.resource in only]
    built = sorted({*(only or known)})
    counts: dict[str, dict[str, int]] = {}
    for resource in schema.sort_by_load_order(built):
        rs = [r for r in records if r.resource == resource]
        counts[resource] = {
            "built": len(rs),
            "valid": sum(r.valid for r in rs),
            "invalid": sum(not r.valid for r in rs),
            "warnings": sum(any(p.severity == "warning" for p in r.problems) for r in rs),
        }
    problems: dict[str, int] = {}
    for r in records:
        for p in r.problems:
            problems[p.rule] = problems.get(p.rule, 0) + 1
    out = str(Path(out_dir).resolve()) if out_dir else None
    if out_dir:
        write_jsonl(records, Path(out_dir), built)
    lap("write_jsonl")
    user = os.environ.get("NEXUS_USER") or getpass.getuser()
    with store.engine.begin() as conn:
        build_id = conn.execute(
            edfi_builds.insert()
            .values(
                tenant_id=tenant.tenant_id,
                school_year=school_year,
                resources=only,
                started_by=user,
                started_at=started,
                ended_at=datetime.now(UTC),
                out_dir=out,
                counts=counts,
                skipped=skipped,
            )
            .returning(edfi_builds.c.build_id)
        ).scalar_one()
        _store(conn, tenant.tenant_id, school_year, build_id, records, built)
        audit.record(
            conn,
            tenant.tenant_id,
            user,
            "export.edfi_build",
            {
                "build_id": build_id,
                "school_year": school_year,
                "out_dir": out,
                "records": len(records),
            },
        )
        lap("store")
        ledger = record_exceptions(
            conn, tenant.tenant_id, school_year, build_id, records, built, user
        )
    lap("exceptions")
    return BuildResult(build_id, school_year, out, counts, skipped, problems, seconds, ledger)


def write_jsonl(records: list[Record], out_dir: Path, built: list[str]) -> None:
    """`<resource>.jsonl` of the valid records (sorted by record key: byte-identical for the
    same input) and `problems.jsonl` listing every problem."""
    out_dir.mkdir(parents=True, exist_ok=True)
    by_resource: dict[str, list[Record]] = {r: [] for r in built}
    for r in records:
        by_resource.setdefault(r.resource, []).append(r)
    for resource, rs in by_resource.items():
        with (out_dir / f"{resource}.jsonl").open("w", encoding="utf-8") as fh:
            for r in sorted(rs, key=lambda r: r.record_key):
                if r.valid:
                    fh.write(canonical_json(r.payload) + "\n")
    with (out_dir / PROBLEMS_FILE).open("w", encoding="utf-8") as fh:
        for r in sorted(records, key=lambda r: (r.resource, r.record_key)):
            for p in r.problems:
                fh.write(json.dumps(p.as_dict(), sort_keys=True) + "\n")


def _store(
    conn: sa.Connection,
    tenant_id: int,
    school_year: int,
    build_id: int,
    records: list[Record],
    built: list[str],
) -> None:
    conn.execute(
        edfi_records.delete().where(
            edfi_records.c.tenant_id == tenant_id,
            edfi_records.c.school_year == school_year,
            edfi_records.c.resource.in_(built),
        )
    )
    # Problems of earlier builds of the year are superseded by this build's.
    conn.execute(
        edfi_record_problems.delete().where(
            edfi_record_problems.c.tenant_id == tenant_id,
            edfi_record_problems.c.school_year == school_year,
            edfi_record_problems.c.resource.in_(built),
        )
    )
    rows = {
        "tenant_id": [],
        "school_year": [],
        "resource": [],
        "record_key": [],
        "build_id": [],
        "natural_key": [],
        "key_hash": [],
        "payload": [],
        "payload_hash": [],
        "valid": [],
    }
    problems: list[dict] = []
    for r in records:
        text = canonical_json(r.payload)
        rows["tenant_id"].append(tenant_id)
        rows["school_year"].append(school_year)
        rows["resource"].append(r.resource)
        rows["record_key"].append(r.record_key)
        rows["build_id"].append(build_id)
        rows["natural_key"].append(canonical_json(schema.natural_key(r.resource, r.payload)))
        rows["key_hash"].append(key_hash(r.resource, r.payload))
        rows["payload"].append(text)
        rows["payload_hash"].append(digest(r.payload))
        rows["valid"].append(r.valid)
        for p in r.problems:
            problems.append(
                {
                    "tenant_id": tenant_id,
                    "build_id": build_id,
                    "problem_no": len(problems) + 1,
                    "school_year": school_year,
                    "layer": "edfi",
                    "resource": p.resource,
                    "record_key": p.record_key,
                    "field": (p.field or None) and p.field[:300],
                    "rule": p.rule,
                    "severity": p.severity,
                    "message": p.message,
                    "value": p.value,
                }
            )
    if records:
        bulk_load(conn, edfi_records, pa.table(rows, schema=_RECORD_SCHEMA))
    if problems:
        bulk_load(conn, edfi_record_problems, pa.Table.from_pylist(problems, _PROBLEM_SCHEMA))


_RECORD_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.int64()),
        ("school_year", pa.int32()),
        ("resource", pa.string()),
        ("record_key", pa.string()),
        ("build_id", pa.int64()),
        ("natural_key", pa.string()),
        ("key_hash", pa.string()),
        ("payload", pa.string()),
        ("payload_hash", pa.string()),
        ("valid", pa.bool_()),
    ]
)
_PROBLEM_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.int64()),
        ("build_id", pa.int64()),
        ("problem_no", pa.int64()),
        ("school_year", pa.int32()),
        ("layer", pa.string()),
        ("resource", pa.string()),
        ("record_key", pa.string()),
        ("field", pa.string()),
        ("rule", pa.string()),
        ("severity", pa.string()),
        ("message", pa.string()),
        ("value", pa.string()),
    ]
)
