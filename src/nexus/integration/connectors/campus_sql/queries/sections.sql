-- Campus direct SQL: sections of the active schedule trial in the active school year, one
-- row per Section, with its room name and the span of the terms it meets in.
-- entity: sections
-- version: 1
-- natural_key: sectionID
-- modified: none
--
-- Always reloaded in full: Room, Term and SectionPlacement have no modification column, so
-- Section.modifiedDate does not show every change to this result (sections are few).
SELECT
    se.sectionID,
    se.courseID,
    se.number,
    se.teacherPersonID,
    se.teacherDisplay,
    se.roomID,
    se.trialID,
    se.modifiedDate,
    r.name AS roomName,
    tm.termStartDate,
    tm.termEndDate
FROM Section se
JOIN Trial t ON t.trialID = se.trialID AND CAST(t.active AS int) = 1
JOIN Calendar c ON c.calendarID = t.calendarID
JOIN SchoolYear sy ON sy.endYear = c.endYear AND CAST(sy.active AS int) = 1
LEFT JOIN Room r ON r.roomID = se.roomID
LEFT JOIN (
    SELECT
        sp.sectionID,
        sp.trialID,
        MIN(te.startDate) AS termStartDate,
        MAX(te.endDate) AS termEndDate
    FROM SectionPlacement sp
    JOIN Term te ON te.termID = sp.termID
    GROUP BY sp.sectionID, sp.trialID
) tm ON tm.sectionID = se.sectionID AND tm.trialID = se.trialID
ORDER BY se.sectionID
