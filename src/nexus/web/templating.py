"""Jinja2 templates of the web app and what every page's template gets.

`render(request, name, **context)` adds the signed-in user, the tenant of the request, the
tenants the user may switch to, the navigation their role allows and the CSRF token that
every form and every htmx request carries.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from nexus.web import permissions

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

# (path under /t/{tenant}/, label, action the role needs or None)
NAV = (
    ("today", "Today", None),
    ("runs", "Runs", None),
    ("exceptions", "Exceptions", permissions.VIEW_STUDENTS),
    ("compare", "Compare", permissions.VIEW_STUDENTS),
    ("mosis", "MOSIS", None),
    ("identity", "Identity", permissions.VIEW_STUDENTS),
    ("marts", "Marts", None),
    ("admin", "Admin", permissions.ADMINISTER),
)


def _when(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["number"] = _number


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    user = principal.user if principal else None
    tenant = getattr(request.state, "tenant", None)
    nav = []
    if user is not None and tenant is not None:
        nav = [
            (f"/t/{tenant.code}/{path}", label, path)
            for path, label, action in NAV
            if action is None or permissions.can(user, action)
        ]
    base = {
        "user": user,
        "tenant": tenant,
        "tenants": getattr(request.state, "tenants", None) or [],
        "nav": nav,
        "csrf_token": principal.csrf_token if principal else None,
        "can": (lambda action: user is not None and permissions.can(user, action)),
        "permissions": permissions,
    }
    base.update(context)
    return TEMPLATES.TemplateResponse(request, name, base, status_code=status_code)
