"""The store's one error type: a problem an operator can read and act on."""

from __future__ import annotations


class StoreError(Exception):
    """A store problem described in one clear line (no traceback reaches the user)."""
