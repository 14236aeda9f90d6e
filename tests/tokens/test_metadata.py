"""Token metadata: OpenSea-style items of ERC721/ERC1155 tokens, numbered per token."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import httpx
import pytest

from tests.conftest import TenantHandle
from tests.tokens.conftest import (
    ADMIN_TOKENS,
    METADATA_FIELDS,
    add_metadata,
    create_token,
    list_tokens,
    mainnet_admin,
    new_address,
    problem,
    validation_error,
)

EVERY_FIELD = {
    "imageUrl": "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/gold.png",
    "externalUrl": "https://coffee.example/rewards/gold",
    "description": "A **free** coffee of your choice.",
    "name": "Free coffee",
    "expiryDate": "2030-08-24T14:15:22Z",
    "animationUrl": "https://coffee.example/rewards/gold.mp4",
    "youtubeUrl": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "creatorAccountAddress": "VALID",
    "previewUrl": "https://coffee.example/rewards/gold-preview.png",
}


def metadata_url(token_id: str) -> str:
    return f"{ADMIN_TOKENS}/{token_id}/metadata"


def toggle_url(metadata_id: str) -> str:
    return f"{ADMIN_TOKENS}/metadata/{metadata_id}/toggle-active"


@pytest.mark.parametrize("token_type", ["ERC721", "ERC1155"])
async def test_admin_creates_metadata_with_every_documented_field(
    client: httpx.AsyncClient, tenant: TenantHandle, token_type: str
) -> None:
    token = await create_token(client, tenant, token_type)
    creator = new_address()
    sent = {**EVERY_FIELD, "creatorAccountAddress": creator.lower()}
    response = await client.post(metadata_url(token["id"]), json=sent, headers=tenant.admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == METADATA_FIELDS
    for field, value in EVERY_FIELD.items():
        if field == "expiryDate":
            assert datetime.fromisoformat(body[field]) == datetime.fromisoformat(value)
        elif field == "creatorAccountAddress":
            assert body[field] == creator  # stored in checksum form
        else:
            assert body[field] == value, field
    assert uuid.UUID(body["id"])
    assert body["tokenMetadataIncrementalId"] == 1
    assert body["isActive"] is True
    assert body["web3StorageUrl"] is None
    assert body["imageWeb3StorageUrl"] is None
    assert body["animationWeb3StorageUrl"] is None


async def test_every_metadata_field_is_optional(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    item = await add_metadata(client, tenant, token["id"])
    assert item["tokenMetadataIncrementalId"] == 1
    assert all(item[f] is None for f in EVERY_FIELD)


async def test_incremental_ids_count_per_token(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    first = await create_token(client, tenant, "ERC1155")
    second = await create_token(client, tenant, "ERC721")
    numbers = [
        (await add_metadata(client, tenant, first["id"]))["tokenMetadataIncrementalId"],
        (await add_metadata(client, tenant, first["id"]))["tokenMetadataIncrementalId"],
        (await add_metadata(client, tenant, second["id"]))["tokenMetadataIncrementalId"],
        (await add_metadata(client, tenant, first["id"]))["tokenMetadataIncrementalId"],
    ]
    assert numbers == [1, 2, 1, 3]


async def test_concurrent_metadata_creates_get_distinct_consecutive_ids(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    responses = await asyncio.gather(
        *(
            client.post(metadata_url(token["id"]), json={"name": f"item {i}"}, headers=tenant.admin)
            for i in range(10)
        )
    )
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    numbers = sorted(r.json()["tokenMetadataIncrementalId"] for r in responses)
    assert numbers == list(range(1, 11))
    [listed] = await list_tokens(client, tenant.admin)
    assert [m["tokenMetadataIncrementalId"] for m in listed["metadata"]] == list(range(1, 11))


async def test_a_failed_create_leaves_no_gap(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC721")
    await add_metadata(client, tenant, token["id"])
    bad = await client.post(
        metadata_url(token["id"]),
        json={"creatorAccountAddress": "0xnope"},
        headers=tenant.admin,
    )
    validation_error(bad, "creatorAccountAddress")
    assert (await add_metadata(client, tenant, token["id"]))["tokenMetadataIncrementalId"] == 2


async def test_erc20_tokens_have_no_metadata(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC20")
    response = await client.post(
        metadata_url(token["id"]), json={"name": "x"}, headers=tenant.admin
    )
    problem(response, 422, "TOKEN_METADATA_NOT_SUPPORTED")
    [listed] = await list_tokens(client, tenant.admin)
    assert listed["metadata"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expiryDate": "2030-08-24T14:15:22"}, "expiryDate"),  # no time zone
        ({"expiryDate": "next tuesday"}, "expiryDate"),
        ({"creatorAccountAddress": "0x123"}, "creatorAccountAddress"),
        ({"imageUrl": "https://x.example/" + "a" * 2048}, "imageUrl"),
        ({"description": "d" * 10_001}, "description"),
        ({"name": 42}, "name"),
        ({"tokenMetadataIncrementalId": 7}, "tokenMetadataIncrementalId"),
    ],
)
async def test_invalid_metadata_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, object], field: str
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    response = await client.post(metadata_url(token["id"]), json=body, headers=tenant.admin)
    validation_error(response, field)
    [listed] = await list_tokens(client, tenant.admin)
    assert listed["metadata"] == []


async def test_toggle_metadata_active_hides_the_item_from_non_admins(
    client: httpx.AsyncClient, tenant: TenantHandle, user: dict[str, str]
) -> None:
    token = await create_token(client, tenant, "ERC721")
    kept = await add_metadata(client, tenant, token["id"], name="Silver")
    hidden = await add_metadata(client, tenant, token["id"], name="Gold")
    off = await client.put(toggle_url(hidden["id"]), headers=tenant.admin)
    assert off.status_code == 200, off.text
    assert set(off.json()) == METADATA_FIELDS
    assert off.json()["isActive"] is False
    assert off.json()["tokenMetadataIncrementalId"] == 2

    for headers in (tenant.public, user):
        [seen] = await list_tokens(client, headers, "/status")
        assert [m["id"] for m in seen["metadata"]] == [kept["id"]]
    [admin_view] = await list_tokens(client, tenant.admin, "/status")
    assert [(m["name"], m["isActive"]) for m in admin_view["metadata"]] == [
        ("Silver", True),
        ("Gold", False),
    ]
    on = await client.put(toggle_url(hidden["id"]), headers=tenant.admin)
    assert on.json()["isActive"] is True
    [seen] = await list_tokens(client, tenant.public, "/status")
    assert len(seen["metadata"]) == 2


async def test_metadata_of_another_tenant_cannot_be_toggled(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    item = await add_metadata(client, tenant, token["id"])
    response = await client.put(toggle_url(item["id"]), headers=other_tenant.admin)
    problem(response, 404, "TOKEN_METADATA_NOT_FOUND")
    unknown = await client.put(toggle_url(str(uuid.uuid4())), headers=tenant.admin)
    problem(unknown, 404, "TOKEN_METADATA_NOT_FOUND")
    [listed] = await list_tokens(client, tenant.public)
    assert listed["metadata"][0]["isActive"] is True


async def test_metadata_of_an_unpromoted_token_is_not_found_on_mainnet(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    item = await add_metadata(client, tenant, token["id"])
    response = await client.put(toggle_url(item["id"]), headers=await mainnet_admin(client, tenant))
    problem(response, 404, "TOKEN_METADATA_NOT_FOUND")


async def test_users_and_systems_cannot_manage_metadata(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    user: dict[str, str],
    system: dict[str, str],
) -> None:
    token = await create_token(client, tenant, "ERC721")
    item = await add_metadata(client, tenant, token["id"])
    for headers in (user, system):
        create = await client.post(metadata_url(token["id"]), json={}, headers=headers)
        problem(create, 403, "PRINCIPAL_NOT_ALLOWED")
        toggle = await client.put(toggle_url(item["id"]), headers=headers)
        problem(toggle, 403, "PRINCIPAL_NOT_ALLOWED")
    [listed] = await list_tokens(client, tenant.admin)
    assert [(m["id"], m["isActive"]) for m in listed["metadata"]] == [(item["id"], True)]
