"""SQLAlchemy Core tables of the canonical model: the `census` and `education` schemas, and the
mapping metadata and mapping runs in `integration` that fill them.

Source-specific names stay out of these tables: Campus, OneRoster or Star field names live in
the mapping YAML files (`nexus/canonical/mappings/`), not here.

Every canonical row carries the same lineage block:
- `key_scope` + `source_key`: the row's identity within the family of sources that share ids
  (Campus extracts and Campus SQL share the scope `campus`, so both map onto the same rows);
  unique per tenant, so mapping a run twice finds the same rows;
- `source_system_id`, `source_record_id` (the `integration.source_records` version the row came
  from) and `ingestion_run_id` (the run that was mapped);
- `row_hash`: md5 of the mapped values, so a re-map touches only rows whose values changed.

Persons are special: `census.identities` holds one row per *source person record* (what that
source says about the person), linked to a persistent `census.people.person_id` by the identity
layer with the rule or match weight that made the link. Unlinked source persons stay there,
with status `unmatched` or `review`, never dropped.
"""

from __future__ import annotations

import sqlalchemy as sa

from nexus.store.tables import metadata


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.BigInteger, nullable=False)


def _lineage() -> list[sa.Column]:
    return [
        sa.Column("key_scope", sa.String(32), nullable=False),
        sa.Column("source_key", sa.Text, nullable=False),
        sa.Column("source_system_id", sa.BigInteger, nullable=False),
        sa.Column("source_record_id", sa.BigInteger, nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger, nullable=False),
        sa.Column("row_hash", sa.String(32), nullable=False),
    ]


def _canonical(name: str, schema: str, id_column: str | None, *columns: sa.Column) -> sa.Table:
    """A canonical table: tenant, optional surrogate id, the domain columns, lineage."""
    cols: list[sa.Column] = [_tenant()]
    if id_column:
        cols.append(sa.Column(id_column, sa.BigInteger, nullable=False))
    cols.extend(columns)
    cols.extend(_lineage())
    # Unique on PostgreSQL only (see migration 0005): the mapping's diff keeps it so on DuckDB.
    constraints: list[sa.SchemaItem] = [
        sa.Index(f"uq_{name}_row_key", "tenant_id", "key_scope", "source_key", unique=True)
    ]
    if id_column:
        constraints.append(sa.PrimaryKeyConstraint("tenant_id", id_column))
    return sa.Table(name, metadata, *cols, *constraints, schema=schema)


def _str(name: str, length: int = 60) -> sa.Column:
    return sa.Column(name, sa.String(length))


def _date(name: str) -> sa.Column:
    return sa.Column(name, sa.Date)


def _bool(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean)


def _num(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(12, 4))


def _int(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer)


def _ref(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger)


# --- census ------------------------------------------------------------------------------------

people = sa.Table(
    "people",
    metadata,
    _tenant(),
    # Persistent: a later run links into existing people, never renumbers them.
    sa.Column("person_id", sa.BigInteger, nullable=False),
    sa.Column("person_kind", sa.String(16), nullable=False),  # student | staff
    sa.Column("created_run_id", sa.BigInteger),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "person_id"),
    schema="census",
)

identities = _canonical(
    "identities",
    "census",
    None,
    sa.Column("person_kind", sa.String(16), nullable=False),
    _ref("person_id"),
    # linked | review | unmatched
    sa.Column("link_status", sa.String(16), nullable=False),
    # The rule ("identifier:mosis_state_id", "created", "review:accepted") or "probabilistic".
    _str("link_rule", 120),
    sa.Column("match_probability", sa.Float),
    sa.Column("match_weight", sa.Float),
    _str("legal_first_name", 100),
    _str("legal_middle_name", 100),
    _str("legal_last_name", 100),
    _str("generation_suffix", 20),
    _date("birth_date"),
    _str("gender", 8),
    _bool("hispanic_latino"),
    _bool("race_american_indian_alaska_native"),
    _bool("race_asian"),
    _bool("race_black_african_american"),
    _bool("race_native_hawaiian_pacific_islander"),
    _bool("race_white"),
    # The source says "two or more races" without naming them (Campus federal code 7).
    _bool("race_two_or_more"),
    _str("home_language", 20),
    # Hints for matching a person across sources (what the source said at the time).
    _str("grade_hint", 4),
    _str("school_hint", 60),
)

