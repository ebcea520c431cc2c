"""The school year and its calendar: instructional days, holidays, breaks, early release, terms.

One district calendar of dates is built per year and shared by every building's Campus
calendar; buildings differ in the length of their day (`DAY_MINUTES`). About 174 instructional
days (drawn from 172-177): Missouri's minimum is 1,044 hours, which these days clear at 360-405
minutes. Holidays and breaks follow the common Missouri pattern (Labor Day, a fall break,
Thanksgiving Wednesday-Friday, about two weeks at winter break, MLK Day, Presidents' Day, a spring
break week, Memorial Day); early release is the first Wednesday of each month.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from nexus.synth.streams import stream

# Minutes of instruction on a full day and on an early-release day, by building level.
DAY_MINUTES = {
    "ecc": (360, 180),
    "elementary": (390, 240),
    "middle": (405, 240),
    "high": (405, 240),
}


@dataclass(frozen=True)
class SchoolYear:
    """A school year, named `2026-27`; DESE's CurrentSchoolYear is its ending year, 2027."""

    end_year: int

    @property
    def start_year(self) -> int:
        return self.end_year - 1

    @property
    def label(self) -> str:
        return f"{self.end_year - 1}-{self.end_year % 100:02d}"


def parse_school_year(value: str | int) -> SchoolYear:
    """Accept `2026-27`, `2026-2027` or the ending year `2027`."""
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})-(\d{2}|\d{4})", text)
    if m:
        start = int(m.group(1))
        end_part = m.group(2)
        end = int(end_part) if len(end_part) == 4 else (start // 100) * 100 + int(end_part)
        if end < start:
            end += 100
        if end != start + 1:
            raise ValueError(f"{value!r}: a school year spans two consecutive years")
        return SchoolYear(end)
    if re.fullmatch(r"\d{4}", text):
        return SchoolYear(int(text))
    raise ValueError(f"{value!r}: write the school year as 2026-27 or 2027")


@dataclass
class YearCalendar:
    year: SchoolYear
    dates: np.ndarray  # every date from first to last student day, datetime64[D]
    instructional: np.ndarray  # bool per date
    early_release: np.ndarray  # bool per date
    comments: np.ndarray  # object per date: holiday / event name or None
    inst_dates: np.ndarray  # the instructional dates only
    inst_early: np.ndarray  # early-release flag per instructional date
    count_date: np.datetime64
    graduation_index: int  # index into inst_dates of graduation day
    semester_break: int  # first instructional index of semester 2

    @property
    def first_day(self) -> np.datetime64:
        return self.inst_dates[0]

    @property
    def last_day(self) -> np.datetime64:
        return self.inst_dates[-1]

    @property
    def n_days(self) -> int:
        return int(self.inst_dates.size)

    def minutes(self, level: str) -> np.ndarray:
        """Scheduled minutes per instructional date for a building level."""
        full, early = DAY_MINUTES[level]
        return np.where(self.inst_early, early, full).astype(np.int32)

    def terms(self, level: str) -> list[tuple[str, np.datetime64, np.datetime64]]:
        """Elementary and early childhood run one full-year term; secondary runs semesters."""
        if level in ("ecc", "elementary"):
            return [("Year", self.first_day, self.last_day)]
        return [
            ("S1", self.first_day, self.inst_dates[self.semester_break - 1]),
            ("S2", self.inst_dates[self.semester_break], self.last_day),
        ]


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    d = dt.date(year, month, 1)
    d += dt.timedelta(days=(weekday - d.weekday()) % 7)
    return d + dt.timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    d = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return d - dt.timedelta(days=(d.weekday() - weekday) % 7)


def build_calendar(seed: int, year: SchoolYear) -> YearCalendar:
    rng = stream(seed, "calendar")
    s, e = year.start_year, year.end_year
    # First student day: a Wednesday or Thursday between Aug 12 and Aug 21.
    starts = [
        d
        for d in (dt.date(s, 8, 12) + dt.timedelta(days=k) for k in range(10))
        if d.weekday() in (2, 3)
    ]
    first = starts[int(rng.integers(len(starts)))]
    target_days = int(rng.integers(172, 178))

    closed: dict[dt.date, str] = {}
    closed[_nth_weekday(s, 9, 0, 1)] = "Labor Day"
    fall_friday = _nth_weekday(s, 10, 4, 2)
    closed[fall_friday] = "Fall Break"
    closed[fall_friday + dt.timedelta(days=3)] = "Fall Break"
    closed[_nth_weekday(s, 9, 4, 3)] = "Professional Development"
    thanks = _nth_weekday(s, 11, 3, 4)
    for k in (-1, 0, 1):
        closed[thanks + dt.timedelta(days=k)] = "Thanksgiving Break"
    d = dt.date(s, 12, 20)
    while d <= dt.date(e, 1, 2):
        closed[d] = "Winter Break"
        d += dt.timedelta(days=1)
    back = dt.date(e, 1, 3)
    while back.weekday() >= 5:
        back += dt.timedelta(days=1)
    closed[back] = "Professional Development"
    closed[_nth_weekday(e, 1, 0, 3)] = "Martin Luther King Jr. Day"
    closed[_nth_weekday(e, 2, 0, 3)] = "Presidents' Day"
    spring = _nth_weekday(e, 3, 0, 2 + int(rng.integers(0, 2)))
    for k in range(5):
        closed[spring + dt.timedelta(days=k)] = "Spring Break"
    closed[_nth_weekday(e, 3, 4, 4) if spring.day < 14 else _nth_weekday(e, 3, 4, 1)] = (
        "Professional Development"
    )
    closed[_last_weekday(e, 5, 0)] = "Memorial Day"
    early = {
        _nth_weekday(y, m, 2, 1)
        for y, m in [(s, 9), (s, 10), (s, 11), (s, 12), (e, 1), (e, 2), (e, 3), (e, 4), (e, 5)]
    }

    dates: list[dt.date] = []
    inst: list[bool] = []
    comments: list[str | None] = []
    d, count = first, 0
    while count < target_days:
        is_school = d.weekday() < 5 and d not in closed
        dates.append(d)
        inst.append(is_school)
        comments.append(closed.get(d) if d.weekday() < 5 else None)
        if is_school:
            count += 1
            if d in early:
                comments[-1] = "Early Release"
        d += dt.timedelta(days=1)
    dates_np = np.array(dates, dtype="datetime64[D]")
    inst_np = np.array(inst)
    early_np = np.array([di in early for di in dates]) & inst_np
    inst_dates = dates_np[inst_np]

    count_date = np.datetime64(_last_weekday(s, 9, 2), "D")
    # Semester 2 starts with the first instructional day of January.
    semester_break = int(np.searchsorted(inst_dates, np.datetime64(dt.date(e, 1, 1), "D")))
    graduation_index = inst_dates.size - 1 - 8
    return YearCalendar(
        year=year,
        dates=dates_np,
        instructional=inst_np,
        early_release=early_np,
        comments=np.array(comments, dtype=object),
        inst_dates=inst_dates,
        inst_early=early_np[inst_np],
        count_date=count_date,
        graduation_index=graduation_index,
        semester_break=semester_break,
    )
