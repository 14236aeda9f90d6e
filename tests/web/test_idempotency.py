"""Idempotency-Key on POST: replay, reuse, scoping, concurrency, validation, retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import MovableClock, TenantHandle
from tests.web.helpers import API_KEYS, PLATFORM, TENANTS, assert_problem, count_keys, unique

REPLAYED = "idempotent-replayed"


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_same_key_and_body_replays_the_api_key_response_with_one_effect(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    before = await count_keys(client, tenant)
    headers = with_key(tenant.admin, unique())

    first = await client.post(API_KEYS, json={"keyName": "k"}, headers=headers)
    second = await client.post(API_KEYS, json={"keyName": "k"}, headers=headers)

    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    assert second.status_code == first.status_code
    assert second.headers[REPLAYED] == "true"
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert first.json()["apiPrivateKey"]
    assert await count_keys(client, tenant) == before + 1


async def test_same_key_and_body_replays_tenant_creation_with_the_same_tenant(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    name = unique("tenant")
    headers = with_key(PLATFORM, unique())

    first = await client.post(TENANTS, json={"projectName": name}, headers=headers)
    second = await client.post(TENANTS, json={"projectName": name}, headers=headers)

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.headers[REPLAYED] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert second.content == first.content
    async with owner_engine.connect() as conn:
        created = await conn.scalar(
            text("SELECT count(*) FROM tenants WHERE project_name = :n"), {"n": name}
        )
    assert created == 1


async def test_same_key_with_a_different_body_is_rejected_as_reused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    headers = with_key(tenant.admin, unique())
    first = await client.post(API_KEYS, json={"keyName": "k"}, headers=headers)
    assert first.status_code == 201, first.text
    after_first = await count_keys(client, tenant)

    reused = await client.post(API_KEYS, json={"keyName": "other"}, headers=headers)

    assert_problem(reused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert REPLAYED not in reused.headers
    assert await count_keys(client, tenant) == after_first


async def test_same_key_for_tenant_creation_with_a_different_name_is_rejected_as_reused(
    client: httpx.AsyncClient,
) -> None:
    headers = with_key(PLATFORM, unique())
    first = await client.post(TENANTS, json={"projectName": unique("a")}, headers=headers)
    assert first.status_code == 201, first.text

    reused = await client.post(TENANTS, json={"projectName": unique("b")}, headers=headers)

    assert_problem(reused, 422, "IDEMPOTENCY_KEY_REUSED")


async def test_same_key_from_another_tenants_admin_is_independent(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    key = unique()
    before_a = await count_keys(client, tenant)
    before_b = await count_keys(client, other_tenant)

    a = await client.post(API_KEYS, json={"keyName": "k"}, headers=with_key(tenant.admin, key))
    b = await client.post(
        API_KEYS, json={"keyName": "k"}, headers=with_key(other_tenant.admin, key)
    )

    assert a.status_code == 201, a.text
    assert b.status_code == 201, b.text
    assert REPLAYED not in a.headers
    assert REPLAYED not in b.headers
    assert a.json()["id"] == str(tenant.id)
    assert b.json()["id"] == str(other_tenant.id)
    assert a.json()["apiPrivateKey"] != b.json()["apiPrivateKey"]
    assert await count_keys(client, tenant) == before_a + 1
    assert await count_keys(client, other_tenant) == before_b + 1


async def test_concurrent_duplicates_run_once_and_the_rest_replay_or_are_in_flight(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    before = await count_keys(client, tenant)
    headers = with_key(tenant.admin, unique())

    responses = await asyncio.gather(
        *(client.post(API_KEYS, json={"keyName": "k"}, headers=headers) for _ in range(10))
    )

    created = [r for r in responses if r.status_code == 201]
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_flight) == len(responses), [r.text for r in responses]
    assert created, "at least one request must have run"
    assert len({r.content for r in created}) == 1, "every 201 must carry the same body"
    assert sum(REPLAYED not in r.headers for r in created) == 1, "exactly one original"
    for response in in_flight:
        body = assert_problem(response, 409, "IDEMPOTENCY_KEY_IN_FLIGHT")
        assert REPLAYED not in response.headers
        assert "apiPrivateKey" not in body
    assert await count_keys(client, tenant) == before + 1


async def test_key_of_exactly_255_characters_is_accepted(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    key = unique()
    key = key + "x" * (255 - len(key))

    response = await client.post(
        API_KEYS, json={"keyName": "k"}, headers=with_key(tenant.admin, key)
    )

    assert response.status_code == 201, response.text


async def test_invalid_keys_are_rejected_without_effect(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    before = await count_keys(client, tenant)
    for key in ("k" * 300, "has space", "", "tab\tinside"):
        response = await client.post(
            API_KEYS, json={"keyName": "k"}, headers=with_key(tenant.admin, key)
        )
        assert_problem(response, 400, "INVALID_IDEMPOTENCY_KEY")
    assert await count_keys(client, tenant) == before


async def test_failed_request_is_not_stored_so_it_fails_again_and_the_key_stays_free(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    before = await count_keys(client, tenant)
    headers = with_key(tenant.admin, unique())

    first = await client.post(API_KEYS, json={}, headers=headers)
    again = await client.post(API_KEYS, json={}, headers=headers)

    assert_problem(first, 400, "VALIDATION_ERROR")
    assert_problem(again, 400, "VALIDATION_ERROR")
    assert REPLAYED not in again.headers
    assert await count_keys(client, tenant) == before
    # Nothing was stored for the key: a different (valid) body is not "reused", it runs.
    fixed = await client.post(API_KEYS, json={"keyName": "k"}, headers=headers)
    assert fixed.status_code == 201, fixed.text
    assert REPLAYED not in fixed.headers
    assert await count_keys(client, tenant) == before + 1


async def test_record_is_honoured_for_24_hours_then_the_key_runs_again(
    client: httpx.AsyncClient, tenant: TenantHandle, clock: MovableClock
) -> None:
    before = await count_keys(client, tenant)
    headers = with_key(tenant.admin, unique())
    first = await client.post(API_KEYS, json={"keyName": "k"}, headers=headers)
    assert first.status_code == 201, first.text

    clock.advance(timedelta(hours=23))
    within = await client.post(API_KEYS, json={"keyName": "k"}, headers=headers)
    assert within.headers.get(REPLAYED) == "true"
    assert within.content == first.content

    clock.advance(timedelta(hours=2))
    after = await client.post(API_KEYS, json={"keyName": "k"}, headers=headers)
    assert after.status_code == 201, after.text
    assert REPLAYED not in after.headers
    assert after.json()["apiPrivateKey"] != first.json()["apiPrivateKey"]
    assert await count_keys(client, tenant) == before + 2
    # The new outcome is the one stored now.
    replay = await client.post(API_KEYS, json={"keyName": "k"}, headers=headers)
    assert replay.headers.get(REPLAYED) == "true"
    assert replay.content == after.content
