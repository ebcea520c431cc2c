"""Assessments: MAP grade-level tests, End-of-Course exams, ASVAB and Renaissance Star.

Scores come from the student's latent ability (subject scores correlate about 0.85 with it), so a
student strong in Star is strong on MAP and in marks. MAP performance-level shares are set to the
2024 statewide figures (about 41% proficient or advanced in ELA and 40% in math, grades 3-8,
reference/grade-card/indicators.md 6.1). Star windows are fall, winter and spring; Star scaled
score ranges follow Renaissance's published scales (Reading and Math 0-1400, Early Literacy
300-900) and benchmark categories use Renaissance's default percentile-rank cuts (40/25/10,
reference/sources/renaissance-star.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from nexus.synth.calendar import YearCalendar
from nexus.synth.courses import Schedule, catalog
from nexus.synth.enrollment import Enrollments
from nexus.synth.people import Students
from nexus.synth.streams import guid_bytes, stream

# testID order; parent codes refer to earlier rows.
TESTS = (
    ("MAP", None, "Missouri Assessment Program - Grade Level"),
    ("MAP-ELA", "MAP", "MAP English Language Arts"),
    ("MAP-MA", "MAP", "MAP Mathematics"),
    ("MAP-SC", "MAP", "MAP Science"),
    ("EOC", None, "Missouri End-of-Course Assessments"),
    ("EOC-ALG1", "EOC", "EOC Algebra I"),
    ("EOC-ALG2", "EOC", "EOC Algebra II"),
    ("EOC-ENG2", "EOC", "EOC English II"),
    ("EOC-BIO", "EOC", "EOC Biology"),
    ("EOC-GOV", "EOC", "EOC Government"),
    ("ASVAB", None, "Armed Services Vocational Aptitude Battery"),
    ("STAR", None, "Renaissance Star Assessments"),
    ("STAR-RD", "STAR", "Star Reading"),
    ("STAR-MA", "STAR", "Star Math"),
    ("STAR-EL", "STAR", "Star Early Literacy"),
)
LEVELS = np.array(["Below Basic", "Basic", "Proficient", "Advanced"], dtype=object)
# z cut points giving the statewide level shares (BB, B, P, A).
_MAP_CUTS = {
    "MAP-ELA": (-0.84, 0.23, 1.23),
    "MAP-MA": (-0.67, 0.25, 1.175),
    "MAP-SC": (-0.60, 0.30, 1.30),
}
_EOC_CUTS = {
    "EOC-ALG1": (-0.55, 0.40, 1.30),
    "EOC-ALG2": (-0.70, 0.20, 1.20),
    "EOC-ENG2": (-1.00, -0.25, 0.90),
    "EOC-BIO": (-0.80, 0.10, 1.10),
    "EOC-GOV": (-1.00, -0.30, 0.90),
}
_AFQT = (
    (93, "I"),
    (65, "II"),
    (50, "IIIA"),
    (31, "IIIB"),
    (21, "IVA"),
    (16, "IVB"),
    (10, "IVC"),
    (1, "V"),
)
STAR_CATEGORIES = (
    ("At/Above Benchmark", 40, 99),
    ("On Watch", 25, 39),
    ("Intervention", 10, 24),
    ("Urgent Intervention", 1, 9),
)
STAR_PRODUCTS = ("SR", "SM", "SEL")
STAR_TEST = {"SR": "STAR-RD", "SM": "STAR-MA", "SEL": "STAR-EL"}
WINDOWS = ("Fall", "Winter", "Spring")


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF (Abramowitz-Stegun 7.1.26; error below 1e-7)."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)


@dataclass
class Scores:
    """Campus TestScore rows (test index into TESTS)."""

    test: np.ndarray
    student: np.ndarray
    day: np.ndarray  # datetime64[D]
    scale: np.ndarray
    percentile: np.ndarray  # NaN when not reported
    level: np.ndarray  # object, None when not reported
    grade: np.ndarray


@dataclass
class StarEvents:
    product: np.ndarray  # SR / SM / SEL
    student: np.ndarray
    enrollment: np.ndarray
    window: np.ndarray  # index into WINDOWS
    window_start: np.ndarray  # datetime64[D]
    window_end: np.ndarray
    completed: np.ndarray  # datetime64[ms], UTC
    launched: np.ndarray
    grade_placement: np.ndarray
    scaled: np.ndarray
    sem: np.ndarray
    rasch: np.ndarray
    unified: np.ndarray
    ge: np.ndarray
    pr: np.ndarray
    nce: np.ndarray
    category: np.ndarray  # index into STAR_CATEGORIES
    sgp: np.ndarray  # NaN in the fall
    seconds: np.ndarray
    correct: np.ndarray
    possible: np.ndarray
    number: np.ndarray  # AssessmentNumber: the student's nth test of the product
    assessment_id: np.ndarray

    @property
    def n(self) -> int:
        return int(self.product.size)


def enrolled_on(enr: Enrollments, n_students: int, day: np.ndarray) -> np.ndarray:
    """Per student, the enrollment active on `day[student]` (instructional index), or -1."""
    out = np.full(n_students, -1, dtype=np.int64)
    d = day[enr.student]
    live = (enr.start_idx <= d) & (d <= enr.end_idx)
    out[enr.student[live]] = np.flatnonzero(live)
    return out


def _window(cal: YearCalendar, a: dt.date, b: dt.date) -> tuple[int, int]:
    lo = int(np.searchsorted(cal.inst_dates, np.datetime64(a, "D")))
    hi = int(np.searchsorted(cal.inst_dates, np.datetime64(b, "D"), side="right")) - 1
    return lo, max(lo, min(hi, cal.n_days - 1))


def _levels(z: np.ndarray, cuts: tuple[float, float, float]) -> np.ndarray:
    return LEVELS[np.searchsorted(np.array(cuts), z)]


def build_scores(
    seed: int, cal: YearCalendar, students: Students, enr: Enrollments, schedule: Schedule
) -> tuple[Scores, StarEvents]:
    rng = stream(seed, "assessments")
    code_index = {t[0]: i for i, t in enumerate(TESTS)}
    n = students.n
    z_read = 0.85 * students.ability + 0.53 * rng.standard_normal(n)
    z_math = 0.85 * students.ability + 0.53 * rng.standard_normal(n)
    z_sci = 0.85 * students.ability + 0.53 * rng.standard_normal(n)
    parts: list[tuple] = []
    e = cal.year.end_year

    # MAP grade-level: grades 3-8 ELA and math, science in 5 and 8, in a mid-April window.
    lo, hi = _window(cal, dt.date(e, 4, 8), dt.date(e, 4, 30))
    day = rng.integers(lo, hi + 1, n)
    on = enrolled_on(enr, n, day)
    tested = (on >= 0) & (rng.random(n) < 0.985)
    cat = catalog()
    alg_rows = [i for i, r in enumerate(cat) if r.eoc == "ALG1"]
    took_alg = _took_course(schedule, students.n, alg_rows)
    for code, grades, z in (
        ("MAP-ELA", range(4, 10), z_read),
        ("MAP-MA", range(4, 10), z_math),
        ("MAP-SC", (6, 9), z_sci),
    ):
        sel = tested & np.isin(students.grade, list(grades))
        if code == "MAP-MA":
            sel &= ~took_alg  # eighth graders in Algebra I take the EOC instead
        g = students.grade[sel]
        scale = np.round(np.clip(420 + 15 * (g - 4) + 40 * z[sel], 100, 800))
        parts.append(
            (
                np.full(sel.sum(), code_index[code]),
                np.flatnonzero(sel),
                cal.inst_dates[day[sel]],
                scale,
                np.full(sel.sum(), np.nan),
                _levels(z[sel], _MAP_CUTS[code]),
                g,
            )
        )

    # End-of-course: students who finished the course's second semester (or full year), early May.
    lo, hi = _window(cal, dt.date(e, 4, 28), dt.date(e, 5, 12))
    eday = rng.integers(lo, hi + 1, n)
    for code in ("EOC-ALG1", "EOC-ALG2", "EOC-ENG2", "EOC-BIO", "EOC-GOV"):
        rows = [i for i, r in enumerate(cat) if r.eoc == code[4:]]
        took = _took_course(schedule, n, rows, finished_only=True) & (
            enrolled_on(enr, n, eday) >= 0
        )
        z = {
            "EOC-ALG1": z_math,
            "EOC-ALG2": z_math,
            "EOC-ENG2": z_read,
            "EOC-BIO": z_sci,
            "EOC-GOV": z_read,
        }[code]
        sel = np.flatnonzero(took)
        scale = np.round(np.clip(200 + 30 * z[sel], 100, 300))
        parts.append(
            (
                np.full(sel.size, code_index[code]),
                sel,
                cal.inst_dates[eday[sel]],
                scale,
                np.full(sel.size, np.nan),
                _levels(z[sel], _EOC_CUTS[code]),
                students.grade[sel],
            )
        )

    # ASVAB: about 12% of grades 10-12, in February.
    lo, hi = _window(cal, dt.date(e, 2, 2), dt.date(e, 2, 27))
    aday = rng.integers(lo, hi + 1, n)
    sel = np.flatnonzero(
        (students.grade >= 11) & (rng.random(n) < 0.12) & (enrolled_on(enr, n, aday) >= 0)
    )
    afqt = np.clip(
        np.round(
            normal_cdf(0.9 * students.ability[sel] + 0.44 * rng.standard_normal(sel.size)) * 100
        ),
        1,
        99,
    )
    cuts = np.array([c for c, _ in _AFQT][::-1])
    names = np.array([nm for _, nm in _AFQT][::-1], dtype=object)
    cat_afqt = names[np.searchsorted(cuts, afqt, side="right") - 1]
    parts.append(
        (
            np.full(sel.size, code_index["ASVAB"]),
            sel,
            cal.inst_dates[aday[sel]],
            afqt,
            afqt,
            cat_afqt,
            students.grade[sel],
        )
    )

    star = _star(seed, cal, students, enr, z_read, z_math)
    parts.append(
        (
            np.array([code_index[STAR_TEST[p]] for p in star.product], dtype=np.int64),
            star.student,
            star.completed.astype("datetime64[D]"),
            star.scaled,
            star.pr.astype(float),
            np.array([c[0] for c in STAR_CATEGORIES], dtype=object)[star.category],
            students.grade[star.student],
        )
    )

    cols = [np.concatenate([p[k] for p in parts]) for k in range(7)]
    order = np.lexsort((cols[2], cols[0], students.person_id[cols[1]]))
    scores = Scores(*(c[order] for c in cols))
    return scores, star


def _took_course(
    schedule: Schedule, n: int, cat_rows: list[int], finished_only: bool = False
) -> np.ndarray:
    course_cat = schedule.course_cat[schedule.section_course[schedule.roster_section]]
    hit = np.isin(course_cat, cat_rows)
    if finished_only:
        term = schedule.section_term[schedule.roster_section]
        hit &= schedule.roster_end == schedule.term_end[term]
        hit &= schedule.term_name[term] != "S1"
    out = np.zeros(n, dtype=bool)
    out[schedule.roster_student[hit]] = True
    return out


def _star(
    seed: int,
    cal: YearCalendar,
    students: Students,
    enr: Enrollments,
    z_read: np.ndarray,
    z_math: np.ndarray,
) -> StarEvents:
    rng = stream(seed, "star")
    s, e = cal.year.start_year, cal.year.end_year
    windows = [
        (dt.date(s, 8, 18), dt.date(s, 9, 12)),
        (dt.date(s, 12, 1), dt.date(s, 12, 19)),
        (dt.date(e, 4, 13), dt.date(e, 5, 8)),
    ]
    placement = (0.1, 0.45, 0.8)
    g = students.grade
    grade_num = g - 1.0  # K = 0, PK = -1
    takes = {
        "SEL": ((g == 0) & (rng.random(g.size) < 0.5))
        | (g == 1)
        | ((g == 2) & (students.ability < -0.3)),
        "SR": ((g >= 3) & (g <= 9))
        | ((g == 2) & (students.ability >= -0.3))
        | ((g >= 10) & (rng.random(g.size) < 0.25)),
        "SM": ((g >= 2) & (g <= 9)) | ((g >= 10) & (rng.random(g.size) < 0.25)),
    }
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("product", "student", "enrollment", "window", "day", "gp", "z")
    }
    for w, (a, b) in enumerate(windows):
        lo, hi = _window(cal, a, b)
        day = rng.integers(lo, hi + 1, g.size)
        on = enrolled_on(enr, g.size, day)
        for product in STAR_PRODUCTS:
            sel = np.flatnonzero(takes[product] & (on >= 0) & (rng.random(g.size) < 0.96))
            base = z_math if product == "SM" else z_read
            cols["product"].append(np.full(sel.size, product, dtype=object))
            cols["student"].append(sel)
            cols["enrollment"].append(on[sel])
            cols["window"].append(np.full(sel.size, w))
            cols["day"].append(day[sel])
            cols["gp"].append(np.round(grade_num[sel] + placement[w], 2))
            cols["z"].append(base[sel] + rng.normal(0, 0.3, sel.size))
    c = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.lexsort((c["window"], c["product"], students.person_id[c["student"]]))
    c = {k: v[order] for k, v in c.items()}
    n = c["student"].size
    gp, z, product = c["gp"], c["z"], c["product"]
    mean = np.select(
        [product == "SR", product == "SM"],
        [
            1400 * (1 - np.exp(-np.maximum(gp, 0.05) / 9.0)),
            300 + 650 * (1 - np.exp(-np.maximum(gp, 0.05) / 4.5)),
        ],
        480 + 130 * gp,
    )
    sd = np.select(
        [product == "SR", product == "SM"], [np.minimum(60 + 25 * np.abs(gp), 280), 70], 70
    )
    low = np.where(product == "SEL", 300, 0)
    high = np.where(product == "SEL", 900, 1400)
    scaled = np.round(np.clip(mean + sd * z, low, high))
    pr = np.clip(np.round(normal_cdf(z) * 100), 1, 99).astype(np.int64)
    category = np.select([pr >= 40, pr >= 25, pr >= 10], [0, 1, 2], 3)
    secs = rng.integers(600, 1500, n)
    minutes = rng.integers(8 * 60 + 30, 14 * 60 + 30, n)
    # Missouri is on US Central time: UTC is local + 5 hours in the fall window, + 6 in winter.
    offset_h = np.where(c["window"] == 1, 6, 5)
    local = (
        cal.inst_dates[c["day"]].astype("datetime64[ms]")
        + (minutes * 60_000).astype("timedelta64[ms]")
        + rng.integers(0, 60_000, n).astype("timedelta64[ms]")
    )
    completed = local + (offset_h * 3_600_000).astype("timedelta64[ms]")
    sgp = np.where(c["window"] > 0, np.clip(np.round(rng.beta(2, 2, n) * 98 + 1), 1, 99), np.nan)
    key = students.person_id[c["student"]].astype(np.int64) * 10 + np.array(
        [STAR_PRODUCTS.index(p) for p in product]
    )
    starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    number = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1
    possible = np.where(product == "SEL", 27, 34)
    win_start = np.array([np.datetime64(a, "D") for a, _ in windows])
    win_end = np.array([np.datetime64(b, "D") for _, b in windows])
    return StarEvents(
        product=product,
        student=c["student"],
        enrollment=c["enrollment"],
        window=c["window"],
        window_start=win_start[c["window"]],
        window_end=win_end[c["window"]],
        completed=completed,
        launched=completed - (secs * 1000).astype("timedelta64[ms]"),
        grade_placement=gp,
        scaled=scaled,
        sem=np.round(rng.uniform(0.3, 0.45, n), 4),
        rasch=np.round((scaled - 700) / 100.0, 2),
        unified=np.round(600 + scaled * 0.28).astype(np.int64),
        ge=np.clip(np.round(np.maximum(gp, 0) + 1.3 * z, 1), 0.0, 12.9),
        pr=pr,
        nce=np.clip(np.round(50 + 21.06 * z), 1, 99).astype(np.int64),
        category=category,
        sgp=sgp,
        seconds=secs,
        correct=np.clip(np.round(possible * normal_cdf(z + 0.3)), 1, possible - 1).astype(np.int64),
        possible=possible,
        number=number,
        assessment_id=guid_bytes(stream(seed, "star-guids"), n),
    )
