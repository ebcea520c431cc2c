"""The ODS/API OpenAPI document in the package: resource schemas, natural keys, references,
the load order, and validation of built records against them.

Validation (`validate`) checks, per record, in the load order so a record whose referenced
record is invalid is itself unresolved:
- `schema`: the resource's JSON schema (Draft 4, the document's own dialect), with the
  document's quirks: optional fields must be omitted rather than null (`x-nullable` is not
  JSON-schema `nullable`), and `format: date` / `date-time` are checked;
- `empty_required_array`: a required array with no item (the API rejects it with a 400);
- `unknown_descriptor`: every `…Descriptor` value, anywhere in the record, must be a known
  descriptor (the Missouri ones built, the Ed-Fi defaults the ODS/API ships);
- `duplicate_natural_key`: natural keys unique within the resource;
- `unresolved_reference`: every `…Reference` must name a record of the build (or an item
  DESE loads: the state agency, the district, school years).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from jsonschema import Draft4Validator, FormatChecker

from nexus.edfi.missouri import known_descriptor_uris, missouri_descriptors
from nexus.edfi.records import Record, canonical_json

OPENAPI = Path(__file__).parent / "openapi"
EDORG_IDS = ("schoolId", "localEducationAgencyId", "stateEducationAgencyId")

# Which resource a `…Reference` property names.
REFERENCE_TARGETS = {
    "courseReference": "courses",
    "studentAcademicRecordReference": "studentAcademicRecords",
    "studentReference": "students",
    "assessmentReference": "assessments",
    "objectiveAssessmentReference": "objectiveAssessments",
    "schoolYearTypeReference": "schoolYearTypes",
    "reportedSchoolReference": "schools",
    "schoolReference": "schools",
    "localEducationAgencyReference": "localEducationAgencies",
    "stateEducationAgencyReference": "stateEducationAgencies",
    "educationOrganizationReference": "educationOrganizations",
}


@cache
def document() -> dict:
    return json.loads((OPENAPI / "resources-ds51.json").read_text())


@cache
def load_order() -> dict[str, int]:
    """Resource (endpoint name) -> its `order` in dependencies.json (Create operations)."""
    order: dict[str, int] = {}
    for entry in json.loads((OPENAPI / "dependencies.json").read_text()):
        if "Create" in entry["operations"]:
            order.setdefault(entry["resource"].rsplit("/", 1)[-1], entry["order"])
    return order


def descriptor_endpoints() -> set[str]:
    return {d.endpoint for d in missouri_descriptors()}


def schema_name(resource: str) -> str:
    """lightbeam's rule: edFi_ + the singular endpoint (courseTranscripts -> edFi_courseTranscript,
    localEducationAgencies -> edFi_localEducationAgency)."""
    singular = resource[:-3] + "y" if resource.endswith("ies") else resource[:-1]
    return f"edFi_{singular}"


DESCRIPTOR_SCHEMA = {
    "type": "object",
    "required": ["codeValue", "namespace", "shortDescription"],
    "properties": {
        "codeValue": {"type": "string", "maxLength": 50},
        "namespace": {"type": "string", "maxLength": 255},
        "shortDescription": {"type": "string", "maxLength": 75},
        "description": {"type": "string", "maxLength": 1024},
    },
}


def resource_schema(resource: str) -> dict:
    """The JSON schema of a resource (descriptors share one shape, from the descriptors
    document that the shared data summarises rather than copies)."""
    if resource.endswith("Descriptors"):
        return DESCRIPTOR_SCHEMA
    schemas = document()["components"]["schemas"]
    name = schema_name(resource)
    if name not in schemas:
        raise KeyError(f"no schema {name} for resource {resource}")
    return schemas[name]


@cache
def _validator(resource: str) -> Draft4Validator:
    # `$ref`s inlined once: the document has no recursive schemas, and resolving references
    # on every record was most of the validation time.
    return Draft4Validator(_inline(resource_schema(resource)), format_checker=_formats())


def schema_errors(resource: str, payload: Mapping) -> list:
    """The JSON-schema errors of a payload (jsonschema's), checked first by `conforms`: most
    records are valid, and that check is several times faster than jsonschema's walk."""
    inlined = _inlined(resource)
    if conforms(inlined, payload):
        return []
    return sorted(_validator(resource).iter_errors(payload), key=lambda e: list(e.path))


@cache
def _inlined(resource: str) -> dict:
    return _inline(resource_schema(resource))


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def conforms(schema: Mapping, value) -> bool:
    """Draft 4 validity for the keywords this document uses (type, required, properties,
    items, min/maxLength, minimum/maximum, format date/date-time). A keyword it does not know
    makes it answer False, so jsonschema decides."""
    for key, rule in schema.items():
        if key == "type":
            check = _TYPES.get(rule)
            if check is None or not check(value):
                return False
        elif key == "required":
            if isinstance(value, dict) and any(name not in value for name in rule):
                return False
        elif key == "properties":
            if isinstance(value, dict):
                for name, sub in rule.items():
                    if name in value and not conforms(sub, value[name]):
                        return False
        elif key == "items":
            if isinstance(value, list) and not all(conforms(rule, item) for item in value):
                return False
        elif key == "maxLength":
            if isinstance(value, str) and len(value) > rule:
                return False
        elif key == "minLength":
            if isinstance(value, str) and len(value) < rule:
                return False
        elif key == "maximum":
            if _TYPES["number"](value) and value > rule:
                return False
        elif key == "minimum":
            if _TYPES["number"](value) and value < rule:
                return False
        elif key == "format":
            if isinstance(value, str) and not _format_ok(rule, value):
                return False
        elif key not in ("description",) and not key.startswith("x-"):
            return False
    return True


def _format_ok(fmt: str, value: str) -> bool:
    try:
        if fmt == "date":
            dt.date.fromisoformat(value)
        elif fmt == "date-time":
            dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _inline(value):
    if isinstance(value, dict):
        if "$ref" in value:
            return _inline(_resolve(value))
        return {k: _inline(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_inline(v) for v in value]
    return value


def _formats() -> FormatChecker:
    checker = FormatChecker([])

    @checker.checks("date", raises=ValueError)
    def _date(value) -> bool:
        return not isinstance(value, str) or bool(dt.date.fromisoformat(value))

    @checker.checks("date-time", raises=ValueError)
    def _datetime(value) -> bool:
        return not isinstance(value, str) or bool(dt.datetime.fromisoformat(value))

    return checker


def _resolve(schema: dict) -> dict:
    ref = schema.get("$ref")
    if ref:
        return document()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


# --- natural keys -----------------------------------------------------------------------------


@cache
def identity_fields(resource: str) -> tuple[str, ...]:
    """The natural key's top-level properties: `x-Ed-Fi-isIdentity` ones plus the required
    `…Reference` objects (whose own fields are all identity)."""
    if resource.endswith("Descriptors"):
        return ("codeValue", "namespace")
    schema = resource_schema(resource)
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema["properties"].items():
        if prop.get("x-Ed-Fi-isIdentity") or (name.endswith("Reference") and name in required):
            fields.append(name)
    return tuple(fields)


def natural_key(resource: str, payload: Mapping) -> dict:
    key = {}
    for name in identity_fields(resource):
        value = payload.get(name)
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "link"}
        key[name] = value
    return key


def flatten(key: Mapping) -> dict:
    """A natural key's leaf fields by name ({courseCode, educationOrganizationId}); edorg ids
    (schoolId, ...) are also given as educationOrganizationId, as references name them."""
    flat: dict = {}
    for name, value in key.items():
        if isinstance(value, Mapping):
            flat.update({k: v for k, v in value.items() if k != "link"})
        else:
            flat[name] = value
    return flat


def _ref_form(flat: Mapping) -> frozenset:
    return frozenset((k, json.dumps(v)) for k, v in flat.items())


def reference_key(ref: Mapping) -> frozenset:
    return _ref_form({k: v for k, v in ref.items() if k != "link"})


class ReferenceIndex:
    """What references can resolve to: the build's valid records and DESE's own items."""

    def __init__(self, external: Mapping[str, list[dict]]):
        self.items: dict[str, set[frozenset]] = {}
        for resource, items in external.items():
            for item in items:
                self.add(resource, item)

    def add(self, resource: str, key: Mapping) -> None:
        flat = flatten(key)
        self.items.setdefault(resource, set()).add(_ref_form(flat))
        for edorg in EDORG_IDS:
            if edorg in flat and len(flat) == 1:
                self.items.setdefault("educationOrganizations", set()).add(
                    _ref_form({"educationOrganizationId": flat[edorg]})
                )

    def resolves(self, target: str, ref: Mapping) -> bool:
        return reference_key(ref) in self.items.get(target, set())


def references(payload: Mapping) -> Iterable[tuple[str, str, Mapping]]:
    """(path, target resource, reference) for every `…Reference` in a record, nested too."""

    def walk(value, path: str):
        if isinstance(value, Mapping):
            for name, item in value.items():
                sub = f"{path}.{name}" if path else name
                if name.endswith("Reference") and isinstance(item, Mapping):
                    target = REFERENCE_TARGETS.get(name)
                    if target:
                        yield sub, target, item
                elif name != "_ext":
                    yield from walk(item, sub)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, f"{path}[{i}]")

    yield from walk(payload, "")


