"""Connection secrets: stored as a reference (environment variable, secret file) or encrypted.

A password or client secret never reaches the database in plain text and no command prints it:
`env:VAR` and `file:/path` references are resolved when a connector opens its source, and an
inline secret is encrypted with a Fernet key derived from `NEXUS_SECRET_KEY`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from nexus.store.errors import StoreError


def _fernet(secret_key: str | None) -> Fernet:
    if not secret_key:
        raise StoreError(
            "NEXUS_SECRET_KEY is not set: set it to store a secret encrypted, or pass the "
            "secret by reference (--client-secret-env VAR or --client-secret-file PATH)"
        )
    try:
        return Fernet(secret_key.encode())
    except ValueError:
        digest = hashlib.sha256(secret_key.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret: str, secret_key: str | None) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def reference(env_var: str | None = None, file: str | None = None) -> str | None:
    """The stored form of a secret reference."""
    if env_var and file:
        raise StoreError("give the secret as an environment variable or a file, not both")
    if env_var:
        return f"env:{env_var}"
    if file:
        return f"file:{Path(file).expanduser().resolve()}"
    return None


def resolve(
    secret_ref: str | None, secret_encrypted: str | None, secret_key: str | None
) -> str | None:
    """The secret's value, read at the moment a connector needs it."""
    if secret_encrypted:
        try:
            return _fernet(secret_key).decrypt(secret_encrypted.encode()).decode()
        except InvalidToken:
            raise StoreError(
                "the stored secret cannot be decrypted with this NEXUS_SECRET_KEY"
            ) from None
    if not secret_ref:
        return None
    kind, _, where = secret_ref.partition(":")
    if kind == "env":
        value = os.environ.get(where)
        if value is None:
            raise StoreError(f"the secret's environment variable {where} is not set")
        return value
    if kind == "file":
        try:
            return Path(where).read_text().strip()
        except OSError as exc:
            raise StoreError(f"cannot read the secret file {where}: {exc.strerror}") from None
    raise StoreError(f"unknown secret reference kind {kind!r}")


def describe(secret_ref: str | None, secret_encrypted: str | None) -> str:
    """How a secret is held, without its value (safe to print)."""
    if secret_encrypted:
        return "encrypted"
    if secret_ref:
        return secret_ref
    return "none"
