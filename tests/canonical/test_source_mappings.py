"""The packaged mappings of every source kind map a synthetic district with no mapping error.

- Campus SQL and the Campus extract make the same canonical rows (same keys, same values) for
  everything both carry; what only Campus SQL has is listed in `SQL_ONLY_*` below;
- OneRoster, PowerSchool, Star and ClassLink people link onto the Campus people with the same
  student (or staff) number;
- the neutral CSV layout (`mappings/csv.yaml`) maps its example files.

Runs on DuckDB and PostgreSQL like every store test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.canonical import map_run
from nexus.canonical.catalog import package_crosswalks
from nexus.canonical.spec import available_kinds, load_spec
from nexus.canonical.targets import IDENTITY_LINK, LINEAGE, TARGETS
from nexus.integration import ingest
from nexus.store.tenants import add_tenant
from nexus.synth import generate

CSV_DISTRICT = Path(__file__).parent / "data" / "csv_district"

# A reference column holds a surrogate id; compared as the referenced row's source key.
REFS = {
    "school_id": "schools",
    "calendar_id": "calendars",
    "course_id": "courses",
    "term_id": "terms",
    "section_id": "sections",
    "incident_id": "discipline_incidents",
    "assessment_id": "assessments",
    "person_id": "people",
    "primary_educator_id": "people",
}
# What Campus SQL fills and the extract does not carry (documented in campus-sql.yaml).
SQL_ONLY_COLUMNS = {
    "schools": {"county_district_code", "state_exclude"},
    "calendars": {"count_date"},
    "graduation_facts": {"expected_graduation_year", "diploma_date", "diploma_type"},
}
SQL_ONLY_TABLES = {"section_educators"}
SQL_ONLY_SUFFIXES = ("#el_record", "#504_plan", "#immigrant")
# The extract names the term ("Year"); Campus SQL has only the terms' span.
EXTRACT_ONLY_COLUMNS = {"sections": {"term_name"}}


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("district")
    generate(out, students=60, seed=11)
    return out


def _tenant(store, code: str) -> str:
    with store.engine.begin() as conn:
        add_tenant(conn, code, f"District {code}", "045981")
    return code


def _ingest_and_map(store, tenant: str, kind: str, source: str):
    run = ingest(store, tenant, kind, source)
    assert run.status == "succeeded", run.as_dict()
    result = map_run(store, tenant, run.run_id)
    assert (result.status, result.error_count) == ("succeeded", 0), result.as_dict(20)
    return result


def _tenant_id(conn: sa.Connection, code: str) -> int:
    return conn.execute(
        sa.text("SELECT tenant_id FROM platform.tenants WHERE code = :c"), {"c": code}
    ).scalar_one()


def _canonical(store, tenant: str, scope: str) -> dict[str, dict[str, dict]]:
    """Every target's rows of a scope by source key, without tenant, surrogate ids, lineage ids
    or identity links; a reference is shown as the referenced row's source key."""
    with store.engine.connect() as conn:
        params = {"t": _tenant_id(conn, tenant), "s": scope}
        where = "WHERE tenant_id = :t AND key_scope = :s"
        keys: dict[str, dict] = {}
        for name, target in TARGETS.items():
            if target.id_column:
                sql = f"SELECT {target.id_column}, source_key FROM {target.qualified} {where}"
                keys[name] = dict(conn.execute(sa.text(sql), params).all())
        sql = (
            "SELECT person_id, min(person_kind || ':' || source_key) FROM census.identities "
            f"{where} AND person_id IS NOT NULL GROUP BY person_id"
        )
        keys["people"] = dict(conn.execute(sa.text(sql), params).all())
        out: dict[str, dict[str, dict]] = {}
        for name, target in TARGETS.items():
            skip = {"tenant_id", target.id_column, *LINEAGE}
            if name == "identities":
                skip |= set(IDENTITY_LINK)
            cols = [c.name for c in target.table.columns if c.name not in skip]
            sql = f"SELECT source_key, {', '.join(cols)} FROM {target.qualified} {where}"
            rows = {}
            for row in conn.execute(sa.text(sql), params).mappings():
                values = dict(row)
                for col, ref in REFS.items():
                    if values.get(col) is not None:
                        values[col] = keys[ref][values[col]]
                rows[values.pop("source_key")] = values
            out[name] = rows
        sql = (
            "SELECT person_kind, source_key, identifier_type, authority, value "
            f"FROM census.person_identifiers {where} AND valid_to_run IS NULL"
        )
        out["person_identifiers"] = {
            "|".join(map(str, r)): {} for r in conn.execute(sa.text(sql), params)
        }
    return out


def test_every_packaged_mapping_loads_and_names_known_crosswalks():
    crosswalks = package_crosswalks()
    kinds = available_kinds()
    assert {"campus-sql", "oneroster", "powerschool", "star", "classlink", "csv"} <= set(kinds)
    for kind in kinds:
        spec = load_spec(kind)
        assert spec.source_kind == kind
        rules = [r for m in spec.maps for r in (*m.key, *m.fields.values(), m.when) if r]
        rules += [i.value for m in spec.maps for i in m.identifiers]
        for rule in rules:
            for step in rule.steps:
                if step.name.startswith("crosswalk"):
                    assert step.args[0] in crosswalks, (kind, rule.text)