person_identifiers = sa.Table(
    "person_identifiers",
    metadata,
    _tenant(),
    sa.Column("key_scope", sa.String(32), nullable=False),
    sa.Column("source_key", sa.Text, nullable=False),
    sa.Column("person_kind", sa.String(16), nullable=False),
    # mosis_state_id, student_number, staff_number, educator_certificate, email, star_id,
    # classlink_id, powerschool_dcid, sis_person_id, oneroster_sourced_id, ...
    sa.Column("identifier_type", sa.String(40), nullable=False),
    # Who issued it: DESE, district, Renaissance, ClassLink, an email domain, ...
    sa.Column("authority", sa.String(120), nullable=False),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("source_system_id", sa.BigInteger, nullable=False),
    sa.Column("valid_from_run", sa.BigInteger, nullable=False),
    sa.Column("valid_to_run", sa.BigInteger),
    sa.Index(None, "tenant_id", "identifier_type", "value"),
    schema="census",
)

match_reviews = sa.Table(
    "match_reviews",
    metadata,
    _tenant(),
    sa.Column("review_id", sa.BigInteger, nullable=False),
    sa.Column("key_scope", sa.String(32), nullable=False),
    sa.Column("person_kind", sa.String(16), nullable=False),
    sa.Column("source_key", sa.Text, nullable=False),
    sa.Column("candidate_person_id", sa.BigInteger, nullable=False),
    sa.Column("match_probability", sa.Float, nullable=False),
    sa.Column("match_weight", sa.Float),
    sa.Column("status", sa.String(16), nullable=False),  # pending | accepted | rejected
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_by", sa.String(200)),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.PrimaryKeyConstraint("tenant_id", "review_id"),
    schema="census",
)

