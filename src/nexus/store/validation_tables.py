"""SQLAlchemy Core tables of the validation layer (`reporting`): rules, runs, results,
exceptions with their history, and DESE's post-submission corrections.

- `validation_rules`: the rule catalog as evaluated (DESE's rules from
  `mosis_business_rules` and Nexus's own from `nexus/validation/rules/`), under tenant 0;
- `validation_runs`: one row per `nexus validate` (year, cycle, layouts, input snapshot);
- `validation_row_counts`: rows checked per run, layout and school (readiness denominators);
- `mosis_validation_results`: what each run found, one row per exception it saw;
- `validation_exceptions`: one row per exception identity (year, cycle, rule, record, field),
  so its status, owner and history survive daily re-validation;
- `validation_exception_history`: who changed what, and what the runs did to it;
- `mosis_corrections`: DESE's returned error / correction file rows (`nexus mosis corrections
  import`), for `nexus compare`.

Every table carries `tenant_id`, leading its primary and unique keys; surrogate keys come
from sequences. The migration that creates them is `migrations/versions/0007_validation.py`.
"""

from __future__ import annotations

import sqlalchemy as sa

from nexus.store.tables import metadata


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.BigInteger, nullable=False)


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


validation_rules = sa.Table(
    "validation_rules",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),  # a MOSIS layout, or `sis`
    sa.Column("rule_id", sa.String(40), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),  # dese | nexus
    sa.Column("kind", sa.String(40)),  # the check that evaluates it; null: not evaluable
    sa.Column("severity", sa.String(16), nullable=False),  # blocking | warning | info
    sa.Column("owner", sa.String(40), nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("message", sa.Text),
    sa.Column("definition", sa.JSON),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "layout", "rule_id"),
    schema="reporting",
)

validation_runs = sa.Table(
    "validation_runs",
    metadata,
    _tenant(),
    sa.Column(
        "validation_run_id",
        sa.BigInteger,
        sa.Sequence("validation_run_seq", schema="reporting", metadata=metadata),
        nullable=False,
    ),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("cycle", sa.String(20), nullable=False),
    sa.Column("layouts", sa.JSON, nullable=False),
    sa.Column("count_date", sa.Date),
    sa.Column("input_snapshot", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # running | succeeded | failed
    sa.Column("reason", sa.Text),
    sa.Column("found", sa.Integer, nullable=False, server_default="0"),
    sa.Column("new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("auto_resolved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("started_by", sa.String(200), nullable=False),
    _when("started_at", nullable=False),
    _when("ended_at"),
    sa.PrimaryKeyConstraint("tenant_id", "validation_run_id"),
    schema="reporting",
)

validation_row_counts = sa.Table(
    "validation_row_counts",
    metadata,
    _tenant(),
    sa.Column("validation_run_id", sa.BigInteger, nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("school_code", sa.String(8), nullable=False),  # `-` where a row has no school
    sa.Column("rows", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "validation_run_id", "layout", "school_code"),
    schema="reporting",
)

mosis_validation_results = sa.Table(
    "mosis_validation_results",
    metadata,
    _tenant(),
    sa.Column("validation_run_id", sa.BigInteger, nullable=False),
    sa.Column("exception_id", sa.BigInteger, nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("rule_id", sa.String(40), nullable=False),
    sa.Column("school_code", sa.String(8), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    # The row of the layout the exception sits on (subject key), for per-rule row counts.
    sa.Column("row_key", sa.Text),
    sa.Column("current_value", sa.Text),
    sa.PrimaryKeyConstraint("tenant_id", "validation_run_id", "exception_id"),
    schema="reporting",
)

validation_exceptions = sa.Table(
    "validation_exceptions",
    metadata,
    _tenant(),
    sa.Column(
        "exception_id",
        sa.BigInteger,
        sa.Sequence("validation_exception_seq", schema="reporting", metadata=metadata),
        nullable=False,
    ),
    # sha256 of (school year, cycle, rule, entity, record key, field): the identity that
    # survives re-validation.
    sa.Column("identity_key", sa.String(64), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("cycle", sa.String(20), nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("rule_id", sa.String(40), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("owner", sa.String(40), nullable=False),
    sa.Column("entity_type", sa.String(60), nullable=False),  # student, enrollment, section...
    sa.Column("record_id", sa.Text),  # the canonical row's id or key
    sa.Column("source_system", sa.String(40)),  # campus-extract, powerschool, ...
    sa.Column("source_entity", sa.String(200)),  # the source's entity (file) name
    sa.Column("record_key", sa.Text, nullable=False),  # the source record's natural key
    sa.Column("person_id", sa.BigInteger),
    sa.Column("state_id", sa.String(20)),
    sa.Column("school_code", sa.String(8), nullable=False),
    sa.Column("field", sa.String(100), nullable=False),
    sa.Column("current_value", sa.Text),
    sa.Column("expected", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("trace", sa.JSON),
    # open | assigned | suppressed | resolved | auto_resolved
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("assigned_to", sa.String(200)),
    sa.Column("status_reason", sa.Text),
    sa.Column("suppressed_until", sa.Date),
    sa.Column("first_seen_run", sa.BigInteger, nullable=False),
    sa.Column("last_seen_run", sa.BigInteger, nullable=False),
    sa.Column("resolved_run", sa.BigInteger),
    _when("created_at", nullable=False),
    _when("updated_at", nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "exception_id"),
    sa.UniqueConstraint("tenant_id", "identity_key"),
    sa.Index(None, "tenant_id", "school_year", "cycle", "status"),
    schema="reporting",
)

validation_exception_history = sa.Table(
    "validation_exception_history",
    metadata,
    _tenant(),
    sa.Column("exception_id", sa.BigInteger, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    _when("changed_at", nullable=False),
    sa.Column("changed_by", sa.String(200), nullable=False),
    # found | reopened | auto_resolved | assign | suppress | resolve | expired
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("from_status", sa.String(16)),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("validation_run_id", sa.BigInteger),
    sa.Column("detail", sa.JSON),
    sa.PrimaryKeyConstraint("tenant_id", "exception_id", "seq"),
    schema="reporting",
)

mosis_corrections = sa.Table(
    "mosis_corrections",
    metadata,
    _tenant(),
    sa.Column(
        "correction_id",
        sa.BigInteger,
        sa.Sequence("mosis_correction_seq", schema="reporting", metadata=metadata),
        nullable=False,
    ),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("cycle", sa.String(20), nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("state_id", sa.String(20), nullable=False),
    sa.Column("column_name", sa.String(100), nullable=False),
    sa.Column("corrected_value", sa.Text),
    sa.Column("rule_id", sa.String(40)),
    sa.Column("severity", sa.String(16)),
    sa.Column("message", sa.Text),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("imported_by", sa.String(200), nullable=False),
    _when("imported_at", nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "correction_id"),
    schema="reporting",
)
