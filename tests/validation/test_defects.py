"""Validation measured against ground truth: on a synthetic district with injected defects
(`nexus synth --defects`), every defect of every class is found (recall 100%) and exceptions
fall on defective records (precision at least 99%). The test prints both per class.

"Defective record" means the record `defects.csv` names, or another record of the same
student (each student carries at most one defect, so an exception about them follows from it).
File-level exceptions (a required field the SIS never fills) concern no record and are counted
apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nexus.synth import generate
from nexus.validation.engine import validate
from nexus.validation.exceptions import list_exceptions
from tests.validation.district import TENANT, load_district, score


@pytest.fixture(scope="module")
def defective(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("defective")
    generate(out, students=400, seed=17, formats=("campus-extract", "vendors"), defect_rate=0.06)
    return out


def test_validation_finds_every_injected_defect_and_little_else(store, defective, capsys):
    load_district(store, defective)
    result = validate(store, TENANT, 2027, "october")
    assert result.found > 0
    rows = list_exceptions(store, TENANT, status="active")
    measured = score(store, defective, rows)
    with capsys.disabled():
        print()
        print("\n".join(measured.lines()))
    missed = {cls: f"{got}/{n}" for cls, (got, n) in measured.recall.items() if got < n}
    assert not missed, f"defects not found: {missed}"
    assert len(measured.recall) == 11, sorted(measured.recall)
    assert measured.precision >= 0.99, measured.lines()
