"""The Missouri extension object: the one place that knows its JSON shape.

Seeds 003 and 004 list fields that core Ed-Fi (Data Standard 3.x to 5.2) does not have:
`gradingPeriodDescriptor` on a course transcript; `administratorFirstName`,
`administratorLastName`, `electronicMail` and `sort` on a student assessment. An ODS/API carries
an extension's fields under `"_ext": {"<extension name>": {...}}`. No public Missouri extension
schema was found, so the extension name (`mo`) and the field names below are UNVERIFIED: when
DESE's schema is known, change `EXTENSION` and the two functions here, nothing else.
"""

from __future__ import annotations

EXTENSION = "mo"


def course_transcript_extension(grading_period_descriptor: str | None) -> dict:
    """`_ext` for a courseTranscript, or {} when there is nothing to send."""
    fields = {}
    if grading_period_descriptor:
        fields["gradingPeriodDescriptor"] = grading_period_descriptor
    return {"_ext": {EXTENSION: fields}} if fields else {}


def student_assessment_extension(
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    sort: str | None,
) -> dict:
    """`_ext` for a studentAssessment (administrator, their work e-mail, the MAP sort)."""
    fields: dict = {}
    if first_name:
        fields["administratorFirstName"] = first_name
    if last_name:
        fields["administratorLastName"] = last_name
    if email:
        fields["electronicMail"] = {
            "electronicMailTypeDescriptor": "uri://ed-fi.org/ElectronicMailTypeDescriptor#Work",
            "electronicMailAddress": email,
        }
    if sort:
        fields["sort"] = sort
    return {"_ext": {EXTENSION: fields}} if fields else {}


def extension_fields(payload: dict) -> dict:
    """The Missouri extension fields of a built payload ({} when none)."""
    return payload.get("_ext", {}).get(EXTENSION, {})
