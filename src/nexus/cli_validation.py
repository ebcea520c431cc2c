"""The `nexus` commands of the validation layer: validate, readiness, exceptions, compare."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add these commands to the `nexus` app."""
