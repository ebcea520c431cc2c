"""The Ed-Fi layer's one error type."""

from __future__ import annotations

from nexus.errors import NexusError


class EdfiError(NexusError):
    """An Ed-Fi build or send that cannot go on (bad year, no build, unreachable API, ...)."""
