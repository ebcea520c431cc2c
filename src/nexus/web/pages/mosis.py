"""MOSIS: the year's layouts and how complete they are, extracts and their files, DESE spec import.

The layouts of a school year with, per layout, how many fields Nexus derives out of the total
and which required fields it still leaves blank (aggregates: every role). Operators generate an
extract (year / cycle incl. annual and the precode windows / layout / school) or validate a
cycle as a background job, through `run_extract` and `validate`, as the CLI does; the file is
written under `$NEXUS_HOME/mosis/<tenant>`. The extract runs list and each run's counts and
sha256 are aggregates; the rows a run left out or warned about and the file itself are
student-level (VIEW_STUDENTS, audited). DESE FileSpec pages are imported through the same
`spec_import.import_pages` as `nexus mosis spec import`; a malformed page imports nothing.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nexus.mosis import layouts as mosis_layouts
from nexus.mosis.cycles import COLLECTIONS, CYCLES, parse_collection
from nexus.mosis.derivations import DERIVATIONS, POPULATIONS, load_all
from nexus.mosis.extract import ExtractError, list_extract_runs, run_extract
from nexus.mosis.layouts import SpecImportError, spec_import
from nexus.store.reporting_tables import mosis_extract_rows, mosis_extract_runs
from nexus.store.scope import unscoped
from nexus.web import permissions
from nexus.web.pages.jobs import start_job
from nexus.web.security import Tenancy, TenantContext
from nexus.web.tables import Column, TableView
from nexus.web.templating import render

router = APIRouter()
api = APIRouter(tags=["mosis"])

# Every collection an extract may be made for: the six cycles, annual, the precode windows.
COLLECTION_CHOICES = (*CYCLES, *COLLECTIONS)
AUDITED_SUBJECTS = 1000  # subject keys named in one audit record at most


# --- layouts and their completeness -------------------------------------------------------------


def _school_year(year: str | int | None) -> int:
    return mosis_layouts.parse_school_year(year or mosis_layouts.DEFAULT_SCHOOL_YEAR)


def _required_somewhere(f: mosis_layouts.LayoutField) -> bool:
    return f.requirement == "Required" or "Required" in (f.requirement_by_cycle or {}).values()


def completeness(layout: mosis_layouts.Layout) -> dict:
    """How many of a layout's fields a registered derivation fills, and the required fields
    (in any cycle) left blank because none does."""
    derived = [f for f in layout.fields if f.derivation and f.derivation in DERIVATIONS]
    blank_required = [
        f.header
        for f in layout.fields
        if _required_somewhere(f) and not (f.derivation and f.derivation in DERIVATIONS)
    ]
    total = len(layout.fields)
    return {
        "derived": len(derived),
        "total": total,
        "percent_derived": round(100.0 * len(derived) / total, 1) if total else 0.0,
        "required_blank": blank_required,
        "extract": layout.name in POPULATIONS,
    }


def _ensure_loaded(ctx: TenantContext, school_year: int) -> None:
    """The layouts Nexus ships for the year, loaded on first use as the CLI does. They are the
    platform's rows (tenant 0), which a tenant's row-level security scope may read but never
    write: loading them is trusted platform work, unscoped."""
    load_all()
    with unscoped(), ctx.store.engine.begin() as conn:
        mosis_layouts.ensure_loaded(conn, school_year)


def layouts_summary(ctx: TenantContext, year: str | int | None) -> dict:
    """The year's layouts (newest versions) with their completeness, as the API answers."""
    school_year = _school_year(year)
    _ensure_loaded(ctx, school_year)
    with ctx.store.engine.begin() as conn:
        summaries = mosis_layouts.list_layouts(conn, school_year)
        layouts = [
            s.as_dict() | completeness(mosis_layouts.get_layout(conn, s.name, school_year))
            for s in summaries
        ]
    return {
        "school_year": school_year,
        "school_year_label": mosis_layouts.school_year_label(school_year),
        "layouts": layouts,
    }


def layout_detail(ctx: TenantContext, name: str, year: str | int | None, version: int | None):
    school_year = _school_year(year)
    _ensure_loaded(ctx, school_year)
    with ctx.store.engine.begin() as conn:
        try:
            layout = mosis_layouts.get_layout(conn, name, school_year, version)
        except mosis_layouts.LayoutError as exc:
            raise HTTPException(404, str(exc)) from None
    shown = layout.as_dict() | completeness(layout)
    for f in shown["fields"]:
        f["derived"] = bool(f["derivation"] and f["derivation"] in DERIVATIONS)
    return shown