def descriptor_values(payload: Mapping) -> Iterable[tuple[str, str]]:
    """(path, value) of every `…Descriptor` string in a record, nested and in `_ext` too."""

    def walk(value, path: str):
        if isinstance(value, Mapping):
            for name, item in value.items():
                sub = f"{path}.{name}" if path else name
                if name.endswith("Descriptor") and isinstance(item, str):
                    yield sub, item
                else:
                    yield from walk(item, sub)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, f"{path}[{i}]")

    yield from walk(payload, "")


def empty_required_arrays(schema: dict, payload: Mapping, path: str = "") -> list[str]:
    out = []
    props = schema.get("properties", {})
    for name in schema.get("required", []):
        value = payload.get(name)
        prop = _resolve(props.get(name, {}))
        if prop.get("type") == "array" and isinstance(value, list) and not value:
            out.append(f"{path}{name}")
    for name, value in payload.items():
        prop = _resolve(props.get(name, {}))
        if isinstance(value, Mapping) and prop.get("properties"):
            out.extend(empty_required_arrays(prop, value, f"{path}{name}."))
        elif isinstance(value, list) and prop.get("type") == "array":
            item_schema = _resolve(prop.get("items", {}))
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    out.extend(empty_required_arrays(item_schema, item, f"{path}{name}[{i}]."))
    return out


