"""Each cycle's count-date rule, as the reference states it."""

from __future__ import annotations

from datetime import date

import pytest

from nexus.mosis.cycles import CycleError, cycle_dates, parse_cycle


@pytest.mark.parametrize(
    ("cycle", "school_year", "expected"),
    [
        ("october", 2027, date(2026, 9, 30)),  # last Wednesday in September 2026
        ("october", 2026, date(2025, 9, 24)),
        ("february", 2027, date(2027, 1, 27)),  # last Wednesday in January 2027
        ("february", 2026, date(2026, 1, 28)),
        ("december", 2027, date(2026, 12, 1)),
        ("april", 2027, date(2027, 4, 5)),  # first Monday of April: the default setting
        ("june", 2027, date(2027, 6, 30)),
    ],
)
def test_count_dates(cycle, school_year, expected):
    assert cycle_dates(cycle, school_year).count_date == expected


def test_december_steps_back_to_the_last_day_in_session():
    # 1 December 2029 is a Saturday: the count date is Friday 30 November.
    in_session = lambda day: day.weekday() < 5  # noqa: E731
    assert cycle_dates("december", 2030, in_session).count_date == date(2029, 11, 30)
    assert cycle_dates("december", 2027, in_session).count_date == date(2026, 12, 1)


def test_windows_and_whole_year():
    october = cycle_dates("october", 2027)
    assert (october.window_start, october.window_end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert not october.whole_year
    june = cycle_dates("june", 2027)
    assert june.whole_year and june.window_start == date(2026, 7, 1)


def test_a_given_count_date_wins():
    assert cycle_dates("april", 2027, count_date=date(2027, 4, 13)).count_date == date(2027, 4, 13)


def test_cycle_names():
    assert parse_cycle("Oct") == "october"
    assert parse_cycle("JUNE") == "june"
    with pytest.raises(CycleError, match="unknown cycle 'fall'"):
        parse_cycle("fall")


def test_august_is_the_summer_that_ends_the_year():
    august = cycle_dates("august", 2027)
    assert august.count_date == date(2027, 8, 15)
    assert (august.window_start, august.window_end) == (date(2027, 5, 1), date(2027, 8, 15))


@pytest.mark.parametrize(
    ("collection", "expected", "whole_year"),
    [
        ("annual", date(2027, 6, 30), True),
        ("ALL", date(2027, 6, 30), True),
        ("eocfal", date(2026, 10, 8), False),
        ("LEPELL", date(2026, 11, 12), False),
        ("eocspr", date(2027, 1, 21), False),
        ("mapspr", date(2027, 1, 21), False),
        ("eocexp", date(2027, 3, 3), False),
        ("act", date(2027, 3, 3), False),
    ],
)
def test_collections_outside_the_cycles(collection, expected, whole_year):
    dates = cycle_dates(collection, 2027)
    assert (dates.count_date, dates.whole_year) == (expected, whole_year)
    assert dates.window_start == date(2026, 7, 1)
    given = cycle_dates(collection, 2027, count_date=date(2027, 2, 2))
    assert given.count_date == date(2027, 2, 2)
    with pytest.raises(CycleError, match="unknown cycle 'eocsum'"):
        cycle_dates("eocsum", 2027)
