"""Probabilistic person matching: the step after the deterministic identifier rules.

This module owns one thing: scoring the people that no identifier rule could link (the
*incoming* side) against a tenant's existing canonical people (the *existing* side) with a
Fellegi-Sunter model run by Splink on its own in-memory DuckDB connection, and turning the
scores into one decision per incoming person: ``link`` (automatic) or ``review`` (a human
decides). It does not read or write the store, and it does not act on its decisions.

The model is *not* trained on the data (inputs can be a handful of rows): every comparison
level has fixed m and u probabilities, chosen for K-12 rosters and documented next to each
comparison below, and the prior is one over the number of existing people (see ``_prior``).

Two policy rules sit on top of the probabilities, because conditional independence fails
for them (twins share surname, birth date, school and grade):
- a pair whose first names or birth dates are both present and disagree outright never links
  automatically; it can at most go to review;
- an incoming person with more than one existing person at or above the auto-link threshold
  is ambiguous and goes to review.

Names and birth dates are personal data: nothing here logs them, and Splink's own loggers are
held at WARNING.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

__all__ = ["MATCH_SCHEMA", "MatchThresholds", "match_people"]

logger = logging.getLogger(__name__)

MATCH_SCHEMA = pa.schema(
    [
        pa.field("incoming_key", pa.string(), nullable=False),
        pa.field("person_key", pa.string(), nullable=False),
        pa.field("match_probability", pa.float64(), nullable=False),
        pa.field("match_weight", pa.float64(), nullable=False),
        pa.field("decision", pa.string(), nullable=False),
    ]
)

_INPUT_COLUMNS = ("key", "first_name", "last_name", "birth_date", "grade", "school")
_INCOMING = "incoming"
_EXISTING = "existing"

# The prior, P(a random incoming/existing pair is the same person), is 1 / len(existing):
# an incoming person is at most one of the tenant's people. It is capped at 1 / 100 so a tiny
# roster (tests, a new tenant) does not make weak evidence look decisive, and floored so the
# log-odds stay finite.
_PRIOR_CEILING = 0.01
_PRIOR_FLOOR = 1e-7

# --- m and u probabilities ------------------------------------------------------------------
# m = P(level | same person), u = P(level | different people), for the non-null levels in
# order. A null on either side is neutral (weight 0). Weights are log2(m / u).
#
# First name: exact / Jaro-Winkler >= 0.92 (a typo) / >= 0.80 (a looser variant) / else.
# u of an exact match is about the frequency of a common first name.
#   weights: +6.4, +4.2, 0.0, -5.0
_FIRST_NAME_M = [0.85, 0.09, 0.03, 0.03]
_FIRST_NAME_U = [0.01, 0.005, 0.03, 0.955]
# Last name: same levels; surnames are more discriminating than first names.
#   weights: +8.2, +4.5, 0.0, -5.0
_LAST_NAME_M = [0.88, 0.07, 0.02, 0.03]
_LAST_NAME_U = [0.003, 0.003, 0.02, 0.974]
# Birth date: exact / within 31 days or day and month transposed / else. u of an exact match
# is about one day in a K-12 spread of birth dates (~13 years); 'near' is ~60 days of it.
#   weights: +11.6, +1.9, -5.6
_BIRTH_DATE_M = [0.93, 0.05, 0.02]
_BIRTH_DATE_U = [0.0003, 0.013, 0.9867]
# Grade: exact / else. Sources disagree around promotion time, so m is not near 1; u is about
# one grade in thirteen.  weights: +3.5, -3.2
_GRADE_M = [0.90, 0.10]
_GRADE_U = [0.08, 0.92]
# School: exact / else. A district has tens of schools; students move between them.
#   weights: +4.1, -2.7
_SCHOOL_M = [0.85, 0.15]
_SCHOOL_U = [0.05, 0.95]

# Jaro-Winkler thresholds for the name comparisons.
_NAME_JW_THRESHOLDS = [0.92, 0.80]

# The birth-date level below exact: within a month, or day and month transposed (03/04 vs
# 04/03) in the same year.
_BIRTH_DATE_NEAR_SQL = (
    'abs(date_diff(\'day\', "birth_date_l", "birth_date_r")) <= 31 OR ('
    'year("birth_date_l") = year("birth_date_r") '
    'AND month("birth_date_l") = day("birth_date_r") '
    'AND day("birth_date_l") = month("birth_date_r"))'
)

# Normalisation, in DuckDB SQL: names lower-cased, accents folded, everything but letters
# removed (so "O'Brien", "o brien" and "OBRIEN" agree); empty becomes NULL. Grades are
# upper-cased and "05" reads as "5"; schools are upper-cased with whitespace collapsed.
# The blocking keys (name prefixes, birth year) are derived here too.
_NORMALISE_SQL = """
WITH n AS (
    SELECT
        CAST("key" AS VARCHAR) AS unique_id,
        NULLIF(regexp_replace(lower(strip_accents(CAST(first_name AS VARCHAR))),
                              '[^a-z]', '', 'g'), '') AS first_name,
        NULLIF(regexp_replace(lower(strip_accents(CAST(last_name AS VARCHAR))),
                              '[^a-z]', '', 'g'), '') AS last_name,
        TRY_CAST(birth_date AS DATE) AS birth_date,
        NULLIF(upper(regexp_replace(trim(CAST(grade AS VARCHAR)), '\\s+', '', 'g')), '')
            AS grade_raw,
        NULLIF(upper(regexp_replace(trim(CAST(school AS VARCHAR)), '\\s+', ' ', 'g')), '')
            AS school
    FROM {source}
)
SELECT
    unique_id,
    first_name,
    last_name,
    birth_date,
    COALESCE(CAST(TRY_CAST(grade_raw AS INTEGER) AS VARCHAR), grade_raw) AS grade,
    school,
    substr(first_name, 1, 1) AS first_initial,
    substr(last_name, 1, 2) AS last_prefix2,
    substr(last_name, 1, 3) AS last_prefix3,
    year(birth_date) AS birth_year
