"""Renaissance Star files in the v2 data-extract layout: `SR.csv`, `SM.csv`, `SEL.csv`.

Headers are the v2 layouts of reference/sources/renaissance-star.md (126, 118 and 118 columns).
`StudentIdentifier` is the district's student number (PowerSchool `STUDENTS.STUDENT_NUMBER`),
`StudentSourcedID` the PowerSchool DCID, `DistrictName` "... Public Schools". Each test is
attached to the student's reading (homeroom, ELA, English) or math class on the test day.
Per-student, per-section and per-school columns are built once and taken per event, and events
are written in chunks, so memory stays flat at any district size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from nexus.integration.connectors.star.layouts import HEADERS
from nexus.synth import codes
from nexus.synth.assessments import STAR_CATEGORIES, WINDOWS
from nexus.synth.courses import catalog
from nexus.synth.defects import VendorOverride
from nexus.synth.model import SynthDistrict
from nexus.synth.streams import guids, stream
from nexus.synth.vendor_ids import STAFF_DCID_BASE, powerschool_dcid
from nexus.synth.writers.csv_files import (
    CsvStream,
    constant,
    flat,
    iso_millis_z,
    text,
    yes_no,
)
from nexus.synth.writers.people import People

# Star's v2 headers are the connector's own layouts: what synth writes, Nexus reads.
STAR_HEADERS: dict[str, tuple[str, ...]] = {
    product: HEADERS[("v2", product)] for product in ("SR", "SM", "SEL")
}
_STAR_CHUNK = 200_000


def _star_sections(m: SynthDistrict) -> np.ndarray:
    """Per Star event, the roster's section: the reading or math class covering the test day."""
    sc, star = m.schedule, m.star
    cat = catalog()
    slot_of_cat = np.array([r.slot for r in cat])
    slot = slot_of_cat[sc.course_cat[sc.section_course[sc.roster_section]]]
    out = np.full(star.n, -1, dtype=np.int64)
    day = np.searchsorted(m.cal.inst_dates, star.completed.astype("datetime64[D]"))
    for product, wanted in (
        ("SR", ("hr", "ela", "eng")),
        ("SEL", ("hr", "ela", "eng")),
        ("SM", ("hr", "math")),
    ):
        keep = np.flatnonzero(np.isin(slot, wanted))
        ev = np.flatnonzero(star.product == product)
        if keep.size == 0 or ev.size == 0:
            continue
        stu = sc.roster_student[keep]
        order = np.argsort(stu, kind="stable")
        keep, stu = keep[order], stu[order]
        lo = np.searchsorted(stu, star.student[ev], "left")
        hi = np.searchsorted(stu, star.student[ev], "right")
        found = np.full(ev.size, -1, dtype=np.int64)
        for k in range(4):
            r = keep[np.minimum(lo + k, keep.size - 1)]
            ok = (
                (found < 0)
                & (lo + k < hi)
                & (sc.roster_start[r] <= day[ev])
                & (day[ev] <= sc.roster_end[r])
            )
            found[ok] = sc.roster_section[r[ok]]
        out[ev] = found
    return out


