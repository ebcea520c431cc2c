"""The `nexus` commands of the Ed-Fi layer: `nexus edfi build | send | status`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add these commands to the `nexus` app."""