FROM n
"""

# Best candidate per incoming person, the count of distinct existing people at or above the
# auto-link threshold (ambiguity), and whether the best pair carries a hard conflict: first
# names or birth dates both present and in the 'else' level. Splink 5 reports each
# comparison's weight (mw_*) rather than its level, and the 'else' level is the one whose
# weight is log2(m_else / u_else), strictly below every other level's.
_DECIDE_SQL = """
WITH pairs AS (
    SELECT
        CASE WHEN source_dataset_l = '{incoming}' THEN unique_id_l ELSE unique_id_r END
            AS incoming_key,
        CASE WHEN source_dataset_l = '{incoming}' THEN unique_id_r ELSE unique_id_l END
            AS person_key,
        CAST(match_probability AS DOUBLE) AS match_probability,
        CAST(match_weight AS DOUBLE) AS match_weight,
        (mw_first_name <= {first_name_else} OR mw_birth_date <= {birth_date_else}) AS conflict
    FROM {predictions}
    WHERE match_probability >= {review}
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY incoming_key ORDER BY match_probability DESC, person_key ASC
        ) AS rank,
        count(DISTINCT person_key) FILTER (WHERE match_probability >= {auto_link})
            OVER (PARTITION BY incoming_key) AS n_auto
    FROM pairs
)
SELECT
    incoming_key,
    person_key,
    match_probability,
    match_weight,
    CASE
        WHEN match_probability >= {auto_link} AND n_auto = 1 AND NOT conflict THEN 'link'
        ELSE 'review'
    END AS decision
