"""Testnet and mainnet: a token is registered on testnet, promoted to mainnet with
``PUT /token/admin/{id}/mainnet/{contractAddress}/chain/{chainId}``, and each request sees the
side of its own environment."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pers.config import ChainSetting
from pers.runtime import Runtime
from tests.conftest import TenantHandle
from tests.contracts import MAINNET_CHAIN_ID, deployed
from tests.tokens.conftest import (
    ADMIN_TOKENS,
    DEV_CHAIN_ID,
    TOKEN_FIELDS,
    add_metadata,
    create_token,
    ids,
    list_tokens,
    mainnet_admin,
    mainnet_public,
    new_address,
    problem,
    promote,
    validation_error,
)


async def test_testnet_token_is_invisible_on_mainnet_until_promoted(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    admin_main = await mainnet_admin(client, tenant)
    assert await list_tokens(client, mainnet_public(tenant)) == []
    assert await list_tokens(client, admin_main, active="false") == []
    assert await list_tokens(client, mainnet_public(tenant), "/reward") == []
    toggle = await client.put(f"{ADMIN_TOKENS}/{token['id']}/toggle-active", headers=admin_main)
    problem(toggle, 404, "TOKEN_NOT_FOUND")
    update = await client.put(f"{ADMIN_TOKENS}/{token['id']}", json={}, headers=admin_main)
    problem(update, 404, "TOKEN_NOT_FOUND")
    item = await client.post(f"{ADMIN_TOKENS}/{token['id']}/metadata", json={}, headers=admin_main)
    problem(item, 404, "TOKEN_NOT_FOUND")
    # Testnet still sees it, untouched.
    assert ids(await list_tokens(client, tenant.public)) == {token["id"]}


async def test_promotion_answers_the_mainnet_side_and_each_environment_sees_its_own(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC721", name="Gold Club")
    await add_metadata(client, tenant, token["id"], name="Gold")
    mainnet_address = deployed(tenant.id, "ERC721", chain_id=MAINNET_CHAIN_ID)
    promoted = await promote(client, tenant, token["id"], mainnet_address.lower(), chain_id=137)
    assert set(promoted) == TOKEN_FIELDS
    assert promoted["id"] == token["id"]
    assert promoted["contractAddress"] == mainnet_address
    assert promoted["chainId"] == 137
    assert promoted["isActive"] is True
    assert promoted["name"] == "Gold Club"
    assert [m["name"] for m in promoted["metadata"]] == ["Gold"]

    [on_mainnet] = await list_tokens(client, mainnet_public(tenant))
    assert (on_mainnet["contractAddress"], on_mainnet["chainId"]) == (mainnet_address, 137)
    assert [m["tokenMetadataIncrementalId"] for m in on_mainnet["metadata"]] == [1]
    [on_testnet] = await list_tokens(client, tenant.public)
    assert (on_testnet["contractAddress"], on_testnet["chainId"]) == (
        token["contractAddress"],
        DEV_CHAIN_ID,
    )


async def test_promotion_works_with_a_mainnet_admin_credential_too(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    admin_main = await mainnet_admin(client, tenant)
    address = deployed(tenant.id, "ERC1155", chain_id=MAINNET_CHAIN_ID)
    response = await client.put(
        f"{ADMIN_TOKENS}/{token['id']}/mainnet/{address}/chain/137", headers=admin_main
    )
    assert response.status_code == 200, response.text
    assert response.json()["contractAddress"] == address
    assert ids(await list_tokens(client, admin_main)) == {token["id"]}


async def test_repeating_the_same_promotion_is_a_no_op(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC20")
    address = deployed(tenant.id, "ERC20", chain_id=MAINNET_CHAIN_ID)
    first = await promote(client, tenant, token["id"], address, chain_id=137)
    again = await promote(client, tenant, token["id"], address, chain_id=137)
    assert again == first


@pytest.fixture
def ethereum(runtime: Runtime) -> Iterator[int]:
    """Ethereum (chain 1) configured beside the tests' mainnet chain, never reached."""
    settings = runtime.settings
    saved = settings.chains
    unreachable = ChainSetting(chain_id=1, name="Ethereum", rpc_url="http://127.0.0.1:9")
    settings.chains = [*saved, unreachable]
    yield 1
    settings.chains = saved


@pytest.mark.parametrize("change", ["address", "chain"])
async def test_a_second_mainnet_address_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle, ethereum: int, change: str
) -> None:
    token = await create_token(client, tenant, "ERC721")
    address = deployed(tenant.id, "ERC721", chain_id=MAINNET_CHAIN_ID)
    await promote(client, tenant, token["id"], address, chain_id=137)
    other_address, other_chain = (
        (deployed(tenant.id, "ERC721", chain_id=MAINNET_CHAIN_ID), 137)
        if change == "address"
        else (address, ethereum)
    )
    response = await client.put(
        f"{ADMIN_TOKENS}/{token['id']}/mainnet/{other_address}/chain/{other_chain}",
        headers=tenant.admin,
    )
    problem(response, 409, "TOKEN_MAINNET_ADDRESS_ALREADY_SET")
    [on_mainnet] = await list_tokens(client, mainnet_public(tenant))
    assert (on_mainnet["contractAddress"], on_mainnet["chainId"]) == (address, 137)


