"""A tiny Infinite Campus district as a OneRoster 1.2 bundle, and helpers to write and ingest it.

Campus conventions from seed 002 are in the data on purpose: role-prefixed user sourcedIds
(`s` student, `t` teacher, `g` guardian + personID), `S`/`T` + rosterID/historyID enrollment
sourcedIds, numeric section/course/term ids, GUID org ids, `Yes`/`No` race flags and the
`metadata.ext_infiniteCampus_grade` extension on users. Bulk files leave `status` and
`dateLastModified` blank, as the binding asks.
"""

# The fixtures are CSV files written out whole; their header lines are the spec's, unwrapped.
# ruff: noqa: E501

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

MANIFEST_12 = """propertyName,value
manifest.version,1.0
oneroster.version,1.2
file.academicSessions,bulk
file.categories,absent
file.classes,bulk
file.classResources,absent
file.courses,bulk
file.courseResources,absent
file.demographics,bulk
file.enrollments,bulk
file.lineItems,absent
file.orgs,bulk
file.resources,absent
file.results,absent
file.roles,bulk
file.scoreScales,absent
file.userProfiles,absent
file.userResources,absent
file.users,bulk
source.systemName,Infinite Campus
source.systemCode,IC
"""

DISTRICT = "8d6f7a10-1c2e-4b55-9a01-000000048078"
HIGH = "3b1e9c44-7f20-4d0a-8c11-000000002050"

ORGS = f"""sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
{DISTRICT},,,Demo R-I School District,district,048078,
{HIGH},,,Central High,school,2050,{DISTRICT}
"""

ACADEMIC_SESSIONS = """sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear
3301,,,S1,term,2026-08-17,2026-12-18,,2027
3302,,,S2,term,2027-01-05,2027-05-21,,2027
"""

COURSES = f"""sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes
7001,,,,Algebra I,MTH101,09,{HIGH},Mathematics,
7002,,,,English 9,ENG101,09,{HIGH},English,
"""

CLASSES = f"""sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
88001,,,MTH101-1 Algebra I,09,7001,Smith,scheduled,Room 12,{HIGH},"3301,3302",Mathematics,,1
88002,,,ENG101-1 English 9,09,7002,Smith,scheduled,Room 14,{HIGH},3301,English,,2
"""

USERS = f"""sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns,metadata.ext_infiniteCampus_grade
s1001,,,true,ava.ash,{{SIS:1001}},Ava,Ash,,123456,ava.ash@demo.k12.mo.us,,,g2001,09,,,,,,,{HIGH},,09
s1002,,,true,ben.birch,"{{SIS:1002}},{{MOSIS:1234567890}}",Ben,Birch,Lee,123457,ben.birch@demo.k12.mo.us,,,,09,,,,Benny,,,{HIGH},,09
s1003,,,true,cy.cedar,{{SIS:1003}},Cy,Cedar,,123458,cy.cedar@demo.k12.mo.us,,,,09,,,,,,,{HIGH},,09
t45,,,true,tsmith,,Tom,Smith,,T045,tom.smith@demo.k12.mo.us,,5735550100,,,,,,,,,{HIGH},,
g2001,,,true,gash,,Gail,Ash,,,gail.ash@example.com,,5735550111,s1001,,,,,,,,{HIGH},,
"""

ENROLLMENTS = f"""sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
S5001,,,88001,{HIGH},s1001,student,false,2026-08-17,
S5002,,,88001,{HIGH},s1002,student,false,2026-08-17,
S5003,,,88002,{HIGH},s1003,student,false,2026-08-17,
T6001,,,88001,{HIGH},t45,teacher,true,2026-08-17,
T6002,,,88002,{HIGH},t45,teacher,true,2026-08-17,
"""

DEMOGRAPHICS = """sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus
s1001,,,2012-03-04,Female,No,No,No,No,Yes,No,No,US,MO,Springfield,
s1002,,,2011-11-30,Male,No,No,Yes,No,No,No,No,US,MO,Joplin,
s1003,,,2011-05-06,Male,No,No,No,No,Yes,No,Yes,US,KS,Wichita,
"""

ROLES = f"""sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId
rs1001,,,s1001,primary,student,2026-08-17,,{HIGH},
rs1002,,,s1002,primary,student,2026-08-17,,{HIGH},
rs1003,,,s1003,primary,student,2026-08-17,,{HIGH},
rt45,,,t45,primary,teacher,2026-08-17,,{HIGH},
rg2001,,,g2001,primary,guardian,,,{HIGH},
"""

CAMPUS_12 = {
    "manifest.csv": MANIFEST_12,
    "orgs.csv": ORGS,
    "academicSessions.csv": ACADEMIC_SESSIONS,
    "courses.csv": COURSES,
    "classes.csv": CLASSES,
    "users.csv": USERS,
    "enrollments.csv": ENROLLMENTS,
    "demographics.csv": DEMOGRAPHICS,
    "roles.csv": ROLES,
}

MANIFEST_11 = """propertyName,value
manifest.version,1.0
oneroster.version,1.1
file.academicSessions,absent
file.categories,absent
file.classes,absent
file.classResources,absent
file.courses,absent
file.courseResources,absent
file.demographics,absent
file.enrollments,bulk
file.lineItems,absent
file.orgs,absent
file.resources,absent
file.results,absent
file.users,bulk
"""

USERS_11 = f"""sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,metadata.ext_infiniteCampus_grade
s1001,,,true,{HIGH},student,ava.ash,{{SIS:1001}},Ava,Ash,,123456,,,,g2001,09,,09
t45,,,true,{HIGH},teacher,tsmith,,Tom,Smith,,T045,,,,,,,
"""


def manifest(version: str = "1.2", **modes: str) -> str:
    """A manifest naming `modes` (entity=mode), every other file absent."""
    lines = ["propertyName,value", "manifest.version,1.0", f"oneroster.version,{version}"]
    lines += [f"file.{entity},{mode}" for entity, mode in modes.items()]
    return "\n".join(lines) + "\n"


def write_bundle(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def zip_bundle(files: dict[str, str], target: Path, inside: str = "") -> Path:
    """Zip the files (optionally inside one folder, as some exports do)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{inside}/{name}" if inside else name, content)
    return target


def rows(text: str) -> list[dict[str, str]]:
    """CSV text as rows (blank cells as ""), ordered by sourcedId."""
    found = list(csv.DictReader(io.StringIO(text)))
    return sorted(found, key=lambda r: r["sourcedId"])


def ingest(nexus, source: str | Path, *extra: str) -> tuple[int, dict]:
    result = nexus("ingest", "oneroster", str(source), "--tenant", "demo", "--json", *extra)
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


def snapshot(nexus, run_id: int, entity: str) -> list[dict[str, str]]:
    result = nexus("runs", "snapshot", str(run_id), entity)
    assert result.exit_code == 0, result.stderr
    return rows(result.stdout)


def files_by_name(run: dict) -> dict[str, dict]:
    return {f["name"]: f for f in run["files"]}
