"""Student groups (reference 2.4), defined once in `groups.yaml` and built per school year
into `mart.grade_card_student_groups`, which every indicator's aggregates join."""

from __future__ import annotations

from functools import cache
from importlib import resources

import sqlalchemy as sa
import yaml

from nexus.store.mart_tables import grade_card_student_groups


@cache
def _document() -> dict:
    text = (resources.files("nexus.marts") / "groups.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def group_definitions() -> list[dict]:
    """The groups in reporting order: code, label, words, tag, and how membership is found."""
    return list(_document()["groups"])


def group_labels() -> dict[str, str]:
    return {"all": "All students", **{g["code"]: g["label"] for g in group_definitions()}}


def partitions() -> dict[str, list[str]]:
    """Groups that split all students between them (for complementary suppression)."""
    found: dict[str, list[str]] = {}
    for group in group_definitions():
        if group.get("partition"):
            found.setdefault(group["partition"], []).append(group["code"])
    return found


GROUP_INPUTS = ("enrollments", "identities", "program_participation", "code_crosswalks")


def build_groups(conn: sa.Connection, tenant_id: int, school_year: int) -> int:
    """Rebuild the year's group membership set-based; returns rows written."""
    doc = _document()
    conn.execute(
        grade_card_student_groups.delete().where(
            grade_card_student_groups.c.tenant_id == tenant_id,
            grade_card_student_groups.c.school_year == school_year,
        )
    )
    parts = []
    for group in doc["groups"]:
        code = group["code"]
        if "when" in group:
            parts.append(
                f"SELECT s.person_id, '{code}' AS group_code FROM students s "
                f"JOIN demo d ON d.person_id = s.person_id WHERE {group['when']}"
            )
        elif "program_sql" in group:
            parts.append(
                f"SELECT s.person_id, '{code}' AS group_code FROM students s "
                f"WHERE s.person_id IN ({group['program_sql']})"
            )
    sql = f"""
        INSERT INTO mart.grade_card_student_groups (tenant_id, school_year, person_id, group_code)
        WITH students AS (
          SELECT DISTINCT e.person_id FROM education.enrollments e
          WHERE e.tenant_id = :tenant_id AND e.school_year = :school_year
            AND e.person_id IS NOT NULL
        ), raw_demo AS ({doc["demographics_sql"]}
        ), demo AS (
          SELECT r.*, r.american_indian + r.asian + r.black + r.pacific_islander + r.white
                 AS races
          FROM raw_demo r
        )
        SELECT DISTINCT :tenant_id, :school_year, m.person_id, m.group_code
        FROM ({" UNION ALL ".join(parts)}) m
    """
    written = conn.execute(
        sa.text(sql), {"tenant_id": tenant_id, "school_year": school_year}
    ).rowcount
    for group in doc["groups"]:
        members = group.get("union_of")
        if not members:
            continue
        listed = ", ".join(f"'{m}'" for m in members)
        written += conn.execute(
            sa.text(
                f"""
                INSERT INTO mart.grade_card_student_groups
                  (tenant_id, school_year, person_id, group_code)
                SELECT DISTINCT :tenant_id, :school_year, g.person_id, '{group["code"]}'
                FROM mart.grade_card_student_groups g
                WHERE g.tenant_id = :tenant_id AND g.school_year = :school_year
                  AND g.group_code IN ({listed})
                """
            ),
            {"tenant_id": tenant_id, "school_year": school_year},
        ).rowcount
    return max(written, 0)