# --- extract runs --------------------------------------------------------------------------------


def _runs(ctx: TenantContext) -> list[dict]:
    return list_extract_runs(ctx.store, ctx.code)


def _run(ctx: TenantContext, extract_run_id: int) -> dict:
    """One extract run of this tenant (404 for another tenant's or an unknown run)."""
    with ctx.store.engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(mosis_extract_runs).where(
                    mosis_extract_runs.c.tenant_id == ctx.tenant_id,
                    mosis_extract_runs.c.extract_run_id == extract_run_id,
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        raise HTTPException(404, "not found")
    ctx.owns(row["tenant_id"])
    return {k: v for k, v in row.items() if k != "tenant_id"}


def _problem_rows(ctx: TenantContext, extract_run_id: int) -> tuple[list[dict], list[dict]]:
    """(rows left out, rows written with warnings): one entry per row with its problems."""
    r = mosis_extract_rows
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(r.c.row_no, r.c.subject_type, r.c.subject_key, r.c.status, r.c.problems)
            .where(
                r.c.tenant_id == ctx.tenant_id,
                r.c.extract_run_id == extract_run_id,
                r.c.problems.is_not(None),
            )
            .order_by(r.c.row_no)
        ).mappings()
        out = []
        for row in rows:
            problems = row["problems"]
            if isinstance(problems, str):
                problems = json.loads(problems)
            out.append({**row, "problems": problems or []})
    blocked = [p for p in out if p["status"] == "blocked"]
    warned = [p for p in out if p["status"] != "blocked"]
    return blocked, warned


def run_view(ctx: TenantContext, extract_run_id: int, with_rows: bool) -> dict:
    """A run's counts, file and sha256 (aggregates); with `with_rows`, the rows it left out
    and the rows it warned about (student-level: the caller checked the role; audited)."""
    run = _run(ctx, extract_run_id)
    shown = {**run, "file_url": None}
    if run["status"] == "succeeded" and run["artifact_path"]:
        shown["file_url"] = f"/t/{ctx.code}/mosis/runs/{extract_run_id}/file"
    shown.pop("artifact_path", None)
    if not with_rows:
        return shown
    blocked, warned = _problem_rows(ctx, extract_run_id)
    subjects = [p["subject_key"] for p in (*blocked, *warned)]
    ctx.audit(
        "view.mosis_problems",
        {
            "page": "mosis_run",
            "extract_run_id": extract_run_id,
            "rows": len(subjects),
            "subjects": subjects[:AUDITED_SUBJECTS],
        },
    )
    return shown | {"blocked_rows": blocked, "warning_rows": warned}


def run_file(ctx: TenantContext, extract_run_id: int) -> Response:
    """The run's file, the bytes of its stored artifact, under DESE's file name (audited)."""
    ctx.require(permissions.VIEW_STUDENTS)
    run = _run(ctx, extract_run_id)
    path = Path(run["artifact_path"]) if run["artifact_path"] else None
    if path is None or not path.is_file() or not run["file_name"]:
        raise HTTPException(404, "this run has no stored file")
    content = path.read_bytes()
    ctx.audit(
        "download.mosis_file",
        {
            "extract_run_id": extract_run_id,
            "file": run["file_name"],
            "sha256": run["sha256"],
            "rows": run["rows"],
        },
    )
    media = "text/plain" if run["file_name"].endswith(".txt") else "text/csv"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{run["file_name"]}"'},
    )


# --- jobs: extract and validate -----------------------------------------------------------------


class ExtractRequest(BaseModel):
    year: str | int = mosis_layouts.DEFAULT_SCHOOL_YEAR
    cycle: str
    layout: str
    school: str | None = None
    count_date: date | None = None


class ValidateRequest(BaseModel):
    year: str | int = mosis_layouts.DEFAULT_SCHOOL_YEAR
    cycle: str


