"""Students: identity, demographics, programs and the latent traits later modules draw from.

One row per student (numpy columns). Shares are Missouri-like (sources in `docs/synth.md`):
race/ethnicity near the state's public-school mix, about 38% free and 6% reduced-price meals,
13.5% with an IEP, about 5% current or former English learners, 2.5% homeless, 6% gifted.
Two latent traits are drawn here so other modules stay consistent with each other: `ability`
(standard normal; drives course tracks, marks, test scores) and `absence_rate` (the share of days
a student tends to miss; drives attendance and its chronic-absence tail).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from nexus.synth import codes, names
from nexus.synth.district import GRADE_SHARES
from nexus.synth.streams import guids, stream, unique_integers

STUDENT_PERSON_BASE = 200_000

# Race/ethnicity shares, order of codes.RACE_MOSIS (H, I, A, B, P, W, M): approximately the
# Missouri public-school mix (NCES Common Core of Data, recent years).
RACE_SHARES = np.array([0.075, 0.004, 0.021, 0.150, 0.003, 0.695, 0.052])
# Free-meal probability by race/ethnicity, chosen so the district averages about 38% free.
_FREE_BY_RACE = np.array([0.55, 0.45, 0.25, 0.62, 0.45, 0.31, 0.45])
# English learner (receiving services) probability by race/ethnicity: about 3.7% overall.
_EL_BY_RACE = np.array([0.30, 0.05, 0.22, 0.04, 0.30, 0.006, 0.02])
_EL_STAGE_CODES = np.array(["RCV", "NRC", "MY1", "MY2", "AY3", "AY4"], dtype=object)
_EL_STAGE_SHARES = np.array([0.67, 0.05, 0.10, 0.08, 0.05, 0.05])
_LANG_BY_RACE = {
    0: (["spa"], [1.0]),
    2: (["vie", "zho", "mah", "ara"], [0.4, 0.35, 0.15, 0.1]),
    3: (["swa", "som", "fra", "kin", "tir", "hat"], [0.3, 0.2, 0.15, 0.15, 0.1, 0.1]),
    5: (["bos", "rus", "ara", "prs"], [0.35, 0.25, 0.2, 0.2]),
}


@dataclass
class Students:
    person_id: np.ndarray
    grade: np.ndarray  # grade index: 0 = PK, 1 = K, 2..13 = 01..12
    older: np.ndarray  # one year older than the grade's usual age (retained once)
    is_male: np.ndarray
    race: np.ndarray  # index into codes.RACE_MOSIS
    birthdate: np.ndarray  # datetime64[D]
    first: np.ndarray
    middle: np.ndarray
    last: np.ndarray
    suffix: np.ndarray
    prior_last: np.ndarray  # earlier legal surname (None for most): an older Identity row
    state_id: np.ndarray
    student_number: np.ndarray
    email: np.ndarray
    meal: np.ndarray  # F / R / N
    iep: np.ndarray
    disability: np.ndarray  # '00' when no IEP
    lep: np.ndarray  # MOSIS LEP/ELL code
    language: np.ndarray
    immigrant: np.ndarray
    homeless: np.ndarray
    migrant: np.ndarray
    foster: np.ndarray
    gifted: np.ndarray
    s504: np.ndarray
    residency: np.ndarray  # R1 / NR / R2
    resident_district: np.ndarray
    ability: np.ndarray
    absence_rate: np.ndarray
    person_guid: np.ndarray
    identity_guid: np.ndarray

    @property
    def n(self) -> int:
        return int(self.person_id.size)


def _birthdates(
    rng: np.random.Generator, grade: np.ndarray, older: np.ndarray, start_year: int
) -> np.ndarray:
    # Missouri: a child must be 5 before August 1 to enter kindergarten. A student in grade index
    # g (K = 1) was born between Aug 1 of (start - 5 - (g - 1) - 1) and Jul 31 of the next year.
    years_before = 5 + (grade - 1)
    first_year = start_year - years_before - 1 - older.astype(np.int64)
    base = np.array([np.datetime64(dt.date(int(y), 8, 1), "D") for y in range(1980, 2040)])
    start = base[first_year - 1980]
    return start + rng.integers(0, 365, size=grade.size).astype("timedelta64[D]")


def build_students(
    seed: int,
    n: int,
    start_year: int,
    county_district_code: str,
    neighbour_codes: list[str],
    student_domain: str,
) -> Students:
    rng = stream(seed, "students")
    grade = rng.choice(GRADE_SHARES.size, size=n, p=GRADE_SHARES)
    older = (rng.random(n) < 0.035) & (grade >= 2)
    is_male = rng.random(n) < 0.513
    race = rng.choice(RACE_SHARES.size, size=n, p=RACE_SHARES)
    hispanic = race == 0
    birthdate = _birthdates(rng, grade, older, start_year)

    first = names.given_names(rng, is_male)
    has_middle = rng.random(n) < 0.78
    middle = np.where(has_middle, names.given_names(rng, is_male), None)
    last = names.family_names(rng, hispanic)
    suffix = np.where(
        is_male & (rng.random(n) < 0.02),
        rng.choice(np.array(["Jr", "II", "III"], dtype=object), n),
        None,
    )
    changed = rng.random(n) < 0.01
    prior_last = np.where(changed, names.family_names(rng, hispanic), None)

    state_id = np.array([f"{v:010d}" for v in unique_integers(rng, n, 10**9, 10**10)], dtype=object)
    student_number = np.array([f"{v:07d}" for v in unique_integers(rng, n, 0, 10**7)], dtype=object)
    email = _emails(first, last, student_number, student_domain)

    u = rng.random(n)
    free_p = _FREE_BY_RACE[race]
    meal = np.where(u < free_p, "F", np.where(u < free_p + 0.06, "R", "N")).astype(object)

    iep_p = np.where(is_male, 0.163, 0.105)
    iep_p = np.where(grade == 0, 0.35, iep_p)  # early-childhood special education in pre-K
    iep = rng.random(n) < iep_p
    disability = _disabilities(rng, iep, grade)

    el_p = _EL_BY_RACE[race] / _EL_STAGE_SHARES[0]
    ever_el = rng.random(n) < el_p
    lep = np.full(n, "NLP", dtype=object)
    lep[ever_el] = rng.choice(_EL_STAGE_CODES, size=int(ever_el.sum()), p=_EL_STAGE_SHARES)
    language = np.full(n, "eng", dtype=object)
    for r, (langs, p) in _LANG_BY_RACE.items():
        sel = ever_el & (race == r)
        language[sel] = rng.choice(np.array(langs, dtype=object), size=int(sel.sum()), p=p)
    other = ever_el & ~np.isin(race, list(_LANG_BY_RACE))
    language[other] = "spa"
    language[hispanic & ~ever_el & (rng.random(n) < 0.15)] = "spa"
    immigrant = (lep == "RCV") & (rng.random(n) < 0.3)

    homeless = rng.random(n) < np.where(meal == "F", 0.06, 0.004)
    migrant = rng.random(n) < np.where(hispanic, 0.012, 0.0005)
    foster = rng.random(n) < 0.005
    s504 = ~iep & (rng.random(n) < 0.027) & (grade >= 1)

    z = (
        rng.standard_normal(n) * 0.9
        - 0.30 * (meal == "F")
        - 0.15 * (meal == "R")
        - 0.55 * iep
        - 0.35 * (lep == "RCV")
        + 0.05 * ~is_male
    )
    ability = (z - z.mean()) / (z.std() or 1.0)
    gifted = (grade >= 1) & (ability > 1.3) & (rng.random(n) < 0.7)

    u = rng.random(n)
    residency = np.where(u < 0.965, "R1", np.where((u < 0.99) | (grade == 0), "NR", "R2"))
    residency = residency.astype(object)
    resident_district = np.full(n, county_district_code, dtype=object)
    nr = residency == "NR"
    resident_district[nr] = rng.choice(np.array(neighbour_codes, dtype=object), int(nr.sum()))

    grade_mult = np.array(
        [1.15, 1.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.95, 1.0, 1.05, 1.3, 1.35, 1.4, 1.4]
    )
    mult = (
        grade_mult[grade]
        * np.where(meal == "F", 1.35, np.where(meal == "R", 1.1, 1.0))
        * np.where(iep, 1.2, 1.0)
        * np.where(homeless, 1.8, 1.0)
        * np.exp(-0.15 * ability)
    )
    absence_rate = np.clip(rng.beta(1.5, 28.0, n) * mult, 0.0, 0.6)

    ids = guids(stream(seed, "student-guids"), 2 * n)
    return Students(
        person_id=STUDENT_PERSON_BASE + 1 + np.arange(n, dtype=np.int64),
        grade=grade,
        older=older,
        is_male=is_male,
        race=race,
        birthdate=birthdate,
        first=first,
        middle=middle,
        last=last,
        suffix=suffix,
        prior_last=prior_last,
        state_id=state_id,
        student_number=student_number,
        email=email,
        meal=meal,
        iep=iep,
        disability=disability,
        lep=lep,
        language=language,
        immigrant=immigrant,
        homeless=homeless,
        migrant=migrant,
        foster=foster,
        gifted=gifted,
        s504=s504,
        residency=residency,
        resident_district=resident_district,
        ability=ability,
        absence_rate=absence_rate,
        person_guid=ids[:n],
        identity_guid=ids[n:],
    )


def _emails(first: np.ndarray, last: np.ndarray, number: np.ndarray, domain: str) -> np.ndarray:
    """`fsurname1234@domain` (last four digits of the student number), unique by construction."""
    local = [f"{f[0]}{s}{k[-4:]}".lower() for f, s, k in zip(first, last, number, strict=True)]
    seen: set[str] = set()
    out = np.empty(len(local), dtype=object)
    for i, name in enumerate(local):
        if name in seen:
            name = f"{first[i]}.{last[i]}{number[i]}".lower()
        seen.add(name)
        out[i] = f"{name}@{domain}"
    return out


def _disabilities(rng: np.random.Generator, iep: np.ndarray, grade: np.ndarray) -> np.ndarray:
    rows = [r for r in codes.table("disability") if r["share"]]
    code = np.array([r["code"] for r in rows], dtype=object)
    share = np.array([float(r["share"]) for r in rows])
    out = np.full(iep.size, "00", dtype=object)
    young = iep & (grade <= 4)  # developmental delay is for ages 3-9
    old = iep & ~young
    p_old = np.where(code == "13", 0.0, share)
    p_young = share * np.where(np.isin(code, ["06", "13"]), 3.0, 1.0)
    pk = iep & (grade == 0)
    out[young] = rng.choice(code, int(young.sum()), p=p_young / p_young.sum())
    out[old] = rng.choice(code, int(old.sum()), p=p_old / p_old.sum())
    # Early-childhood special education is mostly developmental delay and speech/language.
    out[pk] = rng.choice(
        np.array(["13", "06", "11"], dtype=object), int(pk.sum()), p=[0.6, 0.3, 0.1]
    )
    return out