def write_star(
    m: SynthDistrict,
    people: People,
    star_id: np.ndarray,
    overrides: list[VendorOverride],
    folder: Path,
) -> dict[str, int]:
    """SR.csv, SM.csv, SEL.csv: per-student, per-section and per-school columns are built
    once and taken per event, and events are written in chunks, so memory stays flat."""
    st, star, d, cal, sc, sf = m.students, m.star, m.district, m.cal, m.schedule, m.staff
    cat = catalog()
    rng = stream(m.seed, "renaissance-ids")
    client = int(d.nces_id[-5:])
    end_year = cal.year.end_year
    pid = st.person_id

    # Per student.
    race = people.values("raceEthnicity", pid)
    birth = people.values("birthdate", pid).astype("datetime64[D]")
    birth_text = np.char.add(np.datetime_as_string(birth, unit="D"), "T00:00:00.000Z").astype(
        object
    )
    for o in overrides:
        if o.vendor == "star" and o.field == "BirthDate":
            birth_text[o.student] = f"{o.value}T00:00:00.000Z"
    student_email = people.values("email", pid)
    per_student = {
        "StudentRenaissanceID": guids(rng, st.n),
        "StudentSourcedID": powerschool_dcid(np.arange(st.n)).astype(str),
        "StudentIdentifier": star_id,
        "StudentUserID": np.array(
            [e.split("@")[0] if e else None for e in student_email], dtype=object
        ),
        "StudentStateID": people.values("stateID", pid),
        "StudentEmail": student_email,
        "StudentFirstName": people.values("firstName", pid),
        "StudentMiddleName": people.values("middleName", pid),
        "StudentLastName": people.values("lastName", pid),
        "Gender": people.values("gender", pid),
        "BirthDate": birth_text,
        "MultiRace": np.where(race == "M", "Yes", "No"),
        "HispanicOrLatino": np.where(people.values("hispanicEthnicity", pid) == "Y", "Yes", "No"),
        "AmericanIndianOrAlaskaNative": np.where(race == "I", "Yes", "No"),
        "Asian": np.where(race == "A", "Yes", "No"),
        "BlackOrAfricanAmerican": np.where(race == "B", "Yes", "No"),
        "NativeHawaiianOrOtherPacificIslander": np.where(race == "P", "Yes", "No"),
        "White": np.where(race == "W", "Yes", "No"),
        "CurrentGrade": np.array(codes.GRADE_STAR, dtype=object)[st.grade],
    }
    per_student = {k: text(v) for k, v in per_student.items()}
    per_student["Grade"] = per_student["CurrentGrade"]

    # Per school.
    school_numbers = d.school_number.astype(str)
    per_school = {
        "SchoolRenaissanceID": text(guids(rng, d.n_schools)),
        "SchoolSourcedID": pa.array(np.char.add("vchSISSchoolID=", school_numbers)),
        "SchoolIdentifier": pa.array(school_numbers),
        "SchoolStateID": pa.array(school_numbers),
        "SchoolName": text(d.school_name),
    }

    # Per section (the class the test is attached to) and its teacher.
    course_rows = sc.course_cat[sc.section_course]
    course_number = np.array([r.number for r in cat])[course_rows]
    course_name = np.array([r.name for r in cat])[course_rows]
    sec_school = sc.term_school[sc.section_term]
    teacher = sc.section_teacher
    tpid = sf.person_id[teacher]
    t_email = people.values("email", tpid)
    course_guid = guids(rng, sc.course_id.size)
    number_text = sc.section_number.astype(str)
    per_section = {
        "CourseRenaissanceID": text(course_guid[sc.section_course]),
        "CourseSourcedID": pa.array(
            np.char.add(
                np.char.add(
                    np.char.add(
                        f"vchSISSchoolYearID={end_year}&vchSISSchoolID=", school_numbers[sec_school]
                    ),
                    "&vchSISCourseID=",
                ),
                course_number,
            )
        ),
        "CourseCode": pa.array(course_number),
        "CourseName": pa.array(course_name),
        "ClassRenaissanceID": text(guids(rng, sc.n_sections)),
        "ClassSourcedID": pa.array(
            np.char.add(f"vchSISSchoolYearID={end_year}&vchSISClassID=", sc.section_id.astype(str))
        ),
        "ClassCode": pa.array(number_text),
        "GroupID": text(guids(rng, sc.n_sections)),
        "GroupOrClassName": pa.array(
            np.char.add(np.char.add(np.char.add(course_name, " ("), number_text), ")")
        ),
        "TeacherRenaissanceID": text(guids(rng, sf.n)[teacher]),
        "TeacherSourcedID": pa.array((STAFF_DCID_BASE + teacher).astype(str)),
        "TeacherIdentifier": text(sf.staff_number[teacher]),
        "TeacherUserID": text(np.array([e.split("@")[0] for e in t_email], dtype=object)),
        "TeacherStateID": text(sf.staff_state_id[teacher]),
        "TeacherEmail": text(t_email),
        "TeacherFirstName": text(people.values("firstName", tpid)),
        "TeacherMiddleName": text(people.values("middleName", tpid)),
        "TeacherLastName": text(people.values("lastName", tpid)),
    }
    district_guid = guids(rng, 1)[0]
    section = _star_sections(m)
    school = m.enr.school[star.enrollment]
    category_name = np.array([c[0] for c in STAR_CATEGORIES])
    category_min = np.array([c[1] for c in STAR_CATEGORIES])
    category_max = np.array([c[2] for c in STAR_CATEGORIES])
    local = star.completed - (np.where(star.window == 1, 6, 5) * 3_600_000).astype(
        "timedelta64[ms]"
    )

    def event_columns(ev: np.ndarray) -> dict[str, pa.Array]:
        n = ev.size
        s = star.student[ev]
        sec_idx = pa.array(section[ev], mask=section[ev] < 0)
        cat_idx = star.category[ev]
        ge = star.ge[ev]
        scaled = star.scaled[ev]
        window = star.window[ev]
        sgp = star.sgp[ev]
        sgp_text = pa.array(np.nan_to_num(sgp).astype(np.int64), mask=np.isnan(sgp)).cast(
            pa.string()
        )
        proficient = yes_no(cat_idx == 0)
        cols: dict[str, pa.Array] = {
            "RenaissanceClientID": constant(str(client), n),
            "SchoolYear": constant(f"{end_year - 1}-{end_year}", n),
            "SchoolYearStartDate": constant(f"{cal.first_day}T00:00:00Z", n),
            "SchoolYearEndDate": constant(f"{cal.last_day}T00:00:00Z", n),
            "EnrollmentStatus": constant("Enrolled", n),
            "DistrictRenaissanceID": constant(district_guid, n),
            "DistrictSourcedID": constant(f"vchClientID={client}", n),
            "DistrictStateID": constant(d.county_district_code, n),
            "DistrictName": constant(d.name_variants["star"], n),
            "AssessmentID": pa.array(star.assessment_id[ev]).cast(pa.string()),
            "LaunchDate": iso_millis_z(star.launched[ev]),
            "CompletedDate": iso_millis_z(star.completed[ev]),
            "CompletedDateLocal": iso_millis_z(local[ev]),
            "AssessmentNumber": text(star.number[ev]),
            "AssessmentType": constant("Enterprise", n),
            "AssessmentStatus": constant("Active", n),
            "GradePlacement": text(np.round(np.maximum(star.grade_placement[ev], 0), 2)),
            "ExtraTime": constant("No", n),
            "Audio": constant("No", n),
            "ScaledScore": text(scaled.astype(np.int64)),
            "StandardErrorOfMeasurement": text(star.sem[ev]),
            "RaschScore": text(star.rasch[ev]),
            "UnifiedScore": text(star.unified[ev]),
            "GradeEquivalent": pa.array(np.char.mod("%.1f", ge)),
            "PercentileRank": text(star.pr[ev]),
            "NormalCurveEquivalent": text(star.nce[ev]),
            "TotalTimeInSeconds": text(star.seconds[ev]),
            "TotalCorrect": text(star.correct[ev]),
            "TotalPossible": text(star.possible[ev]),
            "StudentGrowthPercentileFallWinter": pa.array(
                sgp_text.to_numpy(zero_copy_only=False), pa.string(), mask=window != 1
            ),
            "StudentGrowthPercentileFallSpring": pa.array(
                sgp_text.to_numpy(zero_copy_only=False), pa.string(), mask=window != 2
            ),
            "ScreeningPeriodWindowName": pa.array(np.array(WINDOWS)[window]),
            "ScreeningWindowStartDate": pa.array(
                np.char.add(np.datetime_as_string(star.window_start[ev], unit="D"), "T00:00:00Z")
            ),
            "ScreeningWindowEndDate": pa.array(
                np.char.add(np.datetime_as_string(star.window_end[ev], unit="D"), "T00:00:00Z")
            ),
            "CurrentSGP": sgp_text,
            "TakenAt": constant("school", n),
            "InstructionalReadingLevel": pa.array(
                np.where(ge < 1.0, "PP", np.char.mod("%.1f", ge))
            ),
            "EstimatedOralReadingFluency": pa.array(
                np.clip(np.round(20 + 30 * ge), 0, 250).astype(np.int64),
                mask=(st.grade[s] < 2) | (st.grade[s] > 5),
            ).cast(pa.string()),
            "LowerZoneOfProximalDevelopment": text(np.round(np.maximum(ge - 0.5, 0.1), 1)),
            "UpperZoneOfProximalDevelopment": text(np.round(ge + 0.8, 1)),
            "LiteracyClassification": pa.array(
                np.select(
                    [scaled < 675, scaled < 775],
                    ["Emergent Reader", "Transitional Reader"],
                    "Probable Reader",
                )
            ),
        }
        lex = np.round(scaled * 1.1 - 150).astype(np.int64)
        lex_text = np.char.add(np.abs(lex).astype(str), "L")
        cols["Lexile"] = pa.array(np.where(lex < 0, np.char.add("BR", lex_text), lex_text))
        cols["LexileRange"] = pa.array(
            np.char.add(
                np.char.add(np.maximum(lex - 100, 0).astype(str), "L-"),
                np.char.add(np.maximum(lex + 50, 0).astype(str), "L"),
            )
        )
        qn = np.round(scaled * 1.2 - 350).astype(np.int64)
        q_text = np.char.add(np.abs(qn).astype(str), "Q")
        cols["Quantile"] = pa.array(np.where(qn < 0, np.char.add("EM", q_text), q_text))
        # Renaissance's own category columns and the district/school copies are named apart.
        renaissance = (
            "CategoryName",
            "CategoryLevel",
            "CategoryNumberOfLevels",
            "CategoryMinPercentileRank",
            "CategoryMaxPercentileRank",
        )
        district_names = (
            "CategoryName",
            "CategoryLevel",
            "NumberOfCategoryLevels",
            "MinPercentileRank",
            "MaxPercentileRank",
        )
        values = (
            pa.array(category_name[cat_idx]),
            text(cat_idx + 1),
            constant("4", n),
            text(category_min[cat_idx]),
            text(category_max[cat_idx]),
        )
        for prefix, names in (
            ("Renaissance", renaissance),
            ("District", district_names),
            ("School", district_names),
        ):
            for name, value in zip(names, values, strict=True):
                cols[f"{prefix}Benchmark{name}"] = value
            if prefix != "Renaissance":
                cols[f"{prefix}BenchmarkProficient"] = proficient
        stu_idx = pa.array(s)
        for k, v in per_student.items():
            cols[k] = v.take(stu_idx)
        school_idx = pa.array(school[ev])
        for k, v in per_school.items():
            cols[k] = v.take(school_idx)
        for k, v in per_section.items():
            cols[k] = v.take(sec_idx)
        return cols

    rows: dict[str, int] = {}
    for product, header in STAR_HEADERS.items():
        events = np.flatnonzero(star.product == product)
        schema = pa.schema([(h, pa.string()) for h in header])
        out = CsvStream(folder / "star" / f"{product}.csv", schema)
        for lo in range(0, max(events.size, 1), _STAR_CHUNK):
            ev = events[lo : lo + _STAR_CHUNK]
            cols = event_columns(ev)
            arrays = [
                flat(cols[h]) if h in cols else pa.nulls(ev.size, pa.string()) for h in header
            ]
            out.write(pa.RecordBatch.from_arrays(arrays, schema=schema))
        out.close()
        rows[f"star/{product}.csv"] = out.rows
    return rows
