"""What every `nexus` command shares: the consoles, `--json`, one-line errors, the store.

Exit status: 0 succeeded, 3 partial (finished with row errors), 1 failed, 2 usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer
from rich.console import Console

from nexus.errors import NexusError
from nexus.store import Store, StoreError, open_store
from nexus.store.migrate import current_revision, head_revision

# Off a terminal (pipes, CI logs) tables get room instead of rich's 80-column default.
# Messages are never hard-wrapped: one problem, one line, whatever the width.
out = Console(width=None if sys.stdout.isatty() else 120, soft_wrap=True)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 120, soft_wrap=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
YearOption = Annotated[
    str, typer.Option("--year", help="School year: 2026-27 or its ending year 2027.")
]


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def handles_errors(func: Callable) -> Callable:
    """Turn any layer's error (a `NexusError`) into one line on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NexusError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def checked_store(require_schema: bool = True) -> Store:
    store = open_store()
    if require_schema:
        current = current_revision(store.engine)
        if current is None:
            raise StoreError("the database is not initialised: run `nexus init`")
        if current != head_revision():
            raise StoreError(
                f"the database is at schema {current}, this Nexus needs {head_revision()}: "
                f"run `nexus init` to upgrade"
            )
    return store
