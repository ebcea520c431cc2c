"""Without --defects the district is clean: none of the checks a MOSIS operator runs fails."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict

import pytest

from nexus.synth import codes
from tests.synth.conftest import read_csv


def _d(text: str) -> dt.date | None:
    return dt.datetime.strptime(text, "%m/%d/%Y").date() if text else None


@pytest.fixture(scope="module")
def ex(clean):
    _, out = clean
    folder = out / "campus-extract"
    return {p.stem: read_csv(p) for p in folder.glob("*.csv")}


def test_defects_file_is_header_only(clean) -> None:
    _, out = clean
    rows = list(csv.reader((out / "defects.csv").open(encoding="utf-8")))
    assert rows == [["defect_class", "entity", "record_key", "field", "expected_rule", "note"]]


def test_identifiers(clean, ex) -> None:
    result, _ = clean
    ids = [s["student.stateID"] for s in ex["students"]]
    assert len(ids) == result.students and len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"\d{10}", i) for i in ids)
    assert all(re.fullmatch(r"\d{4}", c["school.number"]) for c in ex["calendars"])
    assert all(re.fullmatch(r"\d{6}", e["enrollment.residentDistrict"]) for e in ex["enrollments"])


def test_codes_are_in_code_sets(ex) -> None:
    entry = {r["code"] for r in codes.table("enrollment_status") if r["kind"] == "entry"}
    exit_ = {r["code"] for r in codes.table("enrollment_status") if r["kind"] == "exit"}
    for e in ex["enrollments"]:
        assert e["enrollment.startStatus"] in entry
        assert e["enrollment.endStatus"] in exit_ | {""}
        assert e["enrollment.lep"] in {"NLP", "RCV", "NRC", "MY1", "MY2", "AY3", "AY4"}
        assert e["enrollment.residencyStatus"] in {"R1", "NR", "R2"}
        assert e["enrollment.grade"] in codes.GRADE_CAMPUS
    for s in ex["students"]:
        assert s["student.gender"] in {"M", "F"}
        assert s["student.raceEthnicityFed"] in codes.RACE_FED


def test_enrollments_are_consistent(ex) -> None:
    spans = defaultdict(list)
    for e in ex["enrollments"]:
        start, end = _d(e["enrollment.startDate"]), _d(e["enrollment.endDate"])
        assert end is None or end >= start
        assert bool(e["enrollment.endDate"]) == bool(e["enrollment.endStatus"])
        spans[e["enrollment.personID"]].append((start, end or dt.date.max))
    for rows in spans.values():
        rows.sort()
        for (_, end_a), (start_b, _) in zip(rows, rows[1:], strict=False):
            assert start_b > end_a  # no overlapping primary enrollments


def test_attendance_only_on_school_days_within_enrollment(ex) -> None:
    days = {(d["day.calendarID"], d["day.date"]): d for d in ex["days"]}
    spans = defaultdict(list)
    for e in ex["enrollments"]:
        spans[(e["enrollment.personID"], e["enrollment.calendarID"])].append(
            (_d(e["enrollment.startDate"]), _d(e["enrollment.endDate"]) or dt.date.max)
        )
    seen = set()
    for a in ex["attendance"]:
        key = (a["attendance.personID"], a["attendance.calendarID"], a["attendance.date"])
        assert key not in seen
        seen.add(key)
        day = days[(a["attendance.calendarID"], a["attendance.date"])]
        assert day["day.instruction"] == "1"
        sched, present = int(a["attendance.scheduledMinutes"]), int(a["attendance.presentMinutes"])
        assert sched == int(day["day.duration"])
        assert present + int(a["attendance.absentMinutes"]) == sched and 0 <= present <= sched
        when = _d(a["attendance.date"])
        assert any(s <= when <= e for s, e in spans[key[:2]])


def test_sections_rosters_and_teachers(ex) -> None:
    staff = {s["staff.personID"] for s in ex["staff"]}
    for s in ex["sections"]:
        assert s["section.teacherPersonID"] in staff
    spans = defaultdict(list)
    for e in ex["enrollments"]:
        spans[e["enrollment.personID"]].append(
            (_d(e["enrollment.startDate"]), _d(e["enrollment.endDate"]) or dt.date.max)
        )
    for r in ex["rosters"]:
        start, end = _d(r["roster.startDate"]), _d(r["roster.endDate"])
        assert any(s <= start and end <= e for s, e in spans[r["roster.personID"]])


def test_discipline_complete(ex) -> None:
    for b in ex["behavior"]:
        assert b["behavior.stateEventCode"] and b["behavior.stateResCode"]
        assert b["behavior.duration"]
        assert _d(b["behavior.resolutionStartDate"]) <= _d(b["behavior.resolutionEndDate"])


def test_vendor_names_and_birthdates_match_sis(clean) -> None:
    _, out = clean
    sis = {s["student.studentNumber"]: s for s in read_csv(out / "campus-extract/students.csv")}
    for p in read_csv(out / "vendors/powerschool/students.csv"):
        s = sis[p["STUDENTS.STUDENT_NUMBER"]]
        assert p["STUDENTS.LAST_NAME"] == s["student.lastName"]
        assert p["STUDENTS.DOB"] == s["student.birthdate"]
    by_number = {k.lstrip("0"): v for k, v in sis.items()}
    for r in read_csv(out / "vendors/star/SR.csv"):
        s = sis.get(r["StudentIdentifier"]) or by_number[r["StudentIdentifier"]]
        assert r["StudentFirstName"] == s["student.firstName"]
        born = dt.datetime.strptime(s["student.birthdate"], "%m/%d/%Y").date()
        assert r["BirthDate"].startswith(born.isoformat())
