-- Campus direct SQL: students in sections of the active schedule trial in the active school
-- year, one row per Roster.
-- entity: rosters
-- version: 1
-- natural_key: rosterID
-- modified: Roster.modifiedDate
SELECT
    r.rosterID,
    r.personID,
    r.sectionID,
    r.trialID,
    r.startDate,
    r.endDate,
    r.modifiedDate
FROM Roster r
JOIN Trial t ON t.trialID = r.trialID AND CAST(t.active AS int) = 1
JOIN Calendar c ON c.calendarID = t.calendarID
JOIN SchoolYear sy ON sy.endYear = c.endYear AND CAST(sy.active AS int) = 1
ORDER BY r.rosterID
