"""Accounts: who may sign in to Nexus, with which role, over which tenants, and their API tokens.

Owns the rows of `platform.users`, `platform.user_tenants` and `platform.api_tokens`
(tables in `workspace_tables.py`): password hashing (argon2id), the password policy, the
lockout after repeated failed sign-ins, and bearer tokens for scripts (only their sha256 is
kept). Web sessions, CSRF and single sign-on belong to the web layer; see `docs/security.md`.

Roles: `admin` (everything; with no tenant list a site admin over every tenant),
`operator` (a district's daily work, student-level rows of its tenants) and `analyst`
(aggregates only, never student-level rows). Operators and analysts have at least one tenant.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from nexus.store.errors import StoreError
from nexus.store.tables import tenants
from nexus.store.tenants import Tenant, list_tenants
from nexus.store.workspace_tables import api_tokens, user_tenants, users

ROLES = ("admin", "operator", "analyst")
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
# argon2 hashes whatever it is given; a cap keeps a megabyte "password" from costing a CPU-second.
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "nxs_"

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@+-]{1,119}$")
_REFUSED = "sign-in refused: unknown user or wrong password"
_LOCKED = "sign-in refused; too many failed attempts, try again later"


class AccountError(StoreError):
    """An account could not be created, changed or used (one clear line)."""


class SignInRefused(AccountError):
    """Sign-in failed. The message never says whether the user exists; `locked_until` is set
    when the account is locked (for the web layer's own wording, never shown to others)."""

    def __init__(self, message: str = _REFUSED, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    role: str
    active: bool
    tenant_ids: tuple[int, ...]
    # An admin with no tenant list administers the whole site: every tenant, present and future.
    all_tenants: bool

    def can_see(self, tenant_id: int) -> bool:
        return self.all_tenants or tenant_id in self.tenant_ids

    def as_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "role": self.role,
            "active": self.active,
            "tenant_ids": list(self.tenant_ids),
            "all_tenants": self.all_tenants,
        }


# --- passwords --------------------------------------------------------------------------------

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile; `authenticate`
# rehashes a stored hash whose parameters differ from these.
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no real one, so timing does not tell."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _check_password_policy(username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"password too long: at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip().lower() == username:
        raise AccountError("password must not be the username")


def _hash(username: str, password: str) -> str:
    _check_password_policy(username, password)
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- users ------------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # DuckDB hands TIMESTAMPTZ back in the session's zone, sometimes naive; stored values are UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _normal_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise AccountError(
            f"username {username!r}: 2-120 characters, letters, digits and . _ @ + - "
            f"(an e-mail address works), starting with a letter or digit"
        )
    return name


def _check_role(role: str, tenant_codes: list[str]) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if role != "admin" and not tenant_codes:
        raise AccountError(
            f"a{'n' if role[0] in 'aeiou' else ''} {role} needs at least one tenant "
            f"(--tenant CODE); only an admin may have none (site admin over every tenant)"
        )


def _tenant_ids(conn: sa.Connection, tenant_codes: list[str]) -> list[int]:
    codes = list(dict.fromkeys(tenant_codes))
    found = dict(
        conn.execute(
            sa.select(tenants.c.code, tenants.c.tenant_id).where(tenants.c.code.in_(codes))
        ).all()
    )
    missing = [c for c in codes if c not in found]
    if missing:
        raise AccountError(f"no tenant {', '.join(map(repr, missing))}: see `nexus tenants list`")
    return sorted(found[c] for c in codes)


def _user(conn: sa.Connection, row: sa.RowMapping) -> User:
    ids = tuple(
        conn.execute(
            sa.select(user_tenants.c.tenant_id)
            .where(user_tenants.c.user_id == row["user_id"])
            .order_by(user_tenants.c.tenant_id)
        ).scalars()
    )
    return User(
        user_id=row["user_id"],
        username=row["username"],
        role=row["role"],
        active=row["active"],
        tenant_ids=ids,
        all_tenants=row["role"] == "admin" and not ids,
    )


