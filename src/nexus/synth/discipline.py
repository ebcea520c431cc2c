"""Discipline: behavior incidents, offenses, removals (ISS, OSS, expulsion, interim) and durations.

Incidents are drawn per enrollment with a yearly rate that depends on grade (rare in elementary,
highest in middle school), sex, IEP, meal status and ability; each incident has one offender, one
event with a district behavior type mapped to a DESE incident type (A, D, T, V, N, W, O), and one
or two resolutions mapped to DESE removal codes (ISS, OSS, EXP, UR) with a duration in school
days. Days out of school (OSS, expulsion, interim removal) are absences in attendance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nexus.synth import codes
from nexus.synth.calendar import YearCalendar
from nexus.synth.district import District
from nexus.synth.enrollment import Enrollments
from nexus.synth.people import Students
from nexus.synth.streams import stream

_RATE_BY_GRADE = np.array(
    [0.005, 0.02, 0.03, 0.035, 0.04, 0.045, 0.05, 0.15, 0.17, 0.16, 0.14, 0.13, 0.11, 0.09]
)
_LOCATIONS = np.array(
    [
        "Classroom",
        "Hallway",
        "Cafeteria",
        "Bus",
        "Playground",
        "Gymnasium",
        "Restroom",
        "Parking Lot",
        "Library",
    ],
    dtype=object,
)
_LOCATION_P = np.array([0.38, 0.16, 0.12, 0.09, 0.07, 0.07, 0.05, 0.04, 0.02])
_OUT_OF_SCHOOL = ("OSS", "EXP", "UR")


@dataclass
class Discipline:
    offense_code: np.ndarray  # BehaviorType rows
    offense_name: np.ndarray
    offense_state: np.ndarray
    res_code: np.ndarray  # BehaviorResType rows
    res_name: np.ndarray
    res_state: np.ndarray
    incident_id: np.ndarray  # one incident = one event = one offender role
    incident_enrollment: np.ndarray
    incident_student: np.ndarray
    incident_day: np.ndarray  # instructional-day index
    incident_time: np.ndarray  # datetime64[s]
    incident_location: np.ndarray
    incident_offense: np.ndarray  # index into offense rows
    resolution_id: np.ndarray
    resolution_incident: np.ndarray  # index into incidents
    resolution_type: np.ndarray  # index into resolution rows
    resolution_start: np.ndarray  # instructional-day index
    resolution_end: np.ndarray
    resolution_days: np.ndarray  # school days (float: half days exist)

    @property
    def n_incidents(self) -> int:
        return int(self.incident_id.size)


def build_discipline(
    seed: int, district: District, cal: YearCalendar, students: Students, enr: Enrollments
) -> Discipline:
    rng = stream(seed, "discipline")
    table = codes.table("behavior")
    off = [r for r in table if r["table"] == "offense"]
    res = [r for r in table if r["table"] == "resolution"]
    res_codes = np.array([r["code"] for r in res], dtype=object)

    s = enr.student
    days = (enr.end_idx - enr.start_idx + 1).astype(float)
    rate = (
        _RATE_BY_GRADE[enr.grade]
        * np.where(students.is_male[s], 1.55, 0.45)
        * np.where(students.iep[s], 1.5, 1.0)
        * np.where(students.meal[s] == "F", 1.3, 1.0)
        * np.exp(-0.2 * students.ability[s])
        * days
        / cal.n_days
    )
    count = np.minimum(rng.poisson(rate), 5)
    inc_enr = np.repeat(np.arange(enr.n), count)
    n = inc_enr.size
    span = enr.end_idx[inc_enr] - enr.start_idx[inc_enr] + 1
    day = enr.start_idx[inc_enr] + (rng.random(n) * span).astype(np.int64)
    order = np.lexsort((day, enr.student[inc_enr]))
    inc_enr, day = inc_enr[order], day[order]

    secondary = np.isin(district.school_level[enr.school[inc_enr]], ["middle", "high"])
    p_el = np.array([float(r["share_elementary"]) for r in off])
    p_se = np.array([float(r["share_secondary"]) for r in off])
    offense = np.where(
        secondary,
        rng.choice(len(off), n, p=p_se / p_se.sum()),
        rng.choice(len(off), n, p=p_el / p_el.sum()),
    )
    minutes = rng.integers(7 * 60 + 45, 15 * 60 + 30, n)
    when = cal.inst_dates[day].astype("datetime64[s]") + (minutes * 60).astype("timedelta64[s]")

    serious = np.isin(np.array([off[i]["state_code"] for i in offense]), ["W", "D", "V"])
    p_res_el = np.array([float(r["share_elementary"]) for r in res])
    p_res_se = np.array([float(r["share_secondary"]) for r in res])
    first = np.where(
        secondary,
        rng.choice(len(res), n, p=p_res_se / p_res_se.sum()),
        rng.choice(len(res), n, p=p_res_el / p_res_el.sum()),
    )
    oss = int(np.flatnonzero(res_codes == "OSS")[0])
    iss = int(np.flatnonzero(res_codes == "ISS")[0])
    first = np.where(serious & (first == iss), oss, first)
    second = rng.random(n) < 0.10
    r_inc = np.concatenate([np.arange(n), np.flatnonzero(second)])
    r_type = np.concatenate([first, np.where(first[second] == iss, oss, iss)])
    kind = res_codes[r_type]
    length = np.select(
        [kind == "ISS", kind == "OSS", kind == "EXP", kind == "UR"],
        [
            rng.choice([0.5, 1.0, 2.0, 3.0], r_inc.size, p=[0.15, 0.45, 0.25, 0.15]),
            np.minimum(1 + rng.geometric(0.35, r_inc.size), 20).astype(float),
            rng.integers(45, 181, r_inc.size).astype(float),
            rng.integers(10, 46, r_inc.size).astype(float),
        ],
    )
    # Resolutions start the school day after the incident (the same day on a student's last
    # day); a second one follows the first. Suspensions are cut to the days the student is still
    # enrolled; expulsions and interim removals keep their full length, which may run past the
    # end of the year (their dates stop at the last instructional day).
    last = enr.end_idx[inc_enr[r_inc]]
    start = np.minimum(day[r_inc] + 1, last)
    is_second = np.arange(r_inc.size) >= n
    first_len = np.ceil(length[:n]).astype(np.int64)
    start[is_second] = np.minimum(start[is_second] + first_len[second], last[is_second])
    short = np.isin(kind, ["ISS", "OSS"])
    available = (last - start + 1).astype(float)
    length = np.where(short, np.minimum(length, available), length)
    end = np.where(short, last, cal.n_days - 1)
    end = np.minimum(start + np.ceil(length).astype(np.int64) - 1, end)
    end = np.maximum(end, start)
    r_order = np.lexsort((is_second, r_inc))
    return Discipline(
        offense_code=np.array([r["code"] for r in off], dtype=object),
        offense_name=np.array([r["name"] for r in off], dtype=object),
        offense_state=np.array([r["state_code"] for r in off], dtype=object),
        res_code=res_codes,
        res_name=np.array([r["name"] for r in res], dtype=object),
        res_state=np.array([r["state_code"] for r in res], dtype=object),
        incident_id=np.arange(1, n + 1, dtype=np.int64),
        incident_enrollment=inc_enr,
        incident_student=enr.student[inc_enr],
        incident_day=day,
        incident_time=when,
        incident_location=rng.choice(_LOCATIONS, n, p=_LOCATION_P),
        incident_offense=offense,
        resolution_id=np.arange(1, r_inc.size + 1, dtype=np.int64),
        resolution_incident=r_inc[r_order],
        resolution_type=r_type[r_order],
        resolution_start=start[r_order],
        resolution_end=end[r_order],
        resolution_days=length[r_order],
    )


def out_of_school_days(d: Discipline, enr: Enrollments) -> tuple[np.ndarray, np.ndarray]:
    """(enrollment index, instructional-day index) pairs a student spent removed from school."""
    out = np.isin(d.res_state[d.resolution_type], _OUT_OF_SCHOOL)
    e_rows, days = [], []
    for r in np.flatnonzero(out):
        e = d.incident_enrollment[d.resolution_incident[r]]
        lo = d.resolution_start[r]
        hi = min(d.resolution_end[r], enr.end_idx[e])
        if hi >= lo:
            e_rows.append(np.full(hi - lo + 1, e))
            days.append(np.arange(lo, hi + 1))
    if not e_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(e_rows), np.concatenate(days)
