"""High-school marks, credits and transcripts, this year's and the years before.

Secondary courses are semester courses worth 0.5 credit each, seven a term, so a student can
earn 7 credits a year and 28 in four years; Missouri requires 24 to graduate, and every
graduate here has at least that. A mark's percent follows the student's ability (about 82 on
average, sd about 10); letters use the common 90/80/70/60 cut-offs and an F earns no credit.
Earlier years' transcript rows (grades 9 up to last year) are generated from the same catalog,
so a senior's transcript holds four years.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from nexus.synth import codes
from nexus.synth.calendar import YearCalendar
from nexus.synth.courses import Schedule, catalog, choose_courses
from nexus.synth.district import District
from nexus.synth.enrollment import Enrollments
from nexus.synth.people import Students
from nexus.synth.streams import stream

LETTERS = ("F", "D", "C", "B", "A")
_GRADE_09 = 10


@dataclass
class Transcripts:
    transcript_id: np.ndarray
    student: np.ndarray
    grade: np.ndarray  # grade index the course was taken in
    end_year: np.ndarray
    cat_row: np.ndarray  # index into courses.catalog()
    term: np.ndarray  # 1 or 2
    date: np.ndarray  # datetime64[D]
    percent: np.ndarray
    letter: np.ndarray  # index into LETTERS (0 = F .. 4 = A)
    earned: np.ndarray
    attempted: np.ndarray
    standard_id: np.ndarray

    @property
    def n(self) -> int:
        return int(self.transcript_id.size)


def credit_types() -> list[str]:
    """The credit areas (Campus curriculum standards) in standardID order."""
    return sorted({r.department for r in catalog() if r.level == "high"})


def build_transcripts(
    seed: int,
    district: District,
    cal: YearCalendar,
    students: Students,
    enr: Enrollments,
    schedule: Schedule,
) -> Transcripts:
    rng = stream(seed, "transcripts")
    cat = catalog()
    dept_id = {d: i + 1 for i, d in enumerate(credit_types())}

    # This year: high-school rosters that reached the end of their term (or graduation day).
    sec = schedule.roster_section
    term = schedule.section_term[sec]
    school = schedule.term_school[term]
    is_high = district.school_level[school] == "high"
    finished = schedule.roster_end == schedule.term_end[term]
    finished |= enr.graduate[schedule.roster_enrollment] & (
        schedule.roster_end == enr.end_idx[schedule.roster_enrollment]
    )
    cur = np.flatnonzero(is_high & finished)
    cur_student = schedule.roster_student[cur]
    cur_cat = schedule.course_cat[schedule.section_course[sec[cur]]]
    cur_term = np.where(schedule.term_name[term[cur]] == "S1", 1, 2)
    cur_date = cal.inst_dates[schedule.term_end[term[cur]]]
    cur_grade = students.grade[cur_student]

    # Earlier years: grades 9 .. current grade - 1, seven slots, two semesters each.
    p_student, p_grade, p_cat, p_year = [], [], [], []
    slots = [x for x in dict.fromkeys(r.slot for r in cat if r.level == "high")]
    for back in range(1, 4):
        pg = students.grade - back
        who = np.flatnonzero((students.grade >= _GRADE_09 + back) & (pg >= _GRADE_09))
        if who.size == 0:
            continue
        picks = choose_courses(
            seed, students, grade=np.where(pg >= _GRADE_09, pg, -1), purpose=f"course-choice-{back}"
        )
        for slot in slots:
            chosen = picks[slot][who]
            ok = chosen >= 0
            p_student.append(who[ok])
            p_grade.append(pg[who[ok]])
            p_cat.append(chosen[ok])
            p_year.append(np.full(int(ok.sum()), cal.year.end_year - back))
    if p_student:
        ps, pgr, pc, py = (np.concatenate(x) for x in (p_student, p_grade, p_cat, p_year))
    else:
        ps = pgr = pc = py = np.zeros(0, dtype=np.int64)
    ps, pgr, pc, py = (np.repeat(x, 2) for x in (ps, pgr, pc, py))
    pt = np.tile([1, 2], ps.size // 2)
    years = np.arange(cal.year.end_year - 4, cal.year.end_year + 1)
    fall_end = np.array([np.datetime64(dt.date(int(y) - 1, 12, 19), "D") for y in years])
    spring_end = np.array([np.datetime64(dt.date(int(y), 5, 20), "D") for y in years])
    pdate = np.where(pt == 1, fall_end[py - years[0]], spring_end[py - years[0]])

    student = np.concatenate([ps, cur_student])
    grade = np.concatenate([pgr, cur_grade])
    cat_row = np.concatenate([pc, cur_cat])
    end_year = np.concatenate([py, np.full(cur.size, cal.year.end_year)])
    term_no = np.concatenate([pt, cur_term])
    date = np.concatenate([pdate, cur_date])

    percent = np.clip(
        82 + 9.0 * students.ability[student] + rng.normal(0, 7, student.size), 35, 100
    )
    percent = np.round(percent, 1)
    # Graduates passed everything they needed: no F on a graduate's transcript.
    grads = np.zeros(students.n, dtype=bool)
    grads[enr.student[enr.graduate]] = True
    percent = np.where(grads[student] & (percent < 60), 60 + (percent % 5), percent)
    letter = np.clip(((percent - 50) // 10).astype(np.int8), 0, 4)
    attempted = np.array([r.credit for r in cat])[cat_row]
    earned = np.where(letter == 0, 0.0, attempted)
    standard = np.array([dept_id.get(r.department, 0) for r in cat], dtype=np.int64)[cat_row]

    order = np.lexsort((cat_row, term_no, end_year, student))
    n = student.size
    # Compact dtypes: this is the largest table after attendance and rosters.
    return Transcripts(
        transcript_id=np.arange(1, n + 1, dtype=np.int64),
        student=student[order].astype(np.int32),
        grade=grade[order].astype(np.int8),
        end_year=end_year[order].astype(np.int16),
        cat_row=cat_row[order].astype(np.int16),
        term=term_no[order].astype(np.int8),
        date=date[order],
        percent=percent[order],
        letter=letter[order],
        earned=earned[order].astype(np.float32),
        attempted=attempted[order].astype(np.float32),
        standard_id=standard[order].astype(np.int8),
    )


def grade_label(grade: np.ndarray) -> np.ndarray:
    return np.array(codes.GRADE_MOSIS, dtype=object)[grade]
