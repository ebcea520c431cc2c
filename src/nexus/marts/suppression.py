"""Small-cell suppression of public aggregates: the year's setting (`suppression.yaml`),
the n rule and complementary suppression, and how a suppressed cell is shown (`*`, never 0).

A cell is `(school_id, grade_level, group_code)` of one indicator and year. Families of cells
that add up to a shown total are checked after the n rule: when exactly one cell of a family
is hidden, the smallest shown sibling is hidden too (`complementary`), repeated until nothing
changes, so no hidden cell can be recovered by subtraction. The families: race groups and
sexes within a cell, grades within a school (or the district), schools within the district.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from nexus.marts.definitions import MartError
from nexus.store.mart_tables import ALL, DISTRICT_UNIT

HIDDEN = "*"


@dataclass(frozen=True)
class SuppressionRule:
    school_year: int
    minimum_n: int
    complementary: bool
    accountability_minimum_n: int
    source: str


@cache
def rule_for(school_year: int) -> SuppressionRule:
    doc = yaml.safe_load(
        (resources.files("nexus.marts") / "suppression.yaml").read_text(encoding="utf-8")
    )
    for entry in doc["years"]:
        low, high = entry["years"]
        if low <= school_year <= high:
            return SuppressionRule(
                school_year=school_year,
                minimum_n=int(entry["minimum_n"]),
                complementary=bool(entry["complementary"]),
                accountability_minimum_n=int(entry.get("accountability_minimum_n", 30)),
                source=entry.get("source", ""),
            )
    raise MartError(f"no suppression setting covers school year {school_year}")


Key = tuple[int, str, str]  # school_id, grade_level, group_code


def suppress(
    cells: dict[Key, int], rule: SuppressionRule, partitions: dict[str, list[str]]
) -> dict[Key, str]:
    """Which cells to hide and why (`small_n` or `complementary`), from each cell's n."""
    hidden: dict[Key, str] = {k: "small_n" for k, n in cells.items() if n < rule.minimum_n}
    if not rule.complementary:
        return hidden
    families: list[tuple[Key, list[Key]]] = []
    by_cell: dict[tuple[int, str], list[Key]] = defaultdict(list)
    by_school_group: dict[tuple[int, str], list[Key]] = defaultdict(list)
    by_grade_group: dict[tuple[str, str], list[Key]] = defaultdict(list)
    for key in cells:
        school, grade, group = key
        by_cell[(school, grade)].append(key)
        if grade != ALL:
            by_school_group[(school, group)].append(key)
        if school != DISTRICT_UNIT:
            by_grade_group[(grade, group)].append(key)
    for (school, grade), keys in by_cell.items():
        for members in partitions.values():
            children = [k for k in keys if k[2] in members]
            families.append(((school, grade, ALL), children))
    for (school, group), keys in by_school_group.items():
        families.append(((school, ALL, group), keys))
    for (grade, group), keys in by_grade_group.items():
        families.append(((DISTRICT_UNIT, grade, group), keys))
    changed = True
    while changed:
        changed = False
        for parent, children in families:
            if parent not in cells or parent in hidden:
                continue
            if sum(1 for c in children if c in hidden) != 1:
                continue
            shown = [c for c in children if c not in hidden]
            if not shown:
                continue
            smallest = min(shown, key=lambda c: (cells[c], c))
            hidden[smallest] = "complementary"
            changed = True
    return hidden
