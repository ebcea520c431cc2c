"""Labelled data-quality defects, injected on demand, and the `defects.csv` ground truth.

`--defects RATE` injects, for each defect class, about RATE x (the class's population) problems
(at least one), each into a different student or record, and records one row per affected
record: `defect_class, entity, record_key, field, expected_rule, note`. `entity` names the Campus
extract entity (or `vendors.<source>`); `record_key` is that source's natural key (composite keys
joined with `|`, dates in ISO form); `expected_rule` names the validation rule expected to catch
it (`EXPECTED_RULES`). Each defect is kept self-contained: an enrollment whose exit date is made
earlier than its entry loses its rosters and attendance, so no other rule has cause to fire on it.
Without `--defects` nothing here runs and the output is clean.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nexus.synth import codes
from nexus.synth.attendance import AttendancePlan
from nexus.synth.campus_tables import Frame
from nexus.synth.model import SynthDistrict
from nexus.synth.streams import guids, stream
from nexus.synth.vendor_ids import classlink_sourced_id

DEFECT_CLASSES = (
    "missing_mosis_id",
    "invalid_code",
    "birthdate_grade_mismatch",
    "overlapping_enrollment",
    "exit_before_entry",
    "attendance_non_school_day",
    "attendance_minutes_exceed_day",
    "section_without_educator",
    "discipline_missing_details",
    "withdrawn_still_scheduled",
    "vendor_identity_mismatch",
)
HEADER = ("defect_class", "entity", "record_key", "field", "expected_rule", "note")
# The validation rule expected to catch each class (`nexus/validation/rules/`): by class, or by
# (class, field) where the class spans fields.
EXPECTED_RULES = {
    "missing_mosis_id": "NX-SIS-MOSISID",
    ("invalid_code", "gender"): "NX-SRC-GENDER",
    ("invalid_code", "raceEthnicityFed"): "NX-SRC-RACE",
    ("invalid_code", "startStatus"): "NX-SRC-ENTRY",
    ("invalid_code", "residencyStatus"): "NX-SRC-RESIDENCY",
    ("invalid_code", "lep"): "NX-SRC-LEP",
    "birthdate_grade_mismatch": "NX-SIS-AGE",
    "overlapping_enrollment": "NX-SIS-OVERLAP",
    "exit_before_entry": "NX-SIS-DATES",
    "attendance_non_school_day": "NX-SIS-ATTDAY",
    "attendance_minutes_exceed_day": "NX-SIS-ATTMIN",
    "section_without_educator": "NX-SIS-SECTEACH",
    "discipline_missing_details": "NX-SIS-DISCIPLINE",
    ("discipline_missing_details", "stateResCode"): "NX-SRC-REMOVAL",
    "withdrawn_still_scheduled": "NX-SIS-ROSTER",
    "vendor_identity_mismatch": "NX-SIS-VENDOR",
}


@dataclass(frozen=True)
class DefectRecord:
    defect_class: str
    entity: str
    record_key: str
    field: str
    note: str
    expected_rule: str = ""

    def row(self) -> tuple[str, ...]:
        return (
            self.defect_class,
            self.entity,
            self.record_key,
            self.field,
            self.expected_rule,
            self.note,
        )


@dataclass(frozen=True)
class VendorOverride:
    """A value a vendor file shows differently from the SIS, keyed by the student's row."""

    vendor: str  # powerschool / star / classlink
    student: int  # row index into Students
    field: str  # the vendor's column name
    value: str


def _iso(d: np.datetime64) -> str:
    return str(np.datetime64(d, "D"))


def _count(rate: float, population: int) -> int:
    return min(population, max(1, int(round(rate * population)))) if population else 0


