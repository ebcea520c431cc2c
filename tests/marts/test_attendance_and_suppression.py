"""Attendance indicators on hand-worked students (exactly 90%, a transfer, a student in two
schools), and suppression: a group of 9 hidden, a group of 10 shown, complementary hiding."""

from __future__ import annotations

import json
from datetime import date

import pytest

from nexus.marts.query import cells
from nexus.marts.refresh import refresh
from tests.marts.district import District

MOVE = date(2026, 10, 15)


def _cell(found: dict, school: str = "", grade: str = "all", group: str = "all") -> dict:
    for c in found["cells"]:
        if (c["school_code"], c["grade"], c["group"]) == (school, grade, group):
            return c
    raise AssertionError(f"no cell {school, grade, group} in {found['cells']}")


@pytest.fixture
def attendance_district(store, tenant):
    with store.engine.begin() as conn:
        d = District(conn)
        d.school("1001")
        d.school("1002")
        s1, s2, s3, s4, s5 = d.students(5)
        for s in (s1, s2, s3):
            d.enroll(s, "1001", "05")
        d.attend(s1, "1001", [(324, 36)])  # exactly 90.0%: in
        d.attend(s2, "1001", [(323, 37)])  # 89.7%: out
        d.attend(s3, "1001", [(360, 0)])
        # s4 transfers 1001 -> 1002 on October 15.
        d.enroll(s4, "1001", "05", exit=MOVE, exit_code="T001")
        d.enroll(s4, "1002", "05", entry=date(2026, 10, 16), entry_code="T101")
        d.attend(s4, "1001", [(100, 100)])
        d.attend(s4, "1002", [(900, 0)])
        # s5 is enrolled in both schools at once.
        d.enroll(s5, "1001", "05")
        d.enroll(s5, "1002", "05")
        d.attend(s5, "1001", [(180, 0)])
        d.attend(s5, "1002", [(100, 100)])
    refresh(store, tenant, 2027)
    return store


def test_proportional_attendance_boundaries_transfer_and_two_schools(attendance_district, tenant):
    store = attendance_district
    par = cells(store, tenant, "proportional_attendance", 2027, by="school", role="analyst")
    # 1001: s1 (exactly 90%), s3, s5 (180/180) in; s2 (89.7%), s4 (50% here) out: 3 of 5.
    assert _cell(par, "1001")["numerator"] == 3 and _cell(par, "1001")["n"] == 5
    assert _cell(par, "1001")["value"] == "60.0"
    # 1002: s4 (900/900) in, s5 (100/200) out.
    assert _cell(par, "1002")["value"] == "50.0"
    district = cells(store, tenant, "proportional_attendance", 2027, role="analyst")
    # District: hours summed per student: s4 1000/1100 = 90.9% in, s5 280/380 = 73.7% out.
    assert _cell(district)["numerator"] == 3 and _cell(district)["n"] == 5
    chronic = cells(store, tenant, "chronic_absence_hours", 2027, role="analyst")
    assert _cell(chronic)["value"] == "40.0"  # s2 and s5: the complement, exactly 90% not in
    rate = cells(store, tenant, "attendance_rate", 2027, role="analyst")
    # 2287 minutes attended of 2560 enrolled.
    assert _cell(rate)["value"] == f"{100 * 2287 / 2560:.1f}" == "89.3"


def test_enrollment_counts_a_student_once_in_the_district(attendance_district, tenant):
    found = cells(attendance_district, tenant, "k12_enrollment", 2027, by="school", role="admin")
    # On the count date (Sept 30) s4 is at 1001 only; s5 at both.
    assert _cell(found, "1001")["value"] == "5"
    assert _cell(found, "1002")["value"] == "1"
    district = cells(attendance_district, tenant, "k12_enrollment", 2027, role="admin")
    assert _cell(district)["value"] == "5"


def test_public_cells_of_five_students_show_a_star_never_zero(attendance_district, tenant, nexus):
    result = nexus("marts", "show", "proportional_attendance", "--by", "school", "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    for cell in shown["cells"]:
        assert cell["suppressed"] is True
        assert {cell["n"], cell["numerator"], cell["denominator"], cell["value"]} == {"*"}
    csv_out = nexus("marts", "show", "proportional_attendance", "--csv").stdout
    assert csv_out.splitlines()[1].endswith(",*,*,*,*") and ",0," not in csv_out


@pytest.fixture
def group_district(store, tenant):
    """50 students in one school: Black 10 (7 attend >= 90%), Hispanic 9, Asian 3, White 28;
    grade 03 has 45 of them, grade 04 five."""
    with store.engine.begin() as conn:
        d = District(conn)
        d.school("2001")
        black = d.students(10, race="black")
        hispanic = d.students(9, race="white", hispanic=True)
        asian = d.students(3, race="asian")
        white = d.students(28, race="white")
        everyone = black + hispanic + asian + white
        for i, s in enumerate(everyone):
            d.enroll(s, "2001", "04" if i >= 45 else "03")
            good = s not in black[7:]
            d.attend(s, "2001", [(360, 0)] if good else [(300, 60)])
    refresh(store, tenant, 2027)
    return store


def test_group_of_ten_shown_group_of_nine_hidden(group_district, tenant):
    public = cells(group_district, tenant, "proportional_attendance", 2027, by="group")
    black = _cell(public, group="black")
    assert (black["n"], black["numerator"], black["value"]) == (10, 7, "70.0")
    for group in ("hispanic", "asian"):  # 9 and 3: hidden, never 0
        assert _cell(public, group=group)["value"] == "*"
    assert _cell(public, group="white")["value"] == "100.0"
    assert _cell(public)["value"] == "94.0"  # 47 of 50


def test_complementary_suppression_hides_the_sibling_that_would_reveal(group_district, tenant):
    public = cells(group_district, tenant, "proportional_attendance", 2027, by="grade")
    # Grade 04 has 5 students (hidden); grade 03 (45) would give it away as total - 03.
    assert _cell(public, grade="04")["value"] == "*"
    assert _cell(public, grade="03")["value"] == "*"
    analyst = cells(
        group_district, tenant, "proportional_attendance", 2027, by="grade", role="analyst"
    )
    assert _cell(analyst, grade="04")["suppression_reason"] == "small_n"
    assert _cell(analyst, grade="03")["suppression_reason"] == "complementary"
    assert _cell(analyst, grade="03")["value"] == f"{100 * 42 / 45:.1f}"
