"""What each role may do, in one table.

- admin: everything, including accounts, connections, schedules and the audit trail;
- operator: runs the day (ingest, map, validate, extract, daily), works exceptions, sees the
  student-level rows behind them;
- analyst: aggregates only: readiness, indicator tables and charts; never a student-level row
  (no exception detail, no row errors, no compare, no drill-through, no MOSIS file download).
"""

from __future__ import annotations

from nexus.store.accounts import User

VIEW_STUDENTS = "view_students"  # any page or API answer with student-level rows
OPERATE = "operate"  # start work, change exceptions, generate extracts
ADMINISTER = "administer"  # accounts, connections, schedules, the audit trail

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({VIEW_STUDENTS, OPERATE, ADMINISTER}),
    "operator": frozenset({VIEW_STUDENTS, OPERATE}),
    "analyst": frozenset(),
}

_REFUSALS = {
    VIEW_STUDENTS: "your role sees aggregates only, not student-level records",
    OPERATE: "your role may not start work or change exceptions",
    ADMINISTER: "only an administrator may do this",
}


def can(user: User, action: str) -> bool:
    return action in ROLE_ACTIONS.get(user.role, frozenset())


def refusal(action: str) -> str:
    return _REFUSALS.get(action, "not allowed")
