"""Campus-shaped tables built from the generated district, as column frames then Arrow tables.

A frame is a dict of equal-length numpy arrays named as `campus_schema.TABLES` names them:
object arrays (None = null) for text, datetime64 (NaT = null) for dates and timestamps, and int
or float arrays (NaN = null) for numbers. Defects edit frames in place before `to_arrow`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from nexus.synth import codes
from nexus.synth.assessments import TESTS
from nexus.synth.campus_schema import TABLES, arrow_schema
from nexus.synth.courses import catalog
from nexus.synth.district import LEVEL_LABEL
from nexus.synth.model import SynthDistrict
from nexus.synth.streams import guids, stream
from nexus.synth.transcripts import LETTERS

Frame = dict[str, np.ndarray]
NAT = np.datetime64("NaT", "D")
_PERSON_IDENTITY_BASE = 500_000


def _full(n: int, value: object) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = value
    return out


def _yn(flag: np.ndarray) -> np.ndarray:
    return np.where(flag, "Y", "N").astype(object)


def build_frames(m: SynthDistrict) -> dict[str, Frame]:
    d, cal = m.district, m.cal
    as_of = m.as_of
    f: dict[str, Frame] = {}
    ns = d.n_schools
    school_id = d.school_id

    f["District"] = {
        "districtID": np.array([1]),
        "number": np.array([d.county_district_code], object),
        "name": np.array([d.name_variants["campus"]], object),
        "ncesID": np.array([d.nces_id], object),
        "modifiedDate": np.array([as_of]),
    }
    f["School"] = {
        "schoolID": school_id,
        "districtID": np.ones(ns, np.int64),
        "number": d.school_number,
        "name": d.school_name,
        "exclude": np.zeros(ns, np.int64),
        "schoolGUID": d.school_guid,
        "modifiedDate": np.full(ns, as_of),
        "type": np.array([LEVEL_LABEL[lv] for lv in d.school_level], dtype=object),
    }
    years = np.arange(cal.year.end_year - 3, cal.year.end_year + 1)
    f["SchoolYear"] = {
        "endYear": years,
        "active": (years == cal.year.end_year).astype(np.int64),
        "label": np.array([f"{y - 1}-{y % 100:02d}" for y in years], object),
        "startDate": np.array([np.datetime64(dt.date(int(y) - 1, 7, 1), "D") for y in years]),
        "endDate": np.array([np.datetime64(dt.date(int(y), 6, 30), "D") for y in years]),
    }
    f["Calendar"] = {
        "calendarID": school_id,
        "districtID": np.ones(ns, np.int64),
        "schoolID": school_id,
        "endYear": np.full(ns, cal.year.end_year),
        "name": np.array([f"{cal.year.label} {n}" for n in d.school_name], object),
        "number": d.school_number,
        "startDate": np.full(ns, cal.first_day),
        "endDate": np.full(ns, cal.last_day),
        "exclude": np.zeros(ns, np.int64),
        "summerSchool": np.zeros(ns, np.int64),
        "countDate": np.full(ns, cal.count_date),
        "type": _full(ns, "Regular"),
        "calendarGUID": _guids(m.seed, "calendar-guids", ns),
        "modifiedDate": np.full(ns, as_of),
    }
    f["ScheduleStructure"] = {
        "structureID": school_id,
        "calendarID": school_id,
        "name": _full(ns, "Main"),
    }
    f["Day"] = _days(m)
    gl_cal, gl_grade = [], []
    for s in range(ns):
        for g in range(d.grade_lo[s], d.grade_hi[s] + 1):
            gl_cal.append(school_id[s])
            gl_grade.append(g)
    gl_grade_arr = np.array(gl_grade)
    f["GradeLevel"] = {
        "calendarID": np.array(gl_cal),
        "structureID": np.array(gl_cal),
        "name": np.array(codes.GRADE_CAMPUS, object)[gl_grade_arr],
        "stateGrade": np.array(codes.GRADE_MOSIS, object)[gl_grade_arr],
        "excludeEnrollment": np.zeros(len(gl_cal), np.int64),
    }
    _people(m, f)
    f["Enrollment"] = _enrollments(m)
    _programs(m, f)
    _schedule(m, f)
    _staffing(m, f)
    _behavior(m, f)
    _tests(m, f)
    _transcripts(m, f)
    return f


def _guids(seed: int, purpose: str, n: int) -> np.ndarray:
    return guids(stream(seed, purpose), n)


def _days(m: SynthDistrict) -> Frame:
    d, cal = m.district, m.cal
    n_dates = cal.dates.size
    ns = d.n_schools
    inst = cal.instructional.astype(np.int64)
    dur = np.zeros((ns, n_dates), dtype=np.int64)
    for s in range(ns):
        dur[s, cal.instructional] = cal.minutes(d.school_level[s])
    calendar_id = np.repeat(d.school_id, n_dates)
    return {
        "dayID": np.arange(1, ns * n_dates + 1, dtype=np.int64),
        "calendarID": calendar_id,
        "structureID": calendar_id,
        "date": np.tile(cal.dates, ns),
        "instruction": np.tile(inst, ns),
        "attendance": np.tile(inst, ns),
        "duration": dur.reshape(-1),
        "comments": np.tile(cal.comments, ns),
        "modifiedDate": np.full(ns * n_dates, m.as_of),
    }


def _people(m: SynthDistrict, f: dict[str, Frame]) -> None:
    st, sf = m.students, m.staff
    n_staff, n_stu = sf.n, st.n
    race_mosis = np.array(codes.RACE_MOSIS, object)
    race_fed = np.array(codes.RACE_FED, object)
    person_id = np.concatenate([sf.person_id, st.person_id])
    current = _PERSON_IDENTITY_BASE + 1 + np.arange(n_staff + n_stu, dtype=np.int64)
    f["Person"] = {
        "personID": person_id,
        "currentIdentityID": current,
        "stateID": np.concatenate([_full(n_staff, None), st.state_id]),
        "studentNumber": np.concatenate([_full(n_staff, None), st.student_number]),
        "staffNumber": np.concatenate([sf.staff_number, _full(n_stu, None)]),
        "staffStateID": np.concatenate([sf.staff_state_id, _full(n_stu, None)]),
        "personGUID": np.concatenate([sf.person_guid, st.person_guid]),
    }
    rng = stream(m.seed, "identity-history")
    changed = np.flatnonzero(st.prior_last != None)  # noqa: E711 - object array comparison
    effective = np.concatenate([sf.hire_date, st.birthdate])
    recent = m.cal.first_day - rng.integers(30, 700, changed.size).astype("timedelta64[D]")
    effective[n_staff + changed] = recent
    gender = np.where(np.concatenate([sf.is_male, st.is_male]), "M", "F").astype(object)
    race = np.concatenate([sf.race, st.race])
    hispanic = _yn(race == 0)
    language = np.concatenate([_full(n_staff, "eng"), st.language])
    ident = {
        "identityID": current,
        "personID": person_id,
        "effectiveDate": effective,
        "lastName": np.concatenate([sf.last, st.last]),
        "firstName": np.concatenate([sf.first, st.first]),
        "middleName": np.concatenate([sf.middle, st.middle]),
        "suffix": np.concatenate([_full(n_staff, None), st.suffix]),
        "gender": gender,
        "birthdate": np.concatenate([sf.birthdate, st.birthdate]),
        "raceEthnicity": race_mosis[race],
        "raceEthnicityFed": race_fed[race],
        "hispanicEthnicity": hispanic,
        "homePrimaryLanguage": language,
        "identityGUID": np.concatenate([sf.identity_guid, st.identity_guid]),
        "districtID": np.ones(person_id.size, np.int64),
        "modifiedDate": np.full(person_id.size, m.as_of),
    }
    # Older identity rows for students whose legal surname changed.
    rows = n_staff + changed
    prior = {k: v[rows].copy() for k, v in ident.items()}
    prior["identityID"] = current[-1] + 1 + np.arange(changed.size)
    prior["lastName"] = st.prior_last[changed]
    prior["effectiveDate"] = st.birthdate[changed]
    prior["identityGUID"] = _guids(m.seed, "identity-prior-guids", changed.size)
    f["Identity"] = {k: np.concatenate([ident[k], prior[k]]) for k in ident}
    f["Contact"] = {
        "personID": person_id,
        "email": np.concatenate([sf.email, st.email]),
        "secondaryEmail": _full(person_id.size, None),
        "workPhone": np.concatenate([sf.phone, _full(n_stu, None)]),
    }


def _enrollments(m: SynthDistrict) -> Frame:
    d, cal, st, enr = m.district, m.cal, m.students, m.enr
    s = enr.student
    n = enr.n
    g = enr.grade
    grad_year = cal.year.end_year + (13 - g)
    end_date = cal.inst_dates[enr.end_idx].copy()
    end_date[enr.open_end] = NAT
    diploma_date = np.where(enr.graduate, cal.inst_dates[enr.end_idx], NAT)
    # A non-resident's building of residence is in the resident district; synthetic neighbour
    # districts number their buildings like this one, so it takes the same-level building's code.
    resident_school = d.school_number[enr.school]
    return {
        "enrollmentID": enr.enrollment_id,
        "personID": st.person_id[s],
        "calendarID": d.school_id[enr.school],
        "structureID": d.school_id[enr.school],
        "grade": np.array(codes.GRADE_CAMPUS, object)[g],
        "serviceType": _full(n, "P"),
        "active": np.ones(n, np.int64),
        "noShow": np.zeros(n, np.int64),
        "stateExclude": np.zeros(n, np.int64),
        "startDate": cal.inst_dates[enr.start_idx],
        "startStatus": enr.start_status,
        "endDate": end_date,
        "endStatus": enr.end_status,
        "endYear": np.full(n, cal.year.end_year),
        "districtID": np.ones(n, np.int64),
        "residentDistrict": st.resident_district[s],
        "residencyStatus": st.residency[s],
        "mealStatus": st.meal[s],
        "lep": st.lep[s],
        "title1": enr.title1,
        "migrant": _yn(st.migrant[s]),
        "immigrant": _yn(st.immigrant[s]),
        "homeless": _yn(st.homeless[s]),
        "fosterCare": _yn(st.foster[s]),
        "giftedTalented": _yn(st.gifted[s]),
        "section504": _yn(st.s504[s]),
        "specialEdStatus": _yn(st.iep[s]),
        "disability1": np.where(st.iep[s], st.disability[s], None),
        "percentEnrolled": np.full(n, 100.0),
        "cohortYear": np.where(g >= 10, grad_year, np.nan),
        "gradYear": grad_year.astype(np.int64),
        "diplomaDate": diploma_date,
        "diplomaType": np.where(enr.graduate, "Regular", None),
        "enrollmentGUID": enr.guid,
        "modifiedDate": np.full(n, m.as_of),
        "residentSchool": resident_school,
    }


def _programs(m: SynthDistrict, f: dict[str, Frame]) -> None:
    st, cal = m.students, m.cal
    rng = stream(m.seed, "programs")
    el = np.flatnonzero(st.lep != "NLP")
    years_back = {"RCV": 0, "NRC": 0, "MY1": 1, "MY2": 2, "AY3": 3, "AY4": 4}
    back = np.array([years_back[c] for c in st.lep[el]], dtype=np.int64)
    school_start = st.birthdate[el] + np.timedelta64(5 * 365 + 200, "D")
    identified = np.maximum(school_start, np.datetime64(dt.date(2005, 8, 15), "D"))
    recent = cal.first_day - rng.integers(0, 400, el.size).astype("timedelta64[D]")
    identified = np.where(st.immigrant[el], recent, identified)
    exit_date = np.array(
        [
            np.datetime64(dt.date(cal.year.start_year - int(b) + 1, 5, 20), "D") if b else NAT
            for b in back
        ],
        dtype="datetime64[D]",
    )
    identified = np.minimum(identified, np.where(back > 0, exit_date - 400, identified))
    status = np.where(back > 0, "Exited", np.where(st.lep[el] == "NRC", "Refused", "LEP"))
    f["Lep"] = {
        "personID": st.person_id[el],
        "programStatus": status.astype(object),
        "identifiedDate": identified.astype("datetime64[D]"),
        "exitDate": exit_date,
    }
    s5 = np.flatnonzero(st.s504)
    start = cal.first_day - rng.integers(20, 1000, s5.size).astype("timedelta64[D]")
    f["Section504"] = {
        "personID": st.person_id[s5],
        "startDate": start,
        "endDate": np.full(s5.size, NAT),
    }


def _schedule(m: SynthDistrict, f: dict[str, Frame]) -> None:
    d, cal, st, sc, sf = m.district, m.cal, m.students, m.schedule, m.staff
    cat = catalog()
    calendar_of_course = d.school_id[sc.course_school]
    rows = [cat[c] for c in sc.course_cat]
    nc = sc.course_id.size
    grade_codes = np.array(codes.GRADE_CAMPUS, object)
    f["Course"] = {
        "courseID": sc.course_id,
        "calendarID": calendar_of_course,
        "number": np.array([r.number for r in rows], object),
        "name": np.array([r.name for r in rows], object),
        "stateCode": np.array([r.state_code for r in rows], object),
        "active": np.ones(nc, np.int64),
        "homeroom": np.array([int(r.homeroom) for r in rows], np.int64),
        "modifiedDate": np.full(nc, m.as_of),
        "department": np.array([r.department for r in rows], object),
        "subject": np.array([r.subject for r in rows], object),
        "credit": np.array([r.credit for r in rows]),
        "grades": np.array([",".join(grade_codes[list(gs)]) for gs in sc.course_grades], object),
    }
    ns = sc.n_sections
    teacher = sc.section_teacher  # position index == staff row index for teachers
    term_school = sc.term_school[sc.section_term]
    trial = d.school_id[term_school]
    f["Section"] = {
        "sectionID": sc.section_id,
        "courseID": sc.course_id[sc.section_course],
        "number": sc.section_number,
        "teacherPersonID": sf.person_id[teacher],
        "teacherDisplay": sf.display(teacher),
        "roomID": teacher + 1,
        "trialID": trial,
        "modifiedDate": np.full(ns, m.as_of),
        "homeroomSection": f["Course"]["homeroom"][sc.section_course],
    }
    nsch = d.n_schools
    f["Trial"] = {
        "trialID": d.school_id,
        "structureID": d.school_id,
        "calendarID": d.school_id,
        "active": np.ones(nsch, np.int64),
    }
    f["TermSchedule"] = {"termScheduleID": d.school_id, "structureID": d.school_id}
    seq = np.where(sc.term_name == "S2", 2, 1)
    f["Term"] = {
        "termID": sc.term_id,
        "termScheduleID": d.school_id[sc.term_school],
        "name": sc.term_name,
        "startDate": cal.inst_dates[sc.term_start],
        "endDate": cal.inst_dates[sc.term_end],
        "termGUID": sc.term_guid,
        "seq": seq.astype(np.int64),
    }
    f["SectionPlacement"] = {
        "sectionID": sc.section_id,
        "termID": sc.term_id[sc.section_term],
        "periodID": trial * 100 + sc.section_period,
        "trialID": trial,
    }
    # One room per teaching position, numbered within the building.
    pos_school = sc.position_school
    order = np.lexsort((np.arange(pos_school.size), pos_school))
    first = np.searchsorted(pos_school[order], pos_school[order])
    rank = np.empty(pos_school.size, np.int64)
    rank[order] = np.arange(pos_school.size) - first
    f["Room"] = {
        "roomID": np.arange(1, pos_school.size + 1, dtype=np.int64),
        "name": np.array([str(100 + r) for r in rank], object),
        "schoolID": d.school_id[pos_school],
    }
    nr = sc.roster_id.size
    r_term = sc.section_term[sc.roster_section]
    f["Roster"] = {
        "rosterID": sc.roster_id,
        "personID": st.person_id[sc.roster_student],
        "sectionID": sc.section_id[sc.roster_section],
        "trialID": d.school_id[sc.term_school[r_term]],
        "startDate": cal.inst_dates[sc.roster_start],
        "endDate": cal.inst_dates[sc.roster_end],
        "modifiedDate": np.full(nr, m.as_of),
    }
    f["SectionStaffHistory"] = {
        "historyID": sc.section_id.copy(),
        "sectionID": sc.section_id,
        "personID": sf.person_id[teacher],
        "staffType": _full(ns, "P"),
        "role": _full(ns, "T"),
        "startDate": cal.inst_dates[sc.term_start[sc.section_term]],
        "endDate": cal.inst_dates[sc.term_end[sc.section_term]],
        "trialID": trial,
        "modifiedDate": np.full(ns, m.as_of),
    }


def _staffing(m: SynthDistrict, f: dict[str, Frame]) -> None:
    d, sf = m.district, m.staff
    n = sf.n
    year_start = np.datetime64(dt.date(m.cal.year.start_year, 8, 1), "D")
    f["Employment"] = {
        "employmentID": np.arange(1, n + 1, dtype=np.int64),
        "personID": sf.person_id,
        "districtID": np.ones(n, np.int64),
        "startDate": sf.hire_date,
        "endDate": np.full(n, NAT),
    }
    f["EmploymentAssignment"] = {
        "assignmentID": np.arange(1, n + 1, dtype=np.int64),
        "personID": sf.person_id,
        "schoolID": d.school_id[sf.school],
        "title": sf.title,
        "teacher": sf.is_teacher.astype(np.int64),
        "positionCode": sf.position_code,
        "fte": np.ones(n),
        "startDate": np.maximum(sf.hire_date, year_start),
        "endDate": np.full(n, NAT),
        "modifiedDate": np.full(n, m.as_of),
    }


def _behavior(m: SynthDistrict, f: dict[str, Frame]) -> None:
    d, cal, st, enr, b = m.district, m.cal, m.students, m.enr, m.discipline
    n = b.n_incidents
    calendar = d.school_id[enr.school[b.incident_enrollment]]
    f["BehaviorType"] = {
        "typeID": np.arange(1, b.offense_code.size + 1, dtype=np.int64),
        "code": b.offense_code,
        "name": b.offense_name,
        "stateCode": b.offense_state,
    }
    f["BehaviorResType"] = {
        "typeID": np.arange(1, b.res_code.size + 1, dtype=np.int64),
        "code": b.res_code,
        "name": b.res_name,
        "stateResCode": b.res_state,
    }
    f["BehaviorIncident"] = {
        "incidentID": b.incident_id,
        "calendarID": calendar,
        "timestamp": b.incident_time,
        "location": b.incident_location,
        "title": b.offense_name[b.incident_offense],
        "status": _full(n, "Complete"),
        "modifiedDate": np.full(n, m.as_of),
    }
    f["BehaviorEvent"] = {
        "eventID": b.incident_id.copy(),
        "incidentID": b.incident_id,
        "calendarID": calendar,
        "typeID": (b.incident_offense + 1).astype(np.int64),
    }
    person = st.person_id[b.incident_student]
    f["BehaviorRole"] = {
        "roleID": b.incident_id.copy(),
        "eventID": b.incident_id.copy(),
        "personID": person,
        "role": _full(n, "offender"),
    }
    f["BehaviorResolution"] = {
        "resolutionID": b.resolution_id,
        "roleID": b.incident_id[b.resolution_incident],
        "typeID": (b.resolution_type + 1).astype(np.int64),
        "personID": person[b.resolution_incident],
        "startDate": cal.inst_dates[b.resolution_start],
        "endDate": cal.inst_dates[b.resolution_end],
        "schooldaysduration": b.resolution_days,
    }


def _tests(m: SynthDistrict, f: dict[str, Frame]) -> None:
    st, sc = m.students, m.scores
    idx = {t[0]: i + 1 for i, t in enumerate(TESTS)}
    f["Test"] = {
        "testID": np.arange(1, len(TESTS) + 1, dtype=np.int64),
        "parentID": np.array([idx[p] if p else np.nan for _, p, _ in TESTS]),
        "code": np.array([t[0] for t in TESTS], object),
        "name": np.array([t[2] for t in TESTS], object),
    }
    n = sc.test.size
    f["TestScore"] = {
        "scoreID": np.arange(1, n + 1, dtype=np.int64),
        "testID": sc.test + 1,
        "personID": st.person_id[sc.student],
        "date": sc.day.astype("datetime64[D]"),
        "scaleScore": sc.scale.astype(float),
        "percentile": sc.percentile,
        "performanceLevel": sc.level,
        "testingGrade": np.array(codes.GRADE_MOSIS, object)[sc.grade],
        "modifiedDate": np.full(n, m.as_of),
    }


def _transcripts(m: SynthDistrict, f: dict[str, Frame]) -> None:
    """The largest tables: text columns are built in Arrow from the small catalog (no per-row
    Python strings), which keeps a 1,000,000-student district within memory."""
    st, t = m.students, m.transcripts
    cat = catalog()
    n = t.n
    row = pa.array(t.cat_row)

    def text(values: list[str] | tuple[str, ...], index: np.ndarray | pa.Array) -> pa.Array:
        return pa.array(list(values), pa.string()).take(index)

    f["TranscriptCourse"] = {
        "transcriptID": t.transcript_id,
        "personID": st.person_id[t.student],
        "grade": text(codes.GRADE_MOSIS, t.grade),
        "endYear": t.end_year,
        "courseNumber": text([r.number for r in cat], row),
        "courseName": text([r.name for r in cat], row),
        "stateCode": text([r.state_code for r in cat], row),
        "score": text(LETTERS, t.letter),
        "percent": t.percent,
        "date": t.date,
        "repeatCourse": np.zeros(n, np.int64),
        "actualTerm": t.term.astype(np.int64),
        "modifiedDate": np.full(n, m.as_of),
    }
    f["TranscriptCredit"] = {
        "transcriptID": t.transcript_id,
        "personID": st.person_id[t.student],
        "standardID": t.standard_id,
        "creditsEarned": t.earned,
        "creditsAttempted": t.attempted,
    }


def to_arrow(name: str, frame: Frame) -> pa.Table:
    """An Arrow table with the contract's column order and types; nulls from None/NaN/NaT."""
    schema = arrow_schema(name)
    arrays = []
    for col, kind in TABLES[name]:
        values = frame[col]
        typ = schema.field(col).type
        if isinstance(values, pa.Array | pa.ChunkedArray):
            arrays.append(values.cast(typ))
        elif kind in ("int", "float"):
            v = np.asarray(values)
            if v.dtype == object:
                mask = np.array([x is None or (isinstance(x, float) and np.isnan(x)) for x in v])
                v = np.where(mask, 0, v).astype(np.float64)
            else:
                mask = np.isnan(v) if v.dtype.kind == "f" else None
            data = np.where(mask, 0, v) if mask is not None else v
            if kind == "int":
                data = data.astype(np.int64)
            arrays.append(pa.array(data, type=typ, mask=mask))
        elif kind in ("date", "ts"):
            v = np.asarray(values).astype("datetime64[D]" if kind == "date" else "datetime64[s]")
            arrays.append(pa.array(v, type=typ, mask=np.isnat(v)))
        else:
            arrays.append(pa.array(values, type=typ, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)
