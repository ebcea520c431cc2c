"""Discipline, dropout, graduation, assessment and educator indicators on hand-worked students."""

from __future__ import annotations

from datetime import date

import pytest

from nexus.marts.query import cells
from nexus.marts.refresh import refresh
from tests.marts.district import District


def _value(store, tenant, name: str, school: str | None = None) -> str:
    found = cells(store, tenant, name, 2027, school_code=school, role="analyst")
    (cell,) = [c for c in found["cells"] if c["group"] == "all" and c["grade"] == "all"]
    return cell["value"]


@pytest.fixture
def outcomes(store, tenant):
    with store.engine.begin() as conn:
        d = District(conn)
        for code in ("3001", "3002", "3003", "3004", "3005", "3006"):
            d.school(code)
        # 3001 discipline: three grade-10 students on the count date.
        s1, s2, s3 = d.students(3)
        for s in (s1, s2, s3):
            d.enroll(s, "3001", "10")
        d.incident(s1, "3001", "OSS", 10, offense="W")  # exactly 10 days: counted
        d.incident(s2, "3001", "OSS", 9.5)  # 9.5 days: not a report-card incident
        d.incident(s3, "3001", "EXP", 45, offense="V")
        d.incident(s3, "3001", "ISS", 2)
        # 3002 dropout: Sept 3 enrolled, 1 transfer in, 1 transfer out, 1 dropout.
        k1, k2, k3, k4 = d.students(4)
        d.enroll(k1, "3002", "09")
        d.enroll(k2, "3002", "11", exit=date(2027, 2, 10), exit_code="D01")
        d.enroll(k3, "3002", "12", exit=date(2027, 1, 15), exit_code="T002")
        d.enroll(k4, "3002", "10", entry=date(2026, 11, 2), entry_code="T102")
        # 3003/3004 graduation, cohort 2027.
        g1, g2, g3, g4, g5 = d.students(5)
        d.enroll(g1, "3003", "12", exit=date(2027, 5, 20), exit_code="G01")
        d.enroll(g2, "3003", "12")
        d.enroll(g3, "3003", "12", exit=date(2026, 12, 1), exit_code="T002")
        d.enroll(g4, "3003", "12", exit=date(2027, 3, 1), exit_code="D02")
        d.enroll(g5, "3003", "12", exit=date(2026, 10, 15), exit_code="T001")
        d.enroll(
            g5,
            "3004",
            "12",
            entry=date(2026, 10, 16),
            exit=date(2027, 5, 20),
            exit_code="G01",
            entry_code="T101",
        )
        for g in (g1, g2, g3, g4, g5):
            d.cohort(g)
        # 3006: cohort 2026 in its fifth year; one graduates in May 2027.
        h1, h2 = d.students(2)
        d.enroll(h1, "3006", "12", exit=date(2027, 5, 20), exit_code="G01")
        d.enroll(h2, "3006", "12")
        d.cohort(h1, 2026)
        d.cohort(h2, 2026)
        # 3005 assessment: one student at each level, one not determined.
        levels = ["Below Basic", "Basic", "Proficient", "Advanced", "LND"]
        for level, s in zip(levels, d.students(5), strict=True):
            d.enroll(s, "3005", "05")
            d.test_result(s, "MAP-ELA", level)
        d.educator("3005", "60", 1.0)
        d.educator("3005", "60", 0.5)
        d.educator("3005", "10", 1.0)
    refresh(store, tenant, 2027)
    return store


def test_discipline_counts_removals_of_ten_days_or_more(outcomes, tenant):
    assert _value(outcomes, tenant, "discipline_incidents", "3001") == "66.7"  # 2 per 3
    assert _value(outcomes, tenant, "discipline_removals_all", "3001") == "133.3"  # 4 per 3
    assert _value(outcomes, tenant, "discipline_oss", "3001") == "33.3"
    assert _value(outcomes, tenant, "discipline_iss", "3001") == "0.0"
    assert _value(outcomes, tenant, "discipline_weapon", "3001") == "33.3"
    assert _value(outcomes, tenant, "discipline_violent", "3001") == "33.3"


def test_dropout_rate_uses_the_average_enrollment(outcomes, tenant):
    # (3 + (3 + 1 - 1 - 1)) / 2 = 2.5; one dropout: 40%.
    assert _value(outcomes, tenant, "dropout_rate", "3002") == "40.0"


def test_four_year_graduation_rate_adjusts_the_cohort(outcomes, tenant):
    # 3003: g3 transferred out of the district (removed), g5 left for 3004 (counts there):
    # g1 of g1, g2, g4.
    assert _value(outcomes, tenant, "acgr_4yr", "3003") == "33.33"
    assert _value(outcomes, tenant, "acgr_4yr", "3004") == "100.00"
    assert _value(outcomes, tenant, "acgr_4yr") == "50.00"  # g1, g5 of g1, g2, g4, g5


def test_five_year_rate_follows_the_earlier_cohort(outcomes, tenant):
    assert _value(outcomes, tenant, "acgr_5yr", "3006") == "50.00"
    found = cells(outcomes, tenant, "acgr_4yr", 2027, school_code="3006", role="analyst")
    assert found["cells"] == []  # no cohort-2027 student there


def test_mpi_and_proficiency(outcomes, tenant):
    # (1 + 3 + 4 + 5) / 4 x 100 = 325; the LND result is not reportable.
    assert _value(outcomes, tenant, "mpi_ela", "3005") == "325.0"
    assert _value(outcomes, tenant, "map_proficient_ela", "3005") == "50.0"
    for level in ("below_basic", "basic", "proficient", "advanced"):
        assert _value(outcomes, tenant, f"map_level_ela_{level}", "3005") == "25.0"


def test_educator_indicators(outcomes, tenant):
    assert _value(outcomes, tenant, "educators_teacher_fte", "3005") == "1.5"
    assert _value(outcomes, tenant, "educators_administrator_fte", "3005") == "1.0"
    assert _value(outcomes, tenant, "educators_students_per_teacher", "3005") == f"{5 / 1.5:.1f}"
