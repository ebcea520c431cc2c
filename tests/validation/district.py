"""A small synthetic district with labelled defects (`nexus synth --defects`), ingested from its
Campus extracts and vendor files and mapped; and the scoring of validation against
`defects.csv` (recall per defect class, precision over every exception raised)."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from nexus.canonical import map_run
from nexus.identity import register_district
from nexus.integration import ingest
from nexus.store import Store
from nexus.store.tenants import add_tenant

TENANT = "synthetic"
SOURCES = (
    ("campus-extract", "campus-extract"),
    ("powerschool", "vendors/powerschool"),
    ("star", "vendors/star"),
    ("classlink", "vendors/classlink"),
)
GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def load_district(store: Store, synthetic: Path, sources=SOURCES) -> None:
    district = json.loads((synthetic / "district.json").read_text())
    with store.engine.begin() as conn:
        register_district(
            conn,
            add_tenant(
                conn,
                TENANT,
                district["name"],
                district["county_district_code"],
                district["nces_id"],
            ),
        )
    for kind, folder in sources:
        run = ingest(store, TENANT, kind, str(synthetic / folder))
        assert run.status == "succeeded", (kind, run.reason)
        assert map_run(store, TENANT, run.run_id).status in ("succeeded", "partial")


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class Students:
    """Which student (Campus personID) a source record belongs to, from the synth files."""

    def __init__(self, synthetic: Path) -> None:
        ce = synthetic / "campus-extract"
        self.by: dict[tuple[str, str], str] = {}
        for r in _rows(ce / "students.csv"):
            self.by[("students", r["student.personID"])] = r["student.personID"]
        for r in _rows(ce / "enrollments.csv"):
            self.by[("enrollments", r["enrollment.enrollmentID"])] = r["enrollment.personID"]
        for r in _rows(ce / "rosters.csv"):
            self.by[("rosters", r["roster.rosterID"])] = r["roster.personID"]
        for r in _rows(ce / "behavior.csv"):
            self.by[("behavior", f"{r['behavior.roleID']}|{r['behavior.resolutionID']}")] = r[
                "behavior.personID"
            ]
        cross = _rows(synthetic / "vendors" / "crosswalk.csv")
        number = {r["studentNumber"]: r["personID"] for r in cross}
        for r in cross:
            self.by[("powerschool", r["studentNumber"])] = r["personID"]
            self.by[("powerschool", r["powerschool_dcid"])] = r["personID"]
            self.by[("star", r["star_student_identifier"] or r["studentNumber"])] = r["personID"]
            self.by[("classlink", r["classlink_sourcedId"])] = r["personID"]
        for name in ("SR.csv", "SM.csv", "SEL.csv"):
            path = synthetic / "vendors" / "star" / name
            if not path.exists():
                continue
            for r in _rows(path):
                who = number.get(r.get("StudentIdentifier", ""))
                for value in r.values():
                    if who and value and GUID.match(value):
                        self.by[("star", value)] = who

    def of(self, entity: str, system: str | None, key: str) -> str | None:
        if entity == "attendance":
            return key.split("|")[0]
        for name in (entity, system or "", (entity or "").removeprefix("vendors.")):
            if (name, key) in self.by:
                return self.by[(name, key)]
        return None


@dataclass
class Score:
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)  # class -> (found, all)
    explained: int = 0
    unexplained: list[dict] = field(default_factory=list)
    file_level: list[dict] = field(default_factory=list)
    total: int = 0

    @property
    def precision(self) -> float:
        return self.explained / self.total if self.total else 1.0

    def lines(self) -> list[str]:
        out = [f"{'defect class':32} {'found':>5} {'of':>4}  recall"]
        for cls, (got, n) in self.recall.items():
            out.append(f"{cls:32} {got:5d} {n:4d}  {got / n:7.1%}")
        out.append(
            f"precision: {self.explained} of {self.total} record exceptions on defective "
            f"records = {self.precision:.2%} ({len(self.file_level)} file-level exceptions apart)"
        )
        for u in self.unexplained[:20]:
            entity = u["source_entity"] or u["entity_type"]
            out.append(
                f"  on a clean record: {u['rule_id']} {entity} {u['record_key']} "
                f"{u['field']} {u['current_value']!r}"
            )
        return out


def score(store: Store, synthetic: Path, exceptions: list[dict]) -> Score:
    defects = _rows(synthetic / "defects.csv")
    students = Students(synthetic)
    with store.engine.connect() as conn:
        campus_key = dict(
            conn.execute(
                sa.text(
                    "SELECT person_id, min(source_key) FROM census.identities WHERE "
                    "key_scope = 'campus' AND person_kind = 'student' AND person_id IS NOT NULL "
                    "GROUP BY person_id"
                )
            ).all()
        )
    result = Score()
    keys = set()
    for x in exceptions:
        entity = x["source_entity"] or x["entity_type"]
        keys.add((entity, x["record_key"], x["rule_id"]))
        if x["source_system"] in ("powerschool", "star", "classlink"):
            keys.add((f"vendors.{x['source_system']}", x["record_key"], x["rule_id"]))
    by_class: dict[str, list[dict]] = defaultdict(list)
    for d in defects:
        by_class[d["defect_class"]].append(d)
    for cls, rows in by_class.items():
        # Found by the rule defects.csv names for it.
        got = sum((d["entity"], d["record_key"], d["expected_rule"]) in keys for d in rows)
        result.recall[cls] = (got, len(rows))
    defective_records = {(d["entity"], d["record_key"]) for d in defects}
    defective_students = {
        students.of(d["entity"], d["entity"].removeprefix("vendors."), d["record_key"])
        for d in defects
    } - {None}
    for x in exceptions:
        if x["entity_type"] in ("file", "school"):
            result.file_level.append(x)
            continue
        result.total += 1
        entity = x["source_entity"] or x["entity_type"]
        vendor = f"vendors.{x['source_system']}"
        if (entity, x["record_key"]) in defective_records or (
            vendor,
            x["record_key"],
        ) in defective_records:
            result.explained += 1
            continue
        who = campus_key.get(x["person_id"]) if x["person_id"] is not None else None
        who = who or students.of(entity, x["source_system"], x["record_key"])
        if who in defective_students:
            result.explained += 1
        else:
            result.unexplained.append(x)
    return result
