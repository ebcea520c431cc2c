"""A tiny canonical district written straight into `census` and `education` (synthetic people),
so each Ed-Fi rule can be driven by a row a test names.

Two schools of district 048078 (1050 "Central High", 2050 "North Middle"), one calendar each
for 2026-27; a teacher; students:
- 101 (state id 1000000101): grade 10 at 1050, English I (A, 0.5/0.5 credits, rostered in an
  S1 section), Biology (EOC section ending in May), an ASVAB with two parts;
- 102 (1000000102): grade 7 at 2050, Mathematics 6 section (MAP math) and a transcript with no
  score (not sent), an EOC exception test (EOCEX3, English II);
- 103 (no state id): grade 10 at 1050 with an English I transcript (invalid: no state id);
- 104 (1000000104): a no-show enrollment only (nothing sends).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from nexus.store import canonical_tables as ct
from nexus.store.tenants import get_tenant

D = dt.date
LINEAGE = dict(
    key_scope="campus",
    source_system_id=1,
    source_record_id=1,
    ingestion_run_id=1,
    row_hash="fixture",
)


def _rows(conn, table: sa.Table, tenant_id: int, rows: list[dict]) -> None:
    full = []
    for i, row in enumerate(rows, 1):
        r = {"tenant_id": tenant_id, **LINEAGE, "source_key": str(i), **row}
        r = {k: v for k, v in r.items() if k in table.c}
        full.append(r)
    for r in full:  # rows differ in the columns they set
        conn.execute(table.insert().values(**r))


def _person(
    conn,
    t: int,
    pid: int,
    kind: str,
    first: str,
    last: str,
    state_id: str | None,
    email: str | None = None,
    birth: dt.date = D(2010, 3, 4),
) -> None:
    conn.execute(
        ct.people.insert().values(
            tenant_id=t, person_id=pid, person_kind=kind, created_at=dt.datetime.now(dt.UTC)
        )
    )
    conn.execute(
        ct.identities.insert().values(
            tenant_id=t,
            key_scope="campus",
            source_key=str(pid),
            source_system_id=1,
            source_record_id=1,
            ingestion_run_id=1,
            row_hash="fixture",
            person_kind=kind,
            person_id=pid,
            link_status="linked",
            legal_first_name=first,
            legal_last_name=last,
            birth_date=birth,
        )
    )
    ids = []
    if state_id:
        ids.append(("mosis_state_id", "DESE", state_id))
    if email:
        ids.append(("email", "district", email))
    for kind_, authority, value in ids:
        conn.execute(
            ct.person_identifiers.insert().values(
                tenant_id=t,
                key_scope="campus",
                source_key=str(pid),
                person_kind=kind,
                identifier_type=kind_,
                authority=authority,
                value=value,
                source_system_id=1,
                valid_from_run=1,
            )
        )


def write_district(store, tenant_code: str = "demo") -> int:
    """Write the fixture district; returns the tenant id."""
    with store.engine.begin() as conn:
        t = get_tenant(conn, tenant_code).tenant_id
        _rows(
            conn,
            ct.schools,
            t,
            [
                dict(
                    school_id=1,
                    school_code="1050",
                    county_district_code="048078",
                    name="Central High",
                    local_code="10",
                    state_exclude=False,
                ),
                dict(
                    school_id=2,
                    school_code="2050",
                    county_district_code="048078",
                    name="North Middle",
                    local_code="20",
                    state_exclude=False,
                ),
            ],
        )
        _rows(
            conn,
            ct.calendars,
            t,
            [
                dict(
                    calendar_id=1,
                    school_id=1,
                    school_year=2027,
                    name="HS 26-27",
                    start_date=D(2026, 8, 13),
                    end_date=D(2027, 5, 20),
                    state_exclude=False,
                    summer_school=False,
                ),
                dict(
                    calendar_id=2,
                    school_id=2,
                    school_year=2027,
                    name="MS 26-27",
                    start_date=D(2026, 8, 13),
                    end_date=D(2027, 5, 20),
                    state_exclude=False,
                    summer_school=False,
                ),
            ],
        )
        _person(conn, t, 101, "student", "Ada", "Byron", "1000000101")
        _person(conn, t, 102, "student", "Grace", "Hopper", "1000000102")
        _person(conn, t, 103, "student", "Alan", "Turing", None)
        _person(conn, t, 104, "student", "Edsger", "Dijkstra", "1000000104")
        _person(
            conn,
            t,
            201,
            "staff",
            "Barbara",
            "Liskov",
            None,
            "b.liskov@staff.example",
            birth=D(1980, 1, 1),
        )
        enrollment = dict(
            school_year=2027,
            entry_date=D(2026, 8, 13),
            service_type="P",
            state_exclude=False,
            no_show=False,
        )
        _rows(
            conn,
            ct.enrollments,
            t,
            [
                dict(
                    enrollment_id=1,
                    person_id=101,
                    school_id=1,
                    calendar_id=1,
                    grade_level="10",
                    **enrollment,
                ),
                dict(
                    enrollment_id=2,
                    person_id=102,
                    school_id=2,
                    calendar_id=2,
                    grade_level="07",
                    **enrollment,
                ),
                dict(
                    enrollment_id=3,
                    person_id=103,
                    school_id=1,
                    calendar_id=1,
                    grade_level="10",
                    **enrollment,
                ),
                dict(
                    enrollment_id=4,
                    person_id=104,
                    school_id=1,
                    calendar_id=1,
                    grade_level="10",
                    **{**enrollment, "no_show": True},
                ),
            ],
        )
        _rows(
            conn,
            ct.courses,
            t,
            [
                dict(
                    course_id=1,
                    school_id=1,
                    calendar_id=1,
                    local_course_code="1001",
                    name="English I",
                    state_course_code="051000",
                    active=True,
                    homeroom=False,
                ),
                dict(
                    course_id=2,
                    school_id=2,
                    calendar_id=2,
                    local_course_code="0602",
                    name="Mathematics 6",
                    state_course_code="020600",
                    active=True,
                    homeroom=False,
                ),
                dict(
                    course_id=3,
                    school_id=1,
                    calendar_id=1,
                    local_course_code="1202",
                    name="Biology",
                    state_course_code="031100",
                    active=True,
                    homeroom=False,
                ),
            ],
        )
        _rows(
            conn,
            ct.sections,
            t,
            [
                dict(
                    section_id=1,
                    course_id=1,
                    term_name="S1",
                    term_start_date=D(2026, 8, 13),
                    term_end_date=D(2026, 12, 18),
                    local_section_code="1",
                    room="201",
                    primary_educator_id=201,
                ),
                dict(
                    section_id=2,
                    course_id=2,
                    term_name="Year",
                    term_start_date=D(2026, 8, 13),
                    term_end_date=D(2027, 5, 20),
                    local_section_code="1",
                    room="101",
                    primary_educator_id=None,
                ),
                dict(
                    section_id=3,
                    course_id=3,
                    term_name="S2",
                    term_start_date=D(2027, 1, 5),
                    term_end_date=D(2027, 5, 20),
                    local_section_code="1",
                    room="301",
                    primary_educator_id=201,
                ),
            ],
        )
        _rows(
            conn,
            ct.section_educators,
            t,
            [
                dict(section_id=2, person_id=201, role="primary", start_date=D(2026, 8, 1)),
            ],
        )
        _rows(
            conn,
            ct.section_enrollments,
            t,
            [
                dict(section_id=1, person_id=101, start_date=D(2026, 8, 13)),
                dict(section_id=3, person_id=101, start_date=D(2027, 1, 5)),
                dict(section_id=2, person_id=102, start_date=D(2026, 8, 13)),
            ],
        )
        transcript = dict(
            school_year=2027,
            grade_level="10",
            local_course_code="1001",
            course_name="English I",
            state_course_code="051000",
            term="1",
            credits_attempted=Decimal("0.5"),
            credits_earned=Decimal("0.5"),
            completed_date=D(2026, 12, 18),
        )
        _rows(
            conn,
            ct.course_transcripts,
            t,
            [
                dict(person_id=101, mark="A", **transcript, source_key="t-101"),
                dict(
                    person_id=102,
                    mark=None,
                    **{**transcript, "grade_level": "07"},
                    source_key="t-102",
                ),
                dict(person_id=103, mark="B", **transcript, source_key="t-103"),
            ],
        )
        _rows(
            conn,
            ct.assessments,
            t,
            [
                dict(assessment_id=1, assessment_code="ASVAB", name="ASVAB"),
                dict(assessment_id=2, assessment_code="ASVAB-AR", name="Arithmetic Reasoning"),
                dict(assessment_id=3, assessment_code="EOC-ENG2", name="EOC English II"),
            ],
        )
        _rows(
            conn,
            ct.assessment_results,
            t,
            [
                dict(
                    person_id=101,
                    assessment_id=1,
                    administration_date=D(2027, 2, 24),
                    percentile=Decimal("66"),
                    source_key="r-asvab",
                ),
                dict(
                    person_id=101,
                    assessment_id=2,
                    administration_date=D(2027, 2, 24),
                    scale_score=Decimal("54"),
                    source_key="r-asvab-ar",
                ),
                dict(
                    person_id=102,
                    assessment_id=3,
                    administration_date=D(2027, 4, 1),
                    performance_level="EOCEX3",
                    source_key="r-eocex",
                ),
            ],
        )
    return t
