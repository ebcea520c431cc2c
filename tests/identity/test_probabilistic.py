"""Probabilistic person matching (Splink, fixed m/u): decisions, ambiguity, nulls, determinism."""

from __future__ import annotations

import datetime as dt
import logging

import pyarrow as pa
import pytest

from nexus.identity.probabilistic import MATCH_SCHEMA, MatchThresholds, match_people


def _people(rows: list[dict]) -> pa.Table:
    """A people table; `birth_date` given as date or ISO string as the row says."""
    cols = ("key", "first_name", "last_name", "birth_date", "grade", "school")
    return pa.table({c: [r.get(c) for r in rows] for c in cols})


def _plus(base: pa.Table, rows: list[dict]) -> pa.Table:
    """`base` with `rows` appended (cast to its schema)."""
    return pa.concat_tables([base, _people(rows).cast(base.schema)])


def _existing() -> pa.Table:
    return _people(
        [
            {
                "key": "p1",
                "first_name": "Katherine",
                "last_name": "O'Brien",
                "birth_date": dt.date(2011, 3, 14),
                "grade": "7",
                "school": "Lincoln Middle",
            },
            {
                "key": "p2",
                "first_name": "Marcus",
                "last_name": "Delgado",
                "birth_date": dt.date(2009, 11, 2),
                "grade": "9",
                "school": "Central High",
            },
            {
                "key": "p3",
                "first_name": "Priya",
                "last_name": "Raman",
                "birth_date": dt.date(2014, 6, 30),
                "grade": "4",
                "school": "Oak Elementary",
            },
        ]
    )


def _by_key(table: pa.Table) -> dict[str, dict]:
    return {r["incoming_key"]: r for r in table.to_pylist()}


def test_twin_with_small_typo_links() -> None:
    incoming = _people(
        [
            {
                "key": "src-1",
                "first_name": "KATHARINE",  # typo + case
                "last_name": "OBrien",  # punctuation
                "birth_date": "2011-03-14",
                "grade": "07",
                "school": "lincoln  middle",
            }
        ]
    )
    out = match_people(incoming, _existing())
    assert out.schema == MATCH_SCHEMA
    [row] = out.to_pylist()
    assert (row["incoming_key"], row["person_key"], row["decision"]) == ("src-1", "p1", "link")
    assert row["match_probability"] >= 0.9999
    assert row["match_weight"] > 15


def test_date_and_string_birth_dates_score_the_same() -> None:
    row = {
        "key": "src-1",
        "first_name": "Marcus",
        "last_name": "Delgado",
        "grade": "9",
        "school": "Central High",
    }
    as_string = match_people(_people([{**row, "birth_date": "2009-11-02"}]), _existing())
    as_date = match_people(_people([{**row, "birth_date": dt.date(2009, 11, 2)}]), _existing())
    assert as_string.equals(as_date)
    assert as_string.column("decision").to_pylist() == ["link"]


def test_transposed_day_and_month_still_links() -> None:
    incoming = _people(
        [
            {
                "key": "src-1",
                "first_name": "Priya",
                "last_name": "Raman",
                "birth_date": "2014-06-30",
                "grade": "4",
                "school": "Oak Elementary",
            },
            {
                "key": "src-2",
                "first_name": "Katherine",
                "last_name": "O'Brien",
                "birth_date": "2011-14-03",  # not a date: treated as missing
                "grade": "7",
                "school": "Lincoln Middle",
            },
            {
                "key": "src-3",
                "first_name": "Marcus",
                "last_name": "Delgado",
                "birth_date": "2009-02-11",  # day and month transposed
                "grade": "9",
                "school": "Central High",
            },
        ]
    )
    rows = _by_key(match_people(incoming, _existing()))
    assert {k: (r["person_key"], r["decision"]) for k, r in rows.items()} == {
        "src-1": ("p3", "link"),
        "src-2": ("p1", "link"),
        "src-3": ("p2", "link"),
    }


def test_same_name_different_birth_date_is_not_linked() -> None:
    incoming = _people(
        [
            {
                "key": "src-1",
                "first_name": "Marcus",
                "last_name": "Delgado",
                "birth_date": "2012-05-20",  # years away from p2's
                "grade": "9",
                "school": "Central High",
            }
        ]
    )
    rows = match_people(incoming, _existing()).to_pylist()
    assert all(r["decision"] != "link" for r in rows)
    # Everything else agrees, so it is worth a human look rather than silence.
    assert [(r["person_key"], r["decision"]) for r in rows] == [("p2", "review")]


def test_weak_pair_goes_to_review() -> None:
    # Same name, but no birth date and a different grade and school: plausible, not proven.
    incoming = _people(
        [
            {
                "key": "src-1",
                "first_name": "Priya",
                "last_name": "Raman",
                "birth_date": None,
                "grade": "6",
                "school": "Westside Elementary",
            }
        ]
    )
    rows = match_people(incoming, _existing()).to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert row["person_key"] == "p3"
    assert row["decision"] == "review"
    assert 0.70 <= row["match_probability"] < 0.95
    # With a stricter review bar the same pair is dropped.
    strict = match_people(incoming, _existing(), MatchThresholds(auto_link=0.99, review=0.9))
    assert strict.num_rows == 0


