"""Named derivations: how each MOSIS field's value comes from canonical data.

A layout field names its derivation (`student_core.state_id`); the layout is data, the
derivations are code registered here by name, so a new year's layout is mostly data. Each
derivation is a SQL expression over the layout's *population* relation (one row per record the
file reports, built set-based in a DuckDB work area from canonical tables) plus the rule in
words and the canonical source it reads, which become the value's trace.

A layout's population is registered the same way (`@population("student_core")`). The SQL
several populations share (the student person, the year's enrollments, program spells, the
`--school` filter) lives in `population_sql`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from nexus.mosis.cycles import CycleDates


@dataclass(frozen=True)
class ExtractContext:
    """What a population and its derivations may depend on besides canonical rows."""

    tenant_id: int
    school_year: int
    dates: CycleDates
    collection_version: str | None  # None: a file without one (the MOSIS ID batch)
    district_code: str | None
    school_code: str | None  # --school: one building only


@dataclass(frozen=True)
class Derivation:
    name: str
    sql: str  # an expression over the population relation `pop`
    rule: str  # in words, for the trace and `nexus mosis layout`
    source: str  # the canonical table(s) and column(s) read


# A population builds the relation `pop` in the work area and returns the columns that
# identify a row: (subject type, SQL expression of the subject key, ORDER BY of the file).
Population = Callable[[duckdb.DuckDBPyConnection, ExtractContext, "CanonicalReader"], tuple]

DERIVATIONS: dict[str, Derivation] = {}
POPULATIONS: dict[str, Population] = {}


class CanonicalReader:
    """Loads canonical tables of one tenant into the work area (interface for populations)."""

    def __init__(self, load: Callable[[str, str, dict[str, str]], None]) -> None:
        self._load = load

    def load(self, name: str, sql: str, types: dict[str, str] | None = None) -> None:
        """Run `sql` against the store and keep its result in the work area as `name`.

        `types` gives the work-area type of columns that are not text (PostgreSQL's bulk
        path returns every column as text): {"entry_date": "DATE", "no_show": "BOOLEAN"}.
        """
        self._load(name, sql, types or {})


def derivation(name: str, sql: str, rule: str, source: str) -> Derivation:
    if name in DERIVATIONS:
        raise ValueError(f"derivation {name} registered twice")
    DERIVATIONS[name] = Derivation(name, sql, rule, source)
    return DERIVATIONS[name]


def register_file_fields(
    prefix: str, version_rule: str = "the cycle's CollectionVersion string"
) -> None:
    """CollectionVersion and CurrentSchoolYear, which every MOSIS file carries.

    `prefix` is the layout's derivation prefix, e.g. "student_core.".
    """
    derivation(prefix + "collection_version", "$collection_version", version_rule, "layout")
    derivation(
        prefix + "current_school_year", "$school_year", "ending year of the school year", "-"
    )


def register_district_code(prefix: str, *names: str) -> None:
    """The reporting (and attending) district code fields: the tenant district's DESE code.

    `names`: the field names, `reporting_district_code` when none is given."""
    for name in names or ("reporting_district_code",):
        derivation(
            prefix + name,
            "$district_code",
            "the tenant district's DESE county-district code",
            "education.districts",
        )


def population(layout: str) -> Callable[[Population], Population]:
    def register(func: Population) -> Population:
        POPULATIONS[layout] = func
        return func

    return register


def load_all() -> None:
    """Import every module of this package: each registers one layout's population and
    derivations when imported."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
