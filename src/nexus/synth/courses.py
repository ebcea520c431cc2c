"""Courses, terms, sections, rosters and the teaching positions they need.

The course catalog (`codes/course_catalog.csv`) gives, per building level and grade, the slots
a student fills (homeroom and specials in elementary; seven periods in secondary), each with
local course numbers and DESE-style six-digit state course codes. Students pick a course per
slot once for the year (ability tracks for math and English, weighted choice for electives);
every building then forms sections of 18-26 students per term and course, and rosters each
enrollment into them for the part of the term it covers. Teaching positions are counted from
the sections (six sections a teacher in secondary, one homeroom each in elementary); `staff.py`
turns them into people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nexus.synth import codes
from nexus.synth.calendar import YearCalendar
from nexus.synth.district import District
from nexus.synth.enrollment import Enrollments
from nexus.synth.people import Students
from nexus.synth.streams import guids, stream

CAPACITY = {"ecc": 18, "elementary": 22, "middle": 26, "high": 25}
SECONDARY_LOAD = 6
SPECIALS_LOAD = 25
_SPECIAL_PERIOD = {"art": 2, "music": 3, "pe": 4}


@dataclass
class CatalogRow:
    level: str
    grades: tuple[int, ...]
    slot: str
    number: str
    name: str
    state_code: str
    subject: str
    department: str
    credit: float
    eoc: str
    min_z: float | None
    weight: float
    homeroom: bool


def _grade_index(code: str) -> int:
    return codes.GRADE_MOSIS.index(code)


def catalog() -> list[CatalogRow]:
    rows = []
    for r in codes.table("course_catalog"):
        g = r["grades"]
        if "-" in g:
            lo, hi = g.split("-")
            grades = tuple(range(_grade_index(lo), _grade_index(hi) + 1))
        else:
            grades = (_grade_index(g),)
        rows.append(
            CatalogRow(
                level=r["level"],
                grades=grades,
                slot=r["slot"],
                number=r["number"],
                name=r["name"],
                state_code=r["state_code"],
                subject=r["subject"],
                department=r["department"],
                credit=float(r["credit"]),
                eoc=r["eoc"],
                min_z=float(r["min_z"]) if r["min_z"] else None,
                weight=float(r["weight"]),
                homeroom=r["homeroom"] == "1",
            )
        )
    return rows


def slots(level: str) -> list[str]:
    seen: dict[str, None] = {}
    for r in catalog():
        if r.level == level:
            seen.setdefault(r.slot, None)
    return list(seen)


@dataclass
class Schedule:
    # courses (one per building x distinct catalog course number)
    course_id: np.ndarray
    course_school: np.ndarray
    course_cat: np.ndarray  # index into catalog() of the course's first catalog row
    course_grades: np.ndarray  # object: tuple of grade indices
    # terms
    term_id: np.ndarray
    term_school: np.ndarray
    term_name: np.ndarray
    term_start: np.ndarray  # instructional-day index
    term_end: np.ndarray
    term_guid: np.ndarray
    # sections
    section_id: np.ndarray
    section_course: np.ndarray  # index into courses
    section_term: np.ndarray  # index into terms
    section_number: np.ndarray
    section_period: np.ndarray
    section_teacher: np.ndarray  # index into positions
    # rosters
    roster_id: np.ndarray
    roster_student: np.ndarray
    roster_section: np.ndarray
    roster_start: np.ndarray
    roster_end: np.ndarray
    roster_enrollment: np.ndarray
    # teaching positions
    position_school: np.ndarray
    position_department: np.ndarray
    position_homeroom: np.ndarray

    @property
    def n_sections(self) -> int:
        return int(self.section_id.size)


def choose_courses(
    seed: int, students: Students, grade: np.ndarray | None = None, purpose: str = "course-choice"
) -> dict[str, np.ndarray]:
    """Per slot, the catalog row each student takes (-1 where the slot does not apply).

    `grade` overrides the students' current grade (transcripts ask what they took in grade 9).
    """
    rng = stream(seed, purpose)
    cat = catalog()
    grade = students.grade if grade is None else grade
    noisy = students.ability + rng.normal(0.0, 0.35, students.n)
    picks: dict[str, np.ndarray] = {}
    for slot in sorted({r.slot for r in cat}):
        out = np.full(students.n, -1, dtype=np.int64)
        for g in range(14):
            opts = [i for i, r in enumerate(cat) if r.slot == slot and g in r.grades]
            sel = np.flatnonzero(grade == g)
            if not opts or sel.size == 0:
                continue
            if cat[opts[0]].min_z is not None:
                thresholds = np.array([cat[i].min_z for i in opts])
                order = np.argsort(thresholds, kind="stable")
                pos = np.searchsorted(thresholds[order], noisy[sel], side="right") - 1
                out[sel] = np.array(opts)[order][np.maximum(pos, 0)]
            else:
                w = np.array([cat[i].weight for i in opts])
                out[sel] = rng.choice(np.array(opts), sel.size, p=w / w.sum())
        picks[slot] = out
    return picks


class _Builder:
    """Accumulates sections, rosters and teaching positions building by building."""

    def __init__(self) -> None:
        self.sec_course: list[np.ndarray] = []
        self.sec_term: list[np.ndarray] = []
        self.sec_period: list[np.ndarray] = []
        self.sec_position: list[np.ndarray] = []
        self.ros: dict[str, list[np.ndarray]] = {
            k: [] for k in ("student", "section", "start", "end", "enr")
        }
        self.pos_school: list[int] = []
        self.pos_dept: list[str] = []
        self.pos_homeroom: list[bool] = []
        self.n_sec = 0

    def position(self, school: int, dept: str, homeroom: bool) -> int:
        self.pos_school.append(school)
        self.pos_dept.append(dept)
        self.pos_homeroom.append(homeroom)
        return len(self.pos_school) - 1

    def sections(self, course: int, term: int, period: int, positions: np.ndarray) -> np.ndarray:
        k = positions.size
        ids = self.n_sec + np.arange(k)
        self.n_sec += k
        self.sec_course.append(np.full(k, course))
        self.sec_term.append(np.full(k, term))
        self.sec_period.append(np.full(k, period))
        self.sec_position.append(positions)
        return ids

    def roster(
        self,
        student: np.ndarray,
        section: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        enrollment: np.ndarray,
    ) -> None:
        for key, arr in zip(
            ("student", "section", "start", "end", "enr"),
            (student, section, start, end, enrollment),
            strict=True,
        ):
            self.ros[key].append(arr)


def build_schedule(
    seed: int, district: District, cal: YearCalendar, students: Students, enr: Enrollments
) -> Schedule:
    rng = stream(seed, "sections")
    cat = catalog()
    picks = choose_courses(seed, students)

    # Courses: per school, the distinct course numbers of its level's catalog.
    c_school, c_cat, c_grades = [], [], []
    course_index: dict[tuple[int, str], int] = {}
    for s in range(district.n_schools):
        level = district.school_level[s]
        by_number: dict[str, list[int]] = {}
        for i, r in enumerate(cat):
            if r.level == level:
                by_number.setdefault(r.number, []).append(i)
        for number, rows in by_number.items():
            course_index[(s, number)] = len(c_school)
            c_school.append(s)
            c_cat.append(rows[0])
            c_grades.append(tuple(sorted({g for i in rows for g in cat[i].grades})))

    # Terms.
    t_school, t_name, t_start, t_end = [], [], [], []
    term_index: dict[tuple[int, str], int] = {}
    for s in range(district.n_schools):
        for name, a, b in cal.terms(district.school_level[s]):
            term_index[(s, name)] = len(t_school)
            t_school.append(s)
            t_name.append(name)
            t_start.append(int(np.searchsorted(cal.inst_dates, a)))
            t_end.append(int(np.searchsorted(cal.inst_dates, b)))

    b = _Builder()
    enr_by_school = np.argsort(enr.school, kind="stable")
    bounds = np.searchsorted(enr.school[enr_by_school], np.arange(district.n_schools + 1))
    for s in range(district.n_schools):
        level = district.school_level[s]
        members = enr_by_school[bounds[s] : bounds[s + 1]]
        cap = CAPACITY[level]
        dept_positions: dict[str, list[int]] = {}
        load: dict[str, int] = {}
        level_slots = [
            x for x in slots(level) if not (level == "elementary" and x in _SPECIAL_PERIOD)
        ]
        for name, _, _ in cal.terms(level):
            t = term_index[(s, name)]
            ta, tb = t_start[t], t_end[t]
            live = members[(enr.start_idx[members] <= tb) & (enr.end_idx[members] >= ta)]
            if live.size == 0:
                continue
            r_start = np.maximum(enr.start_idx[live], ta)
            r_end = np.minimum(enr.end_idx[live], tb)
            stu = enr.student[live]
            load = {k: v for k, v in load.items() if k.startswith("special:")}
            for period, slot in enumerate(level_slots, start=1):
                choice = picks[slot][stu]
                ok = np.flatnonzero(choice >= 0)
                if ok.size == 0:
                    continue
                numbers = np.array([cat[c].number for c in choice[ok]], dtype=object)
                for number in sorted(set(numbers)):
                    take = ok[numbers == number]
                    k = int(np.ceil(take.size / cap))
                    seat = rng.permutation(take.size) % k
                    row = cat[choice[take[0]]]
                    plist = dept_positions.setdefault(row.department, [])
                    if row.homeroom:
                        positions = np.array(
                            [b.position(s, row.department, True) for _ in range(k)]
                        )
                    else:
                        positions = _share(
                            b, s, row.department, plist, load, row.department, k, SECONDARY_LOAD
                        )
                    ids = b.sections(course_index[(s, number)], t, period, positions)
                    b.roster(stu[take], ids[seat], r_start[take], r_end[take], live[take])
                    if row.homeroom and level == "elementary":
                        # Art, music and PE: one section per homeroom section, same students.
                        for slot_name, special_period in _SPECIAL_PERIOD.items():
                            srow = next(
                                r for r in cat if r.level == "elementary" and r.slot == slot_name
                            )
                            splist = dept_positions.setdefault(srow.name, [])
                            spos = _share(
                                b,
                                s,
                                srow.department,
                                splist,
                                load,
                                "special:" + srow.name,
                                k,
                                SPECIALS_LOAD,
                            )
                            sids = b.sections(
                                course_index[(s, srow.number)], t, special_period, spos
                            )
                            b.roster(stu[take], sids[seat], r_start[take], r_end[take], live[take])

    section_course = np.concatenate(b.sec_course)
    # Section numbers run 1..n within each course across its terms.
    order = np.lexsort((np.arange(section_course.size), section_course))
    numbers = np.empty(section_course.size, dtype=np.int64)
    sc = section_course[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sc)) + 1]
    run = np.arange(sc.size) - np.repeat(starts, np.diff(np.r_[starts, sc.size]))
    numbers[order] = run + 1

    ros = {k: np.concatenate(v) for k, v in b.ros.items()}
    r_order = np.lexsort((ros["section"], ros["student"]))
    n_terms = len(t_school)
    return Schedule(
        course_id=np.arange(1, len(c_school) + 1, dtype=np.int64),
        course_school=np.array(c_school, dtype=np.int64),
        course_cat=np.array(c_cat, dtype=np.int64),
        course_grades=_object_array(c_grades),
        term_id=np.arange(1, n_terms + 1, dtype=np.int64),
        term_school=np.array(t_school, dtype=np.int64),
        term_name=np.array(t_name, dtype=object),
        term_start=np.array(t_start, dtype=np.int64),
        term_end=np.array(t_end, dtype=np.int64),
        term_guid=guids(stream(seed, "term-guids"), n_terms),
        section_id=np.arange(1, section_course.size + 1, dtype=np.int64),
        section_course=section_course,
        section_term=np.concatenate(b.sec_term),
        section_number=numbers,
        section_period=np.concatenate(b.sec_period),
        section_teacher=np.concatenate(b.sec_position),
        roster_id=np.arange(1, ros["student"].size + 1, dtype=np.int64),
        roster_student=ros["student"][r_order],
        roster_section=ros["section"][r_order],
        roster_start=ros["start"][r_order],
        roster_end=ros["end"][r_order],
        roster_enrollment=ros["enr"][r_order],
        position_school=np.array(b.pos_school, dtype=np.int64),
        position_department=np.array(b.pos_dept, dtype=object),
        position_homeroom=np.array(b.pos_homeroom, dtype=bool),
    )


def _share(
    b: _Builder,
    school: int,
    dept: str,
    plist: list[int],
    load: dict[str, int],
    load_key: str,
    k: int,
    per_teacher: int,
) -> np.ndarray:
    """Positions for `k` new sections, each teacher of the department taking `per_teacher`."""
    used = load.get(load_key, 0)
    while len(plist) < int(np.ceil((used + k) / per_teacher)):
        plist.append(b.position(school, dept, False))
    load[load_key] = used + k
    return np.array(plist)[(used + np.arange(k)) // per_teacher]


def _object_array(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, v in enumerate(items):
        out[i] = v
    return out
