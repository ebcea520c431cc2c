"""Staff: the educators behind the teaching positions, plus principals and counselors.

Every teaching position `courses.py` counted becomes one teacher (FTE 1.0, MOSIS position code
60); each building also gets a principal (10), assistant principals (20) at one per 600 students
and counselors (50) at one per 350 secondary or 450 elementary students. Educators carry a
local staff number and a seven-digit state educator (certificate) number in `staffStateID`.
Demographics follow the Missouri teaching workforce roughly: about three in four teachers are
women and about nine in ten are White.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from nexus.synth import names
from nexus.synth.calendar import YearCalendar
from nexus.synth.courses import Schedule
from nexus.synth.district import District
from nexus.synth.enrollment import Enrollments
from nexus.synth.streams import guids, stream, unique_integers

STAFF_PERSON_BASE = 10_000
# Order of codes.RACE_MOSIS (H, I, A, B, P, W, M).
STAFF_RACE_SHARES = np.array([0.013, 0.003, 0.007, 0.06, 0.001, 0.91, 0.006])


@dataclass
class Staff:
    person_id: np.ndarray
    first: np.ndarray
    middle: np.ndarray
    last: np.ndarray
    is_male: np.ndarray
    race: np.ndarray
    birthdate: np.ndarray
    staff_number: np.ndarray
    staff_state_id: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    hire_date: np.ndarray
    school: np.ndarray
    title: np.ndarray
    position_code: np.ndarray
    is_teacher: np.ndarray
    department: np.ndarray
    person_guid: np.ndarray
    identity_guid: np.ndarray

    @property
    def n(self) -> int:
        return int(self.person_id.size)

    def display(self, i: np.ndarray) -> np.ndarray:
        """Campus `teacherDisplay`: "Last, First"."""
        return np.array([f"{self.last[k]}, {self.first[k]}" for k in i], dtype=object)


def build_staff(
    seed: int, district: District, cal: YearCalendar, schedule: Schedule, enr: Enrollments
) -> Staff:
    rng = stream(seed, "staff")
    school = list(schedule.position_school)
    title = ["Teacher"] * len(school)
    code = ["60"] * len(school)
    dept = list(schedule.position_department)
    size = np.bincount(enr.school, minlength=district.n_schools)
    for s in range(district.n_schools):
        secondary = district.school_level[s] in ("middle", "high")
        extra = [("Principal", "10", "Administration")]
        extra += [("Assistant Principal", "20", "Administration")] * int(size[s] // 600)
        per = 350 if secondary else 450
        extra += [("Counselor", "50", "Counseling")] * max(
            1 if size[s] >= 200 else 0, int(round(size[s] / per))
        )
        for t, c, d in extra:
            school.append(s)
            title.append(t)
            code.append(c)
            dept.append(d)

    n = len(school)
    is_teacher = np.array([c == "60" for c in code])
    is_male = rng.random(n) < np.where(is_teacher, 0.24, 0.45)
    race = rng.choice(STAFF_RACE_SHARES.size, n, p=STAFF_RACE_SHARES)
    first = names.given_names(rng, is_male)
    middle = np.where(rng.random(n) < 0.85, names.given_names(rng, is_male), None)
    last = names.family_names(rng, race == 0)
    age = np.clip(rng.normal(42, 10, n), 23, 66).astype(np.int64)
    start = np.datetime64(dt.date(cal.year.start_year, 8, 1), "D")
    birthdate = start - (age * 365 + rng.integers(0, 365, n)).astype("timedelta64[D]")
    years = np.minimum(np.clip(rng.exponential(9.0, n), 0, 40).astype(np.int64), age - 22)
    hire_date = (start - (years * 365).astype("timedelta64[D]")).astype("datetime64[D]")

    email = np.empty(n, dtype=object)
    seen: set[str] = set()
    for i in range(n):
        local = f"{first[i]}.{last[i]}".lower()
        k = 2
        while local in seen:
            local = f"{first[i]}.{last[i]}{k}".lower()
            k += 1
        seen.add(local)
        email[i] = f"{local}@{district.staff_domain}"
    ids = guids(stream(seed, "staff-guids"), 2 * n)
    return Staff(
        person_id=STAFF_PERSON_BASE + 1 + np.arange(n, dtype=np.int64),
        first=first,
        middle=middle,
        last=last,
        is_male=is_male,
        race=race,
        birthdate=birthdate,
        staff_number=np.array(
            [f"E{v:05d}" for v in unique_integers(rng, n, 1, 100000 + n)], dtype=object
        ),
        staff_state_id=np.array(
            [f"{v:07d}" for v in unique_integers(rng, n, 10**6, 10**7)], dtype=object
        ),
        email=email,
        phone=np.array([f"(573) 555-{100 + (i % 100):04d}" for i in range(n)], dtype=object),
        hire_date=hire_date,
        school=np.array(school, dtype=np.int64),
        title=np.array(title, dtype=object),
        position_code=np.array(code, dtype=object),
        is_teacher=is_teacher,
        department=np.array(dept, dtype=object),
        person_guid=ids[:n],
        identity_guid=ids[n:],
    )
