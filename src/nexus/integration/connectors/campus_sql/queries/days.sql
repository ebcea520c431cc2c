-- Campus direct SQL: calendar days of the active school year, one row per Day.
-- entity: days
-- version: 1
-- natural_key: dayID
-- modified: Day.modifiedDate
--
-- Day.duration holds the day's instructional minutes; instruction / attendance say whether
-- the day counts as an instructional and an attendance day.
SELECT
    d.dayID,
    d.calendarID,
    d.structureID,
    d.[date],
    d.instruction,
    d.attendance,
    d.duration,
    d.comments,
    d.modifiedDate
FROM [Day] d
JOIN Calendar c ON c.calendarID = d.calendarID
JOIN SchoolYear sy ON sy.endYear = c.endYear AND CAST(sy.active AS int) = 1
ORDER BY d.dayID
