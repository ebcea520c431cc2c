"""The Belleville-style vendor files of seed 001: PowerSchool, Renaissance Star, ClassLink.

This module writes PowerSchool, ClassLink and the crosswalk, and calls `star.write_star`.

- `powerschool/students.csv`: a PowerSchool student export (`STUDENTS.FIELD` headers), one row
  per student, carrying the district's e-mail custom field as `STUDENTS.EMAIL`.
- `classlink/users.csv` and `orgs.csv`: ClassLink's OneRoster 1.1 roster of current students and
  staff, rostered from PowerSchool (`sourcedId` = DCID); `email` equals the PowerSchool e-mail.
- `star/SR.csv`, `SM.csv`, `SEL.csv`: Star Reading, Math and Early Literacy results in the v2
  data-extract layout; `StudentIdentifier` equals `STUDENTS.STUDENT_NUMBER`.
- `crosswalk.csv`: the true identity of every student across the systems, with the deliberate
  identifier variations of `vendor_ids` labelled, for the identity layer's tests.

The district's name differs by source as in the seed: "... Public Schools" in Star, "... PD" in
ClassLink (`district.json` lists every variant). Identity fields come from the Campus tables
after defects, so SIS data problems show through; `vendor_identity_mismatch` defects change only
the vendor copy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from nexus.integration.connectors.oneroster.spec import spec_header
from nexus.synth import codes
from nexus.synth.defects import VendorOverride
from nexus.synth.model import SynthDistrict
from nexus.synth.vendor_ids import STAFF_DCID_BASE, powerschool_dcid
from nexus.synth.writers.csv_files import format_dates, text, write_table
from nexus.synth.writers.oneroster import HEADERS as OR12
from nexus.synth.writers.people import People
from nexus.synth.writers.star import write_star
from nexus.synth.writers.workspace import Workspace

POWERSCHOOL_HEADER = tuple(
    f"STUDENTS.{c}"
    for c in (
        "DCID",
        "ID",
        "STUDENT_NUMBER",
        "STATE_STUDENTNUMBER",
        "SCHOOLID",
        "GRADE_LEVEL",
        "ENROLL_STATUS",
        "ENTRYDATE",
        "EXITDATE",
        "ENTRYCODE",
        "EXITCODE",
        "LAST_NAME",
        "FIRST_NAME",
        "MIDDLE_NAME",
        "DOB",
        "GENDER",
        "FEDETHNICITY",
        "ETHNICITY",
        "LUNCHSTATUS",
        "EMAIL",
    )
)
# ClassLink ingests OneRoster 1.1 users.csv.
CLASSLINK_USERS = spec_header("1.1", "users")
CROSSWALK = (
    "personID",
    "studentNumber",
    "stateID",
    "powerschool_dcid",
    "powerschool_email",
    "classlink_sourcedId",
    "classlink_email",
    "star_student_identifier",
    "variation",
)


def write_vendors(
    m: SynthDistrict,
    ws: Workspace,
    folder: Path,
    variations: dict[str, np.ndarray],
    overrides: list[VendorOverride],
) -> dict[str, int]:
    people = People(ws)
    st = m.students
    ps_email, cl_email, star_id = _identifiers(m, people, variations)
    rows: dict[str, int] = {}
    rows["powerschool/students.csv"] = _powerschool(m, people, ps_email, overrides, folder)
    rows.update(_classlink(m, people, cl_email, overrides, folder))
    rows.update(write_star(m, people, star_id, overrides, folder))
    kind = np.full(st.n, None, dtype=object)
    for name, who in variations.items():
        kind[who] = name
    dcid = powerschool_dcid(np.arange(st.n))
    crosswalk = pa.table(
        {
            "personID": st.person_id,
            "studentNumber": st.student_number,
            "stateID": people.col("stateID", st.person_id),
            "powerschool_dcid": dcid,
            "powerschool_email": ps_email,
            "classlink_sourcedId": pa.array(dcid).cast(pa.string()),
            "classlink_email": cl_email,
            "star_student_identifier": star_id,
            "variation": kind,
        }
    )
    rows["crosswalk.csv"] = write_table(crosswalk, folder / "crosswalk.csv")
    return rows


def _identifiers(
    m: SynthDistrict, people: People, variations: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    st = m.students
    ps_email = people.values("email", st.person_id).astype(object)
    cl_email = ps_email.copy()
    for s in variations["email_case"]:
        local, domain = cl_email[s].split("@")
        cl_email[s] = f"{local[:2].upper()}{local[2:]}@{domain}"
    legacy = m.district.student_domain.replace("students.", "stu.")
    for s in variations["email_legacy_domain"]:
        cl_email[s] = f"{cl_email[s].split('@')[0]}@{legacy}"
    star_id = st.student_number.copy()
    for s in variations["star_leading_zero_dropped"]:
        star_id[s] = star_id[s].lstrip("0") or "0"
    return ps_email, cl_email, star_id


def _powerschool(
    m: SynthDistrict,
    people: People,
    email: np.ndarray,
    overrides: list[VendorOverride],
    folder: Path,
) -> int:
    st, enr, cal, d = m.students, m.enr, m.cal, m.district
    n = st.n
    e = np.r_[np.flatnonzero(np.diff(enr.student)), enr.n - 1]  # each student's last enrollment
    kind = m.outcome.exit_kind
    status = np.select([kind == "graduated", kind == "continuing"], [3, 0], 2)
    exit_day = np.where(enr.open_end[e], cal.last_day, cal.inst_dates[enr.end_idx[e]]) + 1
    lunch = np.select([st.meal == "F", st.meal == "R"], ["F", "R"], "P")
    dcid = powerschool_dcid(np.arange(n))
    pid = st.person_id
    birth = people.values("birthdate", pid).astype("datetime64[D]")
    last_name = people.values("lastName", pid).astype(object)
    for o in overrides:
        if o.vendor == "powerschool" and o.field == "DOB":
            birth[o.student] = np.datetime64(o.value, "D")
        elif o.vendor == "powerschool" and o.field == "LAST_NAME":
            last_name[o.student] = o.value
    table = pa.table(
        {
            "STUDENTS.DCID": dcid,
            "STUDENTS.ID": dcid - 25_000,
            "STUDENTS.STUDENT_NUMBER": st.student_number,
            "STUDENTS.STATE_STUDENTNUMBER": people.col("stateID", pid),
            "STUDENTS.SCHOOLID": d.school_number[enr.school[e]],
            "STUDENTS.GRADE_LEVEL": np.array(codes.GRADE_POWERSCHOOL)[st.grade],
            "STUDENTS.ENROLL_STATUS": status,
            "STUDENTS.ENTRYDATE": format_dates(cal.inst_dates[enr.start_idx[e]], "%m/%d/%Y"),
            "STUDENTS.EXITDATE": format_dates(exit_day, "%m/%d/%Y"),
            "STUDENTS.ENTRYCODE": enr.start_status[e],
            "STUDENTS.EXITCODE": enr.end_status[e],
            "STUDENTS.LAST_NAME": last_name,
            "STUDENTS.FIRST_NAME": people.col("firstName", pid),
            "STUDENTS.MIDDLE_NAME": people.col("middleName", pid),
            "STUDENTS.DOB": format_dates(birth, "%m/%d/%Y"),
            "STUDENTS.GENDER": people.col("gender", pid),
            "STUDENTS.FEDETHNICITY": np.where(people.values("hispanicEthnicity", pid) == "Y", 1, 0),
            "STUDENTS.ETHNICITY": people.col("raceEthnicity", pid),
            "STUDENTS.LUNCHSTATUS": lunch,
            "STUDENTS.EMAIL": email,
        }
    )
    if tuple(table.column_names) != POWERSCHOOL_HEADER:
        raise AssertionError("PowerSchool export columns drifted")
    return write_table(table, folder / "powerschool" / "students.csv")


def _classlink(
    m: SynthDistrict,
    people: People,
    email: np.ndarray,
    overrides: list[VendorOverride],
    folder: Path,
) -> dict[str, int]:
    st, enr, d, sf = m.students, m.enr, m.district, m.staff
    active = np.flatnonzero(m.outcome.exit_kind == "continuing")
    last = np.r_[np.flatnonzero(np.diff(enr.student)), enr.n - 1]
    school = enr.school[last][active]
    pid = st.person_id[active]
    given = people.values("firstName", pid).astype(object)
    row_of = np.full(st.n, -1)
    row_of[active] = np.arange(active.size)
    for o in overrides:
        if o.vendor == "classlink" and o.field == "givenName" and row_of[o.student] >= 0:
            given[row_of[o.student]] = o.value
    n_staff = sf.n
    staff_email = people.values("email", sf.person_id)
    cols = {
        "sourcedId": np.concatenate(
            [powerschool_dcid(active), STAFF_DCID_BASE + np.arange(n_staff)]
        ).astype(str),
        "enabledUser": np.full(active.size + n_staff, "true"),
        "orgSourcedIds": np.concatenate([d.school_guid[school], d.school_guid[sf.school]]),
        "role": np.concatenate(
            [np.full(active.size, "student"), np.where(sf.is_teacher, "teacher", "administrator")]
        ),
        "username": np.concatenate([email[active], staff_email]),
        "givenName": np.concatenate([given, people.values("firstName", sf.person_id)]),
        "familyName": np.concatenate(
            [people.values("lastName", pid), people.values("lastName", sf.person_id)]
        ),
        "middleName": np.concatenate(
            [people.values("middleName", pid), people.values("middleName", sf.person_id)]
        ),
        "identifier": np.concatenate([st.student_number[active], sf.staff_number]),
        "email": np.concatenate([email[active], staff_email]),
        "grades": np.concatenate(
            [
                np.array(codes.GRADE_ONEROSTER, dtype=object)[st.grade[active]],
                np.full(n_staff, None, dtype=object),
            ]
        ),
    }
    n = active.size + n_staff
    table = pa.table(
        {c: text(cols[c]) if c in cols else pa.nulls(n, pa.string()) for c in CLASSLINK_USERS}
    )
    users = write_table(table, folder / "classlink" / "users.csv")
    k = d.n_schools + 1
    orgs = pa.table(
        {
            "sourcedId": np.concatenate([[d.guid], d.school_guid]).astype(str),
            "status": pa.nulls(k, pa.string()),
            "dateLastModified": pa.nulls(k, pa.string()),
            "name": np.concatenate([[d.name_variants["classlink"]], d.school_name]).astype(str),
            "type": ["district"] + ["school"] * d.n_schools,
            "identifier": np.concatenate([[d.county_district_code], d.school_number]).astype(str),
            "parentSourcedId": [None] + [d.guid] * d.n_schools,
        }
    )
    if tuple(orgs.column_names) != OR12["orgs"]:
        raise AssertionError("ClassLink orgs columns drifted")
    return {
        "classlink/users.csv": users,
        "classlink/orgs.csv": write_table(orgs, folder / "classlink" / "orgs.csv"),
    }