def sort_by_load_order(resources: Iterable[str]) -> list[str]:
    order = load_order()
    return sorted(resources, key=lambda r: (order.get(r, 99), r))


# --- validation -------------------------------------------------------------------------------


def validate(
    records: list[Record], external: Mapping[str, list[dict]], known_descriptors=None
) -> None:
    """Check every record (see the module docstring); problems are added to the records."""
    known = set(known_descriptors or known_descriptor_uris())
    index = ReferenceIndex(external)
    by_resource: dict[str, list[Record]] = {}
    for r in records:
        by_resource.setdefault(r.resource, []).append(r)
    for resource in sort_by_load_order(by_resource):
        seen: dict[str, str] = {}
        for record in sorted(by_resource[resource], key=lambda r: r.record_key):
            payload = record.payload
            for error in schema_errors(resource, payload):
                field = ".".join(str(p) for p in error.absolute_path) or None
                if error.validator == "required":
                    field = ".".join(
                        [*(str(p) for p in error.absolute_path), error.message.split("'")[1]]
                    )
                record.problem(field, "schema", error.message[:300], _short(error.instance))
            for field in empty_required_arrays(_inlined(resource), payload):
                record.problem(
                    field,
                    "empty_required_array",
                    f"{field} is required and must have at least one item",
                )
            for field, value in descriptor_values(payload):
                if value not in known:
                    record.problem(
                        field,
                        "unknown_descriptor",
                        f"{value!r} is not a known descriptor value",
                        value,
                    )
            for field, target, ref in references(payload):
                if not index.resolves(target, ref):
                    record.problem(
                        field,
                        "unresolved_reference",
                        f"the referenced {target} item is not in the build "
                        f"(or is invalid): {canonical_json(ref)}",
                        canonical_json(ref),
                    )
            key = canonical_json(natural_key(resource, payload))
            if key in seen:
                record.problem(
                    None,
                    "duplicate_natural_key",
                    f"the natural key is also record {seen[key]}'s",
                    key,
                )
            else:
                seen[key] = record.record_key
            if record.valid:
                index.add(resource, natural_key(resource, payload))


def _short(value) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)[:200]
