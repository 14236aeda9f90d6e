"""ADMIN token operations: create, update, toggle active; validation, permissions, tenancy."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import TenantHandle
from tests.contracts import deployed
from tests.tokens.conftest import (
    ADMIN_TOKENS,
    DEV_CHAIN_ID,
    TOKEN_FIELDS,
    create_token,
    ids,
    list_tokens,
    new_address,
    problem,
    validation_error,
)

# --- POST /token/admin ------------------------------------------------------------------------


async def test_admin_creates_testnet_erc20_with_every_documented_field(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    address = deployed(tenant.id, "ERC20", decimals=6)
    response = await client.post(
        ADMIN_TOKENS,
        json={
            "contractAddress": address,
            "abiUrl": "https://cdn.example/abi/points.json",
            "type": "ERC20",
            "decimals": 6,
        },
        headers=tenant.admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == TOKEN_FIELDS
    assert uuid.UUID(body["id"])
    assert body["contractAddress"] == address
    assert body["chainId"] == DEV_CHAIN_ID
    assert body["abiUrl"] == "https://cdn.example/abi/points.json"
    assert body["type"] == "ERC20"
    assert body["decimals"] == 6
    assert body["metadata"] is None  # credits have no items
    assert body["isActive"] is True
    assert body["isGallery"] is False
    assert body["name"] is None
    assert body["symbol"] is None
    assert isinstance(body["abi"], list)
    assert body["abi"]


async def test_erc20_decimals_default_to_18(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC20")
    assert token["decimals"] == 18


@pytest.mark.parametrize("token_type", ["ERC721", "ERC1155"])
async def test_nft_tokens_have_zero_decimals_and_an_empty_item_list(
    client: httpx.AsyncClient, tenant: TenantHandle, token_type: str
) -> None:
    token = await create_token(client, tenant, token_type)
    assert token["decimals"] == 0
    assert token["metadata"] == []
    assert token["type"] == token_type
    explicit_zero = await create_token(client, tenant, token_type, decimals=0)
    assert explicit_zero["decimals"] == 0


async def test_pers_extensions_set_chain_name_and_symbol_at_creation(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(
        client, tenant, "ERC20", chainId=DEV_CHAIN_ID, name="Coffee Points", symbol="BEAN"
    )
    assert token["chainId"] == DEV_CHAIN_ID
    assert token["name"] == "Coffee Points"
    assert token["symbol"] == "BEAN"


async def test_lowercase_address_is_stored_in_checksum_form(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    address = deployed(tenant.id, "ERC721")
    token = await create_token(client, tenant, "ERC721", contractAddress=address.lower())
    assert token["contractAddress"] == address


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "ERC20"}, "contractAddress"),
        ({"contractAddress": "0x1234", "type": "ERC20"}, "contractAddress"),
        ({"contractAddress": "0x" + "g" * 40, "type": "ERC20"}, "contractAddress"),
        ({"contractAddress": "0x" + "0" * 40, "type": "ERC20"}, "contractAddress"),
        ({"contractAddress": "ADDR", "type": "ERC20"}, "contractAddress"),
        ({"contractAddress": "VALID"}, "type"),
        ({"contractAddress": "VALID", "type": "ERC777"}, "type"),
        ({"contractAddress": "VALID", "type": "ERC20", "decimals": 37}, "decimals"),
        ({"contractAddress": "VALID", "type": "ERC20", "decimals": -1}, "decimals"),
        ({"contractAddress": "VALID", "type": "ERC20", "decimals": 1.5}, "decimals"),
        ({"contractAddress": "VALID", "type": "ERC721", "decimals": 18}, "decimals"),
        ({"contractAddress": "VALID", "type": "ERC1155", "decimals": 2}, "decimals"),
        ({"contractAddress": "VALID", "type": "ERC20", "abiUrl": "file:///etc"}, "abiUrl"),
        ({"contractAddress": "VALID", "type": "ERC20", "chainId": 0}, "chainId"),
        ({"contractAddress": "VALID", "type": "ERC20", "isActive": False}, "isActive"),
    ],
)
async def test_invalid_token_creation_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, object], field: str
) -> None:
    if body.get("contractAddress") == "VALID":
        body = {**body, "contractAddress": new_address()}
    response = await client.post(ADMIN_TOKENS, json=body, headers=tenant.admin)
    validation_error(response, field)
    assert await list_tokens(client, tenant.admin, active="false") == []


async def test_address_with_a_wrong_checksum_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    address = new_address()
    digits = address[2:]
    # Flip the case of the first letter: the mixed-case spelling no longer matches EIP-55.
    i = next(i for i, c in enumerate(digits) if c.isalpha())
    wrong = "0x" + digits[:i] + digits[i].swapcase() + digits[i + 1 :]
    response = await client.post(
        ADMIN_TOKENS, json={"contractAddress": wrong, "type": "ERC20"}, headers=tenant.admin
    )
    validation_error(response, "contractAddress")


async def test_same_testnet_address_twice_in_a_tenant_is_a_conflict(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    first = await create_token(client, tenant, "ERC721")
    again = await client.post(
        ADMIN_TOKENS,
        json={"contractAddress": first["contractAddress"].lower(), "type": "ERC721"},
        headers=tenant.admin,
    )
    problem(again, 409, "TOKEN_ADDRESS_TAKEN")
    assert ids(await list_tokens(client, tenant.admin, active="false")) == {first["id"]}


async def test_another_tenants_contract_is_refused_its_owner_is_not_our_operator(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    """A contract has one owner, so only the tenant whose operator owns it can register it."""
    mine = await create_token(client, tenant, "ERC1155")
    theirs = await client.post(
        ADMIN_TOKENS,
        json={"contractAddress": mine["contractAddress"], "type": "ERC1155"},
        headers=other_tenant.admin,
    )
    problem(theirs, 422, "CONTRACT_OPERATOR_MISMATCH")
    assert await list_tokens(client, other_tenant.admin, active="false") == []


async def test_users_and_systems_cannot_create_tokens(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    user: dict[str, str],
    system: dict[str, str],
) -> None:
    body = {"contractAddress": new_address(), "type": "ERC20"}
    for headers in (user, system):
        response = await client.post(ADMIN_TOKENS, json=body, headers=headers)
        problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    for headers in ({}, tenant.public):  # a project key alone authenticates nobody
        response = await client.post(ADMIN_TOKENS, json=body, headers=headers)
        problem(response, 401, "MISSING_CREDENTIALS")
    assert await list_tokens(client, tenant.admin, active="false") == []


async def test_token_creation_replays_with_the_same_idempotency_key(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    body = {"contractAddress": deployed(tenant.id, "ERC721"), "type": "ERC721"}
    headers = {**tenant.admin, "Idempotency-Key": f"token-{uuid.uuid4()}"}
    first = await client.post(ADMIN_TOKENS, json=body, headers=headers)
    second = await client.post(ADMIN_TOKENS, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.json()["id"] == first.json()["id"]
    assert len(await list_tokens(client, tenant.admin, active="false")) == 1


# --- PUT /token/admin/{id} --------------------------------------------------------------------


async def test_update_changes_only_the_fields_sent(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC721")
    url = f"{ADMIN_TOKENS}/{token['id']}"
    first = await client.put(
        url, json={"name": "Coffee Club", "symbol": "CLUB", "isGallery": True}, headers=tenant.admin
    )
    assert first.status_code == 200, first.text
    assert (first.json()["name"], first.json()["symbol"], first.json()["isGallery"]) == (
        "Coffee Club",
        "CLUB",
        True,
    )
    second = await client.put(url, json={"symbol": "CC"}, headers=tenant.admin)
    assert second.status_code == 200, second.text
    body = second.json()
    assert set(body) == TOKEN_FIELDS
    assert body["symbol"] == "CC"
    assert body["name"] == "Coffee Club"
    assert body["isGallery"] is True
    assert body["contractAddress"] == token["contractAddress"]


async def test_update_with_null_clears_name_and_symbol(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC20", name="Points", symbol="PTS")
    response = await client.put(
        f"{ADMIN_TOKENS}/{token['id']}", json={"name": None, "symbol": None}, headers=tenant.admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] is None
    assert response.json()["symbol"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"isGallery": None}, "isGallery"),
        ({"isGallery": "maybe"}, "isGallery"),
        ({"name": ""}, "name"),
        ({"symbol": "S" * 33}, "symbol"),
        ({"decimals": 2}, "decimals"),
        ({"contractAddress": "0x" + "1" * 40}, "contractAddress"),
    ],
)
async def test_invalid_update_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, object], field: str
) -> None:
    token = await create_token(client, tenant, "ERC20", name="Points")
    response = await client.put(f"{ADMIN_TOKENS}/{token['id']}", json=body, headers=tenant.admin)
    validation_error(response, field)
    [unchanged] = await list_tokens(client, tenant.admin)
    assert unchanged["name"] == "Points"
    assert unchanged["decimals"] == 18


# --- PUT /token/admin/{id}/toggle-active ------------------------------------------------------


async def test_toggle_active_flips_the_flag_both_ways(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    url = f"{ADMIN_TOKENS}/{token['id']}/toggle-active"
    off = await client.put(url, headers=tenant.admin)
    assert off.status_code == 200, off.text
    assert off.json()["isActive"] is False
    assert await list_tokens(client, tenant.public) == []
    on = await client.put(url, headers=tenant.admin)
    assert on.json()["isActive"] is True
    assert ids(await list_tokens(client, tenant.public)) == {token["id"]}


# --- permissions and tenancy on every admin operation by id -----------------------------------


def _admin_calls(token_id: str) -> list[tuple[str, str, dict[str, object] | None]]:
    return [
        ("PUT", f"{ADMIN_TOKENS}/{token_id}", {"name": "Hijacked"}),
        ("PUT", f"{ADMIN_TOKENS}/{token_id}/toggle-active", None),
        ("PUT", f"{ADMIN_TOKENS}/{token_id}/mainnet/{new_address()}/chain/137", None),
        ("POST", f"{ADMIN_TOKENS}/{token_id}/metadata", {"name": "Hijacked"}),
    ]


async def test_another_tenants_admin_gets_token_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC721", name="Mine")
    for method, url, body in _admin_calls(token["id"]):
        response = await client.request(method, url, json=body, headers=other_tenant.admin)
        problem(response, 404, "TOKEN_NOT_FOUND")
    [unchanged] = await list_tokens(client, tenant.admin)
    assert unchanged["name"] == "Mine"
    assert unchanged["isActive"] is True
    assert unchanged["metadata"] == []
    assert await list_tokens(client, other_tenant.admin, active="false") == []


async def test_unknown_token_id_is_not_found_and_a_malformed_one_is_invalid(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    for method, url, body in _admin_calls(str(uuid.uuid4())):
        response = await client.request(method, url, json=body, headers=tenant.admin)
        problem(response, 404, "TOKEN_NOT_FOUND")
    malformed = await client.put(f"{ADMIN_TOKENS}/not-a-uuid/toggle-active", headers=tenant.admin)
    validation_error(malformed, "id")


async def test_users_and_systems_cannot_use_admin_operations(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    user: dict[str, str],
    system: dict[str, str],
) -> None:
    token = await create_token(client, tenant, "ERC721", name="Mine")
    for headers in (user, system):
        for method, url, body in _admin_calls(token["id"]):
            response = await client.request(method, url, json=body, headers=headers)
            problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    [unchanged] = await list_tokens(client, tenant.admin)
    assert unchanged["name"] == "Mine"
    assert unchanged["metadata"] == []