def _row(conn: sa.Connection, username: str) -> sa.RowMapping | None:
    return (
        conn.execute(sa.select(users).where(users.c.username == username.strip().lower()))
        .mappings()
        .first()
    )


def _existing(conn: sa.Connection, username: str) -> sa.RowMapping:
    row = _row(conn, username)
    if row is None:
        raise AccountError(f"no user {username!r}: see `nexus users list`")
    return row


def add_user(
    conn: sa.Connection,
    username: str,
    role: str,
    password: str | None,
    tenant_codes: list[str],
    now: datetime | None = None,
) -> User:
    """Create an account; without a password it can sign in only through single sign-on."""
    name = _normal_username(username)
    _check_role(role, tenant_codes)
    password_hash = None if password is None else _hash(name, password)
    ids = _tenant_ids(conn, tenant_codes)
    if _row(conn, name) is not None:
        raise AccountError(f"user {name!r} already exists")
    user_id = conn.execute(
        users.insert()
        .values(
            username=name,
            password_hash=password_hash,
            role=role,
            active=True,
            failed_attempts=0,
            created_at=_now(now),
        )
        .returning(users.c.user_id)
    ).scalar_one()
    if ids:
        conn.execute(user_tenants.insert(), [{"tenant_id": t, "user_id": user_id} for t in ids])
    return User(user_id, name, role, True, tuple(ids), role == "admin" and not ids)


def set_password(conn: sa.Connection, username: str, password: str) -> None:
    """Replace a user's password (and lift a lockout: an admin has vouched for them)."""
    row = _existing(conn, username)
    conn.execute(
        users.update()
        .where(users.c.user_id == row["user_id"])
        .values(
            password_hash=_hash(row["username"], password), failed_attempts=0, locked_until=None
        )
    )


def set_active(conn: sa.Connection, username: str, active: bool) -> None:
    """Enable or disable an account; a disabled account cannot sign in or use its tokens."""
    row = _existing(conn, username)
    values: dict = {"active": active}
    if active:
        values.update(failed_attempts=0, locked_until=None)
    conn.execute(users.update().where(users.c.user_id == row["user_id"]).values(**values))


def set_role_and_tenants(
    conn: sa.Connection, username: str, role: str, tenant_codes: list[str]
) -> User:
    """Replace a user's role and tenant list (same rules as `add_user`)."""
    row = _existing(conn, username)
    _check_role(role, tenant_codes)
    ids = _tenant_ids(conn, tenant_codes)
    conn.execute(users.update().where(users.c.user_id == row["user_id"]).values(role=role))
    conn.execute(user_tenants.delete().where(user_tenants.c.user_id == row["user_id"]))
    if ids:
        conn.execute(
            user_tenants.insert(), [{"tenant_id": t, "user_id": row["user_id"]} for t in ids]
        )
    return _user(conn, _existing(conn, username))


def get_user(conn: sa.Connection, username: str) -> User | None:
    row = _row(conn, username)
    return None if row is None else _user(conn, row)


def get_user_by_id(conn: sa.Connection, user_id: int) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.user_id == user_id)).mappings().first()
    return None if row is None else _user(conn, row)


def list_users(conn: sa.Connection) -> list[User]:
    rows = conn.execute(sa.select(users).order_by(users.c.username)).mappings().all()
    return [_user(conn, row) for row in rows]


def visible_tenants(conn: sa.Connection, user: User) -> list[Tenant]:
    """The tenants whose data `user` may see, by code."""
    return [t for t in list_tenants(conn) if user.can_see(t.tenant_id)]


