"""A local OneRoster 1.2 REST provider that serves a CSV bundle, shaped like Infinite Campus.

`FakeOneRoster(bundle)` listens on 127.0.0.1 on an ephemeral port in a thread. It issues
bearer tokens at Campus's `/campus/oauth2/token` (OAuth2 client credentials, client id and
secret as HTTP Basic; a wrong pair gets 401 `invalid_client`), serves each bundle file as a
collection under `/campus/api/ims/oneroster/rostering/v1p2/<collection>` with `limit` /
`offset` paging and `X-Total-Count`, and rejects requests without a valid token with a 401
`imsx_StatusInfo`. CSV rows are turned into the REST binding's JSON the way a provider writes
them: `*SourcedId` columns become `{"sourcedId", "type", "href"}` references, `*SourcedIds`
columns lists of them, `metadata.*` columns the `metadata` object, users carry their
`roles.csv` rows inline (without a sourcedId, as the binding has none), blank values are
omitted. Knobs for bad days: `fail={"demographics": 403}`, `delay={"users": 2.0}`,
`ignore_offset=True`, `expire_tokens_after=N` requests.
"""

from __future__ import annotations

import base64
import csv
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

BASE_PATH = "/campus/api/ims/oneroster/rostering/v1p2"
TOKEN_PATH = "/campus/oauth2/token"

_REF_LISTS = {
    "orgSourcedIds": "orgs",
    "agentSourcedIds": "agents",
    "termSourcedIds": "terms",
    "resourceSourcedIds": "resources",
}
_SCALAR_LISTS = {"grades", "subjects", "subjectCodes", "periods"}
_REF_TYPES = {
    "parent": "org",
    "course": "course",
    "school": "org",
    "org": "org",
    "class": "class",
    "user": "user",
    "primaryOrg": "org",
    "schoolYear": "academicSession",
}


def rest_object(row: dict[str, str]) -> dict:
    """One CSV row as the REST binding's JSON object."""
    obj: dict = {}
    metadata: dict[str, str] = {}
    for column, value in row.items():
        if value is None or value == "":
            continue
        if column.startswith("metadata."):
            metadata[column[len("metadata.") :]] = value
        elif column in _REF_LISTS:
            kind = _REF_LISTS[column].removesuffix("s")
            obj[_REF_LISTS[column]] = [_ref(v, kind) for v in value.split(",")]
        elif column == "userIds":
            obj["userIds"] = [
                dict(zip(("type", "identifier"), item.strip("{}").split(":", 1), strict=False))
                for item in value.split("},{")
            ]
        elif column in _SCALAR_LISTS:
            obj[column] = value.split(",")
        elif column.endswith("SourcedId") and column != "sourcedId":
            name = column[: -len("SourcedId")]
            obj[name] = _ref(value, _REF_TYPES.get(name, name))
        else:
            obj[column] = value
    if metadata:
        obj["metadata"] = metadata
    return obj


