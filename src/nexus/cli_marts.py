"""The `nexus marts` commands: indicators, explain, refresh, show, drill, report."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add these commands to the `nexus` app."""
