"""MOSIS collection cycles: their count dates and the windows hours and FTE are measured over.

The rules are the reference's (`../shared/reference/mosis/README.md`, "Cycles, count dates,
windows"):
- October: the last Wednesday in September (one vendor says the third Wednesday: the
  reference's DESE sources say the last);
- December: December 1, or the in-session day before it when December 1 is not in session;
- February: the last Wednesday in January;
- April: the student's status at state assessment (MAP) testing. The date is the district's
  testing date, which no source gives: it is a setting (`--count-date`), by default the first
  Monday of April (an assumption, named as such);
- June: every student enrolled at any time in the year (the count date is the last day of the
  school year, June 30);
- August: the summer school that ends the school year (SEA, calendars): Missouri counts a
  summer session in the school year it follows, and DESE's August cycle of 2026-27 (2027Aug)
  is due August 15, 2027. The count date is that due date; the window runs from May 1.
The window of a cycle runs from July 1 of the school year to its count date.

Files collected outside the six cycles (`COLLECTIONS`):
- `annual` (DESE's `ALL`: the MOSIS ID batch, Post-secondary/Adult Course Assignment, the
  Direct Certification lookup): the whole school year, July 1 to June 30;
- the assessment precode windows (EOCFAL, LEPELL, EOCSPR, MAPSPR, EOCEXP, ACT): students
  enrolled on the window's date. No source gives DESE's own dates: the defaults are Infinite
  Campus's due dates (year not stated) and ACT's is a guess; all are settings (`--count-date`).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from nexus.errors import NexusError

CYCLES = ("august", "october", "december", "february", "april", "june")
# The month abbreviation DESE writes in CollectionVersion (2027Oct1.0StuCore).
CYCLE_CODES = {
    "august": "Aug",
    "october": "Oct",
    "december": "Dec",
    "february": "Feb",
    "april": "Apr",
    "june": "Jun",
}
# Collections outside the six cycles: (month, day) of the default count date (July-December:
# the school year's first calendar year), and the rule in words. None: the whole year (annual).
COLLECTIONS: dict[str, tuple[tuple[int, int] | None, str]] = {
    "annual": (None, "annual: everyone enrolled at any time in the year (to June 30)"),
    "eocfal": ((10, 8), "EOC Fall precode: enrolled on Oct 8 (Infinite Campus due date)"),
    "lepell": ((11, 12), "WIDA (LEP/ELL) precode: enrolled on Nov 12 (Infinite Campus due date)"),
    "eocspr": ((1, 21), "EOC Spring precode: enrolled on Jan 21 (Infinite Campus due date)"),
    "mapspr": ((1, 21), "MAP Spring precode: enrolled on Jan 21 (Infinite Campus due date)"),
    "eocexp": ((3, 3), "EOC Exception precode: enrolled on Mar 3 (Infinite Campus due date)"),
    "act": ((3, 3), "ACT precode: enrolled on Mar 3 (no source gives a date: a guess)"),
}
_COLLECTION_ALIASES = {"all": "annual", "any": "annual", "any time": "annual"}
WEDNESDAY = 2
MONDAY = 0


class CycleError(NexusError, ValueError):
    """An unknown cycle or school year."""


@dataclass(frozen=True)
class CycleDates:
    cycle: str
    school_year: int  # DESE's CurrentSchoolYear: the ending year
    count_date: date
    window_start: date
    window_end: date
    # True when the population is everyone enrolled at any time in the window (June).
    whole_year: bool
    rule: str


def parse_cycle(text: str) -> str:
    cycle = text.strip().lower()
    for name, code in CYCLE_CODES.items():
        if cycle in (name, code.lower()):
            return name
    raise CycleError(f"unknown cycle {text!r}: one of {', '.join(CYCLES)}")


def parse_collection(text: str) -> str:
    """A cycle (`october`) or a collection outside the cycles (`annual`, `eocexp`)."""
    lowered = _COLLECTION_ALIASES.get(text.strip().lower(), text.strip().lower())
    if lowered in COLLECTIONS:
        return lowered
    try:
        return parse_cycle(text)
    except CycleError:
        known = ", ".join((*CYCLES, *COLLECTIONS))
        raise CycleError(f"unknown cycle {text!r}: one of {known}") from None


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _first_weekday(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def cycle_dates(
    cycle: str,
    school_year: int,
    in_session: Callable[[date], bool] | None = None,
    count_date: date | None = None,
) -> CycleDates:
    """Count date and window of `cycle` in `school_year` (its ending year, e.g. 2027).

    `in_session` tells whether a date is a school day (December's rule steps back over days
    that are not); `count_date` overrides the rule (April's testing date, a district's choice).
    """
    cycle = parse_collection(cycle)
    start_year = school_year - 1
    if cycle in COLLECTIONS:
        return _collection_dates(cycle, school_year, count_date)
    if cycle == "october":
        rule, found = "last Wednesday in September", _last_weekday(start_year, 9, WEDNESDAY)
    elif cycle == "december":
        rule, found = "December 1, or the in-session day before", date(start_year, 12, 1)
        if in_session is not None:
            for _ in range(60):
                if in_session(found):
                    break
                found -= timedelta(days=1)
    elif cycle == "february":
        rule, found = "last Wednesday in January", _last_weekday(school_year, 1, WEDNESDAY)
    elif cycle == "april":
        rule = "MAP testing date (default: first Monday of April, a setting)"
        found = _first_weekday(school_year, 4, MONDAY)
    elif cycle == "june":
        rule, found = "enrolled at any time in the year (to June 30)", date(school_year, 6, 30)
    else:
        rule, found = "summer school after the year, due August 15", date(school_year, 8, 15)
    if count_date is not None:
        rule, found = "given for this extract", count_date
    # August reports the summer that follows the regular year: from May 1.
    window_start = date(start_year, 7, 1) if cycle != "august" else date(school_year, 5, 1)
    return CycleDates(
        cycle=cycle,
        school_year=school_year,
        count_date=found,
        window_start=window_start,
        window_end=found,
        whole_year=cycle == "june",
        rule=rule,
    )


def _collection_dates(name: str, school_year: int, count_date: date | None) -> CycleDates:
    when, rule = COLLECTIONS[name]
    start_year = school_year - 1
    if when is None:
        found = date(school_year, 6, 30)
    else:
        month, day = when
        found = date(start_year if month >= 7 else school_year, month, day)
    if count_date is not None:
        rule, found = "given for this extract", count_date
    return CycleDates(
        cycle=name,
        school_year=school_year,
        count_date=found,
        window_start=date(start_year, 7, 1),
        window_end=found,
        whole_year=when is None,
        rule=rule,
    )