async def test_mainnet_address_of_another_token_is_a_conflict(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    first = await create_token(client, tenant, "ERC721")
    second = await create_token(client, tenant, "ERC721")
    address = deployed(tenant.id, "ERC721", chain_id=MAINNET_CHAIN_ID)
    await promote(client, tenant, first["id"], address)
    response = await client.put(
        f"{ADMIN_TOKENS}/{second['id']}/mainnet/{address}/chain/137", headers=tenant.admin
    )
    problem(response, 409, "TOKEN_ADDRESS_TAKEN")
    assert ids(await list_tokens(client, mainnet_public(tenant))) == {first["id"]}


async def test_a_token_may_keep_its_testnet_address_on_mainnet(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    """Deterministic deployments give a contract the same address on every chain: here the
    operator's first contract on each chain (same deployer, same nonce)."""
    token = await create_token(client, tenant, "ERC20")
    assert deployed(tenant.id, "ERC20", chain_id=MAINNET_CHAIN_ID) == token["contractAddress"]
    promoted = await promote(client, tenant, token["id"], token["contractAddress"], chain_id=137)
    assert promoted["contractAddress"] == token["contractAddress"]
    assert promoted["chainId"] == 137


@pytest.mark.parametrize(
    ("address", "chain", "field"),
    [
        ("0x1234", "137", "contractAddress"),
        ("0x" + "0" * 40, "137", "contractAddress"),
        ("VALID", "zero", "chainId"),
        ("VALID", "0", "chainId"),
        ("VALID", "-5", "chainId"),
    ],
)
async def test_invalid_promotion_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle, address: str, chain: str, field: str
) -> None:
    token = await create_token(client, tenant, "ERC721")
    address = new_address() if address == "VALID" else address
    response = await client.put(
        f"{ADMIN_TOKENS}/{token['id']}/mainnet/{address}/chain/{chain}", headers=tenant.admin
    )
    validation_error(response, field)
    assert await list_tokens(client, mainnet_public(tenant)) == []


async def test_active_flags_are_per_environment(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    await promote(client, tenant, token["id"])
    admin_main = await mainnet_admin(client, tenant)
    off = await client.put(f"{ADMIN_TOKENS}/{token['id']}/toggle-active", headers=admin_main)
    assert off.status_code == 200, off.text
    assert off.json()["isActive"] is False
    assert await list_tokens(client, mainnet_public(tenant)) == []
    assert ids(await list_tokens(client, tenant.public)) == {token["id"]}
    # and the other way round: a testnet toggle leaves mainnet alone
    await client.put(f"{ADMIN_TOKENS}/{token['id']}/toggle-active", headers=admin_main)
    on_testnet = await client.put(
        f"{ADMIN_TOKENS}/{token['id']}/toggle-active", headers=tenant.admin
    )
    assert on_testnet.json()["isActive"] is False
    assert ids(await list_tokens(client, mainnet_public(tenant))) == {token["id"]}


async def test_updates_are_shared_by_both_environments(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC721")
    await promote(client, tenant, token["id"])
    admin_main = await mainnet_admin(client, tenant)
    response = await client.put(
        f"{ADMIN_TOKENS}/{token['id']}", json={"name": "Status", "symbol": "ST"}, headers=admin_main
    )
    assert response.status_code == 200, response.text
    [on_testnet] = await list_tokens(client, tenant.public)
    assert (on_testnet["name"], on_testnet["symbol"]) == ("Status", "ST")


async def test_another_tenants_token_cannot_be_promoted(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC20")
    response = await client.put(
        f"{ADMIN_TOKENS}/{token['id']}/mainnet/{new_address()}/chain/137",
        headers=other_tenant.admin,
    )
    problem(response, 404, "TOKEN_NOT_FOUND")
    assert await list_tokens(client, mainnet_public(tenant)) == []


async def test_a_mainnet_admin_registers_on_testnet_and_sees_the_token_after_promotion(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    admin_main = await mainnet_admin(client, tenant)
    token = await create_token(client, tenant, "ERC721", headers=admin_main)
    assert token["chainId"] == DEV_CHAIN_ID  # the answer shows the testnet side just registered
    assert await list_tokens(client, admin_main, active="false") == []
    promoted = await promote(client, tenant, token["id"], chain_id=137)
    assert ids(await list_tokens(client, admin_main)) == {promoted["id"]}
