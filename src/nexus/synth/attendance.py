"""Daily attendance: one row per enrolled student per instructional day, streamed in chunks.

This is the volume path (25,000 students make about 4.3 million rows), so rows are generated
vectorised, a block of enrollments x instructional days at a time, and handed to the writers as
Arrow record batches; memory stays flat from 100 to 1,000,000 students.

The model: each student has an absence propensity (`people.Students.absence_rate`, a skewed
Beta draw scaled by grade, meal status, IEP, homelessness and ability) which a day factor
raises on Mondays, Fridays, in December-February and around breaks. A day is then a whole-day
absence (status A), a partial day (T: late arrival or early leave, 10-180 minutes missed) or
present (P). Days removed from school for discipline (OSS, expulsion, interim removal) are
absences with excuse S. Minutes come from the building's day length on that date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from nexus.synth.calendar import YearCalendar
from nexus.synth.district import LEVELS, District
from nexus.synth.enrollment import Enrollments
from nexus.synth.people import Students
from nexus.synth.streams import stream

CHUNK_ENROLLMENTS = 16_384
STATUS = pa.array(["P", "A", "T"], pa.string())
EXCUSE = pa.array(["E", "U", "S"], pa.string())
SCHEMA = pa.schema(
    [
        ("personID", pa.int64()),
        ("calendarID", pa.int64()),
        ("date", pa.date32()),
        ("scheduledMinutes", pa.int32()),
        ("presentMinutes", pa.int32()),
        ("absentMinutes", pa.int32()),
        ("status", pa.string()),
        ("excuse", pa.string()),
        ("modifiedDate", pa.timestamp("s")),
    ]
)


@dataclass
class AttendanceStats:
    """Totals gathered while streaming, for the result summary and distribution checks."""

    scheduled: np.ndarray
    present: np.ndarray
    days: np.ndarray
    rows: int = 0

    def summary(self) -> dict[str, float]:
        counted = self.days >= 10
        rate = np.divide(
            self.present, self.scheduled, out=np.ones_like(self.present), where=self.scheduled > 0
        )
        total = float(self.scheduled.sum())
        return {
            "rows": int(self.rows),
            "attendance_rate": float(self.present.sum() / total) if total else 0.0,
            "chronic_absence_share": float((rate[counted] < 0.9).mean()) if counted.any() else 0.0,
            "proportional_attendance_rate": float((rate[counted] >= 0.9).mean())
            if counted.any()
            else 0.0,
        }


@dataclass
class AttendancePlan:
    """Everything the stream needs; defects add rows and over-long days through it."""

    seed: int
    cal: YearCalendar
    district: District
    students: Students
    enr: Enrollments
    forced_enrollment: np.ndarray  # discipline removals: enrollment index
    forced_day: np.ndarray  # ... and instructional-day index
    over_minutes: dict[tuple[int, int], int] = field(default_factory=dict)
    extra_rows: list[dict] = field(default_factory=list)
    skip_enrollments: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def day_factor(self) -> np.ndarray:
        d = self.cal.inst_dates
        weekday = (d.astype("datetime64[D]").astype(np.int64) - 4) % 7  # 0 = Monday
        month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
        f = np.array([1.08, 0.95, 0.95, 0.97, 1.12, 1.0, 1.0])[weekday]
        f *= np.array([1.1, 1.15, 1.0, 1.0, 1.1, 1.0, 1.0, 0.8, 0.9, 0.95, 1.0, 1.15])[month - 1]
        gap = np.diff(d.astype(np.int64))
        around_break = np.zeros(d.size, dtype=bool)
        around_break[:-1] |= gap > 3
        around_break[1:] |= gap > 3
        f *= np.where(around_break, 1.3, 1.0)
        return f / f.mean()

    def minutes_by_level(self) -> np.ndarray:
        return np.stack([self.cal.minutes(level) for level in LEVELS])


def stream_attendance(
    plan: AttendancePlan, stats: AttendanceStats | None = None
) -> Iterator[pa.RecordBatch]:
    """Yield AttendanceDay record batches in enrollment order, then any injected extra rows."""
    enr, students, cal = plan.enr, plan.students, plan.cal
    factor = plan.day_factor().astype(np.float32)
    minutes = plan.minutes_by_level()
    level_index = {lv: i for i, lv in enumerate(LEVELS)}
    profile = np.array([level_index[lv] for lv in plan.district.school_level])[enr.school]
    calendar_id = plan.district.school_id[enr.school]
    person = students.person_id[enr.student]
    tardy = (0.25 * students.absence_rate + 0.004).astype(np.float32)
    excused = stream(plan.seed, "attendance-excuse").beta(3.0, 2.0, students.n).astype(np.float32)
    dates = cal.inst_dates
    modified = dates.astype("datetime64[s]") + np.timedelta64(16 * 3600, "s")
    cols = np.arange(cal.n_days)
    forced_order = np.argsort(plan.forced_enrollment, kind="stable")
    forced_e = plan.forced_enrollment[forced_order]
    forced_d = plan.forced_day[forced_order]
    over = sorted(plan.over_minutes.items())

    for chunk, lo in enumerate(range(0, enr.n, CHUNK_ENROLLMENTS)):
        hi = min(lo + CHUNK_ENROLLMENTS, enr.n)
        rng = stream(plan.seed, "attendance", chunk)
        sl = slice(lo, hi)
        stu = enr.student[sl]
        live = (cols[None, :] >= enr.start_idx[sl, None]) & (cols[None, :] <= enr.end_idx[sl, None])
        skipped = plan.skip_enrollments[
            (plan.skip_enrollments >= lo) & (plan.skip_enrollments < hi)
        ]
        live[skipped - lo] = False
        rows, days = np.nonzero(live)
        u = rng.random(rows.size, dtype=np.float32)
        p = students.absence_rate[stu].astype(np.float32)[rows] * factor[days]
        absent = u < 0.85 * p
        partial = ~absent & (u < 0.85 * p + tardy[stu][rows])
        status = np.where(absent, 1, np.where(partial, 2, 0)).astype(np.int8)
        a, b = np.searchsorted(forced_e, [lo, hi])
        if b > a:
            key = (forced_e[a:b] - lo) * cal.n_days + forced_d[a:b]
            hit = np.isin(rows * cal.n_days + days, key)
            status[hit] = 1
        else:
            hit = np.zeros(rows.size, dtype=bool)
        sched = minutes[profile[lo + rows], days]
        missed = np.where(
            status == 1,
            sched,
            np.where(
                status == 2,
                np.minimum(10 + (rng.random(rows.size) * 170).astype(np.int32), sched - 30),
                0,
            ),
        ).astype(np.int32)
        present = (sched - missed).astype(np.int32)
        sched = sched.astype(np.int32)
        for (e_idx, d_idx), extra in over:
            if lo <= e_idx < hi:
                m = np.flatnonzero((rows == e_idx - lo) & (days == d_idx))
                sched[m] = sched[m] + extra
                present[m] = sched[m]
                missed[m] = 0
                status[m] = 0
        v = rng.random(rows.size, dtype=np.float32)
        excuse_idx = np.where(v < excused[stu][rows], 0, 1).astype(np.int8)
        excuse_idx[status == 2] = np.where(v[status == 2] < 0.3, 0, 1)
        excuse_idx[hit] = 2
        excuse = EXCUSE.take(pa.array(excuse_idx, mask=status == 0))
        if stats is not None:
            who = stu[rows]
            stats.scheduled += np.bincount(who, weights=sched, minlength=students.n)
            stats.present += np.bincount(who, weights=present, minlength=students.n)
            stats.days += np.bincount(who, minlength=students.n)
            stats.rows += int(rows.size)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(person[lo + rows]),
                pa.array(calendar_id[lo + rows]),
                pa.array(dates[days], pa.date32()),
                pa.array(sched),
                pa.array(present),
                pa.array(missed),
                STATUS.take(pa.array(status)),
                excuse,
                pa.array(modified[days], pa.timestamp("s")),
            ],
            schema=SCHEMA,
        )

    if plan.extra_rows:
        extra = {name: [r[name] for r in plan.extra_rows] for name in SCHEMA.names}
        if stats is not None:
            stats.rows += len(plan.extra_rows)
        yield pa.RecordBatch.from_pydict(extra, schema=SCHEMA)


def new_stats(n_students: int) -> AttendanceStats:
    return AttendanceStats(
        scheduled=np.zeros(n_students), present=np.zeros(n_students), days=np.zeros(n_students)
    )
