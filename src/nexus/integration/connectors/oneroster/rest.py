"""OneRoster REST (1.2, and 1.1 by base path): OAuth2 client credentials, limit/offset paging.

Each collection (orgs, academicSessions, courses, classes, users, enrollments, demographics,
and for 1.2 the roles users carry inline) is pulled page by page, flattened to the CSV
binding's columns and written as `<entity>.csv` in the run's work folder; that file is then
delivered exactly like a bulk file of a CSV bundle, so both routes give the same records and
the written CSV is the run's kept original. A token the provider refuses stops the run; a
collection that fails (HTTP error, timeout, bad JSON) fails only its own entity.

Configuration: the base URL (e.g. Campus's `https://HOST/campus/api/ims/oneroster/rostering/
v1p2`), the client id and secret from the connection, and options `token_url` (default: the
base URL's prefix before `/api/ims/oneroster` or `/ims/oneroster`, plus `/oauth2/token`, with
`?appName=` when option `app_name` is given), `limit` (page size, default 1000), `timeout`
(seconds, default 60), `scope`, `version` (1.1 | 1.2; default from the base path) and
`entities` (the collections to pull).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from nexus.integration.connectors.base import ConnectorContext, Delivery
from nexus.integration.connectors.oneroster import spec
from nexus.integration.connectors.oneroster.bundle import failed, file_delivery
from nexus.integration.connectors.oneroster.flatten import Row, flatten, role_rows
from nexus.integration.errors import IngestionError

COLLECTIONS: tuple[str, ...] = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "enrollments",
    "demographics",
)
DEFAULT_LIMIT = 1000
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class RestSettings:
    base_url: str
    token_url: str
    client_id: str
    secret: str
    version: str
    limit: int
    timeout: float
    scope: str | None
    entities: tuple[str, ...]

    @classmethod
    def from_context(cls, source: str, context: ConnectorContext) -> RestSettings:
        options = context.options
        if not context.client_id or not context.secret:
            raise IngestionError(
                "a OneRoster REST source needs a client id and secret: add a connection with "
                "`nexus connections add NAME --kind oneroster --url BASE --client-id ID "
                "--client-secret-env VAR` and ingest with --connection NAME"
            )
        raw_version = str(options.get("version") or "")
        version = spec.normalise_version(raw_version) if raw_version else None
        if raw_version and version is None:
            raise IngestionError(f"option version {raw_version!r}: use 1.1 or 1.2")
        if version is None:
            version = "1.1" if "/v1p1" in urlsplit(source).path else "1.2"
        known = COLLECTIONS + (("roles",) if version == "1.2" else ())
        entities = tuple(options.get("entities") or known)
        unknown = [e for e in entities if e not in known]
        if unknown:
            raise IngestionError(
                f"OneRoster REST has no collection {', '.join(unknown)} here; "
                f"use {', '.join(known)}"
            )
        return cls(
            base_url=source.rstrip("/"),
            token_url=str(options.get("token_url") or default_token_url(source, options)),
            client_id=context.client_id,
            secret=context.secret,
            version=version,
            limit=_positive(options.get("limit", DEFAULT_LIMIT), "limit", int),
            timeout=_positive(options.get("timeout", DEFAULT_TIMEOUT), "timeout", float),
            scope=options.get("scope"),
            entities=entities,
        )


def default_token_url(base_url: str, options: dict) -> str:
    """Where to ask for a token when the connection does not say (Campus's layout)."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    for marker in ("/api/ims/oneroster", "/ims/oneroster"):
        cut = path.find(marker)
        if cut >= 0:
            path = path[:cut]
            break
    query = urlencode({"appName": options["app_name"]}) if options.get("app_name") else ""
    return urlunsplit((parts.scheme, parts.netloc, path + "/oauth2/token", query, ""))


def _positive(value: object, name: str, kind: type) -> int | float:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise IngestionError(f"option {name} must be a positive number, not {value!r}")
    return number


class OneRosterClient:
    """A OneRoster REST provider reached with OAuth2 client credentials."""

    def __init__(self, settings: RestSettings) -> None:
        self.settings = settings
        self.http = httpx.Client(
            timeout=settings.timeout,
            headers={"Accept": "application/json"},
            follow_redirects=True,
        )
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> OneRosterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def authenticate(self) -> None:
        """Get a bearer token; a refusal or an unreachable endpoint stops the run."""
        url = self.settings.token_url
        data = {"grant_type": "client_credentials"}
        if self.settings.scope:
            data["scope"] = self.settings.scope
        try:
            response = self.http.post(
                url, data=data, auth=(self.settings.client_id, self.settings.secret)
            )
        except httpx.TimeoutException:
            raise IngestionError(
                f"the OneRoster token endpoint {url} did not answer within "
                f"{self.settings.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise IngestionError(
                f"cannot reach the OneRoster token endpoint {url}: {exc}"
            ) from None
        if response.status_code in (400, 401, 403):
            raise IngestionError(
                f"the OneRoster token endpoint {url} refused the client credentials "
                f"({_status(response)}): check the connection's client id and secret"
            )
        if response.status_code != 200:
            raise IngestionError(f"the OneRoster token endpoint {url} answered {_status(response)}")
        try:
            token = response.json().get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not token:
            raise IngestionError(f"the OneRoster token endpoint {url} returned no access_token")
        self._token = str(token)

    def records(self, collection: str) -> Iterator[dict]:
        """Every object of a collection, page by page (limit/offset, X-Total-Count)."""
        offset, first_ids = 0, set()
        limit = self.settings.limit
        while True:
            response = self._get(collection, {"limit": limit, "offset": offset})
            items = _items(response, collection)
            total = _total(response)
            if items:
                first = json.dumps(items[0].get("sourcedId"))
                if first in first_ids:
                    raise IngestionError(
                        f"GET {collection}: offset {offset} returned a page already seen; "
                        "the provider ignores `offset`"
                    )
                first_ids.add(first)
            yield from items
            offset += len(items)
            if not items or (total is not None and offset >= total):
                return
            if total is None and len(items) < limit:
                return

    def _get(self, collection: str, params: dict) -> httpx.Response:
        url = f"{self.settings.base_url}/{collection}"
        for attempt in (1, 2):
            try:
                response = self.http.get(
                    url, params=params, headers={"Authorization": f"Bearer {self._token}"}
                )
            except httpx.TimeoutException:
                raise IngestionError(
                    f"GET {collection} timed out after {self.settings.timeout:g} s "
                    f"(offset {params['offset']})"
                ) from None
            except httpx.HTTPError as exc:
                raise IngestionError(f"GET {collection} failed: {exc}") from None
            if response.status_code == 401 and attempt == 1:
                self.authenticate()  # the token may have expired during a long pull
                continue
            break
        if response.status_code == 200:
            return response
        hint = {
            401: ": the provider refused a fresh token",
            403: f": the connection's application may not read {collection}",
            404: ": check the base URL",
        }.get(response.status_code, "")
        raise IngestionError(f"GET {collection} answered {_status(response)}{hint}")


def _status(response: httpx.Response) -> str:
    """`403 Forbidden (the provider's own words)`."""
    detail = _detail(response)
    text = f"{response.status_code} {response.reason_phrase}".rstrip()
    return f"{text} ({detail})" if detail else text


def _detail(response: httpx.Response) -> str:
    """The provider's own words (OneRoster `imsx_description`, OAuth `error_description`)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    info = body.get("imsx_StatusInfo") if isinstance(body.get("imsx_StatusInfo"), dict) else body
    for key in ("imsx_description", "error_description", "error"):
        if info.get(key):
            return str(info[key])[:200]
    return ""


def _items(response: httpx.Response, collection: str) -> list[dict]:
    try:
        body = response.json()
    except ValueError:
        raise IngestionError(f"GET {collection} did not return JSON") from None
    items = body.get(collection) if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise IngestionError(f"GET {collection}: the response has no `{collection}` list")
    return items


def _total(response: httpx.Response) -> int | None:
    value = response.headers.get("X-Total-Count")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# --- writing collections as CSV files -----------------------------------------------------


class CollectionFile:
    """Rows spooled to JSON lines, then written as CSV once every column is known."""

    def __init__(self, folder: Path, entity: str, version: str) -> None:
        self.entity = entity
        self.version = version
        self.path = folder / f"{entity}.csv"
        self._spool_path = folder / f"{entity}.jsonl"
        self._spool = self._spool_path.open("w", encoding="utf-8")
        self._columns: dict[str, bool] = {}  # column -> holds a value somewhere
        self.rows = 0

    def add(self, row: Row) -> None:
        for column, value in row.items():
            self._columns[column] = self._columns.get(column, False) or value is not None
        self._spool.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.rows += 1

    def write(self) -> Path:
        self._spool.close()
        header = list(spec.spec_header(self.version, self.entity) or ())
        extensions = sorted(c for c in self._columns if spec.is_extension(c) and c not in header)
        others = [
            c
            for c, filled in self._columns.items()
            if filled and c not in header and c not in extensions
        ]
        columns = header + extensions + others
        with (
            self._spool_path.open("r", encoding="utf-8") as spool,
            self.path.open("w", encoding="utf-8", newline="") as out,
        ):
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            for line in spool:
                row = json.loads(line)
                writer.writerow([row.get(c) for c in columns])
        self._spool_path.unlink()
        return self.path

    def discard(self) -> None:
        self._spool.close()
        self._spool_path.unlink(missing_ok=True)


def rest_deliveries(source: str, context: ConnectorContext) -> Iterator[Delivery]:
    """Pull each collection into `<entity>.csv` and deliver it as a bulk file."""
    settings = RestSettings.from_context(source, context)
    if context.work_dir is None:
        raise IngestionError("the run has no work folder to write the pulled collections into")
    folder = context.work_dir / "oneroster-rest"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = settings.entities
    with OneRosterClient(settings) as client:
        client.authenticate()
        for collection in COLLECTIONS:
            # 1.2 roles have no collection of their own: they arrive inside users.
            outputs = [e for e in (collection,) if e in wanted]
            if collection == "users" and settings.version == "1.2" and "roles" in wanted:
                outputs.append("roles")
            if not outputs:
                continue
            files = {e: CollectionFile(folder, e, settings.version) for e in outputs}
            try:
                for record in client.records(collection):
                    if collection in files:
                        files[collection].add(flatten(record, collection))
                    if "roles" in files:
                        for row in role_rows(record):
                            files["roles"].add(row)
            except IngestionError as exc:
                for entity, target in files.items():
                    target.discard()
                    yield failed(entity, str(exc))
                continue
            for target in files.values():
                yield _written(target, collection)


def _written(target: CollectionFile, collection: str) -> Delivery:
    if target.rows == 0:
        target.discard()
        return failed(
            target.entity,
            f"GET {collection} returned no {target.entity}; the entity's current records are "
            "kept (an empty pull is never taken as 'delete all')",
        )
    return file_delivery(target.entity, target.write(), target.version, "bulk")