def authenticate(
    conn: sa.Connection, username: str, password: str, now: datetime | None = None
) -> User:
    """The active user whose password this is, or `SignInRefused` (never saying which part was
    wrong). Failed attempts are counted in their own transaction, so they stick even when the
    caller's transaction rolls back on the refusal; five in a row lock the account for 15
    minutes. Success resets the count, records the time and upgrades an outdated hash."""
    at = _now(now)
    try:
        name = _normal_username(username)
    except AccountError:
        name = None
    row = None if name is None else _row(conn, name)
    if row is None or not row["active"] or row["password_hash"] is None:
        _verify(None, password)  # spend the same time as a real check
        raise SignInRefused()
    locked_until = _aware(row["locked_until"])
    if locked_until is not None and locked_until > at:
        _verify(None, password)
        raise SignInRefused(_LOCKED, locked_until)
    if not _verify(row["password_hash"], password):
        _record_failure(conn, row["user_id"], at)
        raise SignInRefused()
    values: dict = {"failed_attempts": 0, "locked_until": None, "last_sign_in_at": at}
    if _hasher.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _hasher.hash(password)
    conn.execute(users.update().where(users.c.user_id == row["user_id"]).values(**values))
    return _user(conn, row)


def _record_failure(conn: sa.Connection, user_id: int, at: datetime) -> None:
    with conn.engine.begin() as own:
        failed = own.execute(
            sa.select(users.c.failed_attempts).where(users.c.user_id == user_id)
        ).scalar_one()
        failed += 1
        values: dict = {"failed_attempts": failed}
        if failed >= MAX_FAILED_ATTEMPTS:
            # Locked: the count starts again once the lockout is over.
            values = {"failed_attempts": 0, "locked_until": at + LOCKOUT}
        own.execute(users.update().where(users.c.user_id == user_id).values(**values))


# --- API tokens -------------------------------------------------------------------------------


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    conn: sa.Connection, username: str, label: str | None = None, now: datetime | None = None
) -> tuple[int, str]:
    """A new bearer token for `username`: (token id, the token). The token is shown only now;
    Nexus keeps its sha256."""
    row = _existing(conn, username)
    if not row["active"]:
        raise AccountError(f"user {row['username']!r} is disabled: enable it first")
    if label is not None and len(label) > 200:
        raise AccountError("token label too long: at most 200 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(
        api_tokens.insert()
        .values(
            user_id=row["user_id"],
            token_sha256=_token_digest(token),
            label=label,
            created_at=_now(now),
        )
        .returning(api_tokens.c.token_id)
    ).scalar_one()
    return token_id, token


def revoke_token(conn: sa.Connection, token_id: int, now: datetime | None = None) -> None:
    found = conn.execute(
        sa.select(api_tokens.c.revoked_at).where(api_tokens.c.token_id == token_id)
    ).first()
    if found is None:
        raise AccountError(f"no API token {token_id}: see `nexus users tokens USERNAME`")
    if found.revoked_at is None:
        conn.execute(
            api_tokens.update()
            .where(api_tokens.c.token_id == token_id)
            .values(revoked_at=_now(now))
        )


def list_tokens(conn: sa.Connection, username: str) -> list[dict]:
    """A user's tokens (id, label, dates); never the token itself or its hash."""
    row = _existing(conn, username)
    t = api_tokens
    rows = conn.execute(
        sa.select(t.c.token_id, t.c.label, t.c.created_at, t.c.last_used_at, t.c.revoked_at)
        .where(t.c.user_id == row["user_id"])
        .order_by(t.c.token_id)
    ).mappings()
    return [
        {
            "token_id": r["token_id"],
            "label": r["label"],
            "created_at": _aware(r["created_at"]),
            "last_used_at": _aware(r["last_used_at"]),
            "revoked_at": _aware(r["revoked_at"]),
            "active": r["revoked_at"] is None,
        }
        for r in rows
    ]


def user_for_token(conn: sa.Connection, token: str, now: datetime | None = None) -> User | None:
    """The active user a bearer token belongs to, or None (unknown, revoked, user disabled)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    found = (
        conn.execute(
            sa.select(api_tokens.c.token_id, users)
            .join(users, users.c.user_id == api_tokens.c.user_id)
            .where(api_tokens.c.token_sha256 == _token_digest(token))
            .where(api_tokens.c.revoked_at.is_(None))
        )
        .mappings()
        .first()
    )
    if found is None or not found["active"]:
        return None
    conn.execute(
        api_tokens.update()
        .where(api_tokens.c.token_id == found["token_id"])
        .values(last_used_at=_now(now))
    )
    return _user(conn, found)
