"""REST JSON objects -> OneRoster CSV rows, so a REST pull and a CSV bundle read the same.

The REST binding nests what the CSV binding flattens: a reference `{"sourcedId": …}` becomes
the `<name>SourcedId` column, a list of references the comma-joined `<name>SourcedIds`
column, `userIds` the `{type:identifier}` list, other lists (grades, subjects, periods) a
comma-joined value, and `metadata` the `metadata.<key>` extension columns. 1.2 users carry
their roles inline (without a sourcedId of their own): they become `roles.csv` rows.
"""

from __future__ import annotations

import json

# A list of references whose CSV column is not simply `<singular>SourcedIds`.
_REF_LISTS = {
    "orgs": "orgSourcedIds",
    "agents": "agentSourcedIds",
    "terms": "termSourcedIds",
    "resources": "resourceSourcedIds",
}
# `children` is the inverse of `parent`, which the CSV binding does not carry. A user's inline
# roles are their own file; user profiles hold application credentials, which Nexus does not
# keep.
_DROPPED = {"children"}
_DROPPED_FROM = {"users": {"roles", "userProfiles"}}

Row = dict[str, str | None]


def flatten(record: dict, entity: str) -> Row:
    """One REST object of `entity` as the CSV binding's row (column -> text, None for blank)."""
    row: Row = {}
    dropped = _DROPPED | _DROPPED_FROM.get(entity, set())
    for name, value in record.items():
        if name in dropped:
            continue
        if name == "metadata" and isinstance(value, dict):
            for key, item in value.items():
                row[f"metadata.{key}"] = text(item)
        elif name == "userIds" and isinstance(value, list):
            row["userIds"] = ",".join(
                f"{{{i.get('type', '')}:{i.get('identifier', '')}}}"
                for i in value
                if isinstance(i, dict)
            )
        elif _is_ref(value):
            row[f"{name}SourcedId"] = text(value.get("sourcedId"))
        elif isinstance(value, list) and (name in _REF_LISTS or any(_is_ref(v) for v in value)):
            column = _REF_LISTS.get(name) or f"{name.removesuffix('s')}SourcedIds"
            row[column] = ",".join(text(_ref_id(v)) or "" for v in value) or None
        elif isinstance(value, list):
            row[name] = ",".join(text(v) or "" for v in value) or None
        else:
            row[name] = text(value)
    return row


def role_rows(user: dict) -> list[Row]:
    """A 1.2 user's inline roles as `roles.csv` rows.

    A role has no sourcedId in the REST binding; when the provider gives none, the row's
    sourcedId is `<user>:<org>:<roleType>:<role>`, stable from run to run.
    """
    rows: list[Row] = []
    user_id = text(user.get("sourcedId"))
    for role in user.get("roles") or []:
        if not isinstance(role, dict):
            continue
        org = text(_ref_id(role.get("org")))
        profile = role.get("userProfile")
        parts = (user_id, org, text(role.get("roleType")), text(role.get("role")))
        sourced_id = text(role.get("sourcedId")) or ":".join(p or "" for p in parts)
        rows.append(
            {
                "sourcedId": sourced_id,
                "status": text(user.get("status")),
                "dateLastModified": text(user.get("dateLastModified")),
                "userSourcedId": user_id,
                "roleType": text(role.get("roleType")),
                "role": text(role.get("role")),
                "beginDate": text(role.get("beginDate")),
                "endDate": text(role.get("endDate")),
                "orgSourcedId": org,
                "userProfileSourcedId": text(_ref_id(profile)),
            }
        )
    return rows


def text(value: object) -> str | None:
    """A JSON value as CSV text: booleans lower-case, nested values as JSON, blank as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    result = str(value)
    return result if result != "" else None


def _is_ref(value: object) -> bool:
    return isinstance(value, dict) and "sourcedId" in value


def _ref_id(value: object) -> object:
    return value.get("sourcedId") if isinstance(value, dict) else value
