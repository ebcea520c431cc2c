"""Reading the grade-card marts: cells by district, school, grade or student group (suppressed
for the public), and drill-through to the students (or educators) behind a cell, audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from nexus.marts.access import check_role, require_student_level, sees_student_level
from nexus.marts.definitions import Indicator, MartError, indicator
from nexus.marts.groups import group_labels
from nexus.marts.refresh import tenant_id_of
from nexus.marts.suppression import HIDDEN
from nexus.mosis.layouts import parse_school_year
from nexus.store import Store, audit
from nexus.store.engine import current_user
from nexus.store.mart_tables import ALL, DISTRICT_UNIT, grade_card_aggregates, grade_card_facts

BY = ("district", "school", "grade", "group")


def schools(conn: sa.Connection, tenant_id: int) -> dict[int, dict]:
    rows = conn.execute(
        sa.text("SELECT school_id, school_code, name FROM education.schools WHERE tenant_id = :t"),
        {"t": tenant_id},
    ).all()
    found = {int(r[0]): {"school_code": r[1], "school_name": r[2]} for r in rows}
    found[DISTRICT_UNIT] = {"school_code": "", "school_name": "District"}
    return found


def school_ids(conn: sa.Connection, tenant_id: int, code: str) -> list[int]:
    ids = [
        int(r[0])
        for r in conn.execute(
            sa.text(
                "SELECT school_id FROM education.schools WHERE tenant_id = :t "
                "AND (school_code = :c OR local_code = :c)"
            ),
            {"t": tenant_id, "c": code},
        )
    ]
    if not ids:
        raise MartError(f"no school {code!r} in this district")
    return ids


def public_cell(ind: Indicator, row: dict, role: str) -> dict[str, Any]:
    """A cell as shown to `role`: suppressed values are `*` (never 0) unless the role may see
    student-level data, then the value and the reason it would be hidden."""
    shown = {
        "n": row["n"],
        "numerator": _number(row["numerator"]),
        "denominator": _number(row["denominator"]),
        "value": ind.format_value(row["value"]) if row["value"] is not None else "",
        "suppressed": bool(row["suppressed"]),
    }
    if row["suppressed"]:
        if sees_student_level(role):
            shown["suppression_reason"] = row["suppression_reason"]
        else:
            shown.update(n=HIDDEN, numerator=HIDDEN, denominator=HIDDEN, value=HIDDEN)
    return shown


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(float(value), 4)


def cells(
    store: Store,
    tenant_code: str,
    name: str,
    year: int | str,
    by: str = "district",
    school_code: str | None = None,
    role: str = "public",
) -> dict[str, Any]:
    """`nexus marts show`: the indicator's cells, one line per school, grade or group."""
    check_role(role)
    if by not in BY:
        raise MartError(f"--by {by!r}: one of {', '.join(BY)}")
    school_year = parse_school_year(year)
    ind = indicator(name, school_year)
    a = grade_card_aggregates
    with store.engine.connect() as conn:
        tenant_id = tenant_id_of(conn, tenant_code)
        names = schools(conn, tenant_id)
        query = sa.select(a).where(
            a.c.tenant_id == tenant_id, a.c.school_year == school_year, a.c.indicator == ind.name
        )
        if school_code:
            query = query.where(a.c.school_id.in_(school_ids(conn, tenant_id, school_code)))
        elif by != "school":
            query = query.where(a.c.school_id == DISTRICT_UNIT)
        if by == "school":
            query = query.where(
                a.c.school_id != DISTRICT_UNIT, a.c.grade_level == ALL, a.c.group_code == ALL
            )
        elif by == "district":
            query = query.where(a.c.grade_level == ALL, a.c.group_code == ALL)
        elif by == "grade":
            query = query.where(a.c.grade_level != ALL, a.c.group_code == ALL)
        else:
            query = query.where(a.c.grade_level == ALL)
        rows = [dict(r) for r in conn.execute(query).mappings()]
        # Whether the year was refreshed at all (an empty cell list is then a real answer);
        # EXISTS stops at the first row instead of counting a year's aggregates.
        refreshed = conn.execute(
            sa.select(sa.exists().where(a.c.tenant_id == tenant_id, a.c.school_year == school_year))
        ).scalar_one()
    if not refreshed:
        raise MartError(
            f"no marts for {ind.school_year}: run `nexus marts refresh --year {school_year}`"
        )
    labels = group_labels()
    order = list(labels)
    rows.sort(
        key=lambda r: (
            r["school_id"] != DISTRICT_UNIT,
            names.get(r["school_id"], {}).get("school_code") or "",
            r["grade_level"],
            order.index(r["group_code"]) if r["group_code"] in order else 99,
        )
    )
    out = []
    for row in rows:
        school = names.get(row["school_id"], {"school_code": "?", "school_name": "?"})
        out.append(
            {
                "level": row["level"],
                "school_code": school["school_code"],
                "school_name": school["school_name"],
                "grade": row["grade_level"],
                "group": row["group_code"],
                "group_label": labels.get(row["group_code"], row["group_code"]),
                **public_cell(ind, row, role),
            }
        )
    return {
        "indicator": ind.name,
        "title": ind.title,
        "school_year": school_year,
        "by": by,
        "role": role,
        "suppressed_shown_as": HIDDEN,
        "cells": out,
    }


