"""An Ed-Fi ODS/API client (httpx, asyncio): discovery, OAuth2 client credentials, POST as
upsert, DELETE by id, paged GET; retries and both error payload styles.

- Token: POST to the discovery document's `oauth` URL with HTTP Basic client id/secret and
  `grant_type=client_credentials`; renewed ahead of `expires_in`, and once on a 401 (under a
  lock, so concurrent requests share one renewal).
- Retries: 429, 500, 502, 503, 504 and connection errors/timeouts are retried with exponential
  backoff (honouring `Retry-After`), up to `retries` times. The settings are this object's own
  fields, passed to every request: nothing to lose on the way to the HTTP library.
- Errors: ODS/API 7.2+ problem details (`detail`, `validationErrors`, `errors`) and the older
  `{"message": ...}` are both read into one message.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from nexus.edfi.errors import EdfiError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ApiSettings:
    base_url: str
    client_id: str
    client_secret: str
    concurrency: int = 8
    retries: int = 5
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 20.0
    timeout_seconds: float = 60.0


@dataclass(frozen=True)
class Outcome:
    status: int  # HTTP status; 0 = no response (connection error after the retries)
    server_id: str | None = None
    message: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def transient(self) -> bool:
        return self.status == 0 or self.status in RETRY_STATUSES


def error_message(response: httpx.Response) -> str:
    """The server's message, from either error payload style."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason_phrase or "")[:500]
    if not isinstance(body, dict):
        return str(body)[:500]
    parts: list[str] = []
    if body.get("detail"):
        parts.append(str(body["detail"]))
    for path, messages in (body.get("validationErrors") or {}).items():
        for m in messages if isinstance(messages, list) else [messages]:
            parts.append(f"{path}: {m}")
    for m in body.get("errors") or []:
        parts.append(str(m))
    if not parts and body.get("message"):
        parts.append(str(body["message"]))
    if not parts and body.get("title"):
        parts.append(str(body["title"]))
    return "; ".join(parts)[:1000] or f"HTTP {response.status_code}"


class OdsApi:
    """One session with an ODS/API. Use `async with OdsApi(settings) as api:`."""

    def __init__(self, settings: ApiSettings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_version = 0
        self._lock = asyncio.Lock()
        self.oauth_url = ""
        self.data_url = ""
        self.requests = 0
        self.retried = 0
        self.tokens = 0

    async def __aenter__(self) -> OdsApi:
        limits = httpx.Limits(max_connections=self.settings.concurrency * 2)
        self._client = httpx.AsyncClient(
            transport=self._transport, timeout=self.settings.timeout_seconds, limits=limits
        )
        await self.discover()
        return self

    async def __aexit__(self, *exc) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def discover(self) -> dict:
        """Read the discovery document at the base URL: the token and data URLs."""
        base = self.settings.base_url.rstrip("/") + "/"
        response = await self._send_with_retries("GET", base)
        if response is None:
            raise EdfiError(f"cannot reach the ODS/API at {base} (after the retries)")
        if response.status_code != 200:
            raise EdfiError(
                f"the ODS/API discovery document at {base} answered {response.status_code}"
            )
        try:
            urls = response.json()["urls"]
            self.oauth_url = urljoin(base, urls["oauth"])
            self.data_url = urljoin(base, urls["dataManagementApi"]).rstrip("/")
        except (ValueError, KeyError, TypeError):
            raise EdfiError(f"{base} does not serve an Ed-Fi discovery document") from None
        return response.json()

    async def _ensure_token(self, stale_version: int | None = None) -> str:
        async with self._lock:
            fresh = self._token and time.monotonic() < self._token_expires
            if fresh and (stale_version is None or stale_version != self._token_version):
                return self._token
            response = await self._send_with_retries(
                "POST",
                self.oauth_url,
                auth=(self.settings.client_id, self.settings.client_secret),
                data={"grant_type": "client_credentials"},
            )
            if response is None or response.status_code != 200:
                status = response.status_code if response is not None else "no answer"
                detail = error_message(response) if response is not None else ""
                raise EdfiError(
                    f"the ODS/API refused the client credentials ({status}) {detail}".strip()
                )
            body = response.json()
            self._token = body["access_token"]
            lifetime = float(body.get("expires_in") or 1800)
            # Renew a little early so a request never starts with a token about to lapse.
            self._token_expires = time.monotonic() + max(lifetime - min(60, lifetime / 10), 1)
            self._token_version += 1
            self.tokens += 1
            return self._token

    async def _send_with_retries(self, method: str, url: str, **kwargs) -> httpx.Response | None:
        s = self.settings
        for attempt in range(s.retries + 1):
            self.requests += 1
            try:
                response = await self._client.request(method, url, **kwargs)
            except (httpx.TransportError, httpx.TimeoutException):
                response = None
            if response is not None and response.status_code not in RETRY_STATUSES:
                return response
            if attempt == s.retries:
                return response
            self.retried += 1
            await asyncio.sleep(self._delay(attempt, response))
        return None

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        s = self.settings
        if response is not None and (after := response.headers.get("Retry-After")):
            try:
                return min(float(after), s.max_backoff_seconds)
            except ValueError:
                pass
        return min(s.backoff_seconds * (2**attempt), s.max_backoff_seconds)

    async def request(self, method: str, path: str, **kwargs) -> httpx.Response | None:
        """An authorised request to the data API; one token renewal on a 401."""
        url = f"{self.data_url}/{path.lstrip('/')}"
        token = await self._ensure_token()
        version = self._token_version
        response = await self._send_with_retries(
            method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
        if response is not None and response.status_code == 401:
            token = await self._ensure_token(stale_version=version)
            response = await self._send_with_retries(
                method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs
            )
            if response is not None and response.status_code == 401:
                raise EdfiError("the ODS/API keeps refusing the token (401): check the client")
        return response

    async def post(self, resource: str, payload: dict, namespace: str = "ed-fi") -> Outcome:
        """POST = upsert by natural key: 201 created, 200 updated (Location names the id)."""
        response = await self.request("POST", f"{namespace}/{resource}", json=payload)
        return _outcome(response)

    async def delete(self, resource: str, server_id: str, namespace: str = "ed-fi") -> Outcome:
        response = await self.request("DELETE", f"{namespace}/{resource}/{server_id}")
        outcome = _outcome(response)
        if outcome.status == 404:  # already gone: what a delete wanted
            return Outcome(204, server_id, "already absent")
        return outcome

    async def get_all(
        self, resource: str, limit: int = 500, namespace: str = "ed-fi"
    ) -> tuple[int, list[dict]]:
        """Every item of a resource by limit/offset pages; and the server's Total-Count."""
        items: list[dict] = []
        total = None
        offset = 0
        while True:
            params = {"offset": offset, "limit": limit}
            if total is None:
                params["totalCount"] = "true"
            response = await self.request("GET", f"{namespace}/{resource}", params=params)
            if response is None or response.status_code != 200:
                raise EdfiError(f"GET {resource} failed: {_outcome(response).message}")
            if total is None:
                total = int(response.headers.get("Total-Count", "0"))
            page = response.json()
            items.extend(page)
            offset += limit
            if len(page) < limit:
                return total, items


def _outcome(response: httpx.Response | None) -> Outcome:
    if response is None:
        return Outcome(0, None, "no answer from the ODS/API after the retries")
    server_id = None
    location = response.headers.get("Location")
    if location:
        server_id = location.rstrip("/").rsplit("/", 1)[-1]
    if 200 <= response.status_code < 300:
        return Outcome(response.status_code, server_id)
    return Outcome(response.status_code, server_id, error_message(response))
