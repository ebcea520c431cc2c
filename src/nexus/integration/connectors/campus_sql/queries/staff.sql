-- Campus direct SQL: staff, one row per Person with an Employment record, with the current
-- Identity and the Contact email.
-- entity: staff
-- version: 1
-- natural_key: personID
-- modified: none
--
-- Always reloaded in full: Person (staffStateID) and Contact have no modification column.
SELECT
    p.personID,
    p.staffNumber,
    p.staffStateID,
    p.personGUID,
    i.identityID,
    i.lastName,
    i.firstName,
    i.middleName,
    i.gender,
    i.birthdate,
    i.raceEthnicityFed,
    i.hispanicEthnicity,
    i.modifiedDate,
    ct.email
FROM Person p
JOIN [Identity] i ON i.identityID = p.currentIdentityID
LEFT JOIN Contact ct ON ct.personID = p.personID
WHERE EXISTS (SELECT 1 FROM Employment em WHERE em.personID = p.personID)
ORDER BY p.personID
