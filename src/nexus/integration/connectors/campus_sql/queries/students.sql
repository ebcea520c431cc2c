-- Campus direct SQL: students, one row per Person who has ever had an Enrollment, with the
-- current Identity (name, demographics) and the Contact email.
-- entity: students
-- version: 1
-- natural_key: personID
-- modified: none
--
-- Always reloaded in full: Person (stateID, the MOSIS ID, is assigned there) and Contact have
-- no modification column, so a probe on Identity.modifiedDate would miss a new MOSIS ID or
-- email. Identity.modifiedDate is still delivered.
SELECT
    p.personID,
    p.stateID,
    p.studentNumber,
    p.personGUID,
    i.identityID,
    i.effectiveDate,
    i.lastName,
    i.firstName,
    i.middleName,
    i.suffix,
    i.gender,
    i.birthdate,
    i.raceEthnicity,
    i.raceEthnicityFed,
    i.hispanicEthnicity,
    i.homePrimaryLanguage,
    i.modifiedDate,
    ct.email,
    ct.secondaryEmail
FROM Person p
JOIN [Identity] i ON i.identityID = p.currentIdentityID
LEFT JOIN Contact ct ON ct.personID = p.personID
WHERE EXISTS (SELECT 1 FROM Enrollment e WHERE e.personID = p.personID)
ORDER BY p.personID
