-- Campus direct SQL: enrollments of the active school year, one row per Enrollment.
-- entity: enrollments
-- version: 2
-- natural_key: enrollmentID
-- modified: Enrollment.modifiedDate
--
-- Every service type and no-show is delivered: the canonical mapping decides what counts
-- (primary enrollment: serviceType = 'P'). startStatus / endStatus hold MOSIS entry and exit
-- codes. GradeLevel.stateGrade is the state's code for Campus's grade; GradeLevel has no
-- modification column, but it is set up with the calendar and rarely edited after.
SELECT
    e.enrollmentID,
    e.personID,
    e.calendarID,
    e.structureID,
    e.grade,
    e.serviceType,
    e.active,
    e.noShow,
    e.stateExclude,
    e.startDate,
    e.startStatus,
    e.endDate,
    e.endStatus,
    e.endYear,
    e.districtID,
    e.residentDistrict,
    e.residentSchool,
    e.residencyStatus,
    e.mealStatus,
    e.lep,
    e.title1,
    e.migrant,
    e.immigrant,
    e.homeless,
    e.fosterCare,
    e.giftedTalented,
    e.section504,
    e.specialEdStatus,
    e.disability1,
    e.percentEnrolled,
    e.cohortYear,
    e.gradYear,
    e.diplomaDate,
    e.diplomaType,
    e.enrollmentGUID,
    e.modifiedDate,
    gl.stateGrade
FROM Enrollment e
JOIN SchoolYear sy ON sy.endYear = e.endYear AND CAST(sy.active AS int) = 1
LEFT JOIN GradeLevel gl
    ON gl.calendarID = e.calendarID AND gl.structureID = e.structureID AND gl.name = e.grade
ORDER BY e.enrollmentID
