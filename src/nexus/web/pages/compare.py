"""Compare: one student's row of a layout, field by field: what the SIS sent, the canonical
value derived now, the value in the cycle's newest extract and DESE's correction, each with
where it came from (`nexus.validation.compare.compare_student`, as `nexus compare student`).

Student-level: VIEW_STUDENTS, and every comparison is audited ("view.compare"). The student
is named by MOSIS ID or by the district's local student number; an id the tenant does not
know is a 404, as for any record of another tenant.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from nexus.errors import NexusError
from nexus.mosis.cycles import CYCLES
from nexus.mosis.layouts import DEFAULT_SCHOOL_YEAR, parse_school_year
from nexus.validation.compare import compare_student
from nexus.validation.findings import ValidationError
from nexus.web import permissions
from nexus.web.security import Tenancy, TenantContext
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["compare"])

DEFAULT_LAYOUT = "student_core"
DEFAULT_CYCLE = "october"

# The current identifiers of a tenant's students, by type and value.
_PEOPLE = sa.text(
    "SELECT DISTINCT i.person_id, p.identifier_type FROM census.person_identifiers p "
    "JOIN census.identities i ON i.tenant_id = p.tenant_id AND i.key_scope = p.key_scope "
    "AND i.person_kind = p.person_kind AND i.source_key = p.source_key "
    "WHERE p.tenant_id = :t AND p.person_kind = 'student' AND p.valid_to_run IS NULL "
    "AND p.identifier_type IN ('mosis_state_id', 'student_number') AND p.value = :v"
)
_MOSIS_ID = sa.text(
    "SELECT min(p.value) FROM census.person_identifiers p "
    "JOIN census.identities i ON i.tenant_id = p.tenant_id AND i.key_scope = p.key_scope "
    "AND i.person_kind = p.person_kind AND i.source_key = p.source_key "
    "WHERE p.tenant_id = :t AND i.person_id = :p AND p.valid_to_run IS NULL "
    "AND p.identifier_type = 'mosis_state_id'"
)


def mosis_id_of(ctx: TenantContext, student: str) -> str:
    """The MOSIS ID of the tenant's student named by MOSIS ID or local number (404 if none)."""
    value = student.strip()
    with ctx.store.engine.connect() as conn:
        found = conn.execute(_PEOPLE, {"t": ctx.tenant_id, "v": value}).all()
        by_mosis = {int(r.person_id) for r in found if r.identifier_type == "mosis_state_id"}
        people = by_mosis or {int(r.person_id) for r in found}
        if not people:
            raise HTTPException(404, f"no student with MOSIS ID or local number {value!r}")
        if len(people) > 1:
            raise ValidationError(
                f"{value!r} names {len(people)} students: give the MOSIS ID instead"
            )
        mosis = conn.execute(_MOSIS_ID, {"t": ctx.tenant_id, "p": people.pop()}).scalar()
    if mosis is None:
        raise ValidationError(f"student {value!r} has no MOSIS ID yet: nothing to compare")
    return str(mosis)


def compare(ctx: TenantContext, student: str, year: str | int, cycle: str, layout: str) -> dict:
    """Field by field SIS, canonical, extract and corrected values (VIEW_STUDENTS, audited)."""
    ctx.require(permissions.VIEW_STUDENTS)
    school_year = parse_school_year(year)
    state_id = mosis_id_of(ctx, student)
    found = compare_student(
        ctx.store, ctx.code, state_id, school_year, cycle, layout, user=ctx.user.username
    )
    for f in found["fields"]:
        values = {f[k] for k in ("sis", "canonical", "extract", "correction")} - {None}
        f["differs"] = len({str(v) for v in values}) > 1
    return found


@router.get("/t/{tenant}/compare")
async def compare_page(
    request: Request,
    ctx: Tenancy,
    student: str = "",
    year: str = str(DEFAULT_SCHOOL_YEAR),
    cycle: str = DEFAULT_CYCLE,
    layout: str = DEFAULT_LAYOUT,
):
    ctx.require(permissions.VIEW_STUDENTS)
    form = {"student": student.strip(), "year": year, "cycle": cycle, "layout": layout}
    result, problem, status = None, None, 200
    if form["student"]:
        try:
            result = await run_in_threadpool(compare, ctx, student, year, cycle, layout)
        except NexusError as exc:
            problem, status = str(exc), 400
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            problem, status = str(exc.detail), 404
    return render(
        request,
        "compare.html",
        status_code=status,
        form=form,
        result=result,
        problem=problem,
        cycles=CYCLES,
    )


@api.get("/tenants/{tenant}/compare/student/{student_id}")
def compare_api(
    ctx: Tenancy,
    student_id: str,
    year: str = str(DEFAULT_SCHOOL_YEAR),
    cycle: str = DEFAULT_CYCLE,
    layout: str = DEFAULT_LAYOUT,
) -> dict:
    """One student's SIS, canonical, extract and corrected values per field of `layout`,
    with the SIS column and the derivation each came from. `student_id`: MOSIS ID or local
    student number."""
    return compare(ctx, student_id, year, cycle, layout)
