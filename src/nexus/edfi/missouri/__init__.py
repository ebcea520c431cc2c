"""Missouri's data for the Ed-Fi layer: DESE descriptors and the Campus-style resource
preferences (score, term and subject mappings), loaded from the YAML files beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent


@dataclass(frozen=True)
class DescriptorSet:
    endpoint: str  # creditTypeDescriptors
    namespace: str  # uri://dese.mo.gov/CreditTypeDescriptor
    codes: dict[str, str]  # code value -> short description


@cache
def preferences() -> dict:
    """`preferences.yaml`: state scores, credit results, grading periods, subjects, ASVAB."""
    return yaml.safe_load((HERE / "preferences.yaml").read_text())


@cache
def _descriptor_document() -> dict:
    return yaml.safe_load((HERE / "descriptors.yaml").read_text())


def missouri_descriptors() -> list[DescriptorSet]:
    """The uri://dese.mo.gov descriptor sets Nexus sends."""
    return [
        DescriptorSet(endpoint, spec["namespace"], {str(k): v for k, v in spec["codes"].items()})
        for endpoint, spec in _descriptor_document()["missouri"].items()
    ]


@cache
def known_descriptor_uris() -> frozenset[str]:
    """Every descriptor value a record may use: Missouri's and the Ed-Fi defaults used."""
    uris = {f"{d.namespace}#{code}" for d in missouri_descriptors() for code in d.codes}
    for name, codes in _descriptor_document()["edfi_defaults"].items():
        uris.update(f"uri://ed-fi.org/{name}#{code}" for code in codes)
    return frozenset(uris)


def edfi(name: str, code: str) -> str:
    """An Ed-Fi default descriptor value: edfi("CourseAttemptResultDescriptor", "Pass")."""
    return f"uri://ed-fi.org/{name}#{code}"


def dese(name: str, code: str) -> str:
    """A Missouri descriptor value: dese("CreditTypeDescriptor", "M")."""
    return f"uri://dese.mo.gov/{name}#{code}"
