"""`nexus users …`: accounts and API tokens through the CLI, and its refusals."""

from __future__ import annotations

import json

import sqlalchemy as sa

from nexus.store import accounts

PASSWORD = "correct horse battery"


def test_add_list_disable_enable(nexus, tenant, store):
    added = nexus(
        "users",
        "add",
        "Registrar.Jones",
        "--role",
        "operator",
        "--tenant",
        tenant,
        "--password-stdin",
        "--json",
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["tenants"] == [tenant]
    sso = nexus("users", "add", "ana@example.org", "--role", "analyst", "--tenant", tenant)
    assert sso.exit_code == 0 and "single sign-on only" in sso.stdout
    assert nexus("users", "add", "root", "--role", "admin").exit_code == 0

    listed = json.loads(nexus("users", "list", "--json").stdout)
    assert [(u["username"], u["role"], u["tenants"], u["all_tenants"]) for u in listed] == [
        ("ana@example.org", "analyst", [tenant], False),
        ("registrar.jones", "operator", [tenant], False),
        ("root", "admin", [], True),
    ]
    assert "hash" not in json.dumps(listed) and "argon2" not in json.dumps(listed)
    assert "all tenants" in nexus("users", "list").stdout

    with store.engine.begin() as conn:
        assert accounts.authenticate(conn, "registrar.jones", PASSWORD).role == "operator"
    assert nexus("users", "disable", "registrar.jones").exit_code == 0
    assert json.loads(nexus("users", "list", "--json").stdout)[1]["active"] is False
    assert nexus("users", "enable", "registrar.jones").exit_code == 0
    with store.engine.begin() as conn:
        assert accounts.authenticate(conn, "registrar.jones", PASSWORD).active


def test_passwd_reads_stdin(nexus, tenant, store):
    assert nexus("users", "add", "jo", "--role", "operator", "--tenant", tenant).exit_code == 0
    changed = nexus("users", "passwd", "jo", "--password-stdin", input="a fresh passphrase\r\n")
    assert changed.exit_code == 0, changed.stderr
    with store.engine.begin() as conn:
        assert accounts.authenticate(conn, "jo", "a fresh passphrase").username == "jo"
    refused = nexus("users", "passwd", "jo")
    assert refused.exit_code == 1 and "--password-stdin" in refused.stderr


def test_token_issue_list_revoke(nexus, tenant, store):
    assert nexus("users", "add", "jo", "--role", "operator", "--tenant", tenant).exit_code == 0
    issued = nexus("users", "token", "jo", "--label", "nightly")
    assert issued.exit_code == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("nxs_") and "Authorization: Bearer" in issued.stderr
    with store.engine.begin() as conn:
        assert accounts.user_for_token(conn, token).username == "jo"
    tokens = json.loads(nexus("users", "tokens", "jo", "--json").stdout)
    assert [(t["label"], t["active"]) for t in tokens] == [("nightly", True)]
    assert token not in nexus("users", "tokens", "jo").stdout
    second = json.loads(nexus("users", "token", "jo", "--json").stdout)
    assert second["header"] == f"Authorization: Bearer {second['token']}"

    assert nexus("users", "revoke-token", str(tokens[0]["token_id"])).exit_code == 0
    with store.engine.begin() as conn:
        assert accounts.user_for_token(conn, token) is None
        assert accounts.user_for_token(conn, second["token"]).username == "jo"
        hashes = conn.execute(sa.text("SELECT token_sha256 FROM platform.api_tokens")).scalars()
        assert token not in list(hashes)


def test_set_role(nexus, tenant):
    assert nexus("users", "add", "jo", "--role", "operator", "--tenant", tenant).exit_code == 0
    changed = nexus("users", "set-role", "jo", "--role", "admin", "--json")
    assert changed.exit_code == 0, changed.stderr
    assert json.loads(changed.stdout)["all_tenants"] is True


def test_bad_input_is_one_clear_line(nexus, tenant):
    cases = [
        (("users", "add", "jo", "--role", "boss", "--tenant", tenant), None, "unknown role 'boss'"),
        (("users", "add", "jo", "--role", "operator"), None, "needs at least one tenant"),
        (
            ("users", "add", "jo", "--role", "analyst", "--tenant", "nowhere"),
            None,
            "no tenant 'nowhere'",
        ),
        (
            ("users", "add", "jo", "--role", "admin", "--password-stdin"),
            "short\n",
            "at least 12 characters",
        ),
        (("users", "add", "jo", "--role", "admin", "--password-stdin"), "", "no password on stdin"),
        (("users", "add", "j o", "--role", "admin"), None, "username 'j o'"),
        (("users", "disable", "ghost"), None, "no user 'ghost'"),
        (("users", "token", "ghost"), None, "no user 'ghost'"),
        (("users", "tokens", "ghost"), None, "no user 'ghost'"),
        (("users", "revoke-token", "424242"), None, "no API token 424242"),
    ]
    for args, stdin, message in cases:
        result = nexus(*args, input=stdin)
        assert result.exit_code == 1, (args, result.stdout)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, args
    assert nexus("users", "revoke-token", "abc").exit_code == 2
    assert nexus("users", "list", "--json").stdout.strip() == "[]"
