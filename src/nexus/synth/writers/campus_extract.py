"""Campus ad hoc / data-extract CSVs: one file per entity, `object.field` headers, MM/DD/YYYY.

File names, headers and column order are exactly those of docs/campus.md ("Campus extract
files"); each file is a query over the Campus tables, so the extract and the database always
describe the same district. `attendance.csv` is streamed batch by batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from nexus.synth.writers.csv_files import CsvStream, DateLabels
from nexus.synth.writers.workspace import Workspace

D = "'%m/%d/%Y'"
TS = "'%m/%d/%Y %H:%M:%S'"

QUERIES: dict[str, str] = {
    "students.csv": f"""
        SELECT p.personID AS "student.personID", p.stateID AS "student.stateID",
               p.studentNumber AS "student.studentNumber", i.lastName AS "student.lastName",
               i.firstName AS "student.firstName", i.middleName AS "student.middleName",
               i.suffix AS "student.suffix", i.gender AS "student.gender",
               strftime(i.birthdate, {D}) AS "student.birthdate",
               i.raceEthnicityFed AS "student.raceEthnicityFed",
               i.hispanicEthnicity AS "student.hispanicEthnicity",
               i.homePrimaryLanguage AS "student.homePrimaryLanguage", c.email AS "student.email"
        FROM Person p JOIN "Identity" i ON i.identityID = p.currentIdentityID
        LEFT JOIN Contact c ON c.personID = p.personID
        WHERE p.studentNumber IS NOT NULL ORDER BY p.personID""",
    "enrollments.csv": f"""
        SELECT enrollmentID AS "enrollment.enrollmentID", personID AS "enrollment.personID",
               calendarID AS "enrollment.calendarID", grade AS "enrollment.grade",
               serviceType AS "enrollment.serviceType",
               strftime(startDate, {D}) AS "enrollment.startDate",
               startStatus AS "enrollment.startStatus",
               strftime(endDate, {D}) AS "enrollment.endDate", endStatus AS "enrollment.endStatus",
               noShow AS "enrollment.noShow", stateExclude AS "enrollment.stateExclude",
               residentDistrict AS "enrollment.residentDistrict",
               residentSchool AS "enrollment.residentSchool",
               residencyStatus AS "enrollment.residencyStatus",
               mealStatus AS "enrollment.mealStatus", lep AS "enrollment.lep",
               homeless AS "enrollment.homeless", migrant AS "enrollment.migrant",
               fosterCare AS "enrollment.fosterCare", giftedTalented AS "enrollment.giftedTalented",
               section504 AS "enrollment.section504",
               specialEdStatus AS "enrollment.specialEdStatus",
               disability1 AS "enrollment.disability1",
               percentEnrolled AS "enrollment.percentEnrolled", title1 AS "enrollment.title1",
               cohortYear AS "enrollment.cohortYear",
               strftime(modifiedDate, {TS}) AS "enrollment.modifiedDate"
        FROM Enrollment ORDER BY enrollmentID""",
    "calendars.csv": f"""
        SELECT c.calendarID AS "calendar.calendarID", c.schoolID AS "calendar.schoolID",
               s.number AS "school.number", s.name AS "school.name",
               c.endYear AS "calendar.endYear", c.name AS "calendar.name",
               strftime(c.startDate, {D}) AS "calendar.startDate",
               strftime(c.endDate, {D}) AS "calendar.endDate", c.exclude AS "calendar.exclude",
               c.summerSchool AS "calendar.summerSchool"
        FROM Calendar c JOIN School s ON s.schoolID = c.schoolID ORDER BY c.calendarID""",
    "days.csv": f"""
        SELECT calendarID AS "day.calendarID", strftime(date, {D}) AS "day.date",
               instruction AS "day.instruction", attendance AS "day.attendance",
               duration AS "day.duration", comments AS "day.comments"
        FROM "Day" ORDER BY calendarID, date""",
    "courses.csv": """
        SELECT courseID AS "course.courseID", calendarID AS "course.calendarID",
               number AS "course.number", name AS "course.name", stateCode AS "course.stateCode",
               active AS "course.active", homeroom AS "course.homeroom"
        FROM Course ORDER BY courseID""",
    "sections.csv": f"""
        SELECT s.sectionID AS "section.sectionID", s.courseID AS "section.courseID",
               s.number AS "section.number", s.teacherPersonID AS "section.teacherPersonID",
               s.teacherDisplay AS "section.teacherDisplay", r.name AS "room.name",
               t.name AS "term.name", strftime(t.startDate, {D}) AS "term.startDate",
               strftime(t.endDate, {D}) AS "term.endDate"
        FROM Section s JOIN SectionPlacement sp ON sp.sectionID = s.sectionID
        JOIN Term t ON t.termID = sp.termID LEFT JOIN Room r ON r.roomID = s.roomID
        ORDER BY s.sectionID""",
    "rosters.csv": f"""
        SELECT rosterID AS "roster.rosterID", personID AS "roster.personID",
               sectionID AS "roster.sectionID", strftime(startDate, {D}) AS "roster.startDate",
               strftime(endDate, {D}) AS "roster.endDate"
        FROM Roster ORDER BY rosterID""",
    "staff.csv": f"""
        SELECT p.personID AS "staff.personID", p.staffNumber AS "staff.staffNumber",
               p.staffStateID AS "staff.staffStateID", i.lastName AS "staff.lastName",
               i.firstName AS "staff.firstName", i.middleName AS "staff.middleName",
               i.gender AS "staff.gender", strftime(i.birthdate, {D}) AS "staff.birthdate",
               i.raceEthnicityFed AS "staff.raceEthnicityFed",
               i.hispanicEthnicity AS "staff.hispanicEthnicity", c.email AS "staff.email"
        FROM Person p JOIN "Identity" i ON i.identityID = p.currentIdentityID
        LEFT JOIN Contact c ON c.personID = p.personID
        WHERE p.staffNumber IS NOT NULL ORDER BY p.personID""",
    "district_assignments.csv": f"""
        SELECT assignmentID AS "assignment.assignmentID", personID AS "assignment.personID",
               schoolID AS "assignment.schoolID", title AS "assignment.title",
               teacher AS "assignment.teacher", positionCode AS "assignment.positionCode",
               fte AS "assignment.fte", strftime(startDate, {D}) AS "assignment.startDate",
               strftime(endDate, {D}) AS "assignment.endDate"
        FROM EmploymentAssignment ORDER BY assignmentID""",
    "behavior.csv": f"""
        SELECT r.roleID AS "behavior.roleID", res.resolutionID AS "behavior.resolutionID",
               i.incidentID AS "behavior.incidentID", e.eventID AS "behavior.eventID",
               r.personID AS "behavior.personID", i.calendarID AS "behavior.calendarID",
               strftime(i.timestamp, {D}) AS "behavior.incidentDate",
               i.location AS "behavior.location", t.code AS "behavior.eventCode",
               t.stateCode AS "behavior.stateEventCode", r.role AS "behavior.role",
               rt.code AS "behavior.resolutionCode", rt.stateResCode AS "behavior.stateResCode",
               strftime(res.startDate, {D}) AS "behavior.resolutionStartDate",
               strftime(res.endDate, {D}) AS "behavior.resolutionEndDate",
               res.schooldaysduration AS "behavior.duration"
        FROM BehaviorRole r JOIN BehaviorEvent e ON e.eventID = r.eventID
        JOIN BehaviorIncident i ON i.incidentID = e.incidentID
        LEFT JOIN BehaviorType t ON t.typeID = e.typeID
        JOIN BehaviorResolution res ON res.roleID = r.roleID
        LEFT JOIN BehaviorResType rt ON rt.typeID = res.typeID
        ORDER BY r.roleID, res.resolutionID""",
    "test_scores.csv": f"""
        SELECT s.scoreID AS "testScore.scoreID", s.personID AS "testScore.personID",
               t.code AS "test.code", t.name AS "test.name",
               strftime(s.date, {D}) AS "testScore.date", s.scaleScore AS "testScore.scaleScore",
               s.percentile AS "testScore.percentile",
               s.performanceLevel AS "testScore.performanceLevel",
               s.testingGrade AS "testScore.testingGrade"
        FROM TestScore s JOIN Test t ON t.testID = s.testID ORDER BY s.scoreID""",
    "transcripts.csv": f"""
        SELECT c.transcriptID AS "transcript.transcriptID", c.personID AS "transcript.personID",
               c.endYear AS "transcript.endYear", c.grade AS "transcript.grade",
               c.courseNumber AS "transcript.courseNumber",
               c.courseName AS "transcript.courseName", c.stateCode AS "transcript.stateCode",
               c.score AS "transcript.score", c.percent AS "transcript.percent",
               cr.creditsEarned AS "transcript.creditsEarned",
               cr.creditsAttempted AS "transcript.creditsAttempted",
               CAST(c.actualTerm AS VARCHAR) AS "transcript.actualTerm",
               strftime(c.date, {D}) AS "transcript.date"
        FROM TranscriptCourse c JOIN TranscriptCredit cr ON cr.transcriptID = c.transcriptID
        ORDER BY c.transcriptID""",
}

ATTENDANCE_COLUMNS = (
    "attendance.personID",
    "attendance.calendarID",
    "attendance.date",
    "attendance.scheduledMinutes",
    "attendance.presentMinutes",
    "attendance.absentMinutes",
    "attendance.status",
    "attendance.excuse",
)


def write_extract(ws: Workspace, folder: Path) -> dict[str, int]:
    """Write every entity file except attendance; return rows per file."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: ws.write_csv(sql, folder / name) for name, sql in QUERIES.items()}


class AttendanceExtract:
    """`attendance.csv`, fed AttendanceDay batches by the attendance stream."""

    def __init__(self, folder: Path, first: np.datetime64, last: np.datetime64) -> None:
        schema = pa.schema(
            [
                (
                    c,
                    pa.int64()
                    if c.endswith("ID")
                    else pa.int32()
                    if c.endswith("Minutes")
                    else pa.string(),
                )
                for c in ATTENDANCE_COLUMNS
            ]
        )
        self.schema = schema
        self.labels = DateLabels(first, last, "%m/%d/%Y")
        self.stream = CsvStream(folder / "attendance.csv", schema)

    def write(self, batch: pa.RecordBatch) -> None:
        cols = [
            batch.column("personID"),
            batch.column("calendarID"),
            self.labels(batch.column("date")),
            batch.column("scheduledMinutes"),
            batch.column("presentMinutes"),
            batch.column("absentMinutes"),
            batch.column("status"),
            batch.column("excuse"),
        ]
        self.stream.write(pa.RecordBatch.from_arrays(cols, schema=self.schema))

    def close(self) -> int:
        self.stream.close()
        return self.stream.rows
