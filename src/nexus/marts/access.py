"""Who may see what of the marts: public aggregates are suppressed; unsuppressed cells and
student-level drill-through are for a role allowed to see student-level data (DESIGN.md:
roles operator, analyst, admin). The CLI passes `--role`; the web layer will pass the signed-in
user's role the same way."""

from __future__ import annotations

from nexus.marts.definitions import MartError

PUBLIC = "public"
ROLES = ("public", "operator", "analyst", "admin")
# Marts are the analyst's tool (DESIGN.md); the operator works exceptions, not marts' students.
STUDENT_LEVEL_ROLES = frozenset({"analyst", "admin"})


def check_role(role: str) -> str:
    if role not in ROLES:
        raise MartError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def sees_student_level(role: str) -> bool:
    """True when `role` may see unsuppressed cells and the students behind them."""
    return check_role(role) in STUDENT_LEVEL_ROLES


def require_student_level(role: str, what: str) -> None:
    if not sees_student_level(role):
        raise MartError(
            f"{what} shows student-level data: role {role!r} may not see it "
            f"(allowed: {', '.join(sorted(STUDENT_LEVEL_ROLES))})"
        )
