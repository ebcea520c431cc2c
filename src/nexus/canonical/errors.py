"""The error the canonical layer raises: one clear line for the operator."""

from __future__ import annotations

from nexus.errors import NexusError


class MappingError(NexusError):
    """A mapping file, run or request that cannot be carried out (the message says why)."""
