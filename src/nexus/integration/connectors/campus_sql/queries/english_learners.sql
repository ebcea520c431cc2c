-- Campus direct SQL: English learner program records, one row per Lep record.
-- entity: english_learners
-- version: 1
-- natural_key: personID
-- modified: none
--
-- Always reloaded in full: Lep has no modification column. One Lep record per person is
-- assumed (the table's own key is not in the public material); a second record for a person
-- is reported as a repeated key.
SELECT
    l.personID,
    l.programStatus,
    l.identifiedDate,
    l.exitDate
FROM Lep l
ORDER BY l.personID, l.identifiedDate
