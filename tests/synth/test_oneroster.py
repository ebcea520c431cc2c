"""OneRoster 1.2 bundle: manifest, exact 1.2 headers, Campus identifier conventions, integrity."""

from __future__ import annotations

import pytest

from tests.synth.conftest import header, read_csv

# Exact 1.2 headers (reference/sources/oneroster.md, confirmed against public implementations).
V12 = {
    "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions": "sourcedId,status,dateLastModified,title,type,startDate,endDate,"
    "parentSourcedId,schoolYear",
    "courses": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
    "orgSourcedId,subjects,subjectCodes",
    "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,"
    "classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,"
    "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
    "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
    "preferredFamilyName,primaryOrgSourcedId,pronouns",
    "roles": "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
    "orgSourcedId,userProfileSourcedId",
    "demographics": "sourcedId,status,dateLastModified,birthDate,sex,"
    "americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,"
    "nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,"
    "hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,"
    "publicSchoolResidenceStatus",
    "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
    "userSourcedId,role,primary,beginDate,endDate",
}


@pytest.fixture(scope="module")
def bundle(clean):
    _, out = clean
    folder = out / "oneroster"
    return folder, {p.stem: read_csv(p) for p in folder.glob("*.csv")}, out


def test_manifest(bundle) -> None:
    folder, files, _ = bundle
    manifest = {r["propertyName"]: r["value"] for r in files["manifest"]}
    assert header(folder / "manifest.csv") == ["propertyName", "value"]
    assert manifest["manifest.version"] == "1.0"
    assert manifest["oneroster.version"] == "1.2"
    for key, value in manifest.items():
        if key.startswith("file."):
            name = key[5:]
            assert value in ("bulk", "absent")
            assert (folder / f"{name}.csv").exists() == (value == "bulk"), name
    assert {k[5:] for k, v in manifest.items() if v == "bulk"} == set(V12)


def test_headers_are_exactly_1_2_with_extensions_on_the_right(bundle) -> None:
    folder, _, _ = bundle
    for name, spec in V12.items():
        cols = header(folder / f"{name}.csv")
        assert cols[: len(spec.split(","))] == spec.split(","), name
        extra = cols[len(spec.split(",")) :]
        assert all(c.startswith("metadata.") for c in extra), name
    assert "role" not in header(folder / "users.csv")
    assert "orgSourcedIds" not in header(folder / "users.csv")
    assert header(folder / "users.csv")[-1] == "metadata.ext_infiniteCampus_grade"


def test_bulk_rows_leave_status_blank(bundle) -> None:
    _, files, _ = bundle
    for name in V12:
        assert all(r["status"] == "" and r["dateLastModified"] == "" for r in files[name])


def test_campus_identifier_conventions(bundle) -> None:
    _, files, out = bundle
    ex = out / "campus-extract"
    rosters = {r["roster.rosterID"]: r for r in read_csv(ex / "rosters.csv")}
    sections = {s["section.sectionID"] for s in read_csv(ex / "sections.csv")}
    courses = {c["course.courseID"] for c in read_csv(ex / "courses.csv")}
    students = {s["student.personID"] for s in read_csv(ex / "students.csv")}
    users = {u["sourcedId"]: u for u in files["users"]}
    assert {u[1:] for u in users if u.startswith("s")} == students
    assert all(u[0] in "sta" and u[1:].isdigit() for u in users)
    assert {c["sourcedId"] for c in files["classes"]} == sections
    assert {c["sourcedId"] for c in files["courses"]} == courses
    for e in files["enrollments"]:
        assert e["sourcedId"][0] in "ST"
        if e["sourcedId"].startswith("S"):
            r = rosters[e["sourcedId"][1:]]
            assert e["userSourcedId"] == "s" + r["roster.personID"]
            assert e["classSourcedId"] == r["roster.sectionID"]
        assert e["userSourcedId"] in users
        assert e["role"] in ("student", "teacher")
    orgs = {o["sourcedId"]: o for o in files["orgs"]}
    assert [o["type"] for o in orgs.values()].count("district") == 1
    for r in files["roles"]:
        assert r["userSourcedId"] in users and r["orgSourcedId"] in orgs
        assert r["roleType"] in ("primary", "secondary")
    grades = {u["metadata.ext_infiniteCampus_grade"] for u in users.values() if u["grades"]}
    assert grades <= {"PK", "KG", *(f"{g:02d}" for g in range(1, 13))}
    sessions = {s["sourcedId"] for s in files["academicSessions"]}
    assert all(c["termSourcedIds"] in sessions for c in files["classes"])
    assert {s["type"] for s in files["academicSessions"]} == {"term", "gradingPeriod"}
