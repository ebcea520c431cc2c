"""SQLAlchemy Core tables of the `edfi` schema: builds, built records, their problems, sends and
the send log (which is also the identity map: canonical record key <-> Ed-Fi natural key <->
server id).

Every table carries `tenant_id`, leading its primary and unique keys; surrogate keys come
from sequences. The migration that creates them is `migrations/versions/0008_edfi.py`.
`edfi.record_problems` holds the invalid and incomplete records with layer / resource / field /
rule, the shape the validation layer's exception ledger joins.
"""

from __future__ import annotations

import sqlalchemy as sa

from nexus.store.tables import metadata


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.BigInteger, nullable=False)


edfi_builds = sa.Table(
    "builds",
    metadata,
    _tenant(),
    sa.Column(
        "build_id",
        sa.BigInteger,
        sa.Sequence("build_seq", schema="edfi", metadata=metadata),
        nullable=False,
    ),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("resources", sa.JSON),  # the resources built (null = all)
    sa.Column("started_by", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("out_dir", sa.Text),
    # Per resource: {"built", "valid", "invalid", "warnings"}; and records not sent by rule.
    sa.Column("counts", sa.JSON),
    sa.Column("skipped", sa.JSON),
    sa.PrimaryKeyConstraint("tenant_id", "build_id"),
    schema="edfi",
)

edfi_records = sa.Table(
    "records",
    metadata,
    _tenant(),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("resource", sa.String(80), nullable=False),
    # What the record was built from (stable across builds): a canonical key.
    sa.Column("record_key", sa.Text, nullable=False),
    sa.Column("build_id", sa.BigInteger, nullable=False),
    sa.Column("natural_key", sa.Text, nullable=False),
    # Hash of what, when it changes, makes the record a new one (DELETE then POST).
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("payload_hash", sa.String(64), nullable=False),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "school_year", "resource", "record_key"),
    schema="edfi",
)

edfi_record_problems = sa.Table(
    "record_problems",
    metadata,
    _tenant(),
    sa.Column("build_id", sa.BigInteger, nullable=False),
    sa.Column("problem_no", sa.BigInteger, nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("layer", sa.String(16), nullable=False),  # always "edfi"
    sa.Column("resource", sa.String(80), nullable=False),
    sa.Column("record_key", sa.Text, nullable=False),
    sa.Column("field", sa.String(300)),
    # schema | empty_required_array | unknown_descriptor | duplicate_natural_key |
    # unresolved_reference | missing_state_id | missouri_required | ...
    sa.Column("rule", sa.String(60), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),  # error (not sent) | warning
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("value", sa.Text),
    sa.PrimaryKeyConstraint("tenant_id", "build_id", "problem_no"),
    schema="edfi",
)

edfi_sends = sa.Table(
    "sends",
    metadata,
    _tenant(),
    sa.Column(
        "send_id",
        sa.BigInteger,
        sa.Sequence("send_seq", schema="edfi", metadata=metadata),
        nullable=False,
    ),
    sa.Column("connection", sa.String(100), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("build_id", sa.BigInteger),
    sa.Column("started_by", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),  # running | succeeded | partial | failed
    sa.Column("reason", sa.Text),
    # Per resource: {"posted", "created", "updated", "unchanged", "failed", "deleted", ...}.
    sa.Column("counts", sa.JSON),
    sa.PrimaryKeyConstraint("tenant_id", "send_id"),
    schema="edfi",
)

edfi_send_log = sa.Table(
    "send_log",
    metadata,
    _tenant(),
    sa.Column("connection", sa.String(100), nullable=False),
    sa.Column("school_year", sa.Integer, nullable=False),
    sa.Column("resource", sa.String(80), nullable=False),
    sa.Column("record_key", sa.Text, nullable=False),
    sa.Column("natural_key", sa.Text, nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    # The payload last sent; a record is resent only when its payload hash differs.
    sa.Column("payload_hash", sa.String(64), nullable=False),
    sa.Column("server_id", sa.String(64)),  # the ODS/API resource id (from Location)
    sa.Column("status_code", sa.Integer),
    sa.Column("outcome", sa.String(20), nullable=False),  # sent | failed
    sa.Column("message", sa.Text),
    sa.Column("send_id", sa.BigInteger, nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "connection", "school_year", "resource", "record_key"),
    schema="edfi",
)
