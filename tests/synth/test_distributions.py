"""The district is Missouri-shaped: shares and rates stay within the bounds docs/synth.md states."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest

from tests.synth.conftest import read_csv


@pytest.fixture(scope="module")
def files(larger):
    result, out = larger
    ex = out / "campus-extract"
    return result, {
        name: read_csv(ex / f"{name}.csv")
        for name in (
            "students",
            "enrollments",
            "attendance",
            "days",
            "test_scores",
            "behavior",
            "transcripts",
            "calendars",
        )
    }


def _share(values, wanted) -> float:
    values = list(values)
    return sum(v in wanted for v in values) / len(values)


def test_attendance_rate_and_chronic_absence_tail(files) -> None:
    result, f = files
    sched: dict[str, int] = defaultdict(int)
    present: dict[str, int] = defaultdict(int)
    for r in f["attendance"]:
        sched[r["attendance.personID"]] += int(r["attendance.scheduledMinutes"])
        present[r["attendance.personID"]] += int(r["attendance.presentMinutes"])
    rate = sum(present.values()) / sum(sched.values())
    assert 0.90 <= rate <= 0.96
    per_student = [present[p] / sched[p] for p in sched]
    chronic = sum(r < 0.90 for r in per_student) / len(per_student)
    assert 0.08 <= chronic <= 0.35
    assert sum(r < 0.80 for r in per_student) >= 0.01 * len(per_student)  # a real tail
    assert result.stats["attendance_rate"] == pytest.approx(rate)


def test_demographic_shares(files) -> None:
    _, f = files
    students = f["students"]
    race = [s["student.raceEthnicityFed"] for s in students]
    assert 0.60 <= _share(race, {"6"}) <= 0.80  # White
    assert 0.09 <= _share(race, {"4"}) <= 0.21  # Black
    assert 0.04 <= _share(race, {"1"}) <= 0.12  # Hispanic
    assert 0.45 <= _share((s["student.gender"] for s in students), {"M"}) <= 0.58
    first = {}
    for e in f["enrollments"]:
        first.setdefault(e["enrollment.personID"], e)
    enr = list(first.values())
    assert 0.30 <= _share((e["enrollment.mealStatus"] for e in enr), {"F"}) <= 0.47
    assert 0.09 <= _share((e["enrollment.specialEdStatus"] for e in enr), {"Y"}) <= 0.19
    assert 0.02 <= 1 - _share((e["enrollment.lep"] for e in enr), {"NLP"}) <= 0.09
    assert 0.005 <= _share((e["enrollment.homeless"] for e in enr), {"Y"}) <= 0.06
    assert {e["enrollment.residencyStatus"] for e in enr} <= {"R1", "NR", "R2"}


def test_calendar_has_about_174_days(files) -> None:
    _, f = files
    per_calendar = Counter(d["day.calendarID"] for d in f["days"] if d["day.instruction"] == "1")
    assert per_calendar and all(170 <= n <= 180 for n in per_calendar.values())
    comments = {d["day.comments"] for d in f["days"]}
    assert {
        "Labor Day",
        "Thanksgiving Break",
        "Winter Break",
        "Spring Break",
        "Early Release",
    } <= comments
    early = [d for d in f["days"] if d["day.comments"] == "Early Release"]
    full = [d for d in f["days"] if d["day.instruction"] == "1" and not d["day.comments"]]
    assert max(int(d["day.duration"]) for d in early) < min(int(d["day.duration"]) for d in full)


def test_birthdates_fit_grades(files) -> None:
    _, f = files
    born = {
        s["student.personID"]: dt.datetime.strptime(s["student.birthdate"], "%m/%d/%Y").date()
        for s in f["students"]
    }
    grades = {"PK": -1, "KG": 0, **{f"{g:02d}": g for g in range(1, 13)}}
    start = dt.datetime.strptime(f["calendars"][0]["calendar.startDate"], "%m/%d/%Y").year
    for e in f["enrollments"]:
        b = born[e["enrollment.personID"]]
        age_aug1 = start - b.year - ((b.month, b.day) > (8, 1))
        assert age_aug1 - grades[e["enrollment.grade"]] in (5, 6, 7), e


def test_map_proficiency_near_statewide(files) -> None:
    _, f = files
    for code in ("MAP-ELA", "MAP-MA"):
        levels = [
            t["testScore.performanceLevel"] for t in f["test_scores"] if t["test.code"] == code
        ]
        assert len(levels) > 100
        assert 0.28 <= _share(levels, {"Proficient", "Advanced"}) <= 0.54


def test_graduation_cohort_and_credits(files) -> None:
    _, f = files
    seniors = [e for e in f["enrollments"] if e["enrollment.grade"] == "12"]
    stayed = [e for e in seniors if not (e["enrollment.endStatus"] or "").startswith(("T", "D"))]
    grads = {e["enrollment.personID"] for e in stayed if e["enrollment.endStatus"] == "G01"}
    assert len(grads) >= 0.8 * len(stayed)
    credits: dict[str, float] = defaultdict(float)
    for t in f["transcripts"]:
        credits[t["transcript.personID"]] += float(t["transcript.creditsEarned"])
    assert all(credits[p] >= 24 for p in grads)
    assert {e["enrollment.cohortYear"] for e in seniors} == {f["calendars"][0]["calendar.endYear"]}


def test_discipline_rate_and_codes(files) -> None:
    result, f = files
    incidents = {b["behavior.incidentID"] for b in f["behavior"]}
    per_100 = 100 * len(incidents) / result.students
    assert 2 <= per_100 <= 20
    assert {b["behavior.stateEventCode"] for b in f["behavior"]} <= set("ADTVNWO")
    assert {b["behavior.stateResCode"] for b in f["behavior"]} <= {"ISS", "OSS", "EXP", "UR"}
    assert all(float(b["behavior.duration"]) > 0 for b in f["behavior"])
