-- Campus direct SQL: staff assignments to schools, one row per EmploymentAssignment, every
-- year (an assignment's dates say when it held).
-- entity: district_assignments
-- version: 1
-- natural_key: assignmentID
-- modified: EmploymentAssignment.modifiedDate
SELECT
    ea.assignmentID,
    ea.personID,
    ea.schoolID,
    ea.title,
    ea.teacher,
    ea.positionCode,
    ea.fte,
    ea.startDate,
    ea.endDate,
    ea.modifiedDate
FROM EmploymentAssignment ea
ORDER BY ea.assignmentID
