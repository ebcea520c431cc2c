"""The ODS/API client against the local fake: discovery, tokens, upsert, errors of both styles,
retries, paging, DELETE."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from nexus.edfi.client import ApiSettings, OdsApi, error_message
from nexus.edfi.errors import EdfiError

from .fake_ods import FakeOds

SETTINGS = ApiSettings(
    "http://ods.test",
    "nexus-client",
    "nexus-secret",
    concurrency=4,
    retries=3,
    backoff_seconds=0.001,
)
STUDENT = {
    "studentUniqueId": "1234567890",
    "birthDate": "2010-03-04",
    "firstName": "Ada",
    "lastSurname": "Byron",
}
TERM = {
    "codeValue": "Full Year",
    "namespace": "uri://dese.mo.gov/TermDescriptor",
    "shortDescription": "Full Year",
}
SAR = {
    "educationOrganizationReference": {"educationOrganizationId": 48078},
    "schoolYearTypeReference": {"schoolYear": 2027},
    "studentReference": {"studentUniqueId": "1234567890"},
    "termDescriptor": "uri://dese.mo.gov/TermDescriptor#Full Year",
}


def run(fake: FakeOds, work, settings: ApiSettings = SETTINGS):
    async def go():
        async with OdsApi(settings, fake.transport) as api:
            return await work(api)

    return asyncio.run(go())


def test_upsert_by_natural_key_201_then_200_same_id():
    fake = FakeOds()

    async def work(api):
        return await api.post("students", STUDENT), await api.post(
            "students", {**STUDENT, "firstName": "Augusta"}
        )

    first, second = run(fake, work)
    assert (first.status, second.status) == (201, 200)
    assert first.server_id == second.server_id
    assert fake.items["students"][first.server_id]["firstName"] == "Augusta"
    assert fake.count("POST", "students") == 2


@pytest.mark.parametrize("style", ["7.2", "legacy"])
def test_unknown_descriptor_is_400_with_the_servers_message_in_both_styles(style):
    fake = FakeOds(error_style=style, district_lea=48078)

    async def work(api):
        await api.post("students", STUDENT)
        return await api.post("studentAcademicRecords", SAR)

    outcome = run(fake, work)
    assert outcome.status == 400 and not outcome.transient
    assert "TermDescriptor value 'uri://dese.mo.gov/TermDescriptor#Full Year' does not exist" in (
        outcome.message
    )


@pytest.mark.parametrize("style", ["7.2", "legacy"])
def test_unresolved_reference_is_409_in_both_styles(style):
    fake = FakeOds(error_style=style, district_lea=48078)

    async def work(api):
        await api.post("termDescriptors", TERM)
        return await api.post("studentAcademicRecords", SAR)

    outcome = run(fake, work)
    assert outcome.status == 409
    assert outcome.message == "The referenced 'Student' item does not exist."


def test_error_message_reads_both_payload_styles():
    new = httpx.Response(
        400,
        json={
            "detail": "Data validation failed.",
            "validationErrors": {"$.x": ["bad x"]},
            "errors": ["also"],
        },
    )
    assert error_message(new) == "Data validation failed.; $.x: bad x; also"
    assert error_message(httpx.Response(409, json={"message": "old style"})) == "old style"
    assert error_message(httpx.Response(500, text="plain")) == "plain"


def test_id_in_body_and_empty_required_array_are_400():
    fake = FakeOds()

    async def work(api):
        return (
            await api.post("students", {**STUDENT, "id": "abc"}),
            await api.post(
                "schools",
                {
                    "schoolId": 1,
                    "nameOfInstitution": "X",
                    "gradeLevels": [],
                    "educationOrganizationCategories": [],
                },
            ),
        )

    with_id, empty = run(fake, work)
    assert with_id.status == 400 and "cannot be assigned by the client" in with_id.message
    assert empty.status == 400 and "gradeLevels requires at least one item" in empty.message


def test_429_and_500_are_retried_until_success():
    fake = FakeOds()
    fake.fail_next("POST", "students", 429, 500, 503)
    outcome = run(fake, lambda api: api.post("students", STUDENT))
    assert outcome.status == 201
    assert fake.count("POST", "students") == 4


def test_retries_are_bounded_and_the_failure_is_transient():
    fake = FakeOds()
    fake.fail_next("POST", "students", *([500] * 10))
    settings = ApiSettings(
        "http://ods.test", "nexus-client", "nexus-secret", retries=2, backoff_seconds=0.001
    )
    outcome = run(fake, lambda api: api.post("students", STUDENT), settings)
    assert outcome.status == 500 and outcome.transient
    assert fake.count("POST", "students") == 3  # the first try and two retries


def test_a_400_is_not_retried():
    fake = FakeOds()
    outcome = run(fake, lambda api: api.post("students", {"studentUniqueId": "1"}))
    assert outcome.status == 400
    assert fake.count("POST", "students") == 1


def test_connection_errors_are_retried():
    fake = FakeOds()
    calls = {"n": 0}

    def flaky(request):
        if request.url.path.endswith("/students"):
            calls["n"] += 1
            if calls["n"] <= 2:
                raise httpx.ConnectError("connection refused", request=request)
        return fake.handle(request)

    async def go():
        async with OdsApi(SETTINGS, httpx.MockTransport(flaky)) as api:
            return await api.post("students", STUDENT)

    assert asyncio.run(go()).status == 201
    assert calls["n"] == 3


def test_expired_token_is_renewed_once_on_401():
    fake = FakeOds()

    async def work(api):
        await api.post("students", STUDENT)
        fake.expire_tokens()
        return await api.post("students", STUDENT), api.tokens

    outcome, tokens = run(fake, work)
    assert outcome.status == 200 and tokens == 2


def test_token_renewed_ahead_of_expiry():
    fake = FakeOds(token_seconds=1)

    async def work(api):
        await api.post("students", STUDENT)
        await asyncio.sleep(1.05)
        await api.post("students", STUDENT)
        return api.tokens

    assert run(fake, work) == 2
    assert fake.count("POST", "students", 401) == 0


def test_bad_client_secret_is_a_clear_error():
    fake = FakeOds()
    settings = ApiSettings("http://ods.test", "nexus-client", "wrong")
    with pytest.raises(EdfiError, match="refused the client credentials"):
        run(fake, lambda api: api.post("students", STUDENT), settings)


def test_not_an_edfi_api_is_a_clear_error():
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"hello": "world"}))

    async def go():
        async with OdsApi(SETTINGS, transport):
            pass

    with pytest.raises(EdfiError, match="does not serve an Ed-Fi discovery document"):
        asyncio.run(go())


def test_paging_with_total_count_and_delete_by_id():
    fake = FakeOds()

    async def work(api):
        ids = []
        for i in range(7):
            o = await api.post("students", {**STUDENT, "studentUniqueId": f"10000000{i:02d}"})
            ids.append(o.server_id)
        total, items = await api.get_all("students", limit=3)
        gone = await api.delete("students", ids[0])
        again = await api.delete("students", ids[0])
        after, _ = await api.get_all("students", limit=3)
        return total, items, gone, again, after

    total, items, gone, again, after = run(fake, work)
    assert total == 7 and len(items) == 7
    assert len({i["id"] for i in items}) == 7
    assert fake.count("GET", "students") == 3 + 3  # pages of 3: 3 + 3 + 1, twice (7 then 6)
    assert gone.status == 204 and again.status == 204  # a 404 on delete means already gone
    assert after == 6


def test_discovery_and_token_are_retried_too():
    fake = FakeOds()
    calls = {"/": 0, "/oauth/token": 0}

    def flaky(request):
        path = request.url.path
        if path in calls:
            calls[path] += 1
            if calls[path] == 1:
                if path == "/":
                    raise httpx.ConnectError("refused", request=request)
                return httpx.Response(503)
        return fake.handle(request)

    async def go():
        async with OdsApi(SETTINGS, httpx.MockTransport(flaky)) as api:
            return await api.post("students", STUDENT)

    assert asyncio.run(go()).status == 201
    assert calls == {"/": 2, "/oauth/token": 2}
