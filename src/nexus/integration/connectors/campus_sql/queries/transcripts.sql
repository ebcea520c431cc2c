-- Campus direct SQL: transcript courses, one row per TranscriptCourse, every year, with the
-- credits earned and attempted summed over its TranscriptCredit rows.
-- entity: transcripts
-- version: 1
-- natural_key: transcriptID
-- modified: TranscriptCourse.modifiedDate, TranscriptCredit
--
-- TranscriptCredit has no modification column: the probe sees credits added or removed (its
-- row count), and credits edited together with their course (Campus posts both at once).
SELECT
    tc.transcriptID,
    tc.personID,
    tc.endYear,
    tc.grade,
    tc.courseNumber,
    tc.courseName,
    tc.stateCode,
    tc.score,
    tc.[percent],
    tc.[date],
    tc.repeatCourse,
    tc.actualTerm,
    tc.modifiedDate,
    cr.creditsEarned,
    cr.creditsAttempted
FROM TranscriptCourse tc
LEFT JOIN (
    SELECT
        tcr.transcriptID,
        SUM(tcr.creditsEarned) AS creditsEarned,
        SUM(tcr.creditsAttempted) AS creditsAttempted
    FROM TranscriptCredit tcr
    GROUP BY tcr.transcriptID
) cr ON cr.transcriptID = tc.transcriptID
ORDER BY tc.transcriptID