def drill(
    store: Store,
    tenant_code: str,
    name: str,
    year: int | str,
    school_code: str | None = None,
    group: str = ALL,
    grade: str = ALL,
    role: str = "analyst",
    user: str | None = None,
    action: str = "view.mart_drill",
) -> dict[str, Any]:
    """The students (or educators) behind one cell, with the facts that put each in the
    numerator or denominator. Student-level: refused for the public, audited (as `action`,
    with the person ids shown)."""
    require_student_level(role, "drill-through")
    school_year = parse_school_year(year)
    ind = indicator(name, school_year)
    if group != ALL and group not in ind.groups:
        raise MartError(f"{ind.name} is not reported for group {group!r}")
    f = grade_card_facts
    with store.engine.begin() as conn:
        tenant_id = tenant_id_of(conn, tenant_code)
        units = school_ids(conn, tenant_id, school_code) if school_code else [DISTRICT_UNIT]
        query = sa.select(f).where(
            f.c.tenant_id == tenant_id,
            f.c.school_year == school_year,
            f.c.indicator == ind.name,
            f.c.school_id.in_(units),
        )
        if grade != ALL:
            query = query.where(f.c.grade_level == grade)
        if group != ALL:
            query = query.where(
                f.c.person_id.in_(
                    sa.text(
                        "SELECT person_id FROM mart.grade_card_student_groups "
                        "WHERE tenant_id = :gt AND school_year = :gy AND group_code = :gc"
                    ).bindparams(gt=tenant_id, gy=school_year, gc=group)
                )
            )
        facts = [dict(r) for r in conn.execute(query.order_by(f.c.person_id)).mappings()]
        people = _people(conn, tenant_id, sorted({r["person_id"] for r in facts}))
        audit.record(
            conn,
            tenant_id,
            user or current_user(),
            action,
            {
                "indicator": ind.name,
                "school_year": school_year,
                "school": school_code or "district",
                "group": group,
                "grade": grade,
                "role": role,
                "rows": len(facts),
                "person_ids": sorted({int(r["person_id"]) for r in facts}),
            },
        )
    rows = []
    for fact in facts:
        person = people.get(fact["person_id"], {})
        rows.append(
            {
                "person_id": fact["person_id"],
                "subject_type": fact["subject_type"],
                "mosis_state_id": person.get("mosis_state_id"),
                "local_id": person.get("local_id"),
                "last_name": person.get("last_name"),
                "first_name": person.get("first_name"),
                "grade": fact["grade_level"],
                "in_numerator": bool(fact["in_numerator"]),
                "in_denominator": bool(fact["in_denominator"]),
                "numerator_value": _number(fact["numerator_value"]),
                "denominator_value": _number(fact["denominator_value"]),
                "facts": fact["detail"],
            }
        )
    return {
        "indicator": ind.name,
        "school_year": school_year,
        "school": school_code or "district",
        "group": group,
        "grade": grade,
        "numerator_words": ind.words.get("numerator"),
        "denominator_words": ind.words.get("denominator"),
        "rows": rows,
    }


def _people(conn: sa.Connection, tenant_id: int, person_ids: list[int]) -> dict[int, dict]:
    if not person_ids:
        return {}
    found: dict[int, dict] = {}
    for start in range(0, len(person_ids), 5000):
        chunk = person_ids[start : start + 5000]
        names = conn.execute(
            sa.text(
                "SELECT person_id, max(legal_last_name), max(legal_first_name) "
                "FROM census.identities WHERE tenant_id = :t AND person_id IN :ids "
                "GROUP BY person_id"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"t": tenant_id, "ids": chunk},
        ).all()
        for pid, last, first in names:
            found[int(pid)] = {"last_name": last, "first_name": first}
        ids = conn.execute(
            sa.text(
                "SELECT i.person_id, p.identifier_type, min(p.value) "
                "FROM census.person_identifiers p JOIN census.identities i "
                "ON i.tenant_id = p.tenant_id AND i.key_scope = p.key_scope "
                "AND i.person_kind = p.person_kind AND i.source_key = p.source_key "
                "WHERE p.tenant_id = :t AND p.valid_to_run IS NULL AND i.person_id IN :ids "
                "AND p.identifier_type IN ('mosis_state_id', 'student_number', 'staff_number') "
                "GROUP BY i.person_id, p.identifier_type"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"t": tenant_id, "ids": chunk},
        ).all()
        for pid, kind, value in ids:
            key = "mosis_state_id" if kind == "mosis_state_id" else "local_id"
            found.setdefault(int(pid), {})[key] = value
    return found
