"""Mapping runs into canonical: promotion, lineage, each mapping error class, idempotence,
out-of-order refusal and replay, on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from nexus.canonical import MappingError, map_run
from nexus.canonical.spec import load_spec, parse_spec
from nexus.integration import ingest
from tests.canonical.campus_files import CALENDAR, enrollment, student, write_extract


def _ingest(store, tenant, folder: Path, entities: list[str]) -> int:
    result = ingest(store, tenant, "campus-extract", str(folder), options={"entities": entities})
    assert result.status == "succeeded", result.as_dict()
    return result.run_id


def _rows(store, sql: str) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def _district(tmp_path: Path, name: str = "a", **overrides) -> tuple[Path, list[str]]:
    entities = {
        "calendars": [CALENDAR],
        "students": [
            student(1, "Arden", "Maya"),
            student(2, "Bell", "Noor"),
            student(3, "Cole", "Ivy"),
        ],
        "enrollments": [enrollment(1, 1), enrollment(2, 2), enrollment(3, 3)],
    }
    entities.update(overrides)
    folder = tmp_path / name
    return folder, write_extract(folder, **entities)


def test_a_run_maps_into_canonical_with_lineage(store, tenant, tmp_path):
    folder, entities = _district(tmp_path)
    run_id = _ingest(store, tenant, folder, entities)

    result = map_run(store, tenant, run_id)

    assert result.status == "succeeded", result.as_dict()
    assert result.targets["students -> identities(student)"]["inserted"] == 3
    assert result.targets["enrollments -> enrollments"]["inserted"] == 3
    assert result.identity["people_created"] == 3
    people = _rows(
        store,
        "SELECT i.source_key, i.person_id, i.legal_last_name, i.birth_date, i.race_white, "
        "i.link_rule FROM census.identities i ORDER BY i.source_key",
    )
    assert [(p[0], p[2], str(p[3]), p[4], p[5]) for p in people] == [
        ("1", "Arden", "2011-04-02", True, "created"),
        ("2", "Bell", "2011-04-02", True, "created"),
        ("3", "Cole", "2011-04-02", True, "created"),
    ]
    # Enrollments point at the canonical person, calendar and school, with lineage to the exact
    # source record version they came from.
    rows = _rows(
        store,
        "SELECT e.source_key, e.person_id, e.grade_level, e.entry_date, e.school_year, "
        "s.school_code, r.natural_key, e.ingestion_run_id FROM education.enrollments e "
        "JOIN education.schools s ON s.tenant_id = e.tenant_id AND s.school_id = e.school_id "
        "JOIN integration.source_records r ON r.tenant_id = e.tenant_id "
        "AND r.record_id = e.source_record_id ORDER BY e.source_key",
    )
    by_key = {p[0]: p[1] for p in people}
    assert [(r[0], r[1], r[2], str(r[3]), r[4], r[5], r[6], r[7]) for r in rows] == [
        (k, by_key[k], "09", "2026-08-13", 2027, "1050", k, run_id) for k in ("1", "2", "3")
    ]
    assert [
        (y[0], y[1], str(y[2]), str(y[3]))
        for y in _rows(
            store, "SELECT end_year, label, start_date, end_date FROM education.school_years"
        )
    ] == [(2027, "2026-27", "2026-08-13", "2027-05-18")]
    identifiers = _rows(
        store,
        "SELECT identifier_type, authority, value FROM census.person_identifiers "
        "WHERE source_key = '2' ORDER BY identifier_type",
    )
    assert identifiers == [
        ("email", "district", "noor.bell@students.test.example"),
        ("mosis_state_id", "DESE", "1000000002"),
        ("sis_person_id", "campus", "2"),
        ("student_number", "district", "0000002"),
    ]


def test_mapping_a_run_twice_changes_nothing(store, tenant, tmp_path):
    folder, entities = _district(tmp_path)
    run_id = _ingest(store, tenant, folder, entities)
    map_run(store, tenant, run_id)
    before = _rows(store, "SELECT * FROM education.enrollments ORDER BY source_key")

    again = map_run(store, tenant, run_id)

    assert again.status == "succeeded"
    mapped = {label: c for label, c in again.targets.items() if "absent" not in c}
    assert len(mapped) >= 3
    for label, counts in mapped.items():
        assert counts["inserted"] == counts["updated"] == counts["deleted"] == 0, label
    assert again.identity["people_created"] == 0
    assert _rows(store, "SELECT * FROM education.enrollments ORDER BY source_key") == before


def test_each_mapping_error_class_keeps_the_record_out(store, tenant, tmp_path):
    folder, entities = _district(
        tmp_path,
        students=[
            student(1, "Arden", "Maya"),
            student(2, "Bell", "Noor", **{"student.raceEthnicityFed": "9"}),
            student(3, "", "Ivy"),
        ],
        enrollments=[
            enrollment(1, 1),
            enrollment(2, 99),  # no such student
            enrollment(3, 1, **{"enrollment.calendarID": "7"}),  # no such calendar
            enrollment(4, 1, **{"enrollment.grade": "ZZ"}),  # grade no crosswalk knows
            enrollment(5, 1, **{"enrollment.grade": ""}),  # required grade missing
        ],
    )
    run_id = _ingest(store, tenant, folder, entities)

    result = map_run(store, tenant, run_id)

    assert result.status == "partial"
    assert result.exit_code == 3
    found = {
        (e["entity"], e["natural_key"], e["field"], e["rule"], e["value"]) for e in result.errors
    }
    assert ("students", "2", "race_white", "unknown_code", "9") in found
    assert ("students", "3", "legal_last_name", "missing_required", None) in found
    assert ("enrollments", "2", "person_id", "broken_reference", "99") in found
    assert ("enrollments", "3", "calendar_id", "broken_reference", "7") in found
    assert ("enrollments", "4", "grade_level", "unknown_code", "ZZ") in found
    assert ("enrollments", "5", "grade_level", "missing_required", None) in found
    # Only the good records reached canonical; the errors are stored with the map run.
    assert _rows(store, "SELECT source_key FROM census.identities ORDER BY 1") == [("1",)]
    assert _rows(store, "SELECT source_key FROM education.enrollments ORDER BY 1") == [("1",)]
    stored = _rows(
        store,
        "SELECT source_entity, natural_key, field, rule FROM integration.mapping_errors "
        f"WHERE map_run_id = {result.map_run_id} ORDER BY error_no",
    )
    assert len(stored) == result.error_count >= 6


def test_bad_value_and_missing_key_from_a_custom_mapping(store, tenant, tmp_path):
    """Campus extract columns are typed at ingest, so a mapping that parses text itself (a
    district's own mapping, say) is where bad values and missing keys show."""
    folder, entities = _district(
        tmp_path,
        students=[
            student(1, "Arden", "Maya", **{"student.suffix": "2011-13-45"}),
            student(2, "Bell", "Noor", **{"student.stateID": ""}),
        ],
    )
    run_id = _ingest(store, tenant, folder, entities)
    doc = {
        "source_kind": "campus-extract",
        "version": 99,
        "key_scope": "custom",
        "maps": [
            {
                "entity": "students",
                "target": "identities",
                "person_kind": "student",
                "key": ["student.stateID"],
                "fields": {
                    "legal_last_name": "student.lastName | trim",
                    "birth_date": "student.suffix | date(iso)",
                },
            }
        ],
    }

    result = map_run(store, tenant, run_id, spec=parse_spec(doc, "test", "custom.yaml"))

    found = {(e["natural_key"], e["field"], e["rule"], e["value"]) for e in result.errors}
    assert ("1", "birth_date", "bad_value", "2011-13-45") in found
    assert ("2", None, "missing_key", None) in found
    assert _rows(store, "SELECT count(*) FROM census.identities") == [(0,)]


def test_a_later_bad_record_never_removes_the_good_canonical_row(store, tenant, tmp_path):
    folder, entities = _district(tmp_path)
    map_run(store, tenant, _ingest(store, tenant, folder, entities))
    folder2, _ = _district(
        tmp_path,
        "b",
        students=[
            student(1, "Arden", "Maya"),
            student(2, "Bell", "Noor", **{"student.raceEthnicityFed": "9"}),
            student(3, "Cole", "Ivy"),
        ],
    )

    result = map_run(store, tenant, _ingest(store, tenant, folder2, entities))

    assert result.status == "partial"
    assert _rows(
        store,
        "SELECT source_key, race_white FROM census.identities ORDER BY 1",
    ) == [("1", True), ("2", True), ("3", True)]


def test_older_run_is_refused_then_replayed(store, tenant, tmp_path):
    folder_a, entities = _district(tmp_path)
    run_a = _ingest(store, tenant, folder_a, entities)
    folder_b, _ = _district(
        tmp_path,
        "b",
        students=[
            student(1, "Arden-Lake", "Maya"),
            student(2, "Bell", "Noor"),
            student(3, "Cole", "Ivy"),
        ],
        enrollments=[enrollment(1, 1), enrollment(2, 2)],
    )
    run_b = _ingest(store, tenant, folder_b, entities)
    map_run(store, tenant, run_a)
    newer = map_run(store, tenant, run_b)
    assert newer.targets["enrollments -> enrollments"]["deleted"] == 1
    person_of_1 = _rows(store, "SELECT person_id FROM census.identities WHERE source_key = '1'")

    with pytest.raises(MappingError, match="--replay"):
        map_run(store, tenant, run_a)

    replayed = map_run(store, tenant, run_a, replay=True)
    assert replayed.status == "succeeded"
    assert _rows(
        store,
        "SELECT legal_last_name, ingestion_run_id FROM census.identities WHERE source_key = '1'",
    ) == [("Arden", run_a)]
    assert _rows(store, "SELECT source_key FROM education.enrollments ORDER BY 1") == [
        ("1",),
        ("2",),
        ("3",),
    ]
    # The person keeps their id through the replay: people are never renumbered.
    assert (
        _rows(store, "SELECT person_id FROM census.identities WHERE source_key = '1'")
        == person_of_1
    )
    with store.engine.connect() as conn:
        replay_flag = conn.execute(
            sa.text(
                f"SELECT replay FROM integration.mapping_runs WHERE map_run_id = "
                f"{replayed.map_run_id}"
            )
        ).scalar_one()
    assert replay_flag is True


def test_a_failed_ingestion_run_never_reaches_canonical(store, tenant, tmp_path):
    failed = ingest(store, tenant, "campus-extract", str(tmp_path / "nowhere"))
    assert failed.status == "failed"

    with pytest.raises(MappingError, match=f"run {failed.run_id} is failed"):
        map_run(store, tenant, failed.run_id)


def test_map_cli_json_and_exit_codes(nexus, store, tenant, tmp_path):
    folder, entities = _district(tmp_path)
    run_id = _ingest(store, tenant, folder, entities)

    done = nexus("map", "--tenant", tenant, "--run", str(run_id), "--json")

    assert done.exit_code == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["status"] == "succeeded"
    assert payload["targets"]["students -> identities(student)"]["inserted"] == 3
    listed = json.loads(nexus("mappings", "runs", "--tenant", tenant, "--json").stdout)
    assert listed["map_runs"][0]["map_run_id"] == payload["map_run_id"]
    refused = nexus("map", "--tenant", tenant, "--run", "9999")
    assert refused.exit_code == 1
    assert "no ingestion run 9999" in refused.stderr


def test_mapping_errors_cli_lists_them(nexus, store, tenant, tmp_path):
    folder, entities = _district(tmp_path, enrollments=[enrollment(1, 42)])
    run_id = _ingest(store, tenant, folder, entities)
    mapped = nexus("map", "--tenant", tenant, "--run", str(run_id), "--json")
    assert mapped.exit_code == 3
    map_run_id = json.loads(mapped.stdout)["map_run_id"]

    shown = json.loads(nexus("mappings", "errors", str(map_run_id), "--json").stdout)

    assert [(e["natural_key"], e["field"], e["rule"]) for e in shown["errors"]] == [
        ("1", "person_id", "broken_reference")
    ]


def test_reconcile_shows_field_differences_with_both_values(nexus, store, tenant, tmp_path):
    folder, entities = _district(tmp_path)
    run_a = _ingest(store, tenant, folder, entities)
    map_run(store, tenant, run_a)
    folder_b, _ = _district(
        tmp_path,
        "b",
        students=[
            student(1, "Arden", "Maya", **{"student.birthdate": "04/03/2011"}),
            student(2, "Bell", "Noor"),
            student(3, "Cole", "Ivy"),
        ],
    )
    run_b = _ingest(store, tenant, folder_b, entities)  # ingested, not yet mapped

    shown = nexus("reconcile", "--tenant", tenant, "--run", str(run_b), "--json")

    assert shown.exit_code == 0, shown.stderr
    payload = json.loads(shown.stdout)
    assert payload["status"] == "differs"
    assert payload["targets"]["students -> identities(student)"]["fields_differing"] == {
        "birth_date": 1
    }
    assert {
        (d["source_key"], d["field"], d["source_value"], d["canonical_value"])
        for d in payload["differences"]
    } == {("1", "birth_date", "2011-04-03", "2011-04-02")}
    map_run(store, tenant, run_b)
    after = json.loads(nexus("reconcile", "--tenant", tenant, "--run", str(run_b), "--json").stdout)
    assert after["status"] == "matches"


def test_mappings_list_and_show(nexus):
    listed = json.loads(nexus("mappings", "list", "--json").stdout)
    kinds = {m["source_kind"] for m in listed["mappings"]}
    assert "campus-extract" in kinds

    shown = json.loads(nexus("mappings", "show", "campus-extract", "--json").stdout)
    row = next(
        f
        for f in shown["fields"]
        if f["target"] == "identities(student)"
        and f["target_field"] == "birth_date"
        and f["source_entity"] == "students"
    )
    assert row == {
        "source_entity": "students",
        "target": "identities(student)",
        "target_field": "birth_date",
        "source_fields": "student.birthdate",
        "rule": "student.birthdate | date",
    }
    missing = nexus("mappings", "show", "nosuch")
    assert missing.exit_code == 1
    assert "no mapping for source kind 'nosuch'" in missing.stderr


def test_a_tenant_crosswalk_edit_changes_the_next_map(nexus, store, tenant, tmp_path):
    folder, entities = _district(
        tmp_path, enrollments=[enrollment(1, 1, **{"enrollment.grade": "ZZ"})]
    )
    run_id = _ingest(store, tenant, folder, entities)
    assert map_run(store, tenant, run_id).status == "partial"

    edited = nexus("mappings", "crosswalk-set", "grade_level", "ZZ", "12", "--tenant", tenant)
    assert edited.exit_code == 0, edited.stderr
    again = map_run(store, tenant, run_id)

    assert again.status == "succeeded"
    assert _rows(store, "SELECT grade_level FROM education.enrollments") == [("12",)]
    rows = json.loads(
        nexus("mappings", "crosswalks", "grade_level", "--tenant", tenant, "--json").stdout
    )["crosswalks"]
    assert {
        "crosswalk": "grade_level",
        "source_code": "ZZ",
        "canonical_code": "12",
        "origin": "tenant",
    } in rows


def test_malformed_mapping_files_are_refused_clearly():
    with pytest.raises(MappingError, match="unknown canonical target 'nowhere'"):
        parse_spec(
            {
                "source_kind": "x",
                "version": 1,
                "key_scope": "x",
                "maps": [{"entity": "e", "target": "nowhere", "key": ["a"]}],
            },
            "sha",
            "bad.yaml",
        )
    with pytest.raises(MappingError, match="unknown step 'sparkle'"):
        parse_spec(
            {
                "source_kind": "x",
                "version": 1,
                "key_scope": "x",
                "maps": [
                    {
                        "entity": "e",
                        "target": "schools",
                        "key": ["a"],
                        "fields": {"name": "a | sparkle"},
                    }
                ],
            },
            "sha",
            "bad.yaml",
        )
    with pytest.raises(MappingError, match="has no mapped column 'colour'"):
        parse_spec(
            {
                "source_kind": "x",
                "version": 1,
                "key_scope": "x",
                "maps": [
                    {"entity": "e", "target": "schools", "key": ["a"], "fields": {"colour": "a"}}
                ],
            },
            "sha",
            "bad.yaml",
        )
    with pytest.raises(MappingError, match="missing 'key_scope'"):
        parse_spec({"source_kind": "x", "version": 1, "maps": []}, "sha", "bad.yaml")


def test_every_packaged_mapping_loads():
    from nexus.canonical.spec import available_kinds

    for kind in available_kinds():
        spec = load_spec(kind)
        assert spec.source_kind == kind
        assert spec.maps, kind


def test_two_maps_of_one_tenant_never_overlap(store, tenant, tmp_path):
    if not store.backend.advisory_locks:
        pytest.skip("a DuckDB file has one writing process: nothing to overlap")
    folder, entities = _district(tmp_path)
    run_id = _ingest(store, tenant, folder, entities)
    with store.engine.connect() as other:
        tenant_id = other.execute(
            sa.text("SELECT tenant_id FROM platform.tenants WHERE code = :c"), {"c": tenant}
        ).scalar_one()
        # Another process's map of the same tenant holds the tenant's map lock.
        other.execute(sa.text("SELECT pg_advisory_lock(:t, -1)"), {"t": tenant_id})
        with pytest.raises(MappingError, match="another map of this tenant is running"):
            map_run(store, tenant, run_id)
        other.execute(sa.text("SELECT pg_advisory_unlock(:t, -1)"), {"t": tenant_id})
    assert map_run(store, tenant, run_id).status == "succeeded"


def test_a_map_that_died_is_marked_failed_by_the_next(store, tenant, tmp_path):
    folder, entities = _district(tmp_path)
    run_id = _ingest(store, tenant, folder, entities)
    first = map_run(store, tenant, run_id)
    with store.engine.begin() as conn:  # as if its process had been killed mid-way
        conn.execute(
            sa.text("UPDATE integration.mapping_runs SET status = 'running', ended_at = NULL")
        )

    map_run(store, tenant, run_id)

    assert _rows(
        store,
        "SELECT status, reason FROM integration.mapping_runs "
        f"WHERE map_run_id = {first.map_run_id}",
    ) == [("failed", "abandoned: its process ended")]
