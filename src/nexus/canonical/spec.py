"""The mapping file format: how a source kind's entities and fields become canonical rows.

One YAML file per source kind under `nexus/canonical/mappings/` (format version 1):

    source_kind: campus-extract
    version: 3                 # bump when the mapping changes
    key_scope: campus          # sources that share ids share a scope (and canonical rows)
    date_format: "%m/%d/%Y"    # what `date` parses, unless a rule names its own format
    maps:                      # applied in order: referenced targets come first
      - entity: students       # the source entity
        target: identities     # the canonical table
        person_kind: student   # identities only
        key: [student.personID]
        required: [legal_last_name]
        fields:
          legal_last_name: student.lastName | trim
          birth_date: student.birthdate | date
          gender: student.gender | trim | upper | crosswalk(gender)
        identifiers:           # identities only: typed person identifiers
          - {type: mosis_state_id, authority: DESE, value: student.stateID | trim}

A rule is a pipeline: a source (a field name, `=literal`, or `ref(target[.column], field…)`)
then steps separated by `|`. Steps: trim, upper, lower, date, date(FORMAT), date(iso), int,
decimal, bool, strip_zeros, crosswalk(NAME) (an unknown code is a mapping error),
crosswalk?(NAME) (an unknown code maps to null), equals(VALUE), in(V1,V2…), nullif(VALUE),
default(VALUE), left(N), present (true when there is a value). `ref(person:student, field)` is
the canonical person of the source person keyed `field` in this scope;
`ref(calendars.school_id, field)` takes a column of the referenced row instead of its id. A key
entry may be a rule too (so dates in keys are ISO whatever the source wrote). `when:` (a rule
giving a boolean) skips rows that do not apply; `entity:` may list several entities with the
same columns (Star's three product files): their snapshots are mapped together and the pseudo-
field `_entity` holds each record's entity name. `key_suffix:` separates several maps of one
entity into one target. `distinct: true` lets many records share a key (schools from calendars,
incidents from behaviour roles): the first record by id makes the row, the rest are not errors.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nexus.canonical.errors import MappingError
from nexus.canonical.targets import TARGETS

MAPPINGS_DIR = Path(__file__).parent / "mappings"
FORMAT_VERSION = 1

_STEP = re.compile(r"^(?P<name>[a-z_]+\??)(?:\((?P<args>.*)\))?$")
STEPS = {
    "trim": 0,
    "upper": 0,
    "lower": 0,
    "date": (0, 1),
    "int": 0,
    "decimal": 0,
    "bool": 0,
    "strip_zeros": 0,
    "crosswalk": 1,
    "crosswalk?": 1,
    "equals": 1,
    "in": None,
    "nullif": 1,
    "default": 1,
    "left": 1,
    "present": 0,
}


@dataclass(frozen=True)
class Step:
    name: str
    args: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}({', '.join(self.args)})" if self.args else self.name


@dataclass(frozen=True)
class Ref:
    """A reference to a canonical row of another target, by that row's source key."""

    target: str
    column: str | None  # None: the row's id (person_id for persons)
    person_kind: str | None
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    text: str
    source: str | None  # a source field
    literal: str | None
    ref: Ref | None
    steps: tuple[Step, ...]

    @property
    def source_fields(self) -> tuple[str, ...]:
        if self.ref:
            return self.ref.fields
        return (self.source,) if self.source else ()


@dataclass(frozen=True)
class IdentifierRule:
    type: str
    authority: str
    value: Rule


@dataclass(frozen=True)
class EntityMap:
    entity: str  # the source entity, or several joined by "+" (`sources`)
    target: str
    key: tuple[Rule, ...]
    fields: dict[str, Rule]
    required: tuple[str, ...] = ()
    person_kind: str | None = None
    key_suffix: str | None = None
    when: Rule | None = None
    identifiers: tuple[IdentifierRule, ...] = ()
    distinct: bool = False
    sources: tuple[str, ...] = ()

    @property
    def source_entities(self) -> tuple[str, ...]:
        return self.sources or (self.entity,)

    @property
    def label(self) -> str:
        suffix = f"#{self.key_suffix}" if self.key_suffix else ""
        kind = f"({self.person_kind})" if self.person_kind else ""
        return f"{self.entity} -> {self.target}{kind}{suffix}"


@dataclass
class MappingSpec:
    source_kind: str
    version: int
    key_scope: str
    date_format: str | None
    maps: list[EntityMap]
    sha256: str
    document: dict = field(repr=False)

    def entities(self) -> list[str]:
        return list(dict.fromkeys(e for m in self.maps for e in m.source_entities))


