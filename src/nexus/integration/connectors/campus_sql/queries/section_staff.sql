-- Campus direct SQL: teachers of sections of the active schedule trial in the active school
-- year, one row per SectionStaffHistory.
-- entity: section_staff
-- version: 1
-- natural_key: historyID
-- modified: SectionStaffHistory.modifiedDate
--
-- staffType P = primary teacher; role T = teacher.
SELECT
    h.historyID,
    h.sectionID,
    h.personID,
    h.staffType,
    h.[role],
    h.startDate,
    h.endDate,
    h.trialID,
    h.modifiedDate
FROM SectionStaffHistory h
JOIN Trial t ON t.trialID = h.trialID AND CAST(t.active AS int) = 1
JOIN Calendar c ON c.calendarID = t.calendarID
JOIN SchoolYear sy ON sy.endYear = c.endYear AND CAST(sy.active AS int) = 1
ORDER BY h.historyID