def test_unrelated_person_is_absent() -> None:
    incoming = _people(
        [
            {
                "key": "src-1",
                "first_name": "Zed",
                "last_name": "Quimby",
                "birth_date": "2010-01-01",
                "grade": "8",
                "school": "Lincoln Middle",
            }
        ]
    )
    assert match_people(incoming, _existing()).num_rows == 0


def test_two_identical_existing_people_are_ambiguous() -> None:
    twin = {
        "first_name": "Marcus",
        "last_name": "Delgado",
        "birth_date": dt.date(2009, 11, 2),
        "grade": "9",
        "school": "Central High",
    }
    existing = _plus(_existing(), [{**twin, "key": "p0"}])  # p0 and p2 are indistinguishable
    incoming = _people([{**twin, "key": "src-1", "birth_date": "2009-11-02"}])
    rows = match_people(incoming, existing).to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert row["match_probability"] >= 0.95
    assert row["decision"] == "review"
    assert row["person_key"] == "p0"  # tie broken by the smallest key


def test_twins_with_different_first_names_do_not_auto_link() -> None:
    # A different first name with everything else equal is a twin, not a typo.
    incoming = _people(
        [
            {
                "key": "src-1",
                "first_name": "Ramon",
                "last_name": "Delgado",
                "birth_date": "2009-11-02",
                "grade": "9",
                "school": "Central High",
            }
        ]
    )
    rows = match_people(incoming, _existing()).to_pylist()
    assert [(r["person_key"], r["decision"]) for r in rows] == [("p2", "review")]


def test_nulls_do_not_crash() -> None:
    incoming = _people(
        [
            {"key": "src-empty"},
            {"key": "src-name-only", "last_name": "Raman"},
            {
                "key": "src-no-first",
                "last_name": "Raman",
                "birth_date": "2014-06-30",
                "grade": "4",
                "school": "Oak Elementary",
            },
            {"key": "src-punct", "first_name": "--", "last_name": " ", "birth_date": ""},
        ]
    )
    existing = _plus(_existing(), [{"key": "p9"}])
    rows = _by_key(match_people(incoming, existing))
    assert "src-empty" not in rows
    assert "src-punct" not in rows
    assert "src-name-only" not in rows
    assert rows["src-no-first"]["person_key"] == "p3"
    assert rows["src-no-first"]["decision"] == "link"


def test_all_null_typed_columns_are_accepted() -> None:
    incoming = pa.table(
        {
            "key": ["src-1"],
            "first_name": ["Priya"],
            "last_name": ["Raman"],
            "birth_date": pa.array([None], pa.null()),
            "grade": pa.array([None], pa.null()),
            "school": pa.array([None], pa.null()),
        }
    )
    out = match_people(incoming, _existing())
    assert out.schema == MATCH_SCHEMA
    # Both names exact and nothing contradicting them, against a three-person roster.
    assert [(r["person_key"], r["decision"]) for r in out.to_pylist()] == [("p3", "link")]


def test_empty_inputs_return_empty_table_with_schema() -> None:
    empty = _existing().slice(0, 0)
    for incoming, existing in ((empty, _existing()), (_existing(), empty), (empty, empty)):
        out = match_people(incoming, existing)
        assert out.num_rows == 0
        assert out.schema == MATCH_SCHEMA


def test_output_is_deterministic_and_sorted() -> None:
    existing = _plus(
        _existing(),
        [
            {
                "key": "p0",
                "first_name": "Marcus",
                "last_name": "Delgado",
                "birth_date": "2009-11-02",
                "grade": "9",
                "school": "Central High",
            }
        ],
    )
    incoming = _people(
        [
            {"key": "z", "first_name": "Priya", "last_name": "Raman", "birth_date": "2014-06-30"},
            {
                "key": "a",
                "first_name": "Marcus",
                "last_name": "Delgado",
                "birth_date": "2009-11-02",
            },
            {"key": "m", "first_name": "Katherine", "last_name": "OBrien", "grade": "7"},
        ]
    )
    first = match_people(incoming, existing)
    second = match_people(incoming, existing)
    assert first.equals(second)
    keys = first.column("incoming_key").to_pylist()
    assert keys == sorted(keys)
    assert [(r["incoming_key"], r["person_key"], r["decision"]) for r in first.to_pylist()] == [
        ("a", "p0", "review"),  # p0 and p2 are the same record: ambiguous, smallest key
        ("m", "p1", "link"),
        ("z", "p3", "link"),
    ]


def test_bad_inputs_are_refused() -> None:
    dup = _people([{"key": "x", "last_name": "A"}, {"key": "x", "last_name": "B"}])
    with pytest.raises(ValueError, match="duplicate"):
        match_people(dup, _existing())
    with pytest.raises(ValueError, match="missing column"):
        match_people(_existing().drop_columns(["school"]), _existing())
    with pytest.raises(ValueError):
        MatchThresholds(auto_link=0.6, review=0.8)


def test_personal_data_never_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    incoming = _people(
        [{"key": "src-1", "first_name": "Priya", "last_name": "Raman", "birth_date": "2014-06-30"}]
    )
    match_people(incoming, _existing())
    info = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert not [r for r in info if r.name.startswith("splink")]
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "Raman" not in text and "raman" not in text and "2014-06-30" not in text
