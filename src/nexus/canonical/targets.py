"""The canonical targets a mapping may write: each a census/education table and its columns.

A target's mapped columns are the ones a mapping rule fills; the rest are the tenant, the
surrogate id (kept across re-maps), the identity link (kept: the identity layer owns it) and
the lineage block every canonical row carries.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from nexus.store import canonical_tables as ct

LINEAGE = (
    "key_scope",
    "source_key",
    "source_system_id",
    "source_record_id",
    "ingestion_run_id",
    "row_hash",
)
# Columns of census.identities the identity layer sets; a re-map keeps them.
IDENTITY_LINK = ("person_id", "link_status", "link_rule", "match_probability", "match_weight")


@dataclass(frozen=True)
class Target:
    name: str
    table: sa.Table
    id_column: str | None
    preserved: tuple[str, ...]

    @property
    def mapped_columns(self) -> tuple[str, ...]:
        skip = {"tenant_id", self.id_column, *LINEAGE, *self.preserved}
        return tuple(c.name for c in self.table.columns if c.name not in skip)

    @property
    def qualified(self) -> str:
        return f"{self.table.schema}.{self.table.name}"


def _target(table: sa.Table, id_column: str | None = None, preserved: tuple = ()) -> Target:
    return Target(table.name, table, id_column, preserved)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        _target(ct.identities, preserved=IDENTITY_LINK),
        _target(ct.contacts),
        _target(ct.schools, "school_id"),
        _target(ct.calendars, "calendar_id"),
        _target(ct.calendar_days),
        _target(ct.enrollments, "enrollment_id"),
        _target(ct.program_participation),
        _target(ct.attendance_days),
        _target(ct.courses, "course_id"),
        _target(ct.terms, "term_id"),
        _target(ct.sections, "section_id"),
        _target(ct.employment_assignments),
        _target(ct.section_educators),
        _target(ct.section_enrollments),
        _target(ct.course_transcripts),
        _target(ct.discipline_incidents, "incident_id"),
        _target(ct.discipline_offenses),
        _target(ct.discipline_actions),
        _target(ct.assessments, "assessment_id"),
        _target(ct.assessment_results),
        _target(ct.graduation_facts),
    )
}
