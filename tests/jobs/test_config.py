"""A tenant's pipeline configuration: defaults, what is checked (with the field at fault), the
connections it may name, secrets only by reference; the school year and the cycles open on a
date."""

from __future__ import annotations

from datetime import date

import pytest

from nexus.integration import sources
from nexus.jobs import PipelineConfigError, get_config, open_cycles, set_config
from nexus.jobs.config import current_school_year, get_config_record, ingest_connections

SMTP = {"host": "smtp.example", "sender": "nexus@demo.example", "to": ["ops@demo.example"]}


def test_defaults_then_a_stored_config(store, tenant):
    with store.engine.begin() as conn:
        default = get_config(conn, 1)
        assert default.connections is None and default.max_error_rate == 0.05
        assert default.school_year is None and default.cycles is None and default.marts
        assert default.extracts == [] and default.notify.webhook_url is None
        assert default.output_folder(store.settings, "demo") == store.settings.home / "mosis/demo"
        sources.add_connection(conn, 1, "sis", "campus-extract", "/data/extracts")
        sources.add_connection(
            conn, 1, "ods", "edfi", "https://ods.example/", client_id="k", secret_ref="env:ODS"
        )
        assert ingest_connections(conn, 1) == ["sis"]
        saved = set_config(
            conn,
            1,
            {
                "connections": ["sis"],
                "school_year": "2026-27",
                "cycles": ["Oct", "december"],
                "extracts": [{"cycle": "oct", "layout": "student_core", "school": "1050"}],
                "notify": {
                    "webhook_url": "https://hooks.example/nexus",
                    "smtp": {
                        "host": "smtp.example",
                        "sender": "nexus@demo.example",
                        "to": ["ops@demo.example"],
                        "username": "nexus",
                        "password_ref": "env:SMTP_PASSWORD",
                    },
                },
            },
            "admin",
        )
    assert saved.school_year == 2027 and saved.cycles == ["october", "december"]
    assert saved.extracts[0].target == "october/student_core/1050"
    with store.engine.connect() as conn:
        record = get_config_record(conn, 1)
        assert get_config(conn, 1) == saved
    assert record["updated_by"] == "admin" and record["config"]["notify"]["smtp"]["port"] == 25


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"max_error_rate": 2}, "max_error_rate: Input should be less than or equal to 1"),
        ({"cycles": ["autumn"]}, "cycles: unknown cycle 'autumn'"),
        ({"school_year": "next"}, "school_year: "),
        (
            {"extracts": [{"cycle": "october", "layout": "student_cor"}]},
            "extracts.0.layout: unknown layout 'student_cor'",
        ),
        (
            {"extracts": [{"cycle": "october", "layout": "student_core", "school": "10"}]},
            "extracts.0.school: school code '10' must be four digits",
        ),
        ({"notify": {"webhook_url": "ftp://x"}}, "notify.webhook_url: 'ftp://x' is not an http"),
        (
            {"notify": {"smtp": {**SMTP, "password_ref": "hunter2"}}},
            "notify.smtp.password_ref: give the secret by reference: env:VARIABLE or file:/path",
        ),
        ({"notify": {"smtp": {**SMTP, "to": []}}}, "notify.smtp.to: "),
        ({"notify": {"smtp": {**SMTP, "port": 0}}}, "notify.smtp.port: "),
        ({"connection": ["sis"]}, "connection: Extra inputs are not permitted"),
        ({"connections": ["nowhere"]}, "connections: no connection 'nowhere' for this tenant"),
        ({"connections": ["ods"]}, "connections: 'ods' is an edfi connection, a destination"),
    ],
)  # fmt: skip
def test_a_bad_config_is_refused_with_the_field_at_fault(store, tenant, config, message):
    with store.engine.begin() as conn:
        sources.add_connection(
            conn, 1, "ods", "edfi", "https://ods.example/", client_id="k", secret_ref="env:ODS"
        )
        with pytest.raises(PipelineConfigError) as refused:
            set_config(conn, 1, config, "admin")
    assert str(refused.value).startswith("pipeline config: ")
    assert message in str(refused.value)
    with store.engine.connect() as conn:
        assert get_config_record(conn, 1)["updated_at"] is None


@pytest.mark.parametrize(
    ("on", "year", "cycles"),
    [
        (date(2026, 7, 2), 2027, ["october"]),  # nothing open yet: the next one
        (date(2026, 8, 16), 2027, ["october"]),  # 45 days before September 30
        (date(2026, 10, 5), 2027, ["october"]),
        (date(2026, 10, 20), 2027, ["october", "december"]),
        (date(2026, 12, 6), 2027, ["december"]),
        (date(2027, 1, 10), 2027, ["december", "february"]),
        (date(2027, 1, 20), 2027, ["february"]),
        (date(2027, 6, 30), 2027, ["june"]),
        (date(2027, 7, 1), 2028, ["october"]),
    ],
)
def test_the_school_year_and_open_cycles_of_a_date(on, year, cycles):
    assert current_school_year(on) == year
    assert open_cycles(year, on) == cycles
