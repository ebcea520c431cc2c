"""census and education canonical tables, mapping metadata and runs

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Canonical tables whose rows are keyed (tenant_id, key_scope, source_key).
CANONICAL = (
    ("census", "contacts"),
    ("census", "identities"),
    ("education", "assessment_results"),
    ("education", "assessments"),
    ("education", "attendance_days"),
    ("education", "calendar_days"),
    ("education", "calendars"),
    ("education", "course_transcripts"),
    ("education", "courses"),
    ("education", "discipline_actions"),
    ("education", "discipline_incidents"),
    ("education", "discipline_offenses"),
    ("education", "employment_assignments"),
    ("education", "enrollments"),
    ("education", "graduation_facts"),
    ("education", "program_participation"),
    ("education", "schools"),
    ("education", "section_educators"),
    ("education", "section_enrollments"),
    ("education", "sections"),
    ("education", "terms"),
)


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("map_run_seq", schema="integration")))
    op.create_table(
        "contacts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("person_kind", sa.String(length=16), nullable=False),
        sa.Column("person_source_key", sa.Text(), nullable=False),
        sa.Column("contact_type", sa.String(length=20), nullable=True),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="census",
    )
    op.create_table(
        "identities",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("person_kind", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("link_status", sa.String(length=16), nullable=False),
        sa.Column("link_rule", sa.String(length=120), nullable=True),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.Column("match_weight", sa.Float(), nullable=True),
        sa.Column("legal_first_name", sa.String(length=100), nullable=True),
        sa.Column("legal_middle_name", sa.String(length=100), nullable=True),
        sa.Column("legal_last_name", sa.String(length=100), nullable=True),
        sa.Column("generation_suffix", sa.String(length=20), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("hispanic_latino", sa.Boolean(), nullable=True),
        sa.Column("race_american_indian_alaska_native", sa.Boolean(), nullable=True),
        sa.Column("race_asian", sa.Boolean(), nullable=True),
        sa.Column("race_black_african_american", sa.Boolean(), nullable=True),
        sa.Column("race_native_hawaiian_pacific_islander", sa.Boolean(), nullable=True),
        sa.Column("race_white", sa.Boolean(), nullable=True),
        sa.Column("home_language", sa.String(length=20), nullable=True),
        sa.Column("grade_hint", sa.String(length=4), nullable=True),
        sa.Column("school_hint", sa.String(length=60), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="census",
    )
    op.create_table(
        "match_reviews",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("review_id", sa.BigInteger(), nullable=False),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("person_kind", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("candidate_person_id", sa.BigInteger(), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "review_id", name=op.f("pk_match_reviews")),
        schema="census",
    )
    op.create_table(
        "match_settings",
        sa.Column("tenant_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_match_settings")),
        schema="census",
    )
    op.create_table(
        "people",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("person_kind", sa.String(length=16), nullable=False),
        sa.Column("created_run_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", name=op.f("pk_people")),
        schema="census",
    )
    op.create_table(
        "person_identifiers",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("person_kind", sa.String(length=16), nullable=False),
        sa.Column("identifier_type", sa.String(length=40), nullable=False),
        sa.Column("authority", sa.String(length=120), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("valid_from_run", sa.BigInteger(), nullable=False),
        sa.Column("valid_to_run", sa.BigInteger(), nullable=True),
        schema="census",
    )
    op.create_index(
        op.f("ix_person_identifiers_tenant_id_identifier_type_value"),
        "person_identifiers",
        ["tenant_id", "identifier_type", "value"],
        unique=False,
        schema="census",
    )
    op.create_table(
        "assessment_results",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("assessment_id", sa.BigInteger(), nullable=True),
        sa.Column("administration_date", sa.Date(), nullable=True),
        sa.Column("grade_when_assessed", sa.String(length=4), nullable=True),
        sa.Column("scale_score", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("percentile", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("performance_level", sa.String(length=40), nullable=True),
        sa.Column("school_year", sa.Integer(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "assessments",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("assessment_id", sa.BigInteger(), nullable=False),
        sa.Column("assessment_code", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("vendor", sa.String(length=60), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "assessment_id", name=op.f("pk_assessments")),
        schema="education",
    )
    op.create_table(
        "attendance_days",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("calendar_id", sa.BigInteger(), nullable=True),
        sa.Column("attendance_date", sa.Date(), nullable=True),
        sa.Column("scheduled_minutes", sa.Integer(), nullable=True),
        sa.Column("present_minutes", sa.Integer(), nullable=True),
        sa.Column("absent_minutes", sa.Integer(), nullable=True),
        sa.Column("attendance_status", sa.String(length=10), nullable=True),
        sa.Column("excuse_code", sa.String(length=10), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "calendar_days",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("calendar_id", sa.BigInteger(), nullable=True),
        sa.Column("calendar_date", sa.Date(), nullable=True),
        sa.Column("in_session", sa.Boolean(), nullable=True),
        sa.Column("attendance_day", sa.Boolean(), nullable=True),
        sa.Column("instructional_minutes", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(length=200), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "calendars",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("calendar_id", sa.BigInteger(), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=True),
        sa.Column("school_year", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("count_date", sa.Date(), nullable=True),
        sa.Column("state_exclude", sa.Boolean(), nullable=True),
        sa.Column("summer_school", sa.Boolean(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "calendar_id", name=op.f("pk_calendars")),
        schema="education",
    )
    op.create_table(
        "course_transcripts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("school_year", sa.Integer(), nullable=True),
        sa.Column("grade_level", sa.String(length=4), nullable=True),
        sa.Column("local_course_code", sa.String(length=60), nullable=True),
        sa.Column("course_name", sa.String(length=200), nullable=True),
        sa.Column("state_course_code", sa.String(length=10), nullable=True),
        sa.Column("mark", sa.String(length=10), nullable=True),
        sa.Column("percent", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("credits_attempted", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("credits_earned", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("term", sa.String(length=20), nullable=True),
        sa.Column("completed_date", sa.Date(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "courses",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("course_id", sa.BigInteger(), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=True),
        sa.Column("calendar_id", sa.BigInteger(), nullable=True),
        sa.Column("local_course_code", sa.String(length=60), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("state_course_code", sa.String(length=10), nullable=True),
        sa.Column("credit_level", sa.String(length=10), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("homeroom", sa.Boolean(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "course_id", name=op.f("pk_courses")),
        schema="education",
    )
    op.create_table(
        "discipline_actions",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("action_code", sa.String(length=20), nullable=True),
        sa.Column("state_action_code", sa.String(length=10), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("duration_days", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("state_reportable", sa.Boolean(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "discipline_incidents",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=True),
        sa.Column("calendar_id", sa.BigInteger(), nullable=True),
        sa.Column("incident_date", sa.Date(), nullable=True),
        sa.Column("location", sa.String(length=60), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "incident_id", name=op.f("pk_discipline_incidents")),
        schema="education",
    )
    op.create_table(
        "discipline_offenses",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("offense_code", sa.String(length=20), nullable=True),
        sa.Column("state_offense_code", sa.String(length=10), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "employment_assignments",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("school_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("position_code", sa.String(length=10), nullable=True),
        sa.Column("is_teacher", sa.Boolean(), nullable=True),
        sa.Column("fte", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "enrollments",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("enrollment_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("school_id", sa.BigInteger(), nullable=True),
        sa.Column("calendar_id", sa.BigInteger(), nullable=True),
        sa.Column("school_year", sa.Integer(), nullable=True),
        sa.Column("grade_level", sa.String(length=4), nullable=True),
        sa.Column("entry_date", sa.Date(), nullable=True),
        sa.Column("entry_code", sa.String(length=10), nullable=True),
        sa.Column("exit_date", sa.Date(), nullable=True),
        sa.Column("exit_code", sa.String(length=10), nullable=True),
        sa.Column("service_type", sa.String(length=4), nullable=True),
        sa.Column("fte", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("resident_district", sa.String(length=6), nullable=True),
        sa.Column("residency_status", sa.String(length=10), nullable=True),
        sa.Column("state_exclude", sa.Boolean(), nullable=True),
        sa.Column("no_show", sa.Boolean(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "enrollment_id", name=op.f("pk_enrollments")),
        schema="education",
    )
    op.create_table(
        "graduation_facts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("cohort_year", sa.Integer(), nullable=True),
        sa.Column("expected_graduation_year", sa.Integer(), nullable=True),
        sa.Column("diploma_date", sa.Date(), nullable=True),
        sa.Column("diploma_type", sa.String(length=20), nullable=True),
        sa.Column("follow_up_status", sa.String(length=40), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "program_participation",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("school_year", sa.Integer(), nullable=True),
        sa.Column("program", sa.String(length=30), nullable=True),
        sa.Column("status_code", sa.String(length=20), nullable=True),
        sa.Column("begin_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "school_aliases",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "school_id", "alias", name=op.f("pk_school_aliases")),
        schema="education",
    )
    op.create_table(
        "school_years",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("end_year", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=7), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "end_year", name=op.f("pk_school_years")),
        schema="education",
    )
    op.create_table(
        "schools",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=False),
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("school_code", sa.String(length=4), nullable=True),
        sa.Column("county_district_code", sa.String(length=6), nullable=True),
        sa.Column("nces_id", sa.String(length=12), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("local_code", sa.String(length=60), nullable=True),
        sa.Column("state_exclude", sa.Boolean(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "school_id", name=op.f("pk_schools")),
        schema="education",
    )
    op.create_table(
        "section_educators",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("section_id", sa.BigInteger(), nullable=True),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "section_enrollments",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("section_id", sa.BigInteger(), nullable=True),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        schema="education",
    )
    op.create_table(
        "sections",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("section_id", sa.BigInteger(), nullable=False),
        sa.Column("course_id", sa.BigInteger(), nullable=True),
        sa.Column("term_id", sa.BigInteger(), nullable=True),
        sa.Column("term_name", sa.String(length=100), nullable=True),
        sa.Column("term_start_date", sa.Date(), nullable=True),
        sa.Column("term_end_date", sa.Date(), nullable=True),
        sa.Column("local_section_code", sa.String(length=60), nullable=True),
        sa.Column("room", sa.String(length=60), nullable=True),
        sa.Column("primary_educator_id", sa.BigInteger(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "section_id", name=op.f("pk_sections")),
        schema="education",
    )
    op.create_table(
        "terms",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("term_id", sa.BigInteger(), nullable=False),
        sa.Column("calendar_id", sa.BigInteger(), nullable=True),
        sa.Column("school_year", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "term_id", name=op.f("pk_terms")),
        schema="education",
    )
    op.create_table(
        "code_crosswalks",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("crosswalk", sa.String(length=60), nullable=False),
        sa.Column("source_code", sa.String(length=100), nullable=False),
        sa.Column("canonical_code", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "crosswalk", "source_code", name=op.f("pk_code_crosswalks")
        ),
        schema="integration",
    )
    op.create_table(
        "mapping_errors",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("map_run_id", sa.BigInteger(), nullable=False),
        sa.Column("error_no", sa.BigInteger(), nullable=False),
        sa.Column("source_entity", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("source_record_id", sa.BigInteger(), nullable=True),
        sa.Column("natural_key", sa.Text(), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "map_run_id", "error_no", name=op.f("pk_mapping_errors")
        ),
        schema="integration",
    )
    op.create_table(
        "mapping_fields",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("field_no", sa.Integer(), nullable=False),
        sa.Column("source_entity", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("target_field", sa.String(length=100), nullable=False),
        sa.Column("source_fields", sa.Text(), nullable=True),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "source_kind", "version", "field_no", name=op.f("pk_mapping_fields")
        ),
        schema="integration",
    )
    op.create_table(
        "mapping_runs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("map_run_id", sa.BigInteger(), nullable=False),
        sa.Column("ingestion_run_id", sa.BigInteger(), nullable=False),
        sa.Column("source_system_id", sa.BigInteger(), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("mapping_version", sa.Integer(), nullable=False),
        sa.Column("replay", sa.Boolean(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "map_run_id", name=op.f("pk_mapping_runs")),
        schema="integration",
    )
    op.create_table(
        "mappings",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("key_scope", sa.String(length=32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "source_kind", "version", name=op.f("pk_mappings")),
        schema="integration",
    )
    if op.get_bind().dialect.name == "postgresql":
        # Every re-map joins on the row key. On DuckDB the mapping's own diff keeps it unique:
        # an ART index on millions of attendance rows costs more than it saves there.
        for schema, table in CANONICAL:
            op.create_index(
                f"uq_{table}_row_key",
                table,
                ["tenant_id", "key_scope", "source_key"],
                unique=True,
                schema=schema,
            )


def downgrade() -> None:
    op.drop_table("mappings", schema="integration")
    op.drop_table("mapping_runs", schema="integration")
    op.drop_table("mapping_fields", schema="integration")
    op.drop_table("mapping_errors", schema="integration")
    op.drop_table("code_crosswalks", schema="integration")
    op.drop_table("terms", schema="education")
    op.drop_table("sections", schema="education")
    op.drop_table("section_enrollments", schema="education")
    op.drop_table("section_educators", schema="education")
    op.drop_table("schools", schema="education")
    op.drop_table("school_years", schema="education")
    op.drop_table("school_aliases", schema="education")
    op.drop_table("program_participation", schema="education")
    op.drop_table("graduation_facts", schema="education")
    op.drop_table("enrollments", schema="education")
    op.drop_table("employment_assignments", schema="education")
    op.drop_table("discipline_offenses", schema="education")
    op.drop_table("discipline_incidents", schema="education")
    op.drop_table("discipline_actions", schema="education")
    op.drop_table("courses", schema="education")
    op.drop_table("course_transcripts", schema="education")
    op.drop_table("calendars", schema="education")
    op.drop_table("calendar_days", schema="education")
    op.drop_table("attendance_days", schema="education")
    op.drop_table("assessments", schema="education")
    op.drop_table("assessment_results", schema="education")
    op.drop_index(
        op.f("ix_person_identifiers_tenant_id_identifier_type_value"),
        table_name="person_identifiers",
        schema="census",
    )
    op.drop_table("person_identifiers", schema="census")
    op.drop_table("people", schema="census")
    op.drop_table("match_settings", schema="census")
    op.drop_table("match_reviews", schema="census")
    op.drop_table("identities", schema="census")
    op.drop_table("contacts", schema="census")
    op.execute(sa.schema.DropSequence(sa.Sequence("map_run_seq", schema="integration")))