# A tenant's identity settings (match chains, thresholds, required match rate) when they differ
# from the package defaults in nexus/identity/chains.yaml.
match_settings = sa.Table(
    "match_settings",
    metadata,
    sa.Column("tenant_id", sa.BigInteger, autoincrement=False, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id"),
    schema="census",
)

contacts = _canonical(
    "contacts",
    "census",
    None,
    sa.Column("person_kind", sa.String(16), nullable=False),
    sa.Column("person_source_key", sa.Text, nullable=False),
    _str("contact_type", 20),  # email | phone | sms
    _str("value", 200),
    _bool("is_primary"),
)

# --- education ---------------------------------------------------------------------------------

schools = _canonical(
    "schools",
    "education",
    "school_id",
    _ref("district_id"),
    _str("school_code", 4),  # DESE building code
    _str("county_district_code", 6),
    _str("nces_id", 12),
    _str("name", 200),
    _str("local_code", 60),
    _bool("state_exclude"),
)

school_aliases = sa.Table(
    "school_aliases",
    metadata,
    _tenant(),
    sa.Column("school_id", sa.BigInteger, nullable=False),
    sa.Column("alias", sa.String(200), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "school_id", "alias"),
    schema="education",
)

school_years = sa.Table(
    "school_years",
    metadata,
    _tenant(),
    sa.Column("end_year", sa.Integer, nullable=False),  # DESE's CurrentSchoolYear
    sa.Column("label", sa.String(7), nullable=False),  # 2026-27
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
    sa.PrimaryKeyConstraint("tenant_id", "end_year"),
    schema="education",
)

calendars = _canonical(
    "calendars",
    "education",
    "calendar_id",
    _ref("school_id"),
    _int("school_year"),
    _str("name", 200),
    _date("start_date"),
    _date("end_date"),
    _date("count_date"),
    _bool("state_exclude"),
    _bool("summer_school"),
)

calendar_days = _canonical(
    "calendar_days",
    "education",
    None,
    _ref("calendar_id"),
    _date("calendar_date"),
    _bool("in_session"),
    _bool("attendance_day"),
    _int("instructional_minutes"),
    _str("comment", 200),
)

enrollments = _canonical(
    "enrollments",
    "education",
    "enrollment_id",
    _ref("person_id"),
    _ref("school_id"),
    _ref("calendar_id"),
    _int("school_year"),
    _str("grade_level", 4),
    _date("entry_date"),
    _str("entry_code", 10),
    _date("exit_date"),
    _str("exit_code", 10),
    _str("service_type", 4),  # P primary, S partial/secondary, N special-ed only
    _num("fte"),
    _str("resident_district", 6),
    # The building of residence (DESE code): a non-resident's is in the resident district.
    _str("resident_school", 4),
    _str("residency_status", 10),
    _bool("state_exclude"),
    _bool("no_show"),
)

program_participation = _canonical(
    "program_participation",
    "education",
    None,
    _ref("person_id"),
    _int("school_year"),
    # iep, disability, english_learner, lunch, homeless, migrant, foster, gifted, section_504,
    # title_i, cte, immigrant
    _str("program", 30),
    _str("status_code", 20),
    _date("begin_date"),
    _date("end_date"),
)

attendance_days = _canonical(
    "attendance_days",
    "education",
    None,
    _ref("person_id"),
    _ref("calendar_id"),
    _date("attendance_date"),
    _int("scheduled_minutes"),
    _int("present_minutes"),
    _int("absent_minutes"),
    _str("attendance_status", 10),
    _str("excuse_code", 10),
)

courses = _canonical(
    "courses",
    "education",
    "course_id",
    _ref("school_id"),
    _ref("calendar_id"),
    _str("local_course_code", 60),
    _str("name", 200),
    _str("state_course_code", 10),
    _str("credit_level", 10),
    _bool("active"),
    _bool("homeroom"),
)

terms = _canonical(
    "terms",
    "education",
    "term_id",
    _ref("calendar_id"),
    _int("school_year"),
    _str("name", 100),
    _date("start_date"),
    _date("end_date"),
)

sections = _canonical(
    "sections",
    "education",
    "section_id",
    _ref("course_id"),
    _ref("term_id"),
    _str("term_name", 100),
    _date("term_start_date"),
    _date("term_end_date"),
    _str("local_section_code", 60),
    _str("room", 60),
    _ref("primary_educator_id"),
)

employment_assignments = _canonical(
    "employment_assignments",
    "education",
    None,
    _ref("person_id"),
    _ref("school_id"),
    _str("title", 200),
    _str("position_code", 10),
    _bool("is_teacher"),
    _num("fte"),
    _date("start_date"),
    _date("end_date"),
)

section_educators = _canonical(
    "section_educators",
    "education",
    None,
    _ref("section_id"),
    _ref("person_id"),
    _str("role", 20),  # primary | secondary | aide
    _date("start_date"),
    _date("end_date"),
)

section_enrollments = _canonical(
    "section_enrollments",
    "education",
    None,
    _ref("section_id"),
    _ref("person_id"),
    _date("start_date"),
    _date("end_date"),
)

course_transcripts = _canonical(
    "course_transcripts",
    "education",
    None,
    _ref("person_id"),
    _int("school_year"),
    _str("grade_level", 4),
    _str("local_course_code", 60),
    _str("course_name", 200),
    _str("state_course_code", 10),
    _str("mark", 10),
    _num("percent"),
    _num("credits_attempted"),
    _num("credits_earned"),
    _str("term", 20),
    _date("completed_date"),
)

discipline_incidents = _canonical(
    "discipline_incidents",
    "education",
    "incident_id",
    _ref("school_id"),
    _ref("calendar_id"),
    _date("incident_date"),
    _str("location", 60),
)

discipline_offenses = _canonical(
    "discipline_offenses",
    "education",
    None,
    _ref("incident_id"),
    _ref("person_id"),
    _str("role", 20),
    _str("offense_code", 20),
    _str("state_offense_code", 10),
)

discipline_actions = _canonical(
    "discipline_actions",
    "education",
    None,
    _ref("incident_id"),
    _ref("person_id"),
    _str("action_code", 20),
    _str("state_action_code", 10),
    _date("start_date"),
    _date("end_date"),
    _num("duration_days"),
    _bool("state_reportable"),
)

assessments = _canonical(
    "assessments",
    "education",
    "assessment_id",
    _str("assessment_code", 40),
    _str("name", 200),
    _str("vendor", 60),
    _str("subject", 40),
)

assessment_results = _canonical(
    "assessment_results",
    "education",
    None,
    _ref("person_id"),
    _ref("assessment_id"),
    _date("administration_date"),
    _str("grade_when_assessed", 4),
    _num("scale_score"),
    _num("percentile"),
    _str("performance_level", 40),
    _int("school_year"),
)

graduation_facts = _canonical(
    "graduation_facts",
    "education",
    None,
    _ref("person_id"),
    _int("cohort_year"),
    _int("expected_graduation_year"),
    _date("diploma_date"),
    _str("diploma_type", 20),
    # Follow-up (postsecondary, military, employment) once a source provides it.
    _str("follow_up_status", 40),
)

# --- mapping metadata and runs (integration) ---------------------------------------------------

mappings = sa.Table(
    "mappings",
    metadata,
    _tenant(),
    sa.Column("source_kind", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("key_scope", sa.String(32), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "source_kind", "version"),
    schema="integration",
)

mapping_fields = sa.Table(
    "mapping_fields",
    metadata,
    _tenant(),
    sa.Column("source_kind", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("field_no", sa.Integer, nullable=False),
    sa.Column("source_entity", sa.String(200), nullable=False),
    sa.Column("target", sa.String(100), nullable=False),
    sa.Column("target_field", sa.String(100), nullable=False),
    sa.Column("source_fields", sa.Text),
    sa.Column("rule", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "source_kind", "version", "field_no"),
    schema="integration",
)

code_crosswalks = sa.Table(
    "code_crosswalks",
    metadata,
    _tenant(),
    sa.Column("crosswalk", sa.String(60), nullable=False),
    sa.Column("source_code", sa.String(100), nullable=False),
    sa.Column("canonical_code", sa.String(100), nullable=False),
    # package: shipped default; tenant: edited by the tenant (survives reloads of the package).
    sa.Column("origin", sa.String(16), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "crosswalk", "source_code"),
    schema="integration",
)

mapping_runs = sa.Table(
    "mapping_runs",
    metadata,
    _tenant(),
    sa.Column(
        "map_run_id",
        sa.BigInteger,
        sa.Sequence("map_run_seq", schema="integration", metadata=metadata),
        nullable=False,
    ),
    sa.Column("ingestion_run_id", sa.BigInteger, nullable=False),
    sa.Column("source_system_id", sa.BigInteger, nullable=False),
    sa.Column("source_kind", sa.String(32), nullable=False),
    sa.Column("mapping_version", sa.Integer, nullable=False),
    sa.Column("replay", sa.Boolean, nullable=False),
    sa.Column("started_by", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    # Per target: {"inserted", "updated", "deleted", "unchanged", "errors"}.
    sa.Column("counts", sa.JSON),
    sa.PrimaryKeyConstraint("tenant_id", "map_run_id"),
    schema="integration",
)

mapping_errors = sa.Table(
    "mapping_errors",
    metadata,
    _tenant(),
    sa.Column("map_run_id", sa.BigInteger, nullable=False),
    sa.Column("error_no", sa.BigInteger, nullable=False),
    sa.Column("source_entity", sa.String(200), nullable=False),
    sa.Column("target", sa.String(100), nullable=False),
    sa.Column("source_record_id", sa.BigInteger),
    sa.Column("natural_key", sa.Text),
    sa.Column("field", sa.String(100)),
    # missing_key | missing_required | unknown_code | bad_value | broken_reference
    sa.Column("rule", sa.String(40), nullable=False),
    sa.Column("value", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "map_run_id", "error_no"),
    schema="integration",
)

CANONICAL_SCHEMAS = ("census", "education")
