-- Campus direct SQL: behavior of the active school year, one row per person's role in an
-- event (BehaviorRole) and each resolution of that role (BehaviorResolution), with the
-- incident, the event type and the resolution type.
-- entity: behavior
-- version: 1
-- natural_key: roleID, resolutionID
-- modified: none
--
-- Always reloaded in full: only BehaviorIncident has a modification column, and a role or
-- resolution can change without touching it. A role without a resolution has
-- resolutionID 0 (a key cannot be NULL). Type and resolution codes are aliased because
-- BehaviorType and BehaviorResType both call them `code` and `name`.
SELECT
    br.roleID,
    ISNULL(res.resolutionID, 0) AS resolutionID,
    ev.incidentID,
    br.eventID,
    br.personID,
    br.[role],
    inc.calendarID,
    inc.[timestamp],
    inc.location,
    inc.title,
    inc.status,
    bt.code AS eventCode,
    bt.name AS eventName,
    bt.stateCode AS stateEventCode,
    rt.code AS resolutionCode,
    rt.name AS resolutionName,
    rt.stateResCode,
    res.startDate AS resolutionStartDate,
    res.endDate AS resolutionEndDate,
    res.schooldaysduration,
    inc.modifiedDate
FROM BehaviorRole br
JOIN BehaviorEvent ev ON ev.eventID = br.eventID
JOIN BehaviorIncident inc ON inc.incidentID = ev.incidentID
JOIN Calendar c ON c.calendarID = inc.calendarID
JOIN SchoolYear sy ON sy.endYear = c.endYear AND CAST(sy.active AS int) = 1
LEFT JOIN BehaviorType bt ON bt.typeID = ev.typeID
LEFT JOIN BehaviorResolution res ON res.roleID = br.roleID
LEFT JOIN BehaviorResType rt ON rt.typeID = res.typeID
ORDER BY br.roleID, ISNULL(res.resolutionID, 0)
