"""A OneRoster 1.2 CSV bundle (bulk) as Infinite Campus produces it (seed 002's conventions).

Campus conventions: users `s<personID>` (students), `t<personID>` (teachers), `a<personID>`
(other staff); enrollments `S<rosterID>` / `T<historyID>`; classes are section ids, courses are
course ids, academic sessions are term ids (grading periods: term GUIDs), orgs are school and
district GUIDs; students carry `metadata.ext_infiniteCampus_grade` (their highest enrollment
grade) to the right of the spec columns. Headers are the exact 1.2 headers in
reference/sources/oneroster.md; bulk mode leaves `status` and `dateLastModified` blank, and a
file with no rows is declared `absent` in manifest.csv instead of written.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from nexus.integration.connectors.oneroster.spec import spec_header
from nexus.synth.writers.csv_files import write_table
from nexus.synth.writers.workspace import Workspace

# The OneRoster 1.2 headers are the connector's own spec: what synth writes, Nexus reads.
HEADERS: dict[str, tuple[str, ...]] = {
    name: spec_header("1.2", name)
    for name in (
        "orgs",
        "academicSessions",
        "courses",
        "classes",
        "users",
        "roles",
        "demographics",
        "enrollments",
    )
}
EXTENSIONS: dict[str, tuple[str, ...]] = {"users": ("metadata.ext_infiniteCampus_grade",)}
MANIFEST_FILES = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "orgs",
    "resources",
    "resultLearningObjectiveIds",
    "results",
    "resultScoreScales",
    "roles",
    "scoreScales",
    "userProfiles",
    "userResources",
    "users",
)

_TF = "CASE WHEN {} THEN 'true' ELSE 'false' END"
_STAFF_ROLE = """CASE WHEN ea.teacher = 1 THEN 'teacher'
                      WHEN ea.positionCode = '10' THEN 'principal'
                      WHEN ea.positionCode = '50' THEN 'counselor'
                      ELSE 'siteAdministrator' END"""
_STAFF_PREFIX = "CASE WHEN ea.teacher = 1 THEN 't' ELSE 'a' END"

QUERIES: dict[str, str] = {
    "orgs": """
        SELECT sourcedId, NULL AS status, NULL AS dateLastModified, name, type, identifier,
               parentSourcedId FROM (
          SELECT 0 AS k, '' AS n, d.number AS identifier, d.name,
                 'district' AS type, ds.guid AS sourcedId, NULL AS parentSourcedId
          FROM District d, _district_guid ds
          UNION ALL
          SELECT 1, s.number, s.number, s.name, 'school', s.schoolGUID, ds.guid
          FROM School s, _district_guid ds) ORDER BY k, n""",
    "academicSessions": """
        SELECT sourcedId, NULL AS status, NULL AS dateLastModified, title, type,
               CAST(startDate AS VARCHAR) AS startDate, CAST(endDate AS VARCHAR) AS endDate,
               NULL AS parentSourcedId, schoolYear FROM (
          SELECT 0 AS k, t.termID AS id, CAST(t.termID AS VARCHAR) AS sourcedId, t.name AS title,
                 'term' AS type, t.startDate, t.endDate, CAST(c.endYear AS VARCHAR) AS schoolYear
          FROM Term t JOIN Calendar c ON c.calendarID = t.termScheduleID
          UNION ALL
          SELECT 1, t.termID, t.termGUID, t.name, 'gradingPeriod', t.startDate, t.endDate,
                 CAST(c.endYear AS VARCHAR)
          FROM Term t JOIN Calendar c ON c.calendarID = t.termScheduleID) ORDER BY k, id""",
    "courses": """
        SELECT CAST(c.courseID AS VARCHAR) AS sourcedId, NULL AS status,
               NULL AS dateLastModified, NULL AS schoolYearSourcedId, c.name AS title,
               c.number AS courseCode, c.grades, s.schoolGUID AS orgSourcedId,
               c.subject AS subjects, NULL AS subjectCodes
        FROM Course c JOIN Calendar cal ON cal.calendarID = c.calendarID
        JOIN School s ON s.schoolID = cal.schoolID ORDER BY c.courseID""",
    "classes": """
        SELECT CAST(se.sectionID AS VARCHAR) AS sourcedId, NULL AS status,
               NULL AS dateLastModified, c.name || ' (' || se.number || ')' AS title, c.grades,
               CAST(c.courseID AS VARCHAR) AS courseSourcedId,
               CAST(se.number AS VARCHAR) AS classCode,
               CASE WHEN se.homeroomSection = 1 THEN 'homeroom' ELSE 'scheduled' END AS classType,
               r.name AS location, s.schoolGUID AS schoolSourcedId,
               CAST(sp.termID AS VARCHAR) AS termSourcedIds, c.subject AS subjects,
               NULL AS subjectCodes, CAST(sp.periodID % 100 AS VARCHAR) AS periods
        FROM Section se JOIN Course c ON c.courseID = se.courseID
        JOIN Calendar cal ON cal.calendarID = c.calendarID
        JOIN School s ON s.schoolID = cal.schoolID
        JOIN SectionPlacement sp ON sp.sectionID = se.sectionID
        LEFT JOIN Room r ON r.roomID = se.roomID ORDER BY se.sectionID""",
    "users": f"""
        WITH last_enr AS (
          SELECT personID, arg_max(calendarID, startDate) AS calendarID, max(grade) AS grade
          FROM Enrollment GROUP BY personID),
        staff AS (
          SELECT ea.personID, {_STAFF_PREFIX} AS prefix, s.schoolGUID
          FROM EmploymentAssignment ea JOIN School s ON s.schoolID = ea.schoolID)
        SELECT sourcedId, NULL AS status, NULL AS dateLastModified, 'true' AS enabledUser,
               username, NULL AS userIds, givenName, familyName, middleName, identifier, email,
               NULL AS sms, NULL AS phone, NULL AS agentSourcedIds, grades, NULL AS password,
               NULL AS userMasterIdentifier, NULL AS resourceSourcedIds,
               NULL AS preferredGivenName, NULL AS preferredMiddleName,
               NULL AS preferredFamilyName, primaryOrgSourcedId, NULL AS pronouns,
               grades AS "metadata.ext_infiniteCampus_grade" FROM (
          SELECT 1 AS k, p.personID, 's' || p.personID AS sourcedId, c.email AS username,
                 i.firstName AS givenName, i.lastName AS familyName, i.middleName,
                 p.studentNumber AS identifier, c.email, le.grade AS grades,
                 s.schoolGUID AS primaryOrgSourcedId
          FROM Person p JOIN "Identity" i ON i.identityID = p.currentIdentityID
          JOIN last_enr le ON le.personID = p.personID
          JOIN Calendar cal ON cal.calendarID = le.calendarID
          JOIN School s ON s.schoolID = cal.schoolID
          LEFT JOIN Contact c ON c.personID = p.personID
          UNION ALL
          SELECT 0, p.personID, st.prefix || p.personID, c.email, i.firstName, i.lastName,
                 i.middleName, p.staffNumber, c.email, NULL, st.schoolGUID
          FROM Person p JOIN "Identity" i ON i.identityID = p.currentIdentityID
          JOIN staff st ON st.personID = p.personID
          LEFT JOIN Contact c ON c.personID = p.personID) ORDER BY k, personID""",
    "roles": f"""
        WITH stu AS (
          SELECT e.personID, cal.schoolID, s.schoolGUID, min(e.startDate) AS beginDate,
                 CASE WHEN count(*) = count(e.endDate) THEN max(e.endDate) END AS endDate,
                 max(e.startDate) AS lastStart
          FROM Enrollment e JOIN Calendar cal ON cal.calendarID = e.calendarID
          JOIN School s ON s.schoolID = cal.schoolID GROUP BY e.personID, cal.schoolID,
          s.schoolGUID),
        ranked AS (
          SELECT *, row_number() OVER (PARTITION BY personID ORDER BY lastStart DESC,
                                       schoolID) AS rn FROM stu)
        SELECT sourcedId, NULL AS status, NULL AS dateLastModified, userSourcedId, roleType,
               role, CAST(beginDate AS VARCHAR) AS beginDate, CAST(endDate AS VARCHAR) AS endDate,
               orgSourcedId, NULL AS userProfileSourcedId FROM (
          SELECT 1 AS k, personID, schoolID, 's' || personID || '-' || schoolID AS sourcedId,
                 's' || personID AS userSourcedId,
                 CASE WHEN rn = 1 THEN 'primary' ELSE 'secondary' END AS roleType,
                 'student' AS role, beginDate, endDate, schoolGUID AS orgSourcedId
          FROM ranked
          UNION ALL
          SELECT 0, ea.personID, ea.schoolID,
                 {_STAFF_PREFIX} || ea.personID || '-' || ea.schoolID,
                 {_STAFF_PREFIX} || ea.personID, 'primary', {_STAFF_ROLE}, ea.startDate,
                 ea.endDate, s.schoolGUID
          FROM EmploymentAssignment ea JOIN School s ON s.schoolID = ea.schoolID)
        ORDER BY k, personID, schoolID""",
    "demographics": f"""
        SELECT 's' || p.personID AS sourcedId, NULL AS status, NULL AS dateLastModified,
               CAST(i.birthdate AS VARCHAR) AS birthDate,
               CASE i.gender WHEN 'M' THEN 'male' WHEN 'F' THEN 'female'
                    ELSE 'unspecified' END AS sex,
               {_TF.format("i.raceEthnicity = 'I'")} AS americanIndianOrAlaskaNative,
               {_TF.format("i.raceEthnicity = 'A'")} AS asian,
               {_TF.format("i.raceEthnicity = 'B'")} AS blackOrAfricanAmerican,
               {_TF.format("i.raceEthnicity = 'P'")} AS nativeHawaiianOrOtherPacificIslander,
               {_TF.format("i.raceEthnicity = 'W'")} AS white,
               {_TF.format("i.raceEthnicity = 'M'")} AS demographicRaceTwoOrMoreRaces,
               {_TF.format("i.hispanicEthnicity = 'Y'")} AS hispanicOrLatinoEthnicity,
               NULL AS countryOfBirthCode, NULL AS stateOfBirthAbbreviation, NULL AS cityOfBirth,
               NULL AS publicSchoolResidenceStatus
        FROM Person p JOIN "Identity" i ON i.identityID = p.currentIdentityID
        WHERE p.studentNumber IS NOT NULL ORDER BY p.personID""",
    "enrollments": """
        SELECT sourcedId, NULL AS status, NULL AS dateLastModified, classSourcedId,
               schoolSourcedId, userSourcedId, role, "primary",
               CAST(beginDate AS VARCHAR) AS beginDate, CAST(endDate AS VARCHAR) AS endDate FROM (
          SELECT 0 AS k, h.historyID AS id, 'T' || h.historyID AS sourcedId,
                 CAST(h.sectionID AS VARCHAR) AS classSourcedId, s.schoolGUID AS schoolSourcedId,
                 't' || h.personID AS userSourcedId, 'teacher' AS role,
                 CASE WHEN h.staffType = 'P' THEN 'true' ELSE 'false' END AS "primary",
                 h.startDate AS beginDate, h.endDate
          FROM SectionStaffHistory h JOIN Section se ON se.sectionID = h.sectionID
          JOIN Course c ON c.courseID = se.courseID
          JOIN Calendar cal ON cal.calendarID = c.calendarID
          JOIN School s ON s.schoolID = cal.schoolID
          UNION ALL
          SELECT 1, r.rosterID, 'S' || r.rosterID, CAST(r.sectionID AS VARCHAR), s.schoolGUID,
                 's' || r.personID, 'student', 'false', r.startDate, r.endDate
          FROM Roster r JOIN Section se ON se.sectionID = r.sectionID
          JOIN Course c ON c.courseID = se.courseID
          JOIN Calendar cal ON cal.calendarID = c.calendarID
          JOIN School s ON s.schoolID = cal.schoolID) ORDER BY k, id""",
}


def write_oneroster(ws: Workspace, folder: Path, district_guid: str) -> dict[str, int]:
    """Write the bundle and its manifest; return rows per file."""
    folder.mkdir(parents=True, exist_ok=True)
    ws.register("_district_guid", pa.table({"guid": [district_guid]}))
    rows: dict[str, int] = {}
    for name, sql in QUERIES.items():
        expected = HEADERS[name] + EXTENSIONS.get(name, ())
        found = ws.query(f"SELECT * FROM ({sql}) LIMIT 0").column_names
        if tuple(found) != expected:
            raise AssertionError(f"{name}.csv columns drifted from the OneRoster 1.2 header")
        path = folder / f"{name}.csv"
        count = ws.write_csv(sql, path, pa.schema([(c, pa.string()) for c in expected]))
        if count:
            rows[name] = count
        else:
            path.unlink()
    manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    manifest += [(f"file.{f}", "bulk" if f in rows else "absent") for f in MANIFEST_FILES]
    manifest += [("source.systemName", "Infinite Campus"), ("source.systemCode", "nexus-synth")]
    write_table(
        pa.table({"propertyName": [k for k, _ in manifest], "value": [v for _, v in manifest]}),
        folder / "manifest.csv",
    )
    return rows
