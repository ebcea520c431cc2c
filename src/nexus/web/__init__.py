"""The operator's workspace: `nexus serve`, a FastAPI app of server-rendered pages (Jinja2 and
htmx, shipped in the package) and a JSON API under /api/v1, over the same service functions as
the CLI. Sign-in, sessions, CSRF, roles and tenant scoping live in `security.py`; long work
runs as background jobs (`background.py`). Nothing imports this package but the CLI.
"""

from __future__ import annotations

from nexus.web.app import create_app

__all__ = ["create_app"]
