"""`generate`: build a synthetic district and write the requested formats to a folder.

Output layout (tools and tests script against it):
`district.json`, `campus.duckdb` (or `campus_url`), `campus-extract/`, `oneroster/`,
`vendors/{powerschool,star,classlink}/` (+ `vendors/crosswalk.csv`), `defects.csv`.
Same arguments give byte-identical CSV and JSON files; nothing depends on the clock.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from nexus.synth.assessments import build_scores
from nexus.synth.attendance import AttendancePlan, new_stats, stream_attendance
from nexus.synth.calendar import SchoolYear, build_calendar, parse_school_year
from nexus.synth.campus_tables import build_frames, to_arrow
from nexus.synth.codes import GRADE_MOSIS
from nexus.synth.courses import build_schedule
from nexus.synth.defects import DefectRecord, VendorOverride, inject, write_defects
from nexus.synth.discipline import build_discipline, out_of_school_days
from nexus.synth.district import LEVEL_LABEL, build_district
from nexus.synth.enrollment import build_enrollments
from nexus.synth.model import SynthDistrict
from nexus.synth.people import build_students
from nexus.synth.staff import build_staff
from nexus.synth.transcripts import build_transcripts
from nexus.synth.vendor_ids import identifier_variations
from nexus.synth.writers.campus_db import CampusDatabase, default_url
from nexus.synth.writers.campus_extract import AttendanceExtract, write_extract
from nexus.synth.writers.oneroster import write_oneroster
from nexus.synth.writers.vendors import write_vendors
from nexus.synth.writers.workspace import Workspace

FORMATS = ("campus-db", "campus-extract", "oneroster", "vendors")
MIN_STUDENTS = 50
MAX_STUDENTS = 2_000_000
GENERATOR = "nexus synth 1"


@dataclass
class SynthResult:
    """What `generate` produced: where, how much of each entity, and summary figures."""

    out_dir: str
    students: int
    seed: int
    school_year: str
    formats: list[str]
    defect_rate: float
    campus_url: str | None
    counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)
    defects: int = 0
    stats: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def parse_formats(formats: str | Iterable[str] | None) -> tuple[str, ...]:
    if formats is None:
        return FORMATS
    items = [f.strip() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    items = [f for f in items if f]
    unknown = [f for f in items if f not in FORMATS]
    if unknown or not items:
        raise ValueError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}"
        )
    return tuple(f for f in FORMATS if f in items)


def build_model(students: int, seed: int, year: SchoolYear) -> SynthDistrict:
    """Generate the district in memory (no files)."""
    if not MIN_STUDENTS <= students <= MAX_STUDENTS:
        raise ValueError(f"--students must be between {MIN_STUDENTS} and {MAX_STUDENTS:,}")
    district = build_district(seed, students)
    cal = build_calendar(seed, year)
    st = build_students(
        seed,
        students,
        year.start_year,
        district.county_district_code,
        district.neighbour_codes,
        district.student_domain,
    )
    enr, outcome = build_enrollments(seed, district, cal, st)
    schedule = build_schedule(seed, district, cal, st, enr)
    staff = build_staff(seed, district, cal, schedule, enr)
    transcripts = build_transcripts(seed, district, cal, st, enr, schedule)
    discipline = build_discipline(seed, district, cal, st, enr)
    scores, star = build_scores(seed, cal, st, enr, schedule)
    return SynthDistrict(
        seed=seed,
        district=district,
        cal=cal,
        students=st,
        enr=enr,
        outcome=outcome,
        schedule=schedule,
        staff=staff,
        transcripts=transcripts,
        discipline=discipline,
        scores=scores,
        star=star,
    )


def generate(
    out_dir: str | Path,
    students: int = 1000,
    seed: int = 1,
    year: str | int = "2026-27",
    formats: str | Iterable[str] | None = None,
    defect_rate: float = 0.0,
    campus_url: str | None = None,
    campus_schema: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SynthResult:
    """Synthesise a Missouri district into `out_dir`; see the module docstring for the layout.

    `campus_schema` puts the Campus tables in a database schema (tests use it on PostgreSQL).
    `progress` receives one short line per stage.
    """
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    school_year = parse_school_year(year)
    chosen = parse_formats(formats)
    if defect_rate < 0 or defect_rate > 0.5:
        raise ValueError("--defects must be a rate between 0 and 0.5")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    say(f"generating {students:,} students for {school_year.label}")
    m = build_model(students, seed, school_year)
    frames = build_frames(m)
    forced_e, forced_d = out_of_school_days(m.discipline, m.enr)
    plan = AttendancePlan(seed, m.cal, m.district, m.students, m.enr, forced_e, forced_d)
    in_star = np.zeros(m.students.n, dtype=bool)
    in_star[m.star.student] = True
    variations = identifier_variations(seed, m.students, in_star)
    records: list[DefectRecord] = []
    overrides: list[VendorOverride] = []
    if defect_rate > 0:
        say(f"injecting defects at rate {defect_rate}")
        varied = np.concatenate(list(variations.values()))
        records, overrides = inject(m, frames, plan, defect_rate, varied)
    tables = {name: to_arrow(name, frames.pop(name)) for name in list(frames)}

    result = SynthResult(
        out_dir=str(out),
        students=students,
        seed=seed,
        school_year=school_year.label,
        formats=list(chosen),
        defect_rate=defect_rate,
        campus_url=None,
    )
    _write_district_json(m, out / "district.json")
    result.files["district"] = ["district.json"]

    db = None
    if "campus-db" in chosen:
        url = campus_url or default_url(out)
        if campus_url is None:
            for p in (out / "campus.duckdb", out / "campus.duckdb.wal"):
                p.unlink(missing_ok=True)
        say(f"writing the Campus database to {url.split('://')[0]}")
        db = CampusDatabase(url, campus_schema)
        result.campus_url = url
        for name, table in tables.items():
            db.load(name, table)
        result.files["campus-db"] = ["campus.duckdb"] if campus_url is None else []
    extract = None
    ws = None
    spill = tempfile.TemporaryDirectory(prefix="nexus-synth-")
    if "campus-extract" in chosen or "oneroster" in chosen or "vendors" in chosen:
        ws = Workspace(tables, Path(spill.name))
    if "campus-extract" in chosen:
        say("writing Campus extract files")
        rows = write_extract(ws, out / "campus-extract")
        extract = AttendanceExtract(out / "campus-extract", m.cal.first_day, m.cal.last_day)
        result.files["campus-extract"] = sorted(
            f"campus-extract/{n}" for n in [*rows, "attendance.csv"]
        )
    say("streaming daily attendance")
    stats = new_stats(m.students.n)
    for batch in stream_attendance(plan, stats):
        if db is not None:
            db.load("AttendanceDay", batch)
        if extract is not None:
            extract.write(batch)
    if extract is not None:
        extract.close()
    if db is not None:
        db.close()
    if "oneroster" in chosen:
        say("writing the OneRoster 1.2 bundle")
        rows = write_oneroster(ws, out / "oneroster", m.district.guid)
        result.files["oneroster"] = sorted(
            ["oneroster/manifest.csv"] + [f"oneroster/{n}.csv" for n in rows]
        )
    if "vendors" in chosen:
        say("writing PowerSchool, Star and ClassLink files")
        rows = write_vendors(m, ws, out / "vendors", variations, overrides)
        result.files["vendors"] = sorted(f"vendors/{n}" for n in rows)
    if ws is not None:
        ws.close()
    spill.cleanup()
    write_defects(out / "defects.csv", records)
    result.files["defects"] = ["defects.csv"]

    result.counts = {name: t.num_rows for name, t in tables.items()}
    result.counts["AttendanceDay"] = stats.rows
    result.counts["students"] = m.students.n
    result.counts["staff"] = m.staff.n
    result.counts["schools"] = m.district.n_schools
    result.counts["star_tests"] = m.star.n
    result.defects = len(records)
    result.stats = stats.summary()
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _write_district_json(m: SynthDistrict, path: Path) -> None:
    d, cal = m.district, m.cal
    doc = {
        "generator": GENERATOR,
        "seed": m.seed,
        "students": m.students.n,
        "name": d.name,
        "name_variants": d.name_variants,
        "county_district_code": d.county_district_code,
        "nces_id": d.nces_id,
        "district_guid": d.guid,
        "school_year": cal.year.label,
        "end_year": cal.year.end_year,
        "first_day": str(cal.first_day),
        "last_day": str(cal.last_day),
        "instructional_days": cal.n_days,
        "count_date": str(cal.count_date),
        "email_domains": {"staff": d.staff_domain, "students": d.student_domain},
        "schools": [
            {
                "school_id": int(d.school_id[i]),
                "calendar_id": int(d.school_id[i]),
                "code": d.school_number[i],
                "name": d.school_name[i],
                "level": LEVEL_LABEL[d.school_level[i]],
                "guid": d.school_guid[i],
                "grades": [_grade(g) for g in range(int(d.grade_lo[i]), int(d.grade_hi[i]) + 1)],
            }
            for i in range(d.n_schools)
        ],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _grade(g: int) -> str:
    return GRADE_MOSIS[g]
