"""The OneRoster CSV binding as Nexus knows it: files, headers per version, keys and types.

Headers come from `shared/reference/sources/oneroster.md` (1EdTech CSV Tables 1.1.1 and CSV
Binding 1.2.1, confirmed against public implementations). A header we could not confirm is
`None`: such a file is still ingested, and its drift is measured against its previous delivery
instead of the spec. Every file's natural key is `sourcedId`. This module holds no logic about
bundles or REST; it only describes the format.
"""

from __future__ import annotations

from nexus.integration.connectors.base import ColumnSpec, ColumnType, DistrictEvidence

VERSIONS: tuple[str, ...] = ("1.1", "1.2")
NATURAL_KEY: tuple[str, ...] = ("sourcedId",)
# Delta files mark deletions with this status (`active` | `tobedeleted`).
TOMBSTONE: tuple[str, str] = ("status", "tobedeleted")
MODES: tuple[str, ...] = ("bulk", "delta", "absent")


def _h(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


_BASE = "sourcedId,status,dateLastModified,"

_ROSTER_11: dict[str, tuple[str, ...] | None] = {
    "orgs": _h(_BASE + "name,type,identifier,parentSourcedId"),
    "academicSessions": _h(_BASE + "title,type,startDate,endDate,parentSourcedId,schoolYear"),
    "courses": _h(
        _BASE + "schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes"
    ),
    "classes": _h(
        _BASE + "title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,"
        "termSourcedIds,subjects,subjectCodes,periods"
    ),
    "users": _h(
        _BASE + "enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
        "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
    ),
    "enrollments": _h(
        _BASE + "classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate"
    ),
    "demographics": _h(
        _BASE + "birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,"
        "nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,"
        "hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,"
        "publicSchoolResidenceStatus"
    ),
}

# Gradebook and resources files of 1.1: the reference lists them without headers; these are
# the headers two independent public implementations write (an R validator and a C# exporter).
_GRADEBOOK_11: dict[str, tuple[str, ...] | None] = {
    "categories": _h(_BASE + "title"),
    "classResources": _h(_BASE + "title,classSourcedId,resourceSourcedId"),
    "courseResources": _h(_BASE + "title,courseSourcedId,resourceSourcedId"),
    "lineItems": _h(
        _BASE + "title,description,assignDate,dueDate,classSourcedId,categorySourcedId,"
        "gradingPeriodSourcedId,resultValueMin,resultValueMax"
    ),
    "resources": _h(_BASE + "vendorResourceId,title,roles,importance,vendorId,applicationId"),
    "results": _h(_BASE + "lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment"),
}

_ROSTER_12: dict[str, tuple[str, ...] | None] = {
    **_ROSTER_11,
    "users": _h(
        _BASE + "enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,"
        "sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,"
        "preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns"
    ),
    "roles": _h(
        _BASE + "userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId"
    ),
    "userProfiles": _h(
        _BASE + "userSourcedId,profileType,vendorId,applicationId,description,credentialType,"
        "username,password"
    ),
}

# 1.2 gradebook and resources files: known by name (manifest keys), header not confirmed.
_UNCONFIRMED_12 = (
    "categories",
    "classResources",
    "courseResources",
    "lineItems",
    "lineItemLearningObjectiveIds",
    "lineItemScoreScales",
    "resources",
    "results",
    "resultLearningObjectiveIds",
    "resultScoreScales",
    "scoreScales",
    "userResources",
)

HEADERS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "1.1": {**_ROSTER_11, **_GRADEBOOK_11},
    "1.2": {**_ROSTER_12, **dict.fromkeys(_UNCONFIRMED_12)},
}

# Types the spec fixes, by column name (the same name has the same type in every file).
# A value that does not fit becomes a row error with file, line, column and value.
COLUMN_TYPES: dict[str, ColumnType] = {
    "dateLastModified": "datetime",
    "startDate": "date",
    "endDate": "date",
    "beginDate": "date",
    "birthDate": "date",
    "assignDate": "date",
    "dueDate": "date",
    "scoreDate": "date",
    "schoolYear": "integer",
    "enabledUser": "boolean",
    "primary": "boolean",
    "americanIndianOrAlaskaNative": "boolean",
    "asian": "boolean",
    "blackOrAfricanAmerican": "boolean",
    "nativeHawaiianOrOtherPacificIslander": "boolean",
    "white": "boolean",
    "demographicRaceTwoOrMoreRaces": "boolean",
    "hispanicOrLatinoEthnicity": "boolean",
    "resultValueMin": "decimal",
    "resultValueMax": "decimal",
    "score": "decimal",
}


# A district org names its district; Campus writes District.Number (in Missouri the DESE
# county-district code) as its identifier.
DISTRICT_EVIDENCE = DistrictEvidence(
    columns={"name": "name", "county_district_code": "identifier"},
    where="lower(type) IN ('district', 'local')",
)


def normalise_version(value: str) -> str | None:
    """`1.1`, `1.1.1`, `v1p1` -> `1.1`; None for a version Nexus does not read."""
    text = value.strip().lower().lstrip("v").replace("p", ".")
    parts = text.split(".")
    if len(parts) < 2:
        return None
    version = f"{parts[0]}.{parts[1]}"
    return version if version in VERSIONS else None


def known_files(version: str) -> tuple[str, ...]:
    """The entity (file) names the spec of `version` defines."""
    return tuple(HEADERS[version])


def spec_header(version: str, entity: str) -> tuple[str, ...] | None:
    return HEADERS.get(version, {}).get(entity)


def is_extension(column: str) -> bool:
    """Spec extension columns (`metadata.*`, vendor `ext_*`): allowed right of the spec's."""
    lowered = column.lower()
    return lowered.startswith("metadata.") or lowered.startswith("ext_")


def expected_columns(version: str, entity: str, present: list[str]) -> tuple[str, ...] | None:
    """The drift yardstick: the spec header plus the extension columns actually present.

    Extensions are the spec's way to carry vendor data (Campus writes
    `metadata.ext_infiniteCampus_*`), so they are not drift; a missing or unknown spec column is.
    """
    header = spec_header(version, entity)
    if header is None:
        return None
    return header + tuple(c for c in present if is_extension(c) and c not in header)


def column_specs(columns: list[str] | tuple[str, ...]) -> dict[str, ColumnSpec]:
    """Declared types for the typed spec columns among `columns`."""
    return {c: ColumnSpec(c, COLUMN_TYPES[c]) for c in columns if c in COLUMN_TYPES}
