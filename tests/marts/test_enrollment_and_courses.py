"""Membership, FRL, demographic shares, days-based chronic absence, course participation,
completion and credits, each at its boundary (school year 2026-27)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from nexus.marts.query import cells
from nexus.marts.refresh import refresh
from tests.marts.district import District

JANUARY = date(2027, 1, 27)  # last Wednesday of January 2027
OCTOBER = date(2026, 9, 30)  # last Wednesday of September 2026


def _value(store, tenant, name: str, school: str) -> str:
    found = cells(store, tenant, name, 2027, school_code=school, role="analyst")["cells"]
    (cell,) = [c for c in found if c["group"] == "all" and c["grade"] == "all"]
    return cell["value"]


@pytest.fixture
def district(store, tenant):
    with store.engine.begin() as conn:
        d = District(conn)
        # 6001, membership and FRL: the ten in-session days before January 27 are
        # Jan 13-15, 18-22, 25-26; Jan 12 is the eleventh.
        d.school("6001")
        days = [date(2027, 1, 12) + timedelta(days=i) for i in range(15)]
        d.in_session("6001", [x for x in days if x.weekday() < 5 and x < JANUARY])
        m1, m2, m3, m4 = (
            d.students(2) + d.students(1, race="two_or_more") + d.students(1, race="black")
        )
        for s in (m1, m2, m4):
            d.enroll(s, "6001", "03")
        d.enroll(m3, "6001", "03", exit=date(2027, 1, 20), exit_code="T002")
        d.attend_on(m1, "6001", date(2027, 1, 13), 360, 0)  # the tenth day back: a member
        d.attend_on(m2, "6001", date(2027, 1, 12), 360, 0)  # the eleventh: not
        d.attend_on(m3, "6001", date(2027, 1, 19), 360, 0)  # left before the count date
        d.attend_on(m4, "6001", date(2027, 1, 26), 360, 0)
        d.program(m1, "lunch", "free")
        d.program(m2, "lunch", "reduced", begin=JANUARY + timedelta(days=1))  # too late
        d.program(m4, "lunch", "free", end=JANUARY)  # ends on the count date: counts
        d.program(m3, "lunch", "free")  # not enrolled on the count date
        # 6002, days-based chronic absence: 10% of enrolled days or more.
        d.school("6002")
        c1, c2, c3, c4 = d.students(4)
        for s in (c1, c2, c3, c4):
            d.enroll(s, "6002", "06")
        d.attend(c1, "6002", [(0, 360)] + [(360, 0)] * 9)  # 1 of 10: exactly 10%
        d.attend(c2, "6002", [(0, 360)] + [(360, 0)] * 10)  # 1 of 11
        d.attend(c3, "6002", [(180, 180)] + [(360, 0)] * 9)  # half a day counts
        d.attend(c4, "6002", [(181, 179)] + [(360, 0)] * 9)  # less than half does not
        # 6003, courses: scheduled on the count date; transcripts of the year.
        d.school("6003")
        p1, p2, p3 = d.students(3)
        section = d.section("6003")
        for s in (p1, p2, p3):
            d.enroll(s, "6003", "10")
        d.schedule(p1, section)
        d.schedule(p2, section, start=OCTOBER + timedelta(days=1))  # after the count date
        d.schedule(p3, section, end=OCTOBER)  # ends on it: scheduled
        d.transcript(p1, 0.5, 0.5)
        d.transcript(p1, 0.5, 0)
        d.transcript(p2, 1.0, 1.0)
    refresh(store, tenant, 2027)
    return store


def test_membership_counts_the_ten_school_days_before_the_count_date(district, tenant):
    assert _value(district, tenant, "membership", "6001") == "2"  # m1 and m4


def test_frl_percent_on_the_january_count_date(district, tenant):
    assert _value(district, tenant, "frl_percent", "6001") == "66.7"  # m1, m4 of m1, m2, m4


def test_demographic_share(district, tenant):
    # October: m1..m4 enrolled at 6001 (m3 leaves in January); m3 is "two or more races"
    # with no race named, m4 is Black.
    assert _value(district, tenant, "demographic_share_black", "6001") == "25.0"
    assert _value(district, tenant, "demographic_share_multiracial", "6001") == "25.0"
    assert _value(district, tenant, "demographic_share_white", "6001") == "50.0"


def test_days_based_chronic_absence(district, tenant):
    assert _value(district, tenant, "chronic_absence_days", "6002") == "50.0"  # c1, c3


def test_course_participation_completion_and_credits(district, tenant):
    assert _value(district, tenant, "courses_participation", "6003") == "66.7"  # p1, p3
    assert _value(district, tenant, "courses_completion", "6003") == "66.7"  # 2 of 3 courses
    assert _value(district, tenant, "credits_earned", "6003") == "0.75"  # (0.5 + 1.0) / 2
