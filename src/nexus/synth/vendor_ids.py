"""How the vendor systems of seed 001 identify the district's students and staff.

PowerSchool numbers students with `ID` (school-scoped) and `DCID` (district-wide); ClassLink's
OneRoster feed, rostered from PowerSchool, uses the DCID as `sourcedId`; Renaissance keys on
`StudentIdentifier` (the district's student number). `identifier_variations` picks the few
students whose identifiers deliberately differ between systems in every district, clean or not:
an e-mail in different case or on a legacy domain in ClassLink, a student number that lost its
leading zero in Star. The identity layer has to resolve them; `vendors/crosswalk.csv` is the key.
"""

from __future__ import annotations

import numpy as np

from nexus.synth.people import Students
from nexus.synth.streams import stream

DCID_BASE = 30_000
STAFF_DCID_BASE = 900_000
VARIATIONS = ("email_case", "email_legacy_domain", "star_leading_zero_dropped")


def powerschool_dcid(student: np.ndarray) -> np.ndarray:
    return DCID_BASE + 1 + student.astype(np.int64)


def classlink_sourced_id(student: np.ndarray) -> np.ndarray:
    return np.array([str(v) for v in powerschool_dcid(student)], dtype=object)


def identifier_variations(
    seed: int, students: Students, in_star: np.ndarray
) -> dict[str, np.ndarray]:
    """Student rows (sorted) per variation kind: about 1% each, at least one where possible.

    The Star variation only goes to students with a leading zero who took a Star test.
    """
    rng = stream(seed, "vendor-identifiers")
    n = students.n
    order = rng.permutation(n)
    k = max(1, n // 100)
    zero = np.array([s.startswith("0") for s in students.student_number])
    taken = np.zeros(n, dtype=bool)
    out: dict[str, np.ndarray] = {}
    for kind in VARIATIONS:
        ok = ~taken[order]
        if kind == "star_leading_zero_dropped":
            ok &= zero[order] & in_star[order]
        chosen = order[ok][:k]
        taken[chosen] = True
        out[kind] = np.sort(chosen)
    return out
