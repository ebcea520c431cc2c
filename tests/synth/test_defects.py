"""--defects: every class is injected, listed in defects.csv, and visible in the output."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest

from nexus.synth import DEFECT_CLASSES
from tests.synth.conftest import read_csv


@pytest.fixture(scope="module")
def data(defective):
    _, out = defective
    ex = {p.stem: read_csv(p) for p in (out / "campus-extract").glob("*.csv")}
    vendors = {
        "powerschool": read_csv(out / "vendors/powerschool/students.csv"),
        "classlink": read_csv(out / "vendors/classlink/users.csv"),
        "star": [r for f in ("SR", "SM", "SEL") for r in read_csv(out / f"vendors/star/{f}.csv")],
    }
    return read_csv(out / "defects.csv"), ex, vendors


def _d(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%m/%d/%Y").date()


def test_every_class_is_listed(data, defective) -> None:
    defects, _, _ = data
    result, _ = defective
    found = Counter(d["defect_class"] for d in defects)
    assert set(found) == set(DEFECT_CLASSES)
    assert result.defects == len(defects)
    keys = [(d["defect_class"], d["entity"], d["record_key"], d["field"]) for d in defects]
    assert len(keys) == len(set(keys))


def test_every_listed_defect_is_in_the_output(data) -> None:
    defects, ex, vendors = data
    students = {s["student.personID"]: s for s in ex["students"]}
    enrollments = {e["enrollment.enrollmentID"]: e for e in ex["enrollments"]}
    attendance = {
        (
            a["attendance.personID"],
            a["attendance.calendarID"],
            _d(a["attendance.date"]).isoformat(),
        ): a
        for a in ex["attendance"]
    }
    days = {(d["day.calendarID"], _d(d["day.date"]).isoformat()): d for d in ex["days"]}
    sections = {s["section.sectionID"]: s for s in ex["sections"]}
    behavior = {(b["behavior.roleID"], b["behavior.resolutionID"]): b for b in ex["behavior"]}
    rosters = {r["roster.rosterID"]: r for r in ex["rosters"]}
    by_person = defaultdict(list)
    for e in ex["enrollments"]:
        by_person[e["enrollment.personID"]].append(e)
    grade_age = {"KG": 5, **{f"{g:02d}": 5 + g for g in range(1, 13)}, "PK": 4}

    for d in defects:
        cls, key, field = d["defect_class"], d["record_key"], d["field"]
        if cls == "missing_mosis_id":
            assert students[key]["student.stateID"] == ""
        elif cls == "invalid_code":
            row = students.get(key) if d["entity"] == "students" else enrollments[key]
            prefix = "student." if d["entity"] == "students" else "enrollment."
            value = row[prefix + field]
            assert value not in {
                "M",
                "F",
                "1",
                "2",
                "3",
                "4",
                "5",
                "6",
                "7",
                "R1",
                "NR",
                "R2",
                "NLP",
                "RCV",
                "E100",
                "R101",
                "R102",
            }
        elif cls == "birthdate_grade_mismatch":
            born = _d(students[key]["student.birthdate"])
            grade = by_person[key][0]["enrollment.grade"]
            start = _d(by_person[key][0]["enrollment.startDate"])
            age = start.year - born.year - ((born.month, born.day) > (8, 1))
            assert abs(age - grade_age[grade]) >= 3
        elif cls == "overlapping_enrollment":
            mine = enrollments[key]
            others = [e for e in by_person[mine["enrollment.personID"]] if e is not mine]
            start = _d(mine["enrollment.startDate"])
            assert any(
                _d(o["enrollment.startDate"]) <= start
                and (not o["enrollment.endDate"] or _d(o["enrollment.endDate"]) >= start)
                for o in others
            )
        elif cls == "exit_before_entry":
            e = enrollments[key]
            assert _d(e["enrollment.endDate"]) < _d(e["enrollment.startDate"])
        elif cls == "attendance_non_school_day":
            person, calendar, date = key.split("|")
            assert (person, calendar, date) in attendance
            assert days[(calendar, date)]["day.instruction"] == "0"
        elif cls == "attendance_minutes_exceed_day":
            person, calendar, date = key.split("|")
            a = attendance[(person, calendar, date)]
            assert int(a["attendance.presentMinutes"]) > int(days[(calendar, date)]["day.duration"])
        elif cls == "section_without_educator":
            assert sections[key]["section.teacherPersonID"] == ""
        elif cls == "discipline_missing_details":
            role, res = key.split("|")
            b = behavior[(role, res)]
            column = {
                "duration": "behavior.duration",
                "stateEventCode": "behavior.stateEventCode",
                "stateResCode": "behavior.stateResCode",
            }[field]
            assert b[column] == ""
        elif cls == "withdrawn_still_scheduled":
            r = rosters[key]
            ends = [
                _d(e["enrollment.endDate"])
                for e in by_person[r["roster.personID"]]
                if e["enrollment.endDate"]
            ]
            assert ends and _d(r["roster.endDate"]) > max(ends)
        elif cls == "vendor_identity_mismatch":
            vendor = d["entity"].split(".")[1]
            if vendor == "powerschool":
                row = next(p for p in vendors["powerschool"] if p["STUDENTS.STUDENT_NUMBER"] == key)
                sis = next(s for s in students.values() if s["student.studentNumber"] == key)
                column = {
                    "STUDENTS.LAST_NAME": "student.lastName",
                    "STUDENTS.DOB": "student.birthdate",
                }[field]
                assert row[field] != sis[column]
            elif vendor == "star":
                rows = [r for r in vendors["star"] if r["StudentIdentifier"] == key]
                sis = next(s for s in students.values() if s["student.studentNumber"] == key)
                assert rows and all(
                    not r["BirthDate"].startswith(_d(sis["student.birthdate"]).isoformat())
                    for r in rows
                )
            else:
                row = next(u for u in vendors["classlink"] if u["sourcedId"] == key)
                sis = next(
                    s for s in students.values() if s["student.studentNumber"] == row["identifier"]
                )
                assert row["givenName"] != sis["student.firstName"]
        else:  # pragma: no cover
            pytest.fail(f"unknown class {cls}")


def test_defects_stay_self_contained(data) -> None:
    """An enrollment with exit before entry has no rosters or attendance left."""
    defects, ex, _ = data
    broken = {d["record_key"] for d in defects if d["defect_class"] == "exit_before_entry"}
    people = {
        e["enrollment.personID"]
        for e in ex["enrollments"]
        if e["enrollment.enrollmentID"] in broken
    }
    assert not any(r["roster.personID"] in people for r in ex["rosters"])
    assert not any(a["attendance.personID"] in people for a in ex["attendance"])