def test_campus_sql_makes_the_same_canonical_rows_as_the_campus_extract(store, district):
    _ingest_and_map(
        store, _tenant(store, "extract"), "campus-extract", str(district / "campus-extract")
    )
    _ingest_and_map(
        store, _tenant(store, "sql"), "campus-sql", f"duckdb:///{district / 'campus.duckdb'}"
    )

    extract = _canonical(store, "extract", "campus")
    sql = _canonical(store, "sql", "campus")

    assert extract["identities"] and extract["attendance_days"] and extract["assessment_results"]
    for name in extract:
        if name in SQL_ONLY_TABLES:
            assert not extract[name] and sql[name], name
            continue
        sql_rows = {k: v for k, v in sql[name].items() if not k.endswith(SQL_ONLY_SUFFIXES)}
        assert sorted(sql_rows) == sorted(extract[name]), name
        only = SQL_ONLY_COLUMNS.get(name, set()) | EXTRACT_ONLY_COLUMNS.get(name, set())
        for key, row in extract[name].items():
            left = {c: v for c, v in row.items() if c not in only}
            right = {c: v for c, v in sql_rows[key].items() if c not in only}
            assert left == right, (name, key)
        for col in SQL_ONLY_COLUMNS.get(name, ()):
            assert all(r[col] is None for r in extract[name].values()), (name, col)
            assert any(r[col] is not None for r in sql_rows.values()), (name, col)
    assert any(k.endswith("#el_record") for k in sql["program_participation"])
    educators = sql["section_educators"].values()
    assert {r["role"] for r in educators} == {"primary"}
    assert all(r["term_name"] is None for r in sql["sections"].values())


def _people_by_number(store, tenant: str, scope: str, identifier: str) -> dict[str, int | None]:
    """person_id of each student of a scope, by the student number it carries (no zeros)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT p.value, i.person_id FROM census.identities i "
                "JOIN census.person_identifiers p ON p.tenant_id = i.tenant_id "
                "AND p.key_scope = i.key_scope AND p.source_key = i.source_key "
                "AND p.person_kind = i.person_kind AND p.valid_to_run IS NULL "
                "WHERE i.tenant_id = :t AND i.key_scope = :s AND i.person_kind = 'student' "
                "AND p.identifier_type = :x"
            ),
            {"t": _tenant_id(conn, tenant), "s": scope, "x": identifier},
        ).all()
    return {value.lstrip("0"): person for value, person in rows}


def test_roster_and_vendor_people_link_onto_the_campus_people(store, district):
    tenant = _tenant(store, "hartwood")
    _ingest_and_map(store, tenant, "campus-extract", str(district / "campus-extract"))
    vendors = district / "vendors"
    results = {
        "oneroster": _ingest_and_map(store, tenant, "oneroster", str(district / "oneroster")),
        "powerschool": _ingest_and_map(store, tenant, "powerschool", str(vendors / "powerschool")),
        "star": _ingest_and_map(store, tenant, "star", str(vendors / "star")),
        "classlink": _ingest_and_map(store, tenant, "classlink", str(vendors / "classlink")),
    }
    for kind, result in results.items():
        assert result.identity["people_created"] == 0, kind
        assert result.match_rates["rate"] == 1.0, (kind, result.match_rates)

    campus = _people_by_number(store, tenant, "campus", "student_number")
    assert len(campus) == 60 and None not in campus.values()
    for scope, identifier in (
        ("oneroster", "student_number"),
        ("powerschool", "student_number"),
        ("classlink", "student_number"),
        ("star", "star_student_identifier"),
    ):
        linked = _people_by_number(store, tenant, scope, identifier)
        assert linked, scope
        assert {n: campus[n] for n in linked} == linked, scope

    canonical = {s: _canonical(store, tenant, s) for s in ("oneroster", "powerschool", "star")}
    oneroster = canonical["oneroster"]
    assert len(oneroster["schools"]) == 4
    assert oneroster["section_enrollments"] and oneroster["section_educators"]
    assert {r["role"] for r in oneroster["section_educators"].values()} == {"primary"}
    assert all(r["course_id"] for r in oneroster["sections"].values())
    powerschool = canonical["powerschool"]
    assert len(powerschool["enrollments"]) == 60
    assert {r["grade_level"] for r in powerschool["enrollments"].values()} <= set(
        package_crosswalks()["grade_level"].values()
    )
    assert {r["assessment_code"] for r in canonical["star"]["assessments"].values()} == {
        "STAR-RD",
        "STAR-MA",
        "STAR-EL",
    }


def test_the_neutral_csv_layout_maps_its_example_files(store):
    tenant = _tenant(store, "neutral")
    result = _ingest_and_map(store, tenant, "csv", str(CSV_DISTRICT))

    assert result.identity["people_created"] == 4
    rows = _canonical(store, tenant, "csv")
    students = rows["identities"]
    assert students["S2"]["gender"] == "M" and students["S2"]["hispanic_latino"] is True
    assert students["S2"]["grade_hint"] == "K" and students["S1"]["race_white"] is True
    assert {k: r["grade_level"] for k, r in rows["enrollments"].items()} == {
        "E1": "10",
        "E2": "K",
        "E3": "09",
    }
    assert rows["enrollments"]["E1"]["school_id"] == "10"
    assert {r["program"] for r in rows["program_participation"].values()} == {
        "lunch",
        "english_learner",
        "iep",
    }
    assert {r["attendance_status"] for r in rows["attendance_days"].values()} == {
        "present",
        "absent",
        "tardy",
    }
    assert rows["sections"]["X1"]["primary_educator_id"] == "staff:T1"
    assert len(rows["section_enrollments"]) == 2
    results = rows["assessment_results"]
    assert {r["assessment_id"] for r in results.values()} == {"map-ela"}
    assert {r["person_id"] for r in results.values()} == {"student:S1", "student:S3"}
