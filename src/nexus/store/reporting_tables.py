"""SQLAlchemy Core tables of the `reporting` schema: MOSIS layouts as data, and extract runs.

Layouts, their fields, code sets and business rules are DESE's, not a tenant's: they are kept
under `tenant_id = 0` (the platform), keyed by school year (DESE's ending year, 2027 for
2026-27) and version, so a year's pages imported later stand beside the shipped metadata.
Extract runs, their rows and values belong to a tenant. `mosis_validation_results` comes with
the validation layer.
"""

from __future__ import annotations

import sqlalchemy as sa

from nexus.store.tables import metadata

PLATFORM_TENANT = 0


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.BigInteger, nullable=False)


mosis_layouts = sa.Table(
    "mosis_layouts",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),  # student_core, educator_school, ...
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    # The DESE file code in CollectionVersion (StuCore, EdSchool, ...).
    sa.Column("file_code", sa.String(40)),
    sa.Column("cycles", sa.JSON, nullable=False),
    # The DESE year the layout's fields were read from (when the reference lacks this year).
    sa.Column("source_year", sa.Integer),
    sa.Column("delimiter", sa.String(8), nullable=False),
    sa.Column("header_row", sa.Boolean, nullable=False),
    sa.Column("date_format", sa.String(20), nullable=False),
    # package: shipped with Nexus; import: from DESE pages (`nexus mosis spec import`).
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "layout", "version"),
    schema="reporting",
)

mosis_layout_fields = sa.Table(
    "mosis_layout_fields",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("field_order", sa.Integer, nullable=False),
    sa.Column("item", sa.String(8)),  # DESE item number, e.g. 005
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("column_name", sa.String(100), nullable=False),
    # Required | Optional | Conditional | Not Allowed; per cycle where DESE says so.
    sa.Column("requirement", sa.String(20), nullable=False),
    sa.Column("requirement_by_cycle", sa.JSON),
    sa.Column("code_set", sa.String(100)),
    sa.Column("data_type", sa.String(20), nullable=False),
    sa.Column("length", sa.Integer),
    sa.Column("precision", sa.Integer),
    sa.Column("cycles", sa.JSON),
    # The named derivation that gives the value from canonical data (nexus.mosis.derivations).
    sa.Column("derivation", sa.String(100)),
    # blank | omit-row | error: what an empty value means.
    sa.Column("null_handling", sa.String(20)),
    sa.Column("definition", sa.Text),
    # verified | inferred | unverified, and where from.
    sa.Column("provenance", sa.String(16), nullable=False),
    sa.Column("provenance_note", sa.Text),
    sa.Column("source_year", sa.String(60)),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "layout", "version", "field_order"),
    schema="reporting",
)

mosis_code_sets = sa.Table(
    "mosis_code_sets",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("code_set", sa.String(100), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("meaning", sa.Text),
    sa.Column("provenance", sa.String(16), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "code_set", "code"),
    schema="reporting",
)

mosis_business_rules = sa.Table(
    "mosis_business_rules",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("rule_id", sa.String(20), nullable=False),  # DESE's, e.g. STC00440
    sa.Column("severity", sa.String(4), nullable=False),  # E blocking, W warning
    sa.Column("item", sa.String(8)),
    sa.Column("item_name", sa.String(200)),
    sa.Column("short_title", sa.Text),
    sa.Column("business_rule", sa.Text),
    sa.Column("general_message", sa.Text),
    sa.Column("detailed_message", sa.Text),
    sa.Column("cycles", sa.JSON),
    sa.Column("provenance", sa.String(16), nullable=False),
    sa.Column("source_year", sa.String(60)),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "layout", "rule_id"),
    schema="reporting",
)