def _ref(sourced_id: str, kind: str) -> dict:
    return {"href": f"{BASE_PATH}/{kind}s/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def read_bundle(folder: Path) -> dict[str, list[dict]]:
    """Every data file of a bundle as REST objects, with 1.2 roles inlined into users."""
    tables: dict[str, list[dict[str, str]]] = {}
    for path in sorted(folder.glob("*.csv")):
        if path.name == "manifest.csv":
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            tables[path.stem] = list(csv.DictReader(handle))
    collections = {
        name: [rest_object(row) for row in rows] for name, rows in tables.items() if name != "roles"
    }
    for user in collections.get("users", []):
        roles = [r for r in tables.get("roles", []) if r["userSourcedId"] == user["sourcedId"]]
        if roles:
            user["roles"] = [
                {
                    k: v
                    for k, v in {
                        "roleType": r["roleType"],
                        "role": r["role"],
                        "org": _ref(r["orgSourcedId"], "org"),
                        "userProfile": r.get("userProfileSourcedId") or None,
                        "beginDate": r.get("beginDate") or None,
                        "endDate": r.get("endDate") or None,
                    }.items()
                    if v is not None
                }
                for r in roles
            ]
    return collections


class FakeOneRoster:
    """The provider; use as a context manager (`with FakeOneRoster(...) as server:`)."""

    def __init__(
        self,
        bundle: Path,
        client_id: str = "InfiniteCampus_nexus",
        client_secret: str = "s3cret",
        *,
        fail: dict[str, int] | None = None,
        delay: dict[str, float] | None = None,
        ignore_offset: bool = False,
        expire_tokens_after: int | None = None,
    ) -> None:
        self.collections = read_bundle(bundle)
        self.client_id = client_id
        self.client_secret = client_secret
        self.fail = fail or {}
        self.delay = delay or {}
        self.ignore_offset = ignore_offset
        self.expire_tokens_after = expire_tokens_after
        self.tokens: dict[str, int] = {}  # token -> requests served with it
        self.requests: list[tuple[str, str]] = []  # (method, path?query)
        self.token_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.origin + BASE_PATH

    @property
    def token_url(self) -> str:
        return self.origin + TOKEN_PATH

    def __enter__(self) -> FakeOneRoster:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def data_requests(self, collection: str) -> list[dict[str, list[str]]]:
        """The query parameters of every GET of a collection, in order."""
        found = []
        for method, target in self.requests:
            parts = urlsplit(target)
            if method == "GET" and parts.path == f"{BASE_PATH}/{collection}":
                found.append(parse_qs(parts.query))
        return found

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def _send(self, status: int, body: dict, headers: dict[str, str] | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _imsx(self, status: int, minor: str, description: str) -> None:
                self._send(
                    status,
                    {
                        "imsx_codeMajor": "failure",
                        "imsx_severity": "error",
                        "imsx_description": description,
                        "imsx_CodeMinor": {
                            "imsx_codeMinorField": [
                                {
                                    "imsx_codeMinorFieldName": "TargetEndSystem",
                                    "imsx_codeMinorFieldValue": minor,
                                }
                            ]
                        },
                    },
                )

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                provider.requests.append(("POST", self.path))
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                if urlsplit(self.path).path != TOKEN_PATH:
                    self._send(404, {"error": "not_found"})
                    return
                provider.token_requests += 1
                if form.get("grant_type") != ["client_credentials"]:
                    self._send(400, {"error": "unsupported_grant_type"})
                    return
                expected = base64.b64encode(
                    f"{provider.client_id}:{provider.client_secret}".encode()
                ).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._send(
                        401,
                        {"error": "invalid_client", "error_description": "Bad client credentials"},
                    )
                    return
                token = secrets.token_hex(16)
                provider.tokens[token] = 0
                self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

            def do_GET(self) -> None:  # noqa: N802
                provider.requests.append(("GET", self.path))
                parts = urlsplit(self.path)
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ")
                if not auth.startswith("Bearer ") or token not in provider.tokens:
                    self._imsx(401, "unauthorisedrequest", "Invalid or expired access token")
                    return
                provider.tokens[token] += 1
                limit_reached = provider.expire_tokens_after is not None and (
                    provider.tokens[token] > provider.expire_tokens_after
                )
                if limit_reached:
                    del provider.tokens[token]
                    self._imsx(401, "unauthorisedrequest", "Access token expired")
                    return
                if not parts.path.startswith(BASE_PATH + "/"):
                    self._imsx(404, "unknownobject", "Unknown path")
                    return
                collection = parts.path[len(BASE_PATH) + 1 :]
                if collection in provider.delay:
                    time.sleep(provider.delay[collection])
                if collection in provider.fail:
                    status = provider.fail[collection]
                    self._imsx(
                        status,
                        "forbidden" if status == 403 else "internal_server_error",
                        f"{collection} is not available to this application",
                    )
                    return
                if collection not in provider.collections:
                    self._imsx(404, "unknownobject", f"No collection {collection}")
                    return
                query = parse_qs(parts.query)
                try:
                    limit = int(query.get("limit", ["100"])[0])
                    offset = int(query.get("offset", ["0"])[0])
                except ValueError:
                    self._imsx(400, "invalid_data", "limit and offset must be whole numbers")
                    return
                if provider.ignore_offset:
                    offset = 0
                items = provider.collections[collection]
                page = items[offset : offset + limit]
                self._send(200, {collection: page}, {"X-Total-Count": str(len(items))})

        return Handler
