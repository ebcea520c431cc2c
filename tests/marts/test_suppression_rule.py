"""The suppression rule on its own: the n threshold and complementary suppression."""

from __future__ import annotations

from nexus.marts.groups import partitions
from nexus.marts.suppression import SuppressionRule, rule_for, suppress

RULE = SuppressionRule(2027, 10, True, 30, "test")


def test_the_year_setting_is_ten_with_complementary():
    rule = rule_for(2027)
    assert (rule.minimum_n, rule.complementary) == (10, True)


def test_nine_hidden_ten_shown():
    cells = {(0, "all", "all"): 19, (0, "all", "female"): 9, (0, "all", "male"): 10}
    hidden = suppress(cells, RULE, {})
    assert hidden == {(0, "all", "female"): "small_n"}


def test_a_lone_hidden_sibling_takes_the_smallest_shown_one_with_it():
    cells = {
        (0, "all", "all"): 60,
        (0, "all", "female"): 9,
        (0, "all", "male"): 51,
        (0, "all", "black"): 12,
        (0, "all", "white"): 40,
        (0, "all", "asian"): 8,
    }
    hidden = suppress(cells, RULE, partitions())
    assert hidden[(0, "all", "female")] == "small_n"
    assert hidden[(0, "all", "male")] == "complementary"  # 60 - 51 would give 9
    assert hidden[(0, "all", "asian")] == "small_n"
    assert hidden[(0, "all", "black")] == "complementary"  # the smaller of black and white
    assert (0, "all", "white") not in hidden
    assert (0, "all", "all") not in hidden


def test_two_hidden_siblings_need_nothing_more():
    cells = {
        (0, "all", "all"): 40,
        (0, "all", "asian"): 3,
        (0, "all", "hispanic"): 4,
        (0, "all", "white"): 33,
    }
    assert set(suppress(cells, RULE, partitions())) == {(0, "all", "asian"), (0, "all", "hispanic")}


def test_schools_within_the_district_and_grades_within_a_school():
    cells = {
        (0, "all", "all"): 120,
        (1, "all", "all"): 100,
        (2, "all", "all"): 15,
        (3, "all", "all"): 5,
        (1, "03", "all"): 60,
        (1, "04", "all"): 38,
        (1, "05", "all"): 2,
    }
    hidden = suppress(cells, RULE, {})
    assert hidden[(3, "all", "all")] == "small_n"
    assert hidden[(2, "all", "all")] == "complementary"  # 120 - 100 - 15 would give 5
    assert hidden[(1, "05", "all")] == "small_n"
    assert hidden[(1, "04", "all")] == "complementary"
    assert (1, "03", "all") not in hidden and (0, "all", "all") not in hidden


def test_without_complementary_only_the_n_rule():
    rule = SuppressionRule(2027, 10, False, 30, "test")
    cells = {(0, "all", "all"): 19, (0, "all", "female"): 9, (0, "all", "male"): 10}
    assert suppress(cells, rule, partitions()) == {(0, "all", "female"): "small_n"}
