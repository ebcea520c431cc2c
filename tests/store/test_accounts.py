"""Accounts: roles and tenants, the password policy, argon2 hashes, lockout, API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from nexus.store import accounts
from nexus.store.accounts import AccountError, SignInRefused
from nexus.store.tenants import add_tenant

PASSWORD = "correct horse battery"
T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def two_tenants(store) -> tuple[int, int]:
    with store.engine.begin() as conn:
        a = add_tenant(conn, "alpha", "Alpha R-I")
        b = add_tenant(conn, "beta", "Beta R-II")
    return a.tenant_id, b.tenant_id


def test_add_and_list_users(store, two_tenants):
    a, b = two_tenants
    with store.engine.begin() as conn:
        root = accounts.add_user(conn, "Root", "admin", PASSWORD, [])
        op = accounts.add_user(conn, "registrar.jones", "operator", PASSWORD, ["alpha"])
        accounts.add_user(conn, "ana@example.org", "analyst", None, ["beta", "alpha"])
    assert root.username == "root" and root.all_tenants and root.can_see(b)
    assert op.tenant_ids == (a,) and not op.all_tenants
    assert op.can_see(a) and not op.can_see(b)
    with store.engine.connect() as conn:
        listed = accounts.list_users(conn)
        assert [(u.username, u.role, u.tenant_ids) for u in listed] == [
            ("ana@example.org", "analyst", (a, b)),
            ("registrar.jones", "operator", (a,)),
            ("root", "admin", ()),
        ]
        assert accounts.get_user(conn, "REGISTRAR.JONES") == op
        assert accounts.get_user_by_id(conn, op.user_id) == op
        assert accounts.get_user(conn, "nobody") is None
        assert [t.code for t in accounts.visible_tenants(conn, op)] == ["alpha"]
        assert [t.code for t in accounts.visible_tenants(conn, root)] == ["alpha", "beta"]


@pytest.mark.parametrize(
    ("username", "role", "password", "codes", "message"),
    [
        ("jo", "superuser", PASSWORD, ["alpha"], "unknown role 'superuser'"),
        ("jo", "operator", "short", ["alpha"], "at least 12 characters"),
        ("jo", "operator", PASSWORD, [], "an operator needs at least one tenant"),
        ("jo", "analyst", PASSWORD, [], "an analyst needs at least one tenant"),
        ("jo", "operator", PASSWORD, ["alpha", "gamma"], "no tenant 'gamma'"),
        ("j o", "operator", PASSWORD, ["alpha"], "username 'j o'"),
        ("jones.reg", "operator", "jones.reg", ["alpha"], "at least 12"),
        ("registrar.jo", "operator", "Registrar.Jo", ["alpha"], "must not be the username"),
    ],
)
def test_bad_accounts_are_refused(store, two_tenants, username, role, password, codes, message):
    with store.engine.begin() as conn, pytest.raises(AccountError, match=message):
        accounts.add_user(conn, username, role, password, codes)
    with store.engine.connect() as conn:
        assert accounts.list_users(conn) == []


def test_duplicate_username_is_refused(store, two_tenants):
    with store.engine.begin() as conn:
        accounts.add_user(conn, "jo", "admin", PASSWORD, [])
    with store.engine.begin() as conn, pytest.raises(AccountError, match="already exists"):
        accounts.add_user(conn, "JO", "analyst", PASSWORD, ["alpha"])


def test_password_is_stored_as_argon2id(store, two_tenants):
    with store.engine.begin() as conn:
        accounts.add_user(conn, "jo", "operator", PASSWORD, ["alpha"])
        stored = conn.execute(sa.text("SELECT password_hash FROM platform.users")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_authenticate(store, two_tenants):
    with store.engine.begin() as conn:
        added = accounts.add_user(conn, "jo", "operator", PASSWORD, ["alpha"])
        accounts.add_user(conn, "sso.only", "operator", None, ["alpha"])
    with store.engine.begin() as conn:
        assert accounts.authenticate(conn, "Jo", PASSWORD, now=T0) == added
    for user, password in [("jo", PASSWORD + "x"), ("ghost", PASSWORD), ("sso.only", "")]:
        with store.engine.begin() as conn, pytest.raises(SignInRefused) as refused:
            accounts.authenticate(conn, user, password, now=T0)
        assert str(refused.value) == "sign-in refused: unknown user or wrong password"
        assert refused.value.locked_until is None
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT failed_attempts, last_sign_in_at FROM platform.users WHERE username = 'jo'"
            )
        ).one()
    assert row.failed_attempts == 1 and row.last_sign_in_at is not None


def test_lockout_after_five_failures_and_unlock_after_fifteen_minutes(store, two_tenants):
    with store.engine.begin() as conn:
        accounts.add_user(conn, "jo", "operator", PASSWORD, ["alpha"])
    for i in range(accounts.MAX_FAILED_ATTEMPTS):
        # The caller's transaction rolls back on the refusal; the count must stick anyway.
        with pytest.raises(SignInRefused), store.engine.begin() as conn:
            accounts.authenticate(conn, "jo", "wrong password!", now=T0 + timedelta(seconds=i))
    locked_at = T0 + timedelta(seconds=accounts.MAX_FAILED_ATTEMPTS - 1)
    with store.engine.begin() as conn, pytest.raises(SignInRefused) as refused:
        accounts.authenticate(conn, "jo", PASSWORD, now=T0 + timedelta(minutes=14))
    assert "too many failed attempts" in str(refused.value)
    assert refused.value.locked_until == locked_at + accounts.LOCKOUT
    with store.engine.begin() as conn:
        user = accounts.authenticate(conn, "jo", PASSWORD, now=locked_at + timedelta(minutes=15))
    assert user.username == "jo"


def test_success_resets_the_failure_count(store, two_tenants):
    with store.engine.begin() as conn:
        accounts.add_user(conn, "jo", "operator", PASSWORD, ["alpha"])
    for _ in range(2):
        for _ in range(accounts.MAX_FAILED_ATTEMPTS - 1):
            with store.engine.begin() as conn, pytest.raises(SignInRefused):
                accounts.authenticate(conn, "jo", "wrong password!", now=T0)
        with store.engine.begin() as conn:
            accounts.authenticate(conn, "jo", PASSWORD, now=T0)


def test_inactive_user_is_refused_and_reenabled(store, two_tenants):
    with store.engine.begin() as conn:
        accounts.add_user(conn, "jo", "operator", PASSWORD, ["alpha"])
        accounts.set_active(conn, "jo", False)
    with store.engine.begin() as conn, pytest.raises(SignInRefused, match="unknown user"):
        accounts.authenticate(conn, "jo", PASSWORD)
    with store.engine.begin() as conn:
        accounts.set_active(conn, "jo", True)
        assert accounts.authenticate(conn, "jo", PASSWORD).active


def test_set_password_and_role(store, two_tenants):
    a, b = two_tenants
    with store.engine.begin() as conn:
        accounts.add_user(conn, "jo", "operator", PASSWORD, ["alpha"])
        accounts.set_password(conn, "jo", "a brand new passphrase")
        with pytest.raises(AccountError, match="at least 12"):
            accounts.set_password(conn, "jo", "tiny")
        with pytest.raises(AccountError, match="no user 'ghost'"):
            accounts.set_password(conn, "ghost", "a brand new passphrase")
        changed = accounts.set_role_and_tenants(conn, "jo", "analyst", ["beta"])
        assert (changed.role, changed.tenant_ids) == ("analyst", (b,))
        with pytest.raises(AccountError, match="needs at least one tenant"):
            accounts.set_role_and_tenants(conn, "jo", "operator", [])
    with store.engine.begin() as conn, pytest.raises(SignInRefused):
        accounts.authenticate(conn, "jo", PASSWORD)
    with store.engine.begin() as conn:
        assert accounts.authenticate(conn, "jo", "a brand new passphrase").role == "analyst"


def test_token_issue_use_and_revoke(store, two_tenants):
    with store.engine.begin() as conn:
        user = accounts.add_user(conn, "jo", "operator", None, ["alpha"])
        token_id, token = accounts.issue_token(conn, "jo", label="nightly export", now=T0)
    assert token.startswith("nxs_") and len(token) > 40
    with store.engine.begin() as conn:
        stored = conn.execute(sa.text("SELECT token_sha256 FROM platform.api_tokens")).scalar()
        assert token not in stored and len(stored) == 64
        assert accounts.user_for_token(conn, token, now=T0 + timedelta(hours=1)) == user
        assert accounts.user_for_token(conn, token + "x") is None
        assert accounts.user_for_token(conn, "Bearer " + token) is None
        listed = accounts.list_tokens(conn, "jo")
    assert listed == [
        {
            "token_id": token_id,
            "label": "nightly export",
            "created_at": T0,
            "last_used_at": T0 + timedelta(hours=1),
            "revoked_at": None,
            "active": True,
        }
    ]
    with store.engine.begin() as conn:
        accounts.set_active(conn, "jo", False)
        assert accounts.user_for_token(conn, token) is None
        accounts.set_active(conn, "jo", True)
        accounts.revoke_token(conn, token_id)
        assert accounts.user_for_token(conn, token) is None
        assert accounts.list_tokens(conn, "jo")[0]["active"] is False
        with pytest.raises(AccountError, match="no API token 999"):
            accounts.revoke_token(conn, 999)
