-- Campus direct SQL: daily attendance of the active school year, one row per student per
-- calendar per instructional day (AttendanceDay).
-- entity: attendance
-- version: 1
-- natural_key: personID, calendarID, date
-- modified: AttendanceDay.modifiedDate
SELECT
    a.personID,
    a.calendarID,
    a.[date],
    a.scheduledMinutes,
    a.presentMinutes,
    a.absentMinutes,
    a.status,
    a.excuse,
    a.modifiedDate
FROM AttendanceDay a
JOIN Calendar c ON c.calendarID = a.calendarID
JOIN SchoolYear sy ON sy.endYear = c.endYear AND CAST(sy.active AS int) = 1
ORDER BY a.personID, a.calendarID, a.[date]