def parse_rule(text: str, where: str) -> Rule:
    """A rule's text as a `Rule`; a malformed rule is a MappingError naming where it is."""
    parts = [p.strip() for p in _split_pipes(str(text))]
    if not parts or not parts[0]:
        raise MappingError(f"{where}: empty rule")
    head, steps = parts[0], []
    for part in parts[1:]:
        m = _STEP.match(part)
        if not m or m.group("name") not in STEPS:
            raise MappingError(f"{where}: unknown step {part!r} in {text!r}")
        args = tuple(a.strip() for a in m.group("args").split(",")) if m.group("args") else ()
        arity = STEPS[m.group("name")]
        ok = (
            arity is None
            and args
            or isinstance(arity, int)
            and len(args) == arity
            or isinstance(arity, tuple)
            and len(args) in arity
        )
        if not ok:
            raise MappingError(f"{where}: step {part!r} takes {arity} argument(s)")
        steps.append(Step(m.group("name"), args))
    source = literal = None
    ref = None
    if head.startswith("="):
        literal = head[1:]
    elif head.startswith("ref(") and head.endswith(")"):
        inner = [a.strip() for a in head[4:-1].split(",")]
        if len(inner) < 2:
            raise MappingError(f"{where}: ref() needs a target and at least one field")
        target, *fields = inner
        person_kind = column = None
        if target.startswith("person:"):
            person_kind, target = target.removeprefix("person:"), "identities"
        elif "." in target:
            target, column = target.split(".", 1)
        if target not in TARGETS:
            raise MappingError(f"{where}: ref() to unknown target {target!r}")
        ref = Ref(target, column, person_kind, tuple(fields))
    else:
        source = head
    return Rule(str(text), source, literal, ref, tuple(steps))


def _split_pipes(text: str) -> list[str]:
    """Split on `|` outside parentheses (a date format may not contain one anyway)."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def load_spec(source_kind: str, path: Path | None = None) -> MappingSpec:
    """The packaged mapping of `source_kind` (or the file at `path`), checked."""
    path = path or MAPPINGS_DIR / f"{source_kind}.yaml"
    if not path.is_file():
        raise MappingError(f"no mapping for source kind {source_kind!r} ({path.name})")
    raw = path.read_bytes()
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise MappingError(f"{path.name}: not valid YAML: {exc}") from exc
    return parse_spec(doc, hashlib.sha256(raw).hexdigest(), path.name)


def parse_spec(doc: object, sha256: str, name: str) -> MappingSpec:
    if not isinstance(doc, dict):
        raise MappingError(f"{name}: a mapping file is a YAML mapping")
    for required in ("source_kind", "version", "key_scope", "maps"):
        if required not in doc:
            raise MappingError(f"{name}: missing {required!r}")
    maps: list[EntityMap] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    for i, item in enumerate(doc["maps"] or []):
        where = f"{name} maps[{i}]"
        if not isinstance(item, dict) or not {"entity", "target", "key"} <= item.keys():
            raise MappingError(f"{where}: needs entity, target and key")
        target = item["target"]
        if target not in TARGETS:
            raise MappingError(f"{where}: unknown canonical target {target!r}")
        spec = TARGETS[target]
        fields = {}
        for col, text in (item.get("fields") or {}).items():
            if col not in spec.mapped_columns:
                raise MappingError(f"{where}: {target} has no mapped column {col!r}")
            fields[col] = parse_rule(text, f"{where} {col}")
        for col in item.get("required") or []:
            if col not in fields:
                raise MappingError(f"{where}: required column {col!r} has no rule")
        if target == "identities" and item.get("person_kind") not in ("student", "staff"):
            raise MappingError(f"{where}: identities need person_kind student or staff")
        ident = tuple(
            IdentifierRule(d["type"], d["authority"], parse_rule(d["value"], f"{where} id"))
            for d in item.get("identifiers") or []
        )
        sources = item["entity"] if isinstance(item["entity"], list) else [item["entity"]]
        entity_map = EntityMap(
            entity="+".join(sources),
            sources=tuple(sources),
            target=target,
            key=tuple(parse_rule(k, f"{where} key") for k in item["key"]),
            fields=fields,
            required=tuple(item.get("required") or ()),
            person_kind=item.get("person_kind"),
            key_suffix=item.get("key_suffix"),
            when=parse_rule(item["when"], f"{where} when") if item.get("when") else None,
            identifiers=ident,
            distinct=bool(item.get("distinct", False)),
        )
        ident_key = (target, entity_map.key_suffix, entity_map.person_kind)
        if ident_key in seen:
            raise MappingError(
                f"{where}: {target} is written by two maps: give each its own key_suffix"
            )
        seen.add(ident_key)
        maps.append(entity_map)
    return MappingSpec(
        source_kind=str(doc["source_kind"]),
        version=int(doc["version"]),
        key_scope=str(doc["key_scope"]),
        date_format=doc.get("date_format"),
        maps=maps,
        sha256=sha256,
        document=doc,
    )


def available_kinds() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml") if p.stem != "crosswalks")
