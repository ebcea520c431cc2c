-- Campus direct SQL: assessment scores, one row per TestScore, every year, with its Test's
-- code and name.
-- entity: test_scores
-- version: 1
-- natural_key: scoreID
-- modified: TestScore.modifiedDate
--
-- Test has no modification column: renaming a test alone does not reload the scores (test
-- definitions are set up once); any new or changed score does.
SELECT
    ts.scoreID,
    ts.testID,
    ts.personID,
    t.code,
    t.name,
    ts.[date],
    ts.scaleScore,
    ts.percentile,
    ts.performanceLevel,
    ts.testingGrade,
    ts.modifiedDate
FROM TestScore ts
JOIN Test t ON t.testID = ts.testID
ORDER BY ts.scoreID
