"""The registration check: ``POST /token/admin`` and the mainnet ``PUT`` ask the chain (over
JSON-RPC, web3's HTTP provider) whether the contract is one settlement can drive for the
tenant, and write nothing when it is not."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from eth_abi import abi as eth_abi
from eth_utils.crypto import keccak

from pers.config import ChainSetting
from pers.ledger.service import issuer_address
from pers.runtime import Runtime
from tests.conftest import TenantHandle
from tests.contracts import DEV_CHAIN_ID, MAINNET_CHAIN_ID, deployed, deployer
from tests.tokens.conftest import (
    ADMIN_TOKENS,
    create_token,
    list_tokens,
    mainnet_public,
    new_address,
    problem,
)

# Deploys a contract whose code is PUSH1 0 PUSH1 0 REVERT: code exists, every call reverts.
ALWAYS_REVERTS = bytes.fromhex("6005600c60003960056000f3" + "60006000fd")


async def register(
    client: httpx.AsyncClient, tenant: TenantHandle, address: str, token_type: str, **fields: Any
) -> httpx.Response:
    body = {"contractAddress": address, "type": token_type, **fields}
    return await client.post(ADMIN_TOKENS, json=body, headers=tenant.admin)


async def refused(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    response: httpx.Response,
    status: int,
    code: str,
) -> dict[str, Any]:
    body = problem(response, status, code)
    assert await list_tokens(client, tenant.admin, active="false") == []
    return body


def operator_of(runtime: Runtime, tenant: TenantHandle) -> str:
    return issuer_address(runtime.wallets, tenant.id)


# --- 201 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("token_type", ["ERC20", "ERC721", "ERC1155"])
async def test_a_contract_owned_by_the_tenants_operator_is_registered(
    client: httpx.AsyncClient, tenant: TenantHandle, token_type: str
) -> None:
    address = deployed(tenant.id, token_type)
    response = await register(client, tenant, address, token_type)
    assert response.status_code == 201, response.text
    assert (response.json()["contractAddress"], response.json()["chainId"]) == (
        address,
        DEV_CHAIN_ID,
    )


# --- 422 on testnet --------------------------------------------------------------------------


async def test_an_address_without_code_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    address = new_address()
    body = await refused(
        client,
        tenant,
        await register(client, tenant, address, "ERC20"),
        422,
        "CONTRACT_NOT_DEPLOYED",
    )
    assert (body["contractAddress"], body["chainId"]) == (address, DEV_CHAIN_ID)
    assert address in body["detail"]


@pytest.mark.parametrize(
    ("deployed_as", "registered_as", "function"),
    [
        ("ERC721", "ERC20", "decimals()"),
        ("ERC1155", "ERC721", "supportsInterface(0x80ac58cd)"),
        ("ERC721", "ERC1155", "supportsInterface(0xd9b67a26)"),
        ("ERC20", "ERC1155", "supportsInterface(0xd9b67a26)"),
    ],
)
async def test_a_contract_of_another_type_is_refused(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    deployed_as: str,
    registered_as: str,
    function: str,
) -> None:
    address = deployed(tenant.id, deployed_as)
    response = await register(client, tenant, address, registered_as)
    body = await refused(client, tenant, response, 422, "CONTRACT_INTERFACE_MISSING")
    assert body["function"] == function


async def test_a_contract_without_the_operator_interface_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    receipt = deployer().send(DEV_CHAIN_ID, deployer().operator(tenant.id), ALWAYS_REVERTS)
    address = receipt["contractAddress"]
    response = await register(client, tenant, address, "ERC20")
    body = await refused(client, tenant, response, 422, "CONTRACT_INTERFACE_MISSING")
    assert body["function"] == "owner()"


async def test_a_contract_owned_by_someone_else_names_the_operator_to_hand_it_to(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = deployer().operator(other_tenant.id)
    address = deployer().deploy(tenant.id, "ERC721", account=theirs)
    operator = operator_of(runtime, tenant)
    body = await refused(
        client,
        tenant,
        await register(client, tenant, address, "ERC721"),
        422,
        "CONTRACT_OPERATOR_MISMATCH",
    )
    assert (body["operatorAddress"], body["ownerAddress"]) == (operator, theirs.address)
    assert f"transferOwnership({operator})" in body["detail"]

    # Once the owner hands the contract on, the same registration goes through.
    selector = keccak(text="transferOwnership(address)")[:4]
    call = selector + eth_abi.encode(["address"], [operator])
    deployer().send(DEV_CHAIN_ID, theirs, call, to=address)
    response = await register(client, tenant, address, "ERC721")
    assert response.status_code == 201, response.text


async def test_a_credit_contract_with_other_decimals_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    address = deployed(tenant.id, "ERC20", decimals=2)
    for decimals in (6, None):  # None: the default 18
        fields = {} if decimals is None else {"decimals": decimals}
        response = await register(client, tenant, address, "ERC20", **fields)
        body = await refused(client, tenant, response, 422, "CONTRACT_DECIMALS_MISMATCH")
        assert body["contractDecimals"] == 2
    accepted = await register(client, tenant, address, "ERC20", decimals=2)
    assert accepted.status_code == 201, accepted.text


async def test_a_chain_that_is_not_configured_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    address = deployed(tenant.id, "ERC20")
    response = await register(client, tenant, address, "ERC20", chainId=80002)
    body = await refused(client, tenant, response, 422, "CHAIN_NOT_CONFIGURED")
    assert body["chainId"] == 80002


async def test_the_testnet_side_is_never_on_a_mainnet_chain(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    address = deployed(tenant.id, "ERC20", chain_id=MAINNET_CHAIN_ID)
    response = await register(client, tenant, address, "ERC20", chainId=MAINNET_CHAIN_ID)
    await refused(client, tenant, response, 422, "CHAIN_ENVIRONMENT_MISMATCH")


# --- 503 -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def testnet_rpc(runtime: Runtime) -> Iterator[Any]:
    """Points the testnet (dev) chain somewhere else for one test."""
    settings = runtime.settings
    saved = settings.devchain_port

    def point(port: int) -> None:
        settings.devchain_port = port

    yield point
    settings.devchain_port = saved


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A port that accepts connections and never answers."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def test_an_unreachable_chain_is_503_and_nothing_is_written(
    client: httpx.AsyncClient, tenant: TenantHandle, testnet_rpc: Any
) -> None:
    address = deployed(tenant.id, "ERC20")
    testnet_rpc(_free_port())
    response = await register(client, tenant, address, "ERC20")
    body = await refused(client, tenant, response, 503, "CHAIN_UNAVAILABLE")
    assert body["chainId"] == DEV_CHAIN_ID
    assert "127.0.0.1" not in body["detail"]  # the RPC URL (it may hold a key) is never shown


async def test_a_chain_too_slow_to_answer_is_503(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: TenantHandle,
    testnet_rpc: Any,
    silent_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address = deployed(tenant.id, "ERC20")
    monkeypatch.setattr(runtime.rpc, "timeout_seconds", 0.2)
    testnet_rpc(silent_port)
    response = await register(client, tenant, address, "ERC20")
    await refused(client, tenant, response, 503, "CHAIN_UNAVAILABLE")


async def test_an_rpc_endpoint_of_another_chain_is_503(
    client: httpx.AsyncClient, tenant: TenantHandle, testnet_rpc: Any, devchains: dict[int, Any]
) -> None:
    address = deployed(tenant.id, "ERC20")
    testnet_rpc(int(httpx.URL(devchains[MAINNET_CHAIN_ID].url).port or 0))
    response = await register(client, tenant, address, "ERC20")
    body = await refused(client, tenant, response, 503, "CHAIN_UNAVAILABLE")
    assert "another chain" in body["detail"]


# --- the mainnet side ------------------------------------------------------------------------


async def put_mainnet(
    client: httpx.AsyncClient, tenant: TenantHandle, token_id: str, address: str, chain: int
) -> httpx.Response:
    return await client.put(
        f"{ADMIN_TOKENS}/{token_id}/mainnet/{address}/chain/{chain}", headers=tenant.admin
    )


async def test_mainnet_needs_a_configured_chain_that_is_not_a_testnet(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC20")
    address = token["contractAddress"]
    problem(await put_mainnet(client, tenant, token["id"], address, 1), 422, "CHAIN_NOT_CONFIGURED")
    problem(
        await put_mainnet(client, tenant, token["id"], address, DEV_CHAIN_ID),
        422,
        "CHAIN_ENVIRONMENT_MISMATCH",
    )
    assert await list_tokens(client, mainnet_public(tenant)) == []


@pytest.mark.parametrize(
    ("on_mainnet", "code"),
    [
        ("nothing", "CONTRACT_NOT_DEPLOYED"),
        ("ERC721", "CONTRACT_INTERFACE_MISSING"),
        ("decimals 2", "CONTRACT_DECIMALS_MISMATCH"),
        ("another owner", "CONTRACT_OPERATOR_MISMATCH"),
    ],
)
async def test_mainnet_contracts_are_checked_like_testnet_ones(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
    on_mainnet: str,
    code: str,
) -> None:
    token = await create_token(client, tenant, "ERC20")
    if on_mainnet == "nothing":
        address = new_address()
    elif on_mainnet == "ERC721":
        address = deployed(tenant.id, "ERC721", chain_id=MAINNET_CHAIN_ID)
    elif on_mainnet == "decimals 2":
        address = deployed(tenant.id, "ERC20", decimals=2, chain_id=MAINNET_CHAIN_ID)
    else:
        address = deployed(other_tenant.id, "ERC20", chain_id=MAINNET_CHAIN_ID)
    body = problem(await put_mainnet(client, tenant, token["id"], address, 137), 422, code)
    assert body["chainId"] == MAINNET_CHAIN_ID
    assert await list_tokens(client, mainnet_public(tenant)) == []


async def test_an_unreachable_mainnet_chain_is_503(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    address = deployed(tenant.id, "ERC1155", chain_id=MAINNET_CHAIN_ID)
    settings = runtime.settings
    saved = settings.chains
    down = ChainSetting(
        chain_id=MAINNET_CHAIN_ID, name="down", rpc_url=f"http://127.0.0.1:{_free_port()}"
    )
    settings.chains = [down]
    try:
        response = await put_mainnet(client, tenant, token["id"], address, MAINNET_CHAIN_ID)
    finally:
        settings.chains = saved
    problem(response, 503, "CHAIN_UNAVAILABLE")
    assert await list_tokens(client, mainnet_public(tenant)) == []
    retried = await put_mainnet(client, tenant, token["id"], address, MAINNET_CHAIN_ID)
    assert retried.status_code == 200, retried.text
