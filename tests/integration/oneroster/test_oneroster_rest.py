"""OneRoster 1.2 REST against a local Campus-shaped provider (`fake_server.py`).

The provider serves the same tiny district as the CSV bundle tests, so a REST pull must give
the same records as the bundle; bad credentials, refused collections, timeouts and providers
that ignore paging must each give one clear line and lose nothing already ingested.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from nexus.integration import ingest as run_ingest
from nexus.integration import snapshot_records
from nexus.integration.connectors.base import ConnectorContext
from nexus.integration.connectors.oneroster.flatten import flatten
from nexus.integration.connectors.oneroster.rest import RestSettings, default_token_url
from nexus.integration.sources import add_connection
from nexus.store.tenants import get_tenant
from tests.integration.oneroster.bundles import (
    CAMPUS_12,
    ROLES,
    USERS,
    ingest,
    rows,
    snapshot,
    write_bundle,
)
from tests.integration.oneroster.fake_server import FakeOneRoster

SECRET_ENV = "NEXUS_TEST_ONEROSTER_SECRET"


@pytest.fixture
def provider(tmp_path):
    with FakeOneRoster(write_bundle(tmp_path / "served", CAMPUS_12)) as server:
        yield server


def add_campus(store, url: str, client_id: str = "InfiniteCampus_nexus", **options) -> None:
    with store.engine.begin() as conn:
        tenant_id = get_tenant(conn, "demo").tenant_id
        add_connection(
            conn,
            tenant_id,
            "campus",
            "oneroster",
            url,
            client_id=client_id,
            secret_ref=f"env:{SECRET_ENV}",
            options=options,
        )


def pull(store, **options):
    return run_ingest(store, "demo", "oneroster", None, connection_name="campus", options=options)


def version_count(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM integration.source_records")).scalar()


def test_rest_pull_gives_the_same_records_as_the_bundle(
    nexus, tenant, provider, tmp_path, monkeypatch
):
    monkeypatch.setenv(SECRET_ENV, provider.client_secret)
    added = nexus(
        "connections", "add", "campus", "--tenant", "demo", "--kind", "oneroster",
        "--url", provider.base_url, "--client-id", provider.client_id,
        "--client-secret-env", SECRET_ENV,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    result = nexus("ingest", "oneroster", "--tenant", "demo", "--connection", "campus", "--json")
    rest = json.loads(result.stdout)
    assert (result.exit_code, rest["status"]) == (0, "succeeded"), rest
    assert provider.client_secret not in result.stdout
    code, csv_run = ingest(nexus, write_bundle(tmp_path / "bundle", CAMPUS_12))
    assert code == 0
    assert set(rest["entities"]) == set(csv_run["entities"])
    assert all(f["reason"] is None for f in rest["files"]), rest["files"]
    for entity in ("orgs", "academicSessions", "courses", "classes", "users", "enrollments"):
        from_rest = snapshot(nexus, rest["run_id"], entity)
        assert from_rest == snapshot(nexus, csv_run["run_id"], entity), entity
    assert snapshot(nexus, rest["run_id"], "users") == rows(USERS)
    assert snapshot(nexus, rest["run_id"], "demographics") == snapshot(
        nexus, csv_run["run_id"], "demographics"
    )
    # REST roles have no sourcedId of their own: the same rows under a derived, stable id.
    from_rest = snapshot(nexus, rest["run_id"], "roles")
    assert from_rest[0]["sourcedId"].startswith("g2001:")
    assert [{**r, "sourcedId": ""} for r in from_rest] == sorted(
        ({**r, "sourcedId": ""} for r in rows(ROLES)), key=lambda r: r["userSourcedId"]
    )
    # The token came from Campus's token path, derived from the base URL.
    assert provider.token_requests == 1
    assert ("POST", "/campus/oauth2/token") in provider.requests


def test_paging_uses_limit_and_offset_until_x_total_count(
    store, tenant, provider, nexus, monkeypatch
):
    monkeypatch.setenv(SECRET_ENV, provider.client_secret)
    add_campus(store, provider.base_url, limit=2)
    result = pull(store)
    assert result.status == "succeeded", result.reason
    pages = provider.data_requests("users")
    assert [(p["limit"], p["offset"]) for p in pages] == [
        (["2"], ["0"]),
        (["2"], ["2"]),
        (["2"], ["4"]),
    ]
    assert result.entities["users"]["new"] == 5
    # The written CSV is the run's kept original.
    files = nexus("runs", "files", str(result.run_id), "--json")
    kept = {f["name"]: f for f in json.loads(files.stdout)}
    assert kept["users.csv"]["sha256"] and kept["users.csv"]["rows_read"] == 5
    # A second pull changes nothing and adds no versions.
    versions = version_count(store)
    again = pull(store, limit=2)
    assert again.status == "succeeded", again.reason
    assert all(c["new"] == c["changed"] == c["deleted"] == 0 for c in again.entities.values())
    assert version_count(store) == versions


def test_a_bad_secret_fails_the_run_in_one_line_and_loses_nothing(
    nexus, store, tenant, provider, monkeypatch
):
    monkeypatch.setenv(SECRET_ENV, provider.client_secret)
    add_campus(store, provider.base_url)
    first = pull(store)
    assert first.status == "succeeded"
    versions = version_count(store)
    monkeypatch.setenv(SECRET_ENV, "wrong")
    result = nexus("ingest", "oneroster", "--tenant", "demo", "--connection", "campus", "--json")
    run = json.loads(result.stdout)
    assert (result.exit_code, run["status"]) == (1, "failed")
    assert run["reason"] == (
        f"the OneRoster token endpoint {provider.token_url} refused the client credentials "
        "(401 Unauthorized (Bad client credentials)): check the connection's client id and secret"
    )
    assert "wrong" not in result.stdout
    assert version_count(store) == versions
    assert snapshot(nexus, first.run_id, "users") == rows(USERS)
    # Without the JSON flag: one line on stderr, no traceback.
    plain = nexus("ingest", "oneroster", "--tenant", "demo", "--connection", "campus")
    assert plain.exit_code == 1
    assert "Traceback" not in plain.stdout + plain.stderr


def test_a_refused_collection_fails_only_its_entity(store, tenant, tmp_path, monkeypatch):
    bundle = write_bundle(tmp_path / "served", CAMPUS_12)
    with FakeOneRoster(bundle, fail={"demographics": 403}) as provider:
        monkeypatch.setenv(SECRET_ENV, provider.client_secret)
        add_campus(store, provider.base_url)
        result = pull(store)
    assert result.status == "partial"
    failed = {f.name: f for f in result.files}["demographics.csv"]
    assert failed.status == "failed"
    assert failed.reason == (
        "GET demographics answered 403 Forbidden (demographics is not available to this "
        "application): the connection's application may not read demographics"
    )
    assert "demographics" not in result.entities
    assert result.entities["users"]["new"] == 5


def test_a_timeout_fails_the_collection_not_the_run(store, tenant, tmp_path, monkeypatch):
    bundle = write_bundle(tmp_path / "served", CAMPUS_12)
    with FakeOneRoster(bundle, delay={"users": 1.0}) as provider:
        monkeypatch.setenv(SECRET_ENV, provider.client_secret)
        add_campus(store, provider.base_url, timeout=0.2)
        result = pull(store)
    assert result.status == "partial"
    files = {f.name: f for f in result.files}
    assert files["users.csv"].reason == "GET users timed out after 0.2 s (offset 0)"
    assert files["roles.csv"].reason == files["users.csv"].reason
    assert result.entities["enrollments"]["new"] == 5


def test_an_expired_token_is_renewed_once(store, tenant, tmp_path, monkeypatch):
    bundle = write_bundle(tmp_path / "served", CAMPUS_12)
    with FakeOneRoster(bundle, expire_tokens_after=3) as provider:
        monkeypatch.setenv(SECRET_ENV, provider.client_secret)
        add_campus(store, provider.base_url)
        result = pull(store)
    assert result.status == "succeeded", result.reason
    assert provider.token_requests == 3  # 7 collections, 3 requests per token


def test_a_provider_that_ignores_offset_is_caught(store, tenant, tmp_path, monkeypatch):
    bundle = write_bundle(tmp_path / "served", CAMPUS_12)
    with FakeOneRoster(bundle, ignore_offset=True) as provider:
        monkeypatch.setenv(SECRET_ENV, provider.client_secret)
        add_campus(store, provider.base_url, limit=2)
        result = pull(store)
    files = {f.name: f for f in result.files}
    assert files["users.csv"].status == "failed"
    assert files["users.csv"].reason == (
        "GET users: offset 2 returned a page already seen; the provider ignores `offset`"
    )
    assert files["orgs.csv"].status == "succeeded"  # two orgs: one page


def test_token_url_option_and_unreachable_endpoints(store, tenant, provider, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, provider.client_secret)
    add_campus(store, provider.base_url, token_url=provider.origin + "/other/oauth2/token")
    result = pull(store)
    assert result.status == "failed"
    assert result.reason == (
        f"the OneRoster token endpoint {provider.origin}/other/oauth2/token answered "
        "404 Not Found (not_found)"
    )
    result = pull(store, token_url="http://127.0.0.1:9/oauth2/token", timeout=2)
    assert result.status == "failed"
    assert result.reason.startswith(
        "cannot reach the OneRoster token endpoint http://127.0.0.1:9/oauth2/token: "
    )


def test_a_rest_url_without_credentials_is_one_clear_line(nexus, tenant):
    code, run = ingest(nexus, "https://sis.example.org/campus/api/ims/oneroster/rostering/v1p2")
    assert (code, run["status"]) == (1, "failed")
    assert run["reason"].startswith("a OneRoster REST source needs a client id and secret")


@pytest.mark.parametrize(
    ("base", "options", "token"),
    [
        (
            "https://mo.infinitecampus.org/campus/api/ims/oneroster/rostering/v1p2",
            {},
            "https://mo.infinitecampus.org/campus/oauth2/token",
        ),
        (
            "https://mo.infinitecampus.org/campus/api/ims/oneroster/rostering/v1p2/",
            {"app_name": "demo"},
            "https://mo.infinitecampus.org/campus/oauth2/token?appName=demo",
        ),
        ("https://or.example.org/ims/oneroster/v1p1", {}, "https://or.example.org/oauth2/token"),
    ],
)
def test_default_token_url(base, options, token):
    assert default_token_url(base, options) == token


def test_version_and_options_come_from_the_base_path_and_the_connection():
    context = ConnectorContext(tenant_code="demo", client_id="id", secret="s", options={})
    v11 = RestSettings.from_context("https://x.org/ims/oneroster/v1p1", context)
    assert (v11.version, v11.limit, "roles" in v11.entities) == ("1.1", 1000, False)
    context.options = {"limit": "250", "entities": ["users", "roles"]}
    v12 = RestSettings.from_context("https://x.org/ims/oneroster/rostering/v1p2", context)
    assert (v12.version, v12.limit, v12.entities) == ("1.2", 250, ("users", "roles"))


def test_flatten_turns_rest_references_and_lists_into_csv_columns():
    record = {
        "sourcedId": "88001",
        "status": "active",
        "course": {"href": "/courses/7001", "sourcedId": "7001", "type": "course"},
        "terms": [{"sourcedId": "3301"}, {"sourcedId": "3302"}],
        "grades": ["09", "10"],
        "periods": [],
        "children": [{"sourcedId": "x"}],
        "metadata": {"ext_infiniteCampus_grade": "09", "nested": {"a": 1}},
        "enabledUser": True,
    }
    assert flatten(record, "classes") == {
        "sourcedId": "88001",
        "status": "active",
        "courseSourcedId": "7001",
        "termSourcedIds": "3301,3302",
        "grades": "09,10",
        "periods": None,
        "metadata.ext_infiniteCampus_grade": "09",
        "metadata.nested": '{"a": 1}',
        "enabledUser": "true",
    }
    user = {"sourcedId": "s1", "userIds": [{"type": "SIS", "identifier": "1"}], "orgs": []}
    assert flatten(user, "users") == {
        "sourcedId": "s1",
        "userIds": "{SIS:1}",
        "orgSourcedIds": None,
    }


def test_an_empty_collection_is_an_error_not_delete_all(store, tenant, tmp_path, monkeypatch):
    header_only = {**CAMPUS_12, "demographics.csv": CAMPUS_12["demographics.csv"].split("\n")[0]}
    with FakeOneRoster(write_bundle(tmp_path / "served", CAMPUS_12)) as provider:
        monkeypatch.setenv(SECRET_ENV, provider.client_secret)
        add_campus(store, provider.base_url)
        assert pull(store).entities["demographics"]["new"] == 3
    with FakeOneRoster(write_bundle(tmp_path / "emptied", header_only)) as provider:
        add_campus_url(store, provider.base_url)
        result = pull(store)
    assert result.status == "partial"
    failed = {f.name: f for f in result.files}["demographics.csv"]
    assert failed.reason == (
        "GET demographics returned no demographics; the entity's current records are kept "
        "(an empty pull is never taken as 'delete all')"
    )
    assert "demographics" not in result.entities
    with store.engine.connect() as conn:
        _, records = snapshot_records(conn, result.run_id, "demographics")
        assert len(list(records)) == 3


def add_campus_url(store, url: str) -> None:
    """Point the `campus` connection at another provider (a new port each time)."""
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE integration.source_connections SET url = :u WHERE name = 'campus'"),
            {"u": url},
        )
