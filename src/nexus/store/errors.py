"""The store's one error type: a problem an operator can read and act on."""

from __future__ import annotations

from nexus.errors import NexusError


class StoreError(NexusError):
    """A store problem described in one clear line (no traceback reaches the user)."""