FROM ranked
WHERE rank = 1
ORDER BY incoming_key
"""


@dataclass(frozen=True)
class MatchThresholds:
    """Where a match probability becomes a decision."""

    auto_link: float = 0.95  # match probability at or above which a pair links automatically
    review: float = 0.70  # at or above this (and below auto_link) a pair goes to human review

    def __post_init__(self) -> None:
        if not 0.0 < self.review <= self.auto_link <= 1.0:
            raise ValueError(
                "MatchThresholds needs 0 < review <= auto_link <= 1, "
                f"got review={self.review}, auto_link={self.auto_link}"
            )


def match_people(
    incoming: pa.Table,
    existing: pa.Table,
    thresholds: MatchThresholds = MatchThresholds(),
) -> pa.Table:
    """Score incoming people against existing people and decide link / review.

    Both tables carry ``key``, ``first_name``, ``last_name``, ``birth_date`` (date32 or ISO
    'YYYY-MM-DD'), ``grade`` and ``school``; everything but ``key`` may be null. Keys must be
    non-null and unique within each table.

    Returns a table with ``MATCH_SCHEMA``: one row per incoming key whose best candidate
    scores at least ``thresholds.review``, holding that best candidate (highest probability,
    then smallest ``person_key``), sorted by ``incoming_key``. ``decision`` is ``'link'`` when
    the probability reaches ``thresholds.auto_link``, only that one existing person does so,
    and neither first names nor birth dates conflict outright; otherwise ``'review'``.
    """
    _check_input(incoming, _INCOMING)
    _check_input(existing, _EXISTING)
    if incoming.num_rows == 0 or existing.num_rows == 0:
        return MATCH_SCHEMA.empty_table()

    _quiet_splink()
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        for name, table in ((_INCOMING, incoming), (_EXISTING, existing)):
            con.register(f"__nexus_raw_{name}", table.select(list(_INPUT_COLUMNS)))
            con.execute(
                f"CREATE TABLE __nexus_norm_{name} AS "
                + _NORMALISE_SQL.format(source=f"__nexus_raw_{name}")
            )
            con.unregister(f"__nexus_raw_{name}")

        db_api = DuckDBAPI(connection=con)
        inputs = [
            db_api.register(f"__nexus_norm_{name}", dataset_display_name=name)
            for name in (_INCOMING, _EXISTING)
        ]
        linker = Linker(inputs, _settings(_prior(existing.num_rows)), log_level=None)
        # Splink filters on the weight: a hair below the review threshold, so a pair exactly
        # at it survives float rounding. The exact filter is in _DECIDE_SQL.
        floor = _probability_to_weight(thresholds.review) - 1e-9
        predictions = linker.inference.predict(
            threshold_match_weight=floor if math.isfinite(floor) else None,
            warning_mode="never",
        )
        result = con.sql(
            _DECIDE_SQL.format(
                incoming=_INCOMING,
                predictions=predictions.physical_name,
                review=repr(float(thresholds.review)),
                auto_link=repr(float(thresholds.auto_link)),
                first_name_else=repr(_else_weight(_FIRST_NAME_M, _FIRST_NAME_U) + 1e-6),
                birth_date_else=repr(_else_weight(_BIRTH_DATE_M, _BIRTH_DATE_U) + 1e-6),
            )
        ).to_arrow_table()
    finally:
        con.close()

    out = result.cast(MATCH_SCHEMA)
    logger.debug(
        "probabilistic matching: %d incoming x %d existing -> %d candidates (%d link)",
        incoming.num_rows,
        existing.num_rows,
        out.num_rows,
        out.column("decision").to_pylist().count("link"),
    )
    return out


def _check_input(table: pa.Table, side: str) -> None:
    missing = [c for c in _INPUT_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"{side} table is missing column(s): {', '.join(missing)}")
    keys = table.column("key")
    if keys.null_count:
        raise ValueError(f"{side} table has {keys.null_count} null key(s)")
    distinct = len(pc.unique(keys.cast(pa.string())))
    if distinct != table.num_rows:
        raise ValueError(f"{side} table has duplicate keys ({table.num_rows - distinct})")


def _quiet_splink() -> None:
    """Splink logs progress (and could log SQL with literals) at INFO: keep it at WARNING."""
    splink_logger = logging.getLogger("splink")
    if splink_logger.level < logging.WARNING:  # NOTSET (0) included
        splink_logger.setLevel(logging.WARNING)


def _prior(n_existing: int) -> float:
    return min(max(1.0 / max(n_existing, 1), _PRIOR_FLOOR), _PRIOR_CEILING)


def _probability_to_weight(probability: float) -> float:
    if probability >= 1.0:
        return math.inf
    return math.log2(probability / (1.0 - probability))


def _else_weight(m: list[float], u: list[float]) -> float:
    weights = [math.log2(mi / ui) for mi, ui in zip(m, u, strict=True)]
    assert weights[-1] + 1e-3 < min(weights[:-1]), "the 'else' level must weigh least"
    return weights[-1]


def _name_comparison(column: str, m: list[float], u: list[float]) -> Any:
    return cl.JaroWinklerAtThresholds(column, _NAME_JW_THRESHOLDS).configure(
        m_probabilities=m, u_probabilities=u
    )


def _settings(prior: float) -> SettingsCreator:
    birth_date = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(_BIRTH_DATE_NEAR_SQL, label_for_charts="within a month/transposed"),
            cll.ElseLevel(),
        ],
        output_column_name="birth_date",
        comparison_description="birth date: exact / near / else",
    ).configure(m_probabilities=_BIRTH_DATE_M, u_probabilities=_BIRTH_DATE_U)
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=[
            _name_comparison("first_name", _FIRST_NAME_M, _FIRST_NAME_U),
            _name_comparison("last_name", _LAST_NAME_M, _LAST_NAME_U),
            birth_date,
            cl.ExactMatch("grade").configure(m_probabilities=_GRADE_M, u_probabilities=_GRADE_U),
            cl.ExactMatch("school").configure(m_probabilities=_SCHOOL_M, u_probabilities=_SCHOOL_U),
        ],
        # A pair is scored when any rule holds. Each rule is an equi-join, so 25k x 25k stays
        # a few hundred thousand pairs; together they let through an error in any one of
        # first name, last name or birth date. Pairs outside every rule could not reach the
        # review threshold anyway.
        blocking_rules_to_generate_predictions=[
            # Any name typo or change, when the birth date agrees.
            block_on("birth_date"),
            # A wrong or missing birth date, when the names start the same.
            block_on("last_prefix3", "first_initial"),
            # A wrong birth date (same year) with a nickname/preferred first name, or a
            # surname typo after its second letter.
            block_on("last_prefix2", "birth_year"),
            # A surname change (adoption, custody, hyphenation) with a wrong or missing birth
            # date: same first name in the same school and grade.
            block_on("first_name", "school", "grade"),
        ],
        retain_matching_columns=False,
        # Needed for the gamma_ (level) columns used by the conflict rule.
        retain_intermediate_calculation_columns=True,
    )
