-- Campus direct SQL: calendars of the active school year, one row per Calendar.
-- entity: calendars
-- version: 1
-- natural_key: calendarID
-- modified: Calendar.modifiedDate
--
-- `active` is compared through CAST(… AS int) so a bit (SQL Server) and a boolean column
-- (PostgreSQL) read the same.
SELECT
    c.calendarID,
    c.districtID,
    c.schoolID,
    c.endYear,
    c.name,
    c.number,
    c.startDate,
    c.endDate,
    c.exclude,
    c.summerSchool,
    c.countDate,
    c.[type],
    c.calendarGUID,
    c.modifiedDate
FROM Calendar c
JOIN SchoolYear sy ON sy.endYear = c.endYear AND CAST(sy.active AS int) = 1
ORDER BY c.calendarID
