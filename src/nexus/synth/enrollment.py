"""Enrollments: the building each student attends, when they enter and leave, and why.

Each student gets a primary enrollment (serviceType P) in a building serving their grade, with
MOSIS entry/exit codes from `codes/enrollment_status.csv`. About 4% arrive new to the district
on the first day and 6% mid-year; 5.5% withdraw mid-year (transfers to other districts, out of
state, private or home school); 2.5% move between buildings of the district mid-year (two
enrollments joined by T001/T101); high-school students drop out at 1-2.5% a year; seniors who stay
graduate on graduation day (about 93% of them) with exit code G01. Enrollments still open at the
end of the year have no end date, as in a Campus database before year-end rollover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nexus.synth import codes
from nexus.synth.calendar import YearCalendar
from nexus.synth.district import District
from nexus.synth.people import Students
from nexus.synth.streams import guids, stream

_ENTRY_IN = np.array(
    ["transfer_mo_public", "transfer_out_of_state", "transfer_nonpublic", "transfer_home_school"]
)
_ENTRY_IN_P = np.array([0.60, 0.25, 0.10, 0.05])
_EXIT_OUT = np.array(
    ["transfer_mo_public", "transfer_out_of_state", "transfer_nonpublic", "transfer_home_school"]
)
_EXIT_OUT_P = np.array([0.55, 0.25, 0.08, 0.12])
_DROPOUT_BY_GRADE = {10: 0.010, 11: 0.015, 12: 0.020, 13: 0.025}


@dataclass
class Enrollments:
    enrollment_id: np.ndarray
    student: np.ndarray  # row index into Students
    school: np.ndarray  # row index into District schools (calendarID = schoolID)
    grade: np.ndarray
    start_idx: np.ndarray  # instructional-day index of the first day
    end_idx: np.ndarray  # instructional-day index of the last day (inclusive)
    open_end: np.ndarray  # True: still enrolled, endDate is null
    start_status: np.ndarray
    end_status: np.ndarray  # None when open
    graduate: np.ndarray
    title1: np.ndarray
    guid: np.ndarray

    @property
    def n(self) -> int:
        return int(self.enrollment_id.size)


@dataclass
class StudentOutcome:
    """Per student: primary school and how the year ended (for vendor exports and stats)."""

    first_school: np.ndarray
    last_school: np.ndarray
    entry_idx: np.ndarray
    exit_idx: np.ndarray
    exit_kind: np.ndarray  # continuing / transferred / dropout / graduated


def _pick_school(rng: np.random.Generator, district: District, grade: np.ndarray) -> np.ndarray:
    out = np.empty(grade.size, dtype=np.int64)
    for g in np.unique(grade):
        serving = np.flatnonzero((district.grade_lo <= g) & (district.grade_hi >= g))
        w = district.school_weight[serving] / district.school_weight[serving].sum()
        sel = np.flatnonzero(grade == g)
        out[sel] = rng.choice(serving, size=sel.size, p=w)
    return out


def build_enrollments(
    seed: int, district: District, cal: YearCalendar, students: Students
) -> tuple[Enrollments, StudentOutcome]:
    rng = stream(seed, "enrollments")
    n, days = students.n, cal.n_days
    grade = students.grade
    school = _pick_school(rng, district, grade)

    start = np.zeros(n, dtype=np.int64)
    entry = np.where(
        grade <= 1,
        codes.enrollment_code("entry", "initial"),
        codes.enrollment_code("entry", "advanced"),
    ).astype(object)
    retained = students.older & (rng.random(n) < 0.5)
    entry[retained] = codes.enrollment_code("entry", "retained")
    new_first_day = (grade >= 2) & (rng.random(n) < 0.04)
    late = rng.random(n) < 0.06
    arrived = new_first_day | late
    entry[arrived] = [
        codes.enrollment_code("entry", e)
        for e in rng.choice(_ENTRY_IN, int(arrived.sum()), p=_ENTRY_IN_P)
    ]
    start[late] = rng.integers(3, days - 25, int(late.sum()))

    end = np.full(n, days - 1, dtype=np.int64)
    open_end = np.ones(n, dtype=bool)
    exit_code = np.full(n, None, dtype=object)
    exit_kind = np.full(n, "continuing", dtype=object)

    drop_p = np.zeros(n)
    for g, p in _DROPOUT_BY_GRADE.items():
        drop_p[grade == g] = p
    dropout = rng.random(n) < drop_p
    leaver = (rng.random(n) < 0.055) | dropout
    room = (days - 6) - (start + 5)
    leaver &= room > 0
    dropout &= leaver
    end[leaver] = (
        start[leaver] + 5 + (rng.random(int(leaver.sum())) * room[leaver]).astype(np.int64)
    )
    open_end[leaver] = False
    out_codes = [
        codes.enrollment_code("exit", e)
        for e in rng.choice(_EXIT_OUT, int(leaver.sum()), p=_EXIT_OUT_P)
    ]
    exit_code[leaver] = out_codes
    exit_kind[leaver] = "transferred"
    drop_codes = np.array(codes.enrollment_codes("exit", "dropout"), dtype=object)
    exit_code[dropout] = rng.choice(
        drop_codes, int(dropout.sum()), p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.1]
    )
    exit_kind[dropout] = "dropout"

    senior = (grade == 13) & ~leaver & (start < cal.graduation_index - 5)
    grad_p = 1.0 / (1.0 + np.exp(-(3.2 + 1.3 * students.ability)))
    graduate = senior & (rng.random(n) < grad_p)
    end[graduate] = cal.graduation_index
    open_end[graduate] = False
    exit_code[graduate] = codes.enrollment_code("exit", "graduated")
    exit_kind[graduate] = "graduated"

    # Mid-year moves between buildings of the same level.
    n_serving = np.array(
        [((district.grade_lo <= g) & (district.grade_hi >= g)).sum() for g in range(14)]
    )
    span = end - start
    mover = (rng.random(n) < 0.025) & (n_serving[grade] > 1) & (span > 30) & ~graduate
    split = start + 10 + (rng.random(n) * np.maximum(span - 20, 1)).astype(np.int64)
    second_school = school.copy()
    for i in np.flatnonzero(mover):
        serving = np.flatnonzero((district.grade_lo <= grade[i]) & (district.grade_hi >= grade[i]))
        others = serving[serving != school[i]]
        second_school[i] = others[int(rng.integers(others.size))]

    t_out = codes.enrollment_code("exit", "transfer_in_district")
    t_in = codes.enrollment_code("entry", "transfer_in_district")
    m = np.flatnonzero(mover)
    stu = np.concatenate([np.arange(n), m])
    sch = np.concatenate([school, second_school[m]])
    s_idx = np.concatenate([start, split[m]])
    e_idx = np.concatenate([np.where(mover, split - 1, end), end[m]])
    opened = np.concatenate([open_end & ~mover, open_end[m]])
    s_stat = np.concatenate([entry, np.full(m.size, t_in, dtype=object)])
    e_stat = np.concatenate([np.where(mover, t_out, exit_code), exit_code[m]])
    grad = np.concatenate([graduate & ~mover, graduate[m]])

    order = np.lexsort((s_idx, students.person_id[stu]))
    stu, sch, s_idx, e_idx = stu[order], sch[order], s_idx[order], e_idx[order]
    opened, s_stat, e_stat, grad = opened[order], s_stat[order], e_stat[order], grad[order]

    free = students.meal == "F"
    free_share = np.bincount(sch, weights=free[stu], minlength=district.n_schools) / np.maximum(
        np.bincount(sch, minlength=district.n_schools), 1
    )
    title1_school = np.isin(district.school_level, ["ecc", "elementary"]) & (free_share >= 0.40)
    k = stu.size
    enrollments = Enrollments(
        enrollment_id=np.arange(1, k + 1, dtype=np.int64),
        student=stu,
        school=sch,
        grade=grade[stu],
        start_idx=s_idx,
        end_idx=e_idx,
        open_end=opened,
        start_status=s_stat,
        end_status=e_stat,
        graduate=grad,
        title1=np.where(title1_school[sch], "Y", "N").astype(object),
        guid=guids(stream(seed, "enrollment-guids"), k),
    )
    outcome = StudentOutcome(
        first_school=school,
        last_school=np.where(mover, second_school, school),
        entry_idx=start,
        exit_idx=end,
        exit_kind=exit_kind,
    )
    return enrollments, outcome
