"""A built Ed-Fi record and a problem found with one: what builders, validation, the store and
the send share."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field


def canonical_json(value) -> str:
    """One byte form per value (sorted keys, no spaces): what is hashed and written."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@dataclass
class Problem:
    """Why a record is invalid (`error`: not sent) or incomplete (`warning`: sent anyway)."""

    resource: str
    record_key: str
    field: str | None
    rule: str  # schema | descriptor | duplicate_natural_key | unresolved_reference | ...
    message: str
    value: str | None = None
    severity: str = "error"

    def as_dict(self) -> dict:
        return {
            "layer": "edfi",
            "resource": self.resource,
            "record_key": self.record_key,
            "field": self.field,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "value": self.value,
        }


@dataclass
class Record:
    """One Ed-Fi resource instance, keyed by what it was built from (`record_key`: the
    canonical row(s), stable across builds) so a natural-key change is seen as one record."""

    resource: str  # courseTranscripts, studentAssessments, creditTypeDescriptors, ...
    record_key: str
    payload: dict
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def problem(
        self, field_name: str | None, rule: str, message: str, value=None, severity="error"
    ) -> None:
        self.problems.append(
            Problem(
                self.resource,
                self.record_key,
                field_name,
                rule,
                message,
                None if value is None else str(value),
                severity,
            )
        )
