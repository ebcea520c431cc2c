"""What a rule finds (`Finding`), and the words and keys it is told in: a rule's message with
its placeholders filled (`render`), a source's natural key as the exports write it
(`natural_key`). The engine makes findings; `exceptions.merge` keeps them."""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass

from nexus.errors import NexusError
from nexus.validation.catalog import Rule

SIS = "sis"
NO_SCHOOL = "-"


class ValidationError(NexusError):
    """A validation that cannot run (the message says why)."""


@dataclass
class Finding:
    rule: Rule
    layout: str
    entity_type: str
    record_key: str
    field: str
    message: str
    severity: str
    owner: str
    current_value: str | None = None
    expected: str | None = None
    record_id: str | None = None
    source_record_id: int | None = None
    source_system: str | None = None
    source_entity: str | None = None
    person_id: int | None = None
    school_id: int | None = None
    school_code: str = NO_SCHOOL
    row_key: str | None = None
    trace: dict | None = None

    def identity(self, school_year: int, cycle: str) -> str:
        parts = (
            str(school_year),
            cycle,
            self.rule.rule_id,
            self.source_entity or self.entity_type,
            self.record_key,
            self.field,
            self.row_key if self.entity_type != "student" or self.layout != SIS else "",
        )
        return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()


def render(template: str, **values: object) -> str:
    """A rule's message with its placeholders filled; DESE's {0}/{1} are field and length."""
    text = template.replace("{0}", str(values.get("field", ""))).replace(
        "{1}", str(values.get("length", ""))
    )
    out = []
    for literal, name, spec, conv in string.Formatter().parse(text):
        out.append(literal)
        if name is None:
            continue
        if name not in values:
            out.append("{" + name + (f"!{conv}" if conv else "") + "}")
            continue
        value = values[name]
        out.append(repr(value) if conv == "r" else format(value, spec or ""))
    return "".join(out)


_MDY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def natural_key(raw: str | None) -> str:
    """A source's natural key as `defects.csv` and the exports write it: composite parts
    joined with `|`, dates ISO (Campus writes MM/DD/YYYY)."""
    if raw is None:
        return ""
    parts = raw.split("\x1f")
    return "|".join(
        f"{m.group(3)}-{m.group(1)}-{m.group(2)}" if (m := _MDY.match(p)) else p for p in parts
    )
