"""A local fake of an Ed-Fi ODS/API 7.2 (Data Standard 5.1), for tests only.

Behaves like the API on the points a client depends on (reference/edfi/resources.md §5, §8):
- `GET /` discovery document (urls.oauth, urls.dataManagementApi, urls.dependencies);
- `POST /oauth/token`: HTTP Basic client id/secret, `grant_type=client_credentials`, a bearer
  token with `expires_in`; an unknown or expired token gets 401;
- `POST /data/v3/ed-fi/{resource}`: upsert by natural key (201 + Location/ETag, then 200);
  400 for an `id` in the body, a JSON-schema failure, an empty required array, or a descriptor
  value that does not exist; 409 when a `…Reference` names no stored item;
- `GET /data/v3/ed-fi/{resource}` with `offset`/`limit` (max 500) and `totalCount=true` ->
  `Total-Count`; `GET`/`DELETE /data/v3/ed-fi/{resource}/{id}` (204, 404);
- errors in the 7.2+ problem-details style or the older `{"message": ...}` (`error_style`);
- `fail_next(method, resource, *statuses)`: the next requests get those statuses (429, 500, ...),
  to prove retries.
It serves httpx directly (`transport`) or as a real HTTP server on 127.0.0.1 (`serve`).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx

from nexus.edfi import schema
from nexus.edfi.missouri import known_descriptor_uris, missouri_descriptors

EDFI_DEFAULTS = known_descriptor_uris() - {
    f"{d.namespace}#{c}" for d in missouri_descriptors() for c in d.codes
}


class FakeOds:
    def __init__(
        self,
        client_id: str = "nexus-client",
        client_secret: str = "nexus-secret",
        error_style: str = "7.2",
        token_seconds: int = 1800,
        district_lea: int | None = None,
        base_url: str = "http://ods.test",
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.error_style = error_style
        self.token_seconds = token_seconds
        self.base_url = base_url
        self.tokens: set[str] = set()
        self.items: dict[str, dict[str, dict]] = defaultdict(dict)  # resource -> id -> item
        self.keys: dict[str, dict[str, str]] = defaultdict(dict)  # resource -> key -> id
        self.descriptors: set[str] = set(EDFI_DEFAULTS)
        self.log: list[tuple[str, str, int]] = []  # (method, path, status)
        self._failures: dict[tuple[str, str], deque[int]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.index = schema.ReferenceIndex({})
        self.seed("stateEducationAgencies", {"stateEducationAgencyId": 1})
        for year in range(1991, 2051):
            self.seed("schoolYearTypes", {"schoolYear": year})
        if district_lea is not None:
            self.seed("localEducationAgencies", {"localEducationAgencyId": district_lea})

    # --- test controls ---------------------------------------------------------------------------

    def seed(self, resource: str, item: dict) -> None:
        """An item the state loaded (it can be referenced; it is not counted as sent)."""
        self.index.add(resource, item)

    def fail_next(self, method: str, resource: str, *statuses: int) -> None:
        self._failures[(method.upper(), resource)].extend(statuses)

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def count(self, method: str, resource: str | None = None, status: int | None = None) -> int:
        return sum(
            1
            for m, p, s in self.log
            if m == method
            and (resource is None or f"/ed-fi/{resource}" in p)
            and (status is None or s == status)
        )

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """A real HTTP server on 127.0.0.1 (a free port); returns it and its base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = httpx.Request(
                    self.command,
                    f"http://127.0.0.1:{self.server.server_port}{self.path}",
                    headers=dict(self.headers.items()),
                    content=body,
                )
                response = fake.handle(request)
                self.send_response(response.status_code)
                for k, v in response.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_DELETE = do_PUT = _any

            def log_message(self, *args) -> None:  # quiet
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_port}"

    # --- the API ---------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            response = self._route(request)
        self.log.append((request.method, request.url.path, response.status_code))
        return response

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path == "":
            return self._json(200, self._discovery(request))
        if path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if path == "/metadata/data/v3/dependencies":
            return self._json(200, json.loads((schema.OPENAPI / "dependencies.json").read_text()))
        m = re.fullmatch(r"/data/v3/ed-fi/(\w+)(?:/([\w-]+))?", path)
        if not m:
            return self._error(404, "not-found", "Not Found", "no such route")
        resource, item_id = m.group(1), m.group(2)
        if not self._authorised(request):
            return self._error(
                401,
                "security:authentication",
                "Unauthorized",
                "Authorization denied. The access token is invalid or expired.",
            )
        queued = self._failures.get((request.method, resource))
        if queued:
            status = queued.popleft()
            return self._error(status, "system", "Injected failure", f"injected {status}")
        if request.method == "POST" and item_id is None:
            return self._post(resource, request)
        if request.method == "GET" and item_id is None:
            return self._list(resource, request)
        if request.method == "GET":
            item = self.items[resource].get(item_id)
            return self._json(200, item) if item else self._not_found()
        if request.method == "DELETE" and item_id:
            return self._delete(resource, item_id)
        return self._error(405, "method-not-allowed", "Method Not Allowed", "not supported")

    def _discovery(self, request: httpx.Request) -> dict:
        base = f"{request.url.scheme}://{request.url.netloc.decode()}"
        return {
            "version": "7.2",
            "applicationName": "Ed-Fi ODS / API (fake)",
            "dataModels": [{"name": "Ed-Fi", "version": "5.1.0"}],
            "urls": {
                "dependencies": f"{base}/metadata/data/v3/dependencies",
                "openApiMetadata": f"{base}/metadata/",
                "oauth": f"{base}/oauth/token",
                "dataManagementApi": f"{base}/data/v3/",
                "xsdMetadata": f"{base}/metadata/xsd",
            },
        }

    def _token(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        form = parse_qs(request.content.decode())
        if auth != f"Basic {expected}" or form.get("grant_type") != ["client_credentials"]:
            return self._json(400, {"error": "invalid_client"})
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return self._json(
            200, {"access_token": token, "expires_in": self.token_seconds, "token_type": "bearer"}
        )

    def _authorised(self, request: httpx.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    def _post(self, resource: str, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content)
        except ValueError:
            return self._error(400, "bad-request", "Bad Request", "The request body is not JSON")
        if "id" in body:
            return self._error(
                400,
                "bad-request:data-validation-failed",
                "Data Validation Failed",
                "Resource identifiers cannot be assigned by the client.",
            )
        errors: dict[str, list[str]] = {}
        for error in schema._validator(resource).iter_errors(body):
            where = "$." + ".".join(str(p) for p in error.absolute_path) if error.path else "$"
            errors.setdefault(where, []).append(error.message)
        for name in schema.empty_required_arrays(schema.resource_schema(resource), body):
            errors.setdefault(f"$.{name}", []).append(f"{name} requires at least one item.")
        for where, value in schema.descriptor_values(body):
            if value not in self.descriptors:
                kind = value.split("#")[0].rsplit("/", 1)[-1]
                errors.setdefault(f"$.{where}", []).append(
                    f"{kind} value '{value}' does not exist."
                )
        if errors:
            return self._validation_error(errors)
        for _, target, ref in schema.references(body):
            if not self.index.resolves(target, ref):
                name = target[:-3] + "y" if target.endswith("ies") else target[:-1]
                return self._error(
                    409,
                    "data-conflict:unresolved-reference",
                    "Unresolved Reference",
                    f"The referenced '{name[0].upper() + name[1:]}' item does not exist.",
                )
        key = json.dumps(schema.natural_key(resource, body), sort_keys=True)
        existing = self.keys[resource].get(key)
        item_id = existing or uuid.uuid4().hex
        self.items[resource][item_id] = {"id": item_id, **body}
        self.keys[resource][key] = item_id
        self.index.add(resource, schema.natural_key(resource, body))
        if resource.endswith("Descriptors"):
            self.descriptors.add(f"{body['namespace']}#{body['codeValue']}")
        headers = {
            "Location": f"{self.base_url}/data/v3/ed-fi/{resource}/{item_id}",
            "ETag": f'"{uuid.uuid4().hex[:12]}"',
        }
        return httpx.Response(200 if existing else 201, headers=headers)

    def _list(self, resource: str, request: httpx.Request) -> httpx.Response:
        q = parse_qs(urlsplit(str(request.url)).query)
        try:
            offset = int(q.get("offset", ["0"])[0])
            limit = int(q.get("limit", ["25"])[0])
        except ValueError:
            return self._validation_error({"$.limit": ["limit and offset must be integers"]})
        if not 0 <= limit <= 500:
            return self._validation_error({"$.limit": ["Limit must be between 0 and 500."]})
        items = list(self.items[resource].values())
        headers = {}
        if q.get("totalCount", ["false"])[0].lower() == "true":
            headers["Total-Count"] = str(len(items))
        return httpx.Response(200, json=items[offset : offset + limit], headers=headers)

    def _delete(self, resource: str, item_id: str) -> httpx.Response:
        item = self.items[resource].pop(item_id, None)
        if item is None:
            return self._not_found()
        body = {k: v for k, v in item.items() if k != "id"}
        self.keys[resource].pop(json.dumps(schema.natural_key(resource, body), sort_keys=True))
        return httpx.Response(204)

    # --- error payloads --------------------------------------------------------------------------

    def _not_found(self) -> httpx.Response:
        return self._error(
            404, "not-found", "Not Found", "The specified resource could not be found."
        )

    def _validation_error(self, errors: dict[str, list[str]]) -> httpx.Response:
        if self.error_style == "7.2":
            return self._json(
                400,
                {
                    "detail": "Data validation failed. See 'validationErrors' for details.",
                    "type": "urn:ed-fi:api:bad-request:data-validation-failed",
                    "title": "Data Validation Failed",
                    "status": 400,
                    "correlationId": uuid.uuid4().hex,
                    "validationErrors": errors,
                },
            )
        flat = " ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        return self._json(400, {"message": f"The request is invalid. {flat}"})

    def _error(self, status: int, kind: str, title: str, detail: str) -> httpx.Response:
        if self.error_style == "7.2":
            return self._json(
                status,
                {
                    "detail": detail,
                    "type": f"urn:ed-fi:api:{kind}",
                    "title": title,
                    "status": status,
                    "correlationId": uuid.uuid4().hex,
                },
            )
        return self._json(status, {"message": detail})

    @staticmethod
    def _json(status: int, body) -> httpx.Response:
        return httpx.Response(status, json=body)
