"""The root of every layer's error type: a problem an operator can read and act on.

Each layer raises its own subclass (`IngestionError`, `MappingError`, `ExtractError`, ...);
the CLI and the web app turn any `NexusError` into one clear line, never a traceback.
"""

from __future__ import annotations


class NexusError(Exception):
    """A problem described in one clear line; the message is shown to the operator as is."""
