"""Token types: how a tenant presents each native type (``POST /token/admin/type``,
``GET /token/type``)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import TenantHandle
from tests.tokens.conftest import TYPE_FIELDS, mainnet_public, problem, validation_error

TYPES = "/v1.7/token/type"
ADMIN_TYPES = "/v1.7/token/admin/type"


async def _types(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, object]]:
    response = await client.get(TYPES, headers=headers)
    assert response.status_code == 200, response.text
    types: list[dict[str, object]] = response.json()
    return types


async def test_admin_creates_a_token_type_with_every_documented_field(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    sent = {
        "nativeTokenType": "ERC1155",
        "name": "Rewards",
        "imageUrl": "https://coffee.example/rewards.png",
        "description": "Things you can get for free",
    }
    response = await client.post(ADMIN_TYPES, json=sent, headers=tenant.admin)
    assert response.status_code == 201, response.text
    assert response.json() == sent
    assert await _types(client, tenant.public) == [sent]


async def test_only_the_native_type_is_required(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.post(
        ADMIN_TYPES, json={"nativeTokenType": "ERC20"}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "nativeTokenType": "ERC20",
        "name": None,
        "imageUrl": None,
        "description": None,
    }


async def test_posting_an_existing_native_type_replaces_it(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    first = await client.post(
        ADMIN_TYPES,
        json={"nativeTokenType": "ERC20", "name": "Points", "description": "Earn them"},
        headers=tenant.admin,
    )
    assert first.status_code == 201
    second = await client.post(
        ADMIN_TYPES, json={"nativeTokenType": "ERC20", "name": "Beans"}, headers=tenant.admin
    )
    assert second.status_code == 200, second.text
    assert second.json()["name"] == "Beans"
    assert second.json()["description"] is None
    assert [t["name"] for t in await _types(client, tenant.public)] == ["Beans"]


async def test_types_are_listed_credit_status_reward_and_shared_by_both_environments(
    client: httpx.AsyncClient, tenant: TenantHandle, user: dict[str, str]
) -> None:
    for native, name in (("ERC1155", "Rewards"), ("ERC20", "Points"), ("ERC721", "Levels")):
        response = await client.post(
            ADMIN_TYPES, json={"nativeTokenType": native, "name": name}, headers=tenant.admin
        )
        assert response.status_code == 201, response.text
    for headers in (tenant.public, mainnet_public(tenant), user, tenant.admin):
        types = await _types(client, headers)
        assert [t["nativeTokenType"] for t in types] == ["ERC20", "ERC721", "ERC1155"]
        assert all(set(t) == TYPE_FIELDS for t in types)


async def test_concurrent_first_definitions_of_a_type_leave_one(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                ADMIN_TYPES,
                json={"nativeTokenType": "ERC721", "name": f"v{i}"},
                headers=tenant.admin,
            )
            for i in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    [only] = await _types(client, tenant.public)
    assert only["name"] in {f"v{i}" for i in range(5)}


async def test_another_tenants_types_are_not_listed(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    response = await client.post(
        ADMIN_TYPES, json={"nativeTokenType": "ERC20", "name": "Mine"}, headers=tenant.admin
    )
    assert response.status_code == 201
    assert await _types(client, other_tenant.public) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "nativeTokenType"),
        ({"nativeTokenType": "ERC777"}, "nativeTokenType"),
        ({"nativeTokenType": "erc20"}, "nativeTokenType"),
        ({"nativeTokenType": "ERC20", "name": "n" * 201}, "name"),
        ({"nativeTokenType": "ERC20", "colour": "blue"}, "colour"),
    ],
)
async def test_invalid_token_type_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, object], field: str
) -> None:
    response = await client.post(ADMIN_TYPES, json=body, headers=tenant.admin)
    validation_error(response, field)
    assert await _types(client, tenant.public) == []


async def test_users_and_systems_cannot_create_token_types(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    user: dict[str, str],
    system: dict[str, str],
) -> None:
    for headers in (user, system):
        response = await client.post(
            ADMIN_TYPES, json={"nativeTokenType": "ERC20"}, headers=headers
        )
        problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    assert await _types(client, tenant.public) == []