def _blank_none(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _start_extract(request: Request, ctx: TenantContext, ask: ExtractRequest) -> Response:
    ctx.require(permissions.OPERATE)
    school_year = _school_year(ask.year)
    cycle = parse_collection(ask.cycle)  # an unknown cycle is a 400 now, not a failed job
    layout = ask.layout.strip()
    if layout not in mosis_layouts.layout_names():
        raise ExtractError(
            f"unknown MOSIS layout {layout!r}: one of {', '.join(mosis_layouts.layout_names())}"
        )
    school = _blank_none(ask.school)
    store, code, user = ctx.store, ctx.code, ctx.user.username
    out_dir = store.settings.home / "mosis" / code

    def work(progress) -> dict:
        progress(f"extracting {layout} {school_year} {cycle}")
        result = run_extract(
            store,
            code,
            school_year,
            cycle,
            layout,
            out_dir,
            school_code=school,
            count_date=ask.count_date,
            user=user,
        )
        # The job's result is seen by every role of the tenant: the rows (student keys) are
        # on the run's page, behind the role check.
        return result.as_dict(problem_limit=0) | {
            "status": "succeeded",
            "file_url": f"/t/{code}/mosis/runs/{result.extract_run_id}/file",
            "run_url": f"/t/{code}/mosis/runs/{result.extract_run_id}",
        }

    params = {
        "year": school_year,
        "cycle": cycle,
        "layout": layout,
        "school": school,
        "count_date": ask.count_date.isoformat() if ask.count_date else None,
    }
    return start_job(request, ctx, "extract", params, work)


def _start_validate(request: Request, ctx: TenantContext, ask: ValidateRequest) -> Response:
    ctx.require(permissions.OPERATE)
    school_year = _school_year(ask.year)
    cycle = parse_collection(ask.cycle)
    store, code, user = ctx.store, ctx.code, ctx.user.username

    def work(progress) -> dict:
        from nexus.validation.engine import validate

        progress(f"validating {school_year} {cycle}")
        return validate(store, code, school_year, cycle, user=user).as_dict()

    return start_job(request, ctx, "validate", {"year": school_year, "cycle": cycle}, work)


# --- DESE spec import -----------------------------------------------------------------------------


async def _import_uploads(ctx: TenantContext, files: list[UploadFile], year: str | None) -> dict:
    """Import uploaded FileSpec pages as `nexus mosis spec import` does: all or nothing."""
    ctx.require(permissions.OPERATE)
    school_year = mosis_layouts.parse_school_year(year) if _blank_none(year) else None
    uploads = [f for f in files if f.filename]
    if not uploads:
        raise SpecImportError("choose at least one FileSpec or FileSpecRules page")
    with tempfile.TemporaryDirectory(prefix="nexus-spec-") as folder:
        paths = []
        for upload in uploads:
            # The page's own name carries its year and cycle; only the name, never a path.
            name = Path(upload.filename).name
            if not name or name.startswith("."):
                raise SpecImportError(f"{upload.filename!r} is not a page's file name")
            path = Path(folder) / name
            path.write_bytes(await upload.read())
            paths.append(path)

        def run() -> dict:
            # A new layout version is the platform's (tenant 0): written unscoped, by an
            # operator or admin (checked above).
            with unscoped(), ctx.store.engine.begin() as conn:
                return spec_import.import_pages(conn, paths, school_year).as_dict()

        return await run_in_threadpool(run)


# --- pages ---------------------------------------------------------------------------------------


def _runs_view(request: Request, runs: list[dict]) -> TableView:
    return TableView.build(
        request,
        runs,
        [
            Column("extract_run_id", "run", numeric=True),
            Column("school_year", "year", numeric=True),
            Column("cycle", "cycle"),
            Column("layout", "layout"),
            Column("school_code", "school"),
            Column("status", "status"),
            Column("rows", "rows", numeric=True),
            Column("blocking", "blocking", numeric=True),
            Column("warnings", "warnings", numeric=True),
            Column("started_at", "started"),
        ],
        default_sort="extract_run_id",
        default_direction="desc",
    )


@router.get("/t/{tenant}/mosis")
def mosis_page(request: Request, ctx: Tenancy, year: str | None = None):
    summary = layouts_summary(ctx, year)
    runs = _runs(ctx)
    return render(
        request,
        "mosis.html",
        summary=summary,
        runs=_runs_view(request, runs),
        cycles=COLLECTION_CHOICES,
        years=mosis_layouts.package_years(),
    )


@router.get("/t/{tenant}/mosis/layouts/{name}")
def layout_page(
    request: Request, ctx: Tenancy, name: str, year: str | None = None, version: int | None = None
):
    return render(request, "mosis_layout.html", layout=layout_detail(ctx, name, year, version))


@router.post("/t/{tenant}/mosis/extract")
def extract_form(
    request: Request,
    ctx: Tenancy,
    year: Annotated[str, Form()],
    cycle: Annotated[str, Form()],
    layout: Annotated[str, Form()],
    school: Annotated[str | None, Form()] = None,
    count_date: Annotated[str | None, Form()] = None,
) -> Response:
    when = None
    if _blank_none(count_date):
        try:
            when = date.fromisoformat(count_date.strip())
        except ValueError:
            raise ExtractError(f"count date {count_date!r} is not a date (YYYY-MM-DD)") from None
    ask = ExtractRequest(year=year, cycle=cycle, layout=layout, school=school, count_date=when)
    return _start_extract(request, ctx, ask)


@router.post("/t/{tenant}/mosis/validate")
def validate_form(
    request: Request, ctx: Tenancy, year: Annotated[str, Form()], cycle: Annotated[str, Form()]
) -> Response:
    return _start_validate(request, ctx, ValidateRequest(year=year, cycle=cycle))


@router.get("/t/{tenant}/mosis/runs")
def runs_page(request: Request, ctx: Tenancy):
    return render(request, "mosis_runs.html", runs=_runs_view(request, _runs(ctx)))


@router.get("/t/{tenant}/mosis/runs/{extract_run_id}")
def run_page(request: Request, ctx: Tenancy, extract_run_id: int):
    shown = run_view(ctx, extract_run_id, with_rows=ctx.can(permissions.VIEW_STUDENTS))
    return render(request, "mosis_run.html", run=shown)


@router.get("/t/{tenant}/mosis/runs/{extract_run_id}/file")
def run_file_page(ctx: Tenancy, extract_run_id: int) -> Response:
    return run_file(ctx, extract_run_id)


@router.get("/t/{tenant}/mosis/spec")
def spec_page(request: Request, ctx: Tenancy):
    ctx.require(permissions.OPERATE)
    return render(request, "mosis_spec.html", result=None)


@router.post("/t/{tenant}/mosis/spec")
async def spec_form(
    request: Request,
    ctx: Tenancy,
    files: Annotated[list[UploadFile], File()],
    year: Annotated[str | None, Form()] = None,
):
    result = await _import_uploads(ctx, files, year)
    return render(request, "mosis_spec.html", result=result)


# --- API -----------------------------------------------------------------------------------------


@api.get("/tenants/{tenant}/mosis/layouts")
def layouts_api(ctx: Tenancy, year: str | None = None) -> dict:
    """The year's layouts: version, origin, provenance counts, fields derived / total and the
    required fields still left blank."""
    return layouts_summary(ctx, year)


@api.get("/tenants/{tenant}/mosis/layouts/{name}")
def layout_api(ctx: Tenancy, name: str, year: str | None = None, version: int | None = None):
    """One layout: its fields in file order (each marked derived or not), code sets, rules."""
    return layout_detail(ctx, name, year, version)


@api.post("/tenants/{tenant}/mosis/extract", status_code=202)
def extract_api(request: Request, ctx: Tenancy, ask: ExtractRequest) -> Response:
    """Generate one MOSIS file as a background job (operator); poll the job for its result."""
    return _start_extract(request, ctx, ask)


@api.post("/tenants/{tenant}/mosis/validate", status_code=202)
def validate_api(request: Request, ctx: Tenancy, ask: ValidateRequest) -> Response:
    """Validate one school year and cycle as a background job (operator)."""
    return _start_validate(request, ctx, ask)


@api.get("/tenants/{tenant}/mosis/runs")
def runs_api(ctx: Tenancy) -> dict:
    """The tenant's extract runs, newest first (counts only)."""
    return {"extract_runs": _runs(ctx)}


@api.get("/tenants/{tenant}/mosis/runs/{extract_run_id}")
def run_api(ctx: Tenancy, extract_run_id: int, rows: bool = True) -> dict:
    """One extract run; with `rows` (default) the rows it left out and warned about, which
    needs a role that sees student-level records."""
    if rows:
        ctx.require(permissions.VIEW_STUDENTS)
    return run_view(ctx, extract_run_id, with_rows=rows)


@api.get("/tenants/{tenant}/mosis/runs/{extract_run_id}/file")
def run_file_api(ctx: Tenancy, extract_run_id: int) -> Response:
    """The run's file, as DESE receives it (student-level: audited)."""
    return run_file(ctx, extract_run_id)


@api.post("/tenants/{tenant}/mosis/spec")
async def spec_api(
    ctx: Tenancy,
    files: Annotated[list[UploadFile], File()],
    year: Annotated[str | None, Form()] = None,
) -> dict:
    """Import DESE FileSpec / FileSpecRules pages (multipart `files`): a new layout version;
    answers what changed. A page that cannot be read imports nothing (400)."""
    return await _import_uploads(ctx, files, year)
