-- Campus direct SQL: courses of the active school year, one row per Course.
-- entity: courses
-- version: 1
-- natural_key: courseID
-- modified: Course.modifiedDate
--
-- Course.stateCode is the DESE state course code.
SELECT
    co.courseID,
    co.calendarID,
    co.number,
    co.name,
    co.stateCode,
    co.active,
    co.homeroom,
    co.modifiedDate
FROM Course co
JOIN Calendar c ON c.calendarID = co.calendarID
JOIN SchoolYear sy ON sy.endYear = c.endYear AND CAST(sy.active AS int) = 1
ORDER BY co.courseID
