"""Server-side sign-in sessions of the web app, each with its CSRF token.

The browser holds only a random session token (an HttpOnly cookie); the database keeps its
sha256, the user, the session's CSRF token and when it expires. A session idles out after
`IDLE` and ends at `ABSOLUTE` whatever its use; signing out deletes it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from nexus.store.accounts import User, get_user_by_id
from nexus.store.workspace_tables import web_sessions

IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    stale: bool = False  # last seen over a minute ago: `touch` it
    key: str = ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(conn: sa.Connection, user: User, client: str | None) -> tuple[str, str]:
    """A new session for `user`: returns (the cookie's token, the session's CSRF token)."""
    now = datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    conn.execute(
        web_sessions.insert().values(
            session_sha256=_digest(token),
            user_id=user.user_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE,
            client=(client or "")[:64] or None,
        )
    )
    return token, csrf


def session_for(conn: sa.Connection, token: str | None) -> Session | None:
    """The live session behind a cookie token, or None (unknown, expired, idle, user disabled)."""
    if not token:
        return None
    s = web_sessions
    row = conn.execute(sa.select(s).where(s.c.session_sha256 == _digest(token))).mappings().first()
    if row is None:
        return None
    now = datetime.now(UTC)
    expires_at = _aware(row["expires_at"])
    last_seen = _aware(row["last_seen_at"])
    if expires_at <= now or last_seen + IDLE <= now:
        return None  # `purge_expired` deletes it
    user = get_user_by_id(conn, row["user_id"])
    if user is None or not user.active:
        return None
    return Session(
        user=user,
        csrf_token=row["csrf_token"],
        stale=now - last_seen > timedelta(minutes=1),
        key=row["session_sha256"],
    )


def touch(engine: sa.Engine, session: Session) -> None:
    """Move a session's idle deadline on; best effort, in its own transaction.

    At most once a minute per session (a page and its fragments must not all write), and a
    concurrent touch of the same row (DuckDB refuses the second writer) is simply skipped."""
    if not session.stale:
        return
    try:
        with engine.begin() as conn:
            conn.execute(
                web_sessions.update()
                .where(web_sessions.c.session_sha256 == session.key)
                .values(last_seen_at=datetime.now(UTC))
            )
    except sa.exc.DBAPIError:
        pass


def purge_expired(conn: sa.Connection) -> int:
    """Delete sessions past their absolute end (the server does it when it starts)."""
    return conn.execute(
        web_sessions.delete().where(web_sessions.c.expires_at < datetime.now(UTC))
    ).rowcount


def end_session(conn: sa.Connection, token: str | None) -> None:
    if token:
        conn.execute(web_sessions.delete().where(web_sessions.c.session_sha256 == _digest(token)))


def end_user_sessions(conn: sa.Connection, user_id: int) -> None:
    """Sign a user out everywhere (after a password change or when disabled)."""
    conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
