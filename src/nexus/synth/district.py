"""The district itself: names, county-district code, NCES id, buildings by level, school codes.

Sizes follow the expected enrolment per level (`GRADE_SHARES`), so 100 students give one
building per level and 1,000,000 students give about 2,200 buildings. Codes and names are
synthetic: the district part of the county-district code is drawn from 900-999 and the NCES id
from 2990000-2999999 so they read as Missouri codes without being a real district's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nexus.synth import names
from nexus.synth.streams import guids, stream

# Share of students by grade index (PK, K, 01..12). Missouri enrolls roughly equal grade cohorts
# (about 68,000 a grade of ~880,000 students, moschooldata notes in reference/sources/
# missouri-dese.md) with fewer in pre-K and a taper in grades 11-12.
GRADE_SHARES = np.array(
    [
        0.030,
        0.072,
        0.073,
        0.073,
        0.073,
        0.074,
        0.074,
        0.075,
        0.075,
        0.075,
        0.080,
        0.077,
        0.072,
        0.067,
    ]
)
GRADE_SHARES = GRADE_SHARES / GRADE_SHARES.sum()

LEVELS = ("ecc", "elementary", "middle", "high")
LEVEL_GRADES = {"ecc": (0, 0), "elementary": (1, 6), "middle": (7, 9), "high": (10, 13)}
LEVEL_LABEL = {
    "ecc": "early_childhood",
    "elementary": "elementary",
    "middle": "middle",
    "high": "high",
}
# Typical building size per level (students) and the DESE school-code block used for it.
LEVEL_SIZE = {"ecc": 300, "elementary": 450, "middle": 650, "high": 1400}
LEVEL_CODES = {
    "high": (1000, 3000),
    "middle": (3000, 4000),
    "elementary": (4000, 9000),
    "ecc": (9000, 10000),
}
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
_DIRECTIONS = ("North", "South", "East", "West", "Central")


@dataclass
class District:
    """District identity plus one row per school (numpy columns, index = schoolID - 1)."""

    town: str
    name: str
    county_district_code: str
    nces_id: str
    name_variants: dict[str, str]
    staff_domain: str
    student_domain: str
    neighbour_codes: list[str]
    guid: str
    school_id: np.ndarray
    school_number: np.ndarray
    school_name: np.ndarray
    school_level: np.ndarray
    grade_lo: np.ndarray
    grade_hi: np.ndarray
    school_weight: np.ndarray
    school_guid: np.ndarray
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def n_schools(self) -> int:
        return int(self.school_id.size)

    def schools_at(self, level: str) -> np.ndarray:
        return np.flatnonzero(self.school_level == level)


def build_district(seed: int, n_students: int) -> District:
    rng = stream(seed, "district")
    town = names.town_name(rng)
    roman = _ROMAN[int(rng.integers(len(_ROMAN)))]
    county = int(rng.integers(1, 116))
    number = int(rng.integers(900, 1000))
    code = f"{county:03d}{number:03d}"
    base = f"{town} R-{roman}"
    variants = {
        "campus": base.upper(),
        "canonical": f"{base} School District",
        "star": f"{town} Public Schools",
        "classlink": f"{town} PD",
        "account": f"{town.upper()} SCHOOL DISTRICT",
    }
    slug = f"{town.lower()}{roman.lower()}"
    neighbours = sorted({f"{county:03d}{int(n):03d}" for n in rng.integers(900, 1000, 12)} - {code})

    rows: list[tuple[str, int, int, float]] = []
    for level in LEVELS:
        lo, hi = LEVEL_GRADES[level]
        expected = n_students * GRADE_SHARES[lo : hi + 1].sum()
        count = max(1, int(round(expected / LEVEL_SIZE[level])))
        weights = rng.dirichlet(np.full(count, 8.0))
        rows.extend((level, lo, hi, float(w)) for w in weights)

    level_arr = np.array([r[0] for r in rows], dtype=object)
    school_numbers = np.empty(len(rows), dtype=object)
    school_names = np.empty(len(rows), dtype=object)
    surname_pool = names.pools()["last"]
    stems = list(rng.permutation(surname_pool))
    if len(rows) > len(stems) - 10:  # very large districts: "Lake Ashford", "Park Barby", ...
        stems += [
            f"{d} {s}"
            for d in ("Lake", "Park", "Glen", "Mill", "Spring", "Valley")
            for s in surname_pool
        ]
    surnames = np.array(stems, dtype=object)
    used = 0
    for level in LEVELS:
        idx = np.flatnonzero(level_arr == level)
        start, stop = LEVEL_CODES[level]
        step = max(1, min(20 if level != "high" else 50, (stop - start) // max(1, idx.size)))
        first = start + (50 if level == "high" else 0)
        for k, i in enumerate(idx):
            school_numbers[i] = f"{first + k * step:04d}"
            if level == "high":
                school_names[i] = (
                    f"{town} High School"
                    if k == 0
                    else f"{town} {_DIRECTIONS[(k - 1) % 5]} High School"
                    if k <= 5
                    else f"{surnames[used + k]} High School"
                )
            elif level == "middle":
                school_names[i] = f"{surnames[used + k]} Middle School"
            elif level == "elementary":
                school_names[i] = f"{surnames[used + k]} Elementary"
            else:
                school_names[i] = (
                    f"{town} Early Childhood Center"
                    if k == 0
                    else f"{surnames[used + k]} Early Childhood Center"
                )
        used += idx.size

    n = len(rows)
    gid = guids(rng, n + 1)
    return District(
        town=town,
        name=variants["canonical"],
        county_district_code=code,
        nces_id=f"29{int(rng.integers(90000, 100000)):05d}",
        name_variants=variants,
        staff_domain=f"{slug}.k12.mo.example",
        student_domain=f"students.{slug}.k12.mo.example",
        neighbour_codes=neighbours,
        guid=gid[n],
        school_id=np.arange(1, n + 1, dtype=np.int64),
        school_number=school_numbers,
        school_name=school_names,
        school_level=level_arr,
        grade_lo=np.array([r[1] for r in rows], dtype=np.int64),
        grade_hi=np.array([r[2] for r in rows], dtype=np.int64),
        school_weight=np.array([r[3] for r in rows]),
        school_guid=gid[:n],
    )
