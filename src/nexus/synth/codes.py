"""The code tables synth draws from (package data under `synth/codes/`), loaded once.

Each table says where every code comes from: DESE/MOSIS code sets from
`shared/reference/mosis/code_sets`, vendor knowledge-base pages, or ASSUMED where the shared
reference has no code (transfer entry/exit codes, disability codes). `docs/synth.md` lists them.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of `codes/<name>.csv` as dicts, in file order."""
    text = (
        resources.files("nexus.synth").joinpath("codes").joinpath(f"{name}.csv").read_text("utf-8")
    )
    return tuple(csv.DictReader(text.splitlines()))


def enrollment_codes(kind: str, event: str) -> list[str]:
    """Entry or exit codes for an enrollment event (e.g. `exit`, `transfer_mo_public`)."""
    return [
        r["code"] for r in table("enrollment_status") if r["kind"] == kind and r["event"] == event
    ]


def enrollment_code(kind: str, event: str) -> str:
    codes = enrollment_codes(kind, event)
    if len(codes) != 1:
        raise KeyError(f"expected one {kind} code for {event}, found {codes}")
    return codes[0]


# Grade index 0..13 = PK, K, 01..12, written the way each system writes it.
GRADE_CAMPUS = ("PK", "KG", *(f"{g:02d}" for g in range(1, 13)))
GRADE_MOSIS = ("PK", "K", *(f"{g:02d}" for g in range(1, 13)))
GRADE_ONEROSTER = ("PK", "KG", *(f"{g:02d}" for g in range(1, 13)))
GRADE_POWERSCHOOL = tuple(range(-1, 13))
GRADE_STAR = ("PK", "K", *(str(g) for g in range(1, 13)))

# MOSIS race/ethnicity letters (Race_Ethnicity_Codes.csv) and the federal 1-7 codes Campus keeps
# in raceEthnicityFed: 1 Hispanic, 2 American Indian, 3 Asian, 4 Black, 5 Pacific Islander,
# 6 White, 7 two or more races.
RACE_MOSIS = ("H", "I", "A", "B", "P", "W", "M")
RACE_FED = ("1", "2", "3", "4", "5", "6", "7")
