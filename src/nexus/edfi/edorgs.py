"""Ed-Fi education organization ids for Missouri, and the ones expected on the server.

UNVERIFIED (docs/edfi.md): the LEA id is the six-digit county-district code as an integer
(048078 -> 48078, which matches seed 004's "ASVAB-26006" suffix), a school id is the county-
district code followed by the four-digit building code (0480781050 -> 480781050), and course
references use educationOrganizationId 1 as seed 003 prints it (a state-level catalog).
"""

from __future__ import annotations

COURSE_EDUCATION_ORGANIZATION_ID = 1  # seed 003: courseReference.educationOrganizationId = 1
STATE_EDUCATION_AGENCY_ID = 1


def lea_id(county_district_code: str | None) -> int | None:
    """The district's Ed-Fi localEducationAgencyId (the Reporting District Code)."""
    if not county_district_code or not county_district_code.isdigit():
        return None
    return int(county_district_code)


def school_id(county_district_code: str | None, school_code: str | None) -> int | None:
    """A school's Ed-Fi schoolId from its county-district and building codes."""
    if not (county_district_code and school_code):
        return None
    text = county_district_code + school_code.zfill(4)
    return int(text) if text.isdigit() else None


def server_side_references(district_code: str | None) -> dict[str, list[dict]]:
    """Items Nexus references but does not send: DESE loads the state agency, the district
    (LEA) and the school years (the ODS/API recognises 1991-2050 by default)."""
    items: dict[str, list[dict]] = {
        "stateEducationAgencies": [{"stateEducationAgencyId": STATE_EDUCATION_AGENCY_ID}],
        "schoolYearTypes": [{"schoolYear": y} for y in range(1991, 2051)],
    }
    lea = lea_id(district_code)
    if lea is not None:
        items["localEducationAgencies"] = [{"localEducationAgencyId": lea}]
    return items
