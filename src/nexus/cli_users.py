"""`nexus users …`: accounts for the web app and the API (add, list, disable/enable, passwd,
set-role) and revocable API tokens for scripts (token, tokens, revoke-token); thin shells over
`nexus.store.accounts`. Passwords come only on stdin, never as an argument (shell history,
`ps`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from nexus.cli_common import JsonFlag, checked_store, emit_json, err, handles_errors, out
from nexus.store import accounts
from nexus.store.accounts import AccountError, User
from nexus.store.tenants import list_tenants

users_app = typer.Typer(
    help="Users: web and API accounts, roles, tenants and API tokens.", no_args_is_help=True
)

UsernameArgument = Annotated[str, typer.Argument(help="Username (letters, digits, . _ @ + -).")]
RoleOption = Annotated[
    str, typer.Option("--role", help=f"One of {', '.join(accounts.ROLES)}.", show_default=False)
]
TenantsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tenant",
        help="Tenant code the user may see (repeat for several). An admin with none is a site "
        "admin over every tenant.",
    ),
]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def register(app: typer.Typer) -> None:
    """Add these commands to the `nexus` app."""
    app.add_typer(users_app, name="users")


def _read_password() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise AccountError("no password on stdin: pipe it in, e.g. `… --password-stdin < file`")
    return line


def _user_dict(user: User, codes: dict[int, str]) -> dict:
    return {**user.as_dict(), "tenants": [codes[t] for t in user.tenant_ids if t in codes]}


def _tenant_words(user: User, codes: dict[int, str]) -> str:
    if user.all_tenants:
        return "all tenants"
    return ", ".join(codes.get(t, str(t)) for t in user.tenant_ids)


@users_app.command("add")
@handles_errors
def users_add(
    username: UsernameArgument,
    role: RoleOption,
    tenant: TenantsOption = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a user. Without --password-stdin the account signs in only through single sign-on."""
    password = _read_password() if password_stdin else None
    store = checked_store()
    with store.engine.begin() as conn:
        user = accounts.add_user(conn, username, role, password, tenant or [])
        codes = {t.tenant_id: t.code for t in list_tenants(conn)}
    if as_json:
        emit_json({**_user_dict(user, codes), "sso_only": password is None})
        return
    how = "single sign-on only" if password is None else "password set"
    out.print(
        f"user {user.username} added: {user.role}, {_tenant_words(user, codes)}; {how}",
        highlight=False,
    )


@users_app.command("list")
@handles_errors
def users_list(as_json: JsonFlag = False) -> None:
    """List users with their role, tenants and whether they are active."""
    store = checked_store()
    with store.engine.connect() as conn:
        found = accounts.list_users(conn)
        codes = {t.tenant_id: t.code for t in list_tenants(conn)}
    if as_json:
        emit_json([_user_dict(u, codes) for u in found])
        return
    table = Table("username", "role", "tenants", "active")
    for u in found:
        table.add_row(u.username, u.role, _tenant_words(u, codes), "yes" if u.active else "no")
    out.print(table)


@users_app.command("set-role")
@handles_errors
def users_set_role(
    username: UsernameArgument,
    role: RoleOption,
    tenant: TenantsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Replace a user's role and tenant list."""
    store = checked_store()
    with store.engine.begin() as conn:
        user = accounts.set_role_and_tenants(conn, username, role, tenant or [])
        codes = {t.tenant_id: t.code for t in list_tenants(conn)}
    if as_json:
        emit_json(_user_dict(user, codes))
    else:
        out.print(f"user {user.username}: {user.role}, {_tenant_words(user, codes)}")


def _set_active(username: str, active: bool, as_json: bool) -> None:
    store = checked_store()
    with store.engine.begin() as conn:
        accounts.set_active(conn, username, active)
        user = accounts.get_user(conn, username)
    assert user is not None
    if as_json:
        emit_json({"username": user.username, "active": user.active})
    else:
        out.print(f"user {user.username} {'enabled' if active else 'disabled'}")


@users_app.command("disable")
@handles_errors
def users_disable(username: UsernameArgument, as_json: JsonFlag = False) -> None:
    """Disable a user: no sign-in, and their API tokens stop working."""
    _set_active(username, False, as_json)


@users_app.command("enable")
@handles_errors
def users_enable(username: UsernameArgument, as_json: JsonFlag = False) -> None:
    """Enable a user again (and lift a lockout)."""
    _set_active(username, True, as_json)


@users_app.command("passwd")
@handles_errors
def users_passwd(
    username: UsernameArgument, password_stdin: PasswordStdin = False, as_json: JsonFlag = False
) -> None:
    """Set a user's password (read from stdin) and lift a lockout."""
    if not password_stdin:
        raise AccountError("give the new password on stdin with --password-stdin")
    password = _read_password()
    store = checked_store()
    with store.engine.begin() as conn:
        accounts.set_password(conn, username, password)
    if as_json:
        emit_json({"username": username.strip().lower(), "password_set": True})
    else:
        out.print(f"password of {username.strip().lower()} set")


@users_app.command("token")
@handles_errors
def users_token(
    username: UsernameArgument,
    label: Annotated[
        str | None, typer.Option("--label", help="What the token is for, e.g. nightly-export.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue an API token for scripts, scoped like the user. It is shown only this once."""
    store = checked_store()
    with store.engine.begin() as conn:
        token_id, token = accounts.issue_token(conn, username, label)
    if as_json:
        emit_json(
            {
                "token_id": token_id,
                "username": username.strip().lower(),
                "label": label,
                "token": token,
                "header": f"Authorization: Bearer {token}",
            }
        )
        return
    sys.stdout.write(token + "\n")
    err.print(
        f"token {token_id} for {username.strip().lower()}: shown only now, store it safely. "
        f"Send it as the header `Authorization: Bearer <token>`; revoke it with "
        f"`nexus users revoke-token {token_id}`.",
        highlight=False,
    )


@users_app.command("tokens")
@handles_errors
def users_tokens(username: UsernameArgument, as_json: JsonFlag = False) -> None:
    """A user's API tokens (never the tokens themselves)."""
    store = checked_store()
    with store.engine.connect() as conn:
        found = accounts.list_tokens(conn, username)
    if as_json:
        emit_json(found)
        return
    table = Table("id", "label", "created", "last used", "revoked")

    def when(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else ""

    for t in found:
        table.add_row(
            str(t["token_id"]),
            t["label"] or "",
            when(t["created_at"]),
            when(t["last_used_at"]),
            when(t["revoked_at"]),
        )
    out.print(table)


@users_app.command("revoke-token")
@handles_errors
def users_revoke_token(
    token_id: Annotated[int, typer.Argument(help="Token id (see `nexus users tokens`).")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke an API token: it stops working at once."""
    store = checked_store()
    with store.engine.begin() as conn:
        accounts.revoke_token(conn, token_id)
    if as_json:
        emit_json({"token_id": token_id, "revoked": True})
    else:
        out.print(f"token {token_id} revoked")