class _Picker:
    """Hands out distinct students so no student carries two defects."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.order = rng.permutation(n)
        self.used = np.zeros(n, dtype=bool)

    def take(self, k: int, eligible: np.ndarray | None = None) -> np.ndarray:
        ok = ~self.used[self.order]
        if eligible is not None:
            ok &= eligible[self.order]
        chosen = self.order[ok][:k]
        self.used[chosen] = True
        return chosen


class _Injection:
    """What every injector needs: the district, its frames, the attendance plan, the results."""

    def __init__(
        self,
        m: SynthDistrict,
        frames: dict[str, Frame],
        plan: AttendancePlan,
        rate: float,
        exclude_students: np.ndarray,
    ) -> None:
        self.m, self.frames, self.plan, self.rate = m, frames, plan, rate
        self.rng = stream(m.seed, "defects")
        n = m.students.n
        self.n = n
        self.pick = _Picker(self.rng, n)
        self.records: list[DefectRecord] = []
        self.overrides: list[VendorOverride] = []
        self.excluded = np.zeros(n, dtype=bool)
        self.excluded[exclude_students] = True
        enr = m.enr
        # Each student's first enrollment row (frames are sorted by personID, then start).
        self.first_enr = np.searchsorted(enr.student, np.arange(n))
        self.days_enrolled = np.bincount(
            enr.student, weights=enr.end_idx - enr.start_idx + 1, minlength=n
        )
        self.single = np.bincount(enr.student, minlength=n) == 1
        self.skipped: list[int] = []

    def count(self, population: int) -> int:
        return _count(self.rate, population)

    def students(self, eligible: np.ndarray | None = None) -> np.ndarray:
        return self.pick.take(self.count(self.n), eligible)

    def add(self, cls: str, entity: str, key: object, field: str, note: str) -> None:
        rule = EXPECTED_RULES.get((cls, field)) or EXPECTED_RULES.get(cls, "")
        self.records.append(DefectRecord(cls, entity, str(key), field, note, rule))

    def person_row(self, s: int) -> int:
        return int(np.searchsorted(self.frames["Person"]["personID"], self.m.students.person_id[s]))

    def identity_row(self, s: int) -> int:
        person = self.frames["Person"]
        ident = self.frames["Identity"]
        return int(person["currentIdentityID"][self.person_row(s)] - ident["identityID"][0])


def _missing_mosis_id(c: _Injection) -> None:
    for s in c.students():
        c.frames["Person"]["stateID"][c.person_row(s)] = None
        c.add(
            "missing_mosis_id",
            "students",
            c.m.students.person_id[s],
            "stateID",
            "Person.stateID (MOSIS ID) is blank",
        )


_INVALID = (
    ("Identity", "gender", "U", "students", "Gender_Codes has M and F only"),
    ("Identity", "raceEthnicityFed", "9", "students", "federal race/ethnicity codes are 1-7"),
    ("Enrollment", "startStatus", "E199", "enrollments", "not a MOSIS entry code"),
    ("Enrollment", "residencyStatus", "R7", "enrollments", "not a Resident_Status_Codes value"),
    ("Enrollment", "lep", "ELL", "enrollments", "not a LEP_ELL_Codes value"),
)


def _invalid_code(c: _Injection) -> None:
    for i, s in enumerate(c.students(c.single)):
        table, field, value, entity, why = _INVALID[i % len(_INVALID)]
        if table == "Identity":
            row = c.identity_row(s)
            c.frames["Identity"][field][row] = value
            if field == "raceEthnicityFed":
                c.frames["Identity"]["raceEthnicity"][row] = "Q"
            key = c.m.students.person_id[s]
        else:
            row = c.first_enr[s]
            c.frames["Enrollment"][field][row] = value
            key = c.frames["Enrollment"]["enrollmentID"][row]
        c.add("invalid_code", entity, key, field, f"{value!r}: {why}")


def _birthdate_grade_mismatch(c: _Injection) -> None:
    st = c.m.students
    ident = c.frames["Identity"]
    for i, s in enumerate(c.students(~st.older)):
        shift = (
            np.timedelta64(5 * 365 + 2, "D") if i % 2 == 0 else -np.timedelta64(6 * 365 + 1, "D")
        )
        rows = np.flatnonzero(ident["personID"] == st.person_id[s])
        ident["birthdate"][rows] = ident["birthdate"][rows] + shift
        c.add(
            "birthdate_grade_mismatch",
            "students",
            st.person_id[s],
            "birthdate",
            f"born {_iso(ident['birthdate'][rows[0]])}, enrolled in grade "
            f"{codes.GRADE_MOSIS[st.grade[s]]}",
        )


def _overlapping_enrollment(c: _Injection) -> None:
    st, enr, d, cal = c.m.students, c.m.enr, c.m.district, c.m.cal
    enrol = c.frames["Enrollment"]
    rows, schools, starts = [], [], []
    for s in c.students(c.single & (c.days_enrolled >= 40)):
        e = c.first_enr[s]
        others = np.flatnonzero(
            (d.grade_lo <= st.grade[s])
            & (d.grade_hi >= st.grade[s])
            & (np.arange(d.n_schools) != enr.school[e])
        )
        if others.size == 0:
            others = np.flatnonzero(np.arange(d.n_schools) != enr.school[e])
        if others.size == 0:
            continue
        rows.append(e)
        schools.append(int(others[int(c.rng.integers(others.size))]))
        starts.append(int(enr.start_idx[e] + 10 + c.rng.integers(0, 20)))
    if not rows:
        return
    new = {k: v[rows].copy() for k, v in enrol.items()}
    new["enrollmentID"] = int(enrol["enrollmentID"].max()) + 1 + np.arange(len(rows))
    new["calendarID"] = d.school_id[schools]
    new["structureID"] = d.school_id[schools]
    new["startDate"] = cal.inst_dates[np.array(starts)]
    new["startStatus"] = np.full(
        len(rows), codes.enrollment_code("entry", "transfer_in_district"), dtype=object
    )
    new["enrollmentGUID"] = guids(c.rng, len(rows))
    for k in enrol:
        enrol[k] = np.concatenate([enrol[k], new[k]])
    for j, e in enumerate(rows):
        c.add(
            "overlapping_enrollment",
            "enrollments",
            new["enrollmentID"][j],
            "startDate",
            f"primary enrollment at calendar {new['calendarID'][j]} overlaps enrollment "
            f"{enr.enrollment_id[e]} at calendar {d.school_id[enr.school[e]]}",
        )


def _exit_before_entry(c: _Injection) -> None:
    """The exit date is typed before the entry date; the enrollment's rosters and attendance go,
    so only this rule has cause to fire."""
    enrol = c.frames["Enrollment"]
    for s in c.students(c.single & (c.m.students.grade >= 1)):
        e = c.first_enr[s]
        start = enrol["startDate"][e]
        enrol["endDate"][e] = start - np.timedelta64(int(c.rng.integers(1, 30)), "D")
        if enrol["endStatus"][e] is None:
            enrol["endStatus"][e] = codes.enrollment_code("exit", "transfer_mo_public")
        c.skipped.append(int(e))
        c.add(
            "exit_before_entry",
            "enrollments",
            c.m.enr.enrollment_id[e],
            "endDate",
            f"ends {_iso(enrol['endDate'][e])}, starts {_iso(start)}",
        )
    if c.skipped:
        c.plan.skip_enrollments = np.array(sorted(c.skipped))
        roster = c.frames["Roster"]
        keep = ~np.isin(c.m.schedule.roster_enrollment, c.skipped)
        for k in roster:
            roster[k] = roster[k][keep]


def _attendance_non_school_day(c: _Injection) -> None:
    st, enr, cal, d = c.m.students, c.m.enr, c.m.cal, c.m.district
    closed = np.flatnonzero(~cal.instructional & (cal.comments != None))  # noqa: E711
    for s in c.students(c.single & (c.days_enrolled >= 40)):
        e = c.first_enr[s]
        a, b = cal.inst_dates[enr.start_idx[e]], cal.inst_dates[enr.end_idx[e]]
        options = closed[(cal.dates[closed] > a) & (cal.dates[closed] < b)]
        if options.size == 0:
            continue
        at = options[int(c.rng.integers(options.size))]
        day = cal.dates[at]
        minutes = int(cal.minutes(d.school_level[enr.school[e]]).max())
        calendar = int(d.school_id[enr.school[e]])
        c.plan.extra_rows.append(
            {
                "personID": int(st.person_id[s]),
                "calendarID": calendar,
                "date": day.astype(object),
                "scheduledMinutes": minutes,
                "presentMinutes": minutes,
                "absentMinutes": 0,
                "status": "P",
                "excuse": None,
                "modifiedDate": (
                    day.astype("datetime64[s]") + np.timedelta64(16 * 3600, "s")
                ).astype(object),
            }
        )
        c.add(
            "attendance_non_school_day",
            "attendance",
            f"{st.person_id[s]}|{calendar}|{_iso(day)}",
            "date",
            f"{cal.comments[at]}: Day.instruction = 0",
        )


def _attendance_minutes_exceed_day(c: _Injection) -> None:
    st, enr, cal, d = c.m.students, c.m.enr, c.m.cal, c.m.district
    for s in c.students(c.single & (c.days_enrolled >= 10)):
        e = c.first_enr[s]
        day = int(enr.start_idx[e] + c.rng.integers(0, enr.end_idx[e] - enr.start_idx[e] + 1))
        extra = int(c.rng.integers(30, 121))
        c.plan.over_minutes[(int(e), day)] = extra
        calendar = int(d.school_id[enr.school[e]])
        length = int(cal.minutes(d.school_level[enr.school[e]])[day])
        c.add(
            "attendance_minutes_exceed_day",
            "attendance",
            f"{st.person_id[s]}|{calendar}|{_iso(cal.inst_dates[day])}",
            "presentMinutes",
            f"{length + extra} minutes present on a {length}-minute day",
        )


def _section_without_educator(c: _Injection) -> None:
    sec, ssh = c.frames["Section"], c.frames["SectionStaffHistory"]
    n = sec["sectionID"].size
    chosen = np.sort(c.rng.permutation(n)[: c.count(n)])
    sec["teacherPersonID"] = sec["teacherPersonID"].astype(float)
    for r in chosen:
        sec["teacherPersonID"][r] = np.nan
        sec["teacherDisplay"][r] = None
        c.add(
            "section_without_educator",
            "sections",
            sec["sectionID"][r],
            "teacherPersonID",
            "no teacher and no SectionStaffHistory row",
        )
    keep = ~np.isin(ssh["sectionID"], sec["sectionID"][chosen])
    for k in ssh:
        ssh[k] = ssh[k][keep]


def _discipline_missing_details(c: _Injection) -> None:
    res, ev = c.frames["BehaviorResolution"], c.frames["BehaviorEvent"]
    b = c.m.discipline
    per_incident = np.bincount(b.resolution_incident, minlength=b.n_incidents)
    one = np.flatnonzero(per_incident[b.resolution_incident] == 1)
    if one.size == 0:
        return
    res["typeID"] = res["typeID"].astype(float)
    ev["typeID"] = ev["typeID"].astype(float)
    for i, r in enumerate(np.sort(c.rng.permutation(one)[: c.count(b.n_incidents)])):
        key = f"{res['roleID'][r]}|{res['resolutionID'][r]}"
        kind = i % 3
        if kind == 0:
            res["schooldaysduration"][r] = np.nan
            field, note = "duration", "removal has no duration in school days"
        elif kind == 1:
            ev["typeID"][b.resolution_incident[r]] = np.nan
            field, note = "stateEventCode", "incident has no offense (behavior type)"
        else:
            res["typeID"][r] = np.nan
            field, note = "stateResCode", "resolution has no removal type"
        c.add("discipline_missing_details", "behavior", key, field, note)


def _withdrawn_still_scheduled(c: _Injection) -> None:
    sc, enr, cal = c.m.schedule, c.m.enr, c.m.cal
    term = sc.section_term[sc.roster_section]
    e_of = sc.roster_enrollment
    cut = (
        ~enr.open_end[e_of]
        & ~enr.graduate[e_of]
        & (sc.roster_end == enr.end_idx[e_of])
        & (sc.roster_end < sc.term_end[term])
    )
    eligible = np.zeros(c.n, dtype=bool)
    eligible[sc.roster_student[cut]] = True
    roster = c.frames["Roster"]
    row_of = np.full(sc.roster_id.size + 1, -1)
    row_of[roster["rosterID"]] = np.arange(roster["rosterID"].size)
    for s in c.students(eligible):
        for r in np.flatnonzero(cut & (sc.roster_student == s)):
            row = row_of[sc.roster_id[r]]
            roster["endDate"][row] = cal.inst_dates[sc.term_end[term[r]]]
            c.add(
                "withdrawn_still_scheduled",
                "rosters",
                sc.roster_id[r],
                "endDate",
                f"enrollment {enr.enrollment_id[e_of[r]]} ended "
                f"{_iso(cal.inst_dates[enr.end_idx[e_of[r]]])}; roster runs to "
                f"{_iso(roster['endDate'][row])}",
            )


def _vendor_identity_mismatch(c: _Injection) -> None:
    """Only students in every vendor file: took a Star test and still enrolled (ClassLink
    lists current users), and not one of the deliberate identifier variations."""
    st = c.m.students
    in_star = np.zeros(c.n, dtype=bool)
    in_star[c.m.star.student] = True
    eligible = (c.m.outcome.exit_kind == "continuing") & in_star & ~c.excluded
    for i, s in enumerate(c.students(eligible)):
        bd = st.birthdate[s]
        number = st.student_number[s]
        kind = i % 4
        if kind == 0:
            value = st.last[s][:-1] if len(st.last[s]) > 4 else st.last[s] + "e"
            c.overrides.append(VendorOverride("powerschool", int(s), "LAST_NAME", value))
            c.add(
                "vendor_identity_mismatch",
                "vendors.powerschool",
                number,
                "STUDENTS.LAST_NAME",
                f"PowerSchool {value!r}, SIS {st.last[s]!r}",
            )
        elif kind == 1:
            value = _iso(bd + np.timedelta64(1, "D"))
            c.overrides.append(VendorOverride("star", int(s), "BirthDate", value))
            c.add(
                "vendor_identity_mismatch",
                "vendors.star",
                number,
                "BirthDate",
                f"Star {value}, SIS {_iso(bd)}",
            )
        elif kind == 2:
            value = st.first[s][:3] if len(st.first[s]) > 4 else st.first[s] + "y"
            c.overrides.append(VendorOverride("classlink", int(s), "givenName", value))
            c.add(
                "vendor_identity_mismatch",
                "vendors.classlink",
                classlink_sourced_id(np.array([s]))[0],
                "givenName",
                f"ClassLink {value!r}, SIS {st.first[s]!r}",
            )
        else:
            y, mo, dd = _iso(bd).split("-")
            swapped = (
                f"{y}-{dd}-{mo}"
                if int(dd) <= 12 and dd != mo
                else _iso(bd - np.timedelta64(365, "D"))
            )
            c.overrides.append(VendorOverride("powerschool", int(s), "DOB", swapped))
            c.add(
                "vendor_identity_mismatch",
                "vendors.powerschool",
                number,
                "STUDENTS.DOB",
                f"PowerSchool {swapped}, SIS {_iso(bd)}",
            )


INJECTORS = {
    "missing_mosis_id": _missing_mosis_id,
    "invalid_code": _invalid_code,
    "birthdate_grade_mismatch": _birthdate_grade_mismatch,
    "overlapping_enrollment": _overlapping_enrollment,
    "exit_before_entry": _exit_before_entry,
    "attendance_non_school_day": _attendance_non_school_day,
    "attendance_minutes_exceed_day": _attendance_minutes_exceed_day,
    "section_without_educator": _section_without_educator,
    "discipline_missing_details": _discipline_missing_details,
    "withdrawn_still_scheduled": _withdrawn_still_scheduled,
    "vendor_identity_mismatch": _vendor_identity_mismatch,
}


def inject(
    m: SynthDistrict,
    frames: dict[str, Frame],
    plan: AttendancePlan,
    rate: float,
    exclude_students: np.ndarray,
) -> tuple[list[DefectRecord], list[VendorOverride]]:
    """Inject every defect class into `frames` / `plan`; return the records and vendor edits.

    `exclude_students` (the deliberate identifier variations) get no vendor defect.
    """
    c = _Injection(m, frames, plan, rate, exclude_students)
    for cls in DEFECT_CLASSES:
        INJECTORS[cls](c)
    return c.records, c.overrides


def write_defects(path: Path, records: list[DefectRecord]) -> None:
    """`defects.csv`, sorted by class then key so the file is stable."""
    rows = sorted(
        (r.row() for r in records), key=lambda r: (DEFECT_CLASSES.index(r[0]), r[1], r[2], r[3])
    )
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(HEADER)
        w.writerows(rows)