mosis_extract_runs = sa.Table(
    "mosis_extract_runs",
    metadata,
    _tenant(),
    sa.Column(
        "extract_run_id",
        sa.BigInteger,
        sa.Sequence("extract_run_seq", schema="reporting", metadata=metadata),
        nullable=False,
    ),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("cycle", sa.String(20), nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("layout_version", sa.Integer, nullable=False),
    sa.Column("school_code", sa.String(4)),
    sa.Column("count_date", sa.Date),
    # The input: the ingestion runs last mapped per source, and the canonical watermark.
    sa.Column("input_snapshot", sa.JSON, nullable=False),
    sa.Column("file_name", sa.Text),
    sa.Column("artifact_path", sa.Text),
    sa.Column("sha256", sa.String(64)),
    sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("blocking", sa.Integer, nullable=False, server_default="0"),
    sa.Column("warnings", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("started_by", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.PrimaryKeyConstraint("tenant_id", "extract_run_id"),
    schema="reporting",
)

mosis_extract_rows = sa.Table(
    "mosis_extract_rows",
    metadata,
    _tenant(),
    sa.Column("extract_run_id", sa.BigInteger, nullable=False),
    sa.Column("row_no", sa.Integer, nullable=False),
    # What the row reports: e.g. person 42 (student), educator 7, calendar 3 / 2026-08-13.
    sa.Column("subject_type", sa.String(40), nullable=False),
    sa.Column("subject_key", sa.Text, nullable=False),
    # The line in the file (header = line 1 when there is one); null when left out.
    sa.Column("line", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False),  # written | blocked
    sa.Column("problems", sa.JSON),
    sa.PrimaryKeyConstraint("tenant_id", "extract_run_id", "row_no"),
    schema="reporting",
)

mosis_extract_values = sa.Table(
    "mosis_extract_values",
    metadata,
    _tenant(),
    sa.Column("extract_run_id", sa.BigInteger, nullable=False),
    sa.Column("row_no", sa.Integer, nullable=False),
    sa.Column("field_order", sa.Integer, nullable=False),
    sa.Column("column_name", sa.String(100), nullable=False),
    sa.Column("value", sa.Text),
    # The derivation and the canonical rows that gave the value.
    sa.Column("trace", sa.JSON),
    # A primary key on PostgreSQL only (migration 0006).
    sa.PrimaryKeyConstraint("tenant_id", "extract_run_id", "row_no", "field_order"),
    schema="reporting",
)

# One row per DESE MOSIS ID response file imported (`nexus mosis ids import`): the file (kept
# content-addressed), what became of each of its records (`outcomes`: line, local id, MOSIS ID,
# person, outcome assigned | already_held | rejected, message, warnings) and the counts. The
# assigned ids themselves are census.person_identifiers rows whose valid_from_run is this
# import_id (their source system is the tenant's `mosis-id` one).
mosis_id_imports = sa.Table(
    "mosis_id_imports",
    metadata,
    _tenant(),
    sa.Column(
        "import_id",
        sa.BigInteger,
        sa.Sequence("mosis_id_import_seq", schema="reporting", metadata=metadata),
        nullable=False,
    ),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64)),
    sa.Column("artifact_path", sa.Text),
    sa.Column("records", sa.Integer, nullable=False, server_default="0"),
    sa.Column("assigned", sa.Integer, nullable=False, server_default="0"),
    sa.Column("already_held", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("warnings", sa.Integer, nullable=False, server_default="0"),
    sa.Column("outcomes", sa.JSON),
    # succeeded | partial (some records rejected) | refused (the file itself; nothing written)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("started_by", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.PrimaryKeyConstraint("tenant_id", "import_id"),
    schema="reporting",
)

# A tenant's default for one field of one layout and school year (`nexus mosis defaults`):
# written where the field's derivation gives no value (a source that does not hold it, e.g. the
# board's calendar adoption date), and named in the value's trace and the run's input.
mosis_field_defaults = sa.Table(
    "mosis_field_defaults",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("layout", sa.String(60), nullable=False),
    sa.Column("column_name", sa.String(100), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("set_by", sa.String(200), nullable=False),
    sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "layout", "column_name"),
    schema="reporting",
)
