"""The integration layer's error type: a problem with a source, file or run, in one line."""

from __future__ import annotations

from nexus.errors import NexusError


class IngestionError(NexusError):
    """A source, file or run that cannot proceed; the message is shown to the operator as is."""
