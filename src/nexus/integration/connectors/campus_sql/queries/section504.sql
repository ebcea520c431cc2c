-- Campus direct SQL: Section 504 plans, one row per plan (Section504).
-- entity: section504
-- version: 1
-- natural_key: personID, startDate
-- modified: none
--
-- Always reloaded in full: Section504 has no modification column.
SELECT
    s.personID,
    s.startDate,
    s.endDate
FROM Section504 s
ORDER BY s.personID, s.startDate
