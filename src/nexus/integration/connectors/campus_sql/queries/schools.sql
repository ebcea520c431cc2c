-- Campus direct SQL: schools, one row per School, with its district's DESE code.
-- entity: schools
-- version: 1
-- natural_key: schoolID
-- modified: School.modifiedDate, District.modifiedDate
--
-- School.number is the DESE school code (4 digits); District.number the county-district
-- code (6 digits), aliased because both tables call it `number`.
SELECT
    s.schoolID,
    s.districtID,
    s.number,
    s.name,
    s.exclude,
    s.schoolGUID,
    s.modifiedDate,
    d.number AS districtNumber
FROM School s
LEFT JOIN District d ON d.districtID = s.districtID
ORDER BY s.schoolID
