"""Web3 Chain: GET /v1.7/chain/{chainId} and the GET /v1.7/chain list."""

from __future__ import annotations

import httpx

from pers.runtime import Runtime
from tests.chains.conftest import (
    AMOY,
    CHAIN,
    CHAIN_FIELDS,
    DEV_CHAIN_ID,
    POLYGON,
    SECRET,
    Callers,
    assert_problem,
    assert_validation_error,
    create_active_business,
)
from tests.conftest import PLATFORM_KEY, TenantHandle


async def test_dev_chain_is_served_with_every_field(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    response = await client.get(f"{CHAIN}/{DEV_CHAIN_ID}", headers=tenant.public)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == CHAIN_FIELDS
    assert body == {
        "chainId": DEV_CHAIN_ID,
        "name": "pers dev chain",
        "isTestnet": True,
        "environment": "testnet",
        "confirmations": 1,
        "rpcUrl": runtime.settings.devchain_url,  # the session's dev chain, on loopback
        "explorerUrl": None,
        "nativeCurrency": {"name": "Ether", "symbol": "ETH", "decimals": 18},
        "isDevChain": True,
    }


async def test_configured_chains_are_listed_after_the_dev_chain(
    client: httpx.AsyncClient, tenant: TenantHandle, chains: Runtime
) -> None:
    response = await client.get(CHAIN, headers=tenant.public)
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [c["chainId"] for c in listed] == [DEV_CHAIN_ID, POLYGON, AMOY]
    assert all(set(c) == CHAIN_FIELDS for c in listed)
    by_id = {c["chainId"]: c for c in listed}
    assert by_id[POLYGON]["environment"] == "mainnet"
    assert by_id[AMOY]["environment"] is None
    assert by_id[POLYGON]["nativeCurrency"] == {"name": "POL", "symbol": "POL", "decimals": 18}
    assert (by_id[POLYGON]["confirmations"], by_id[AMOY]["confirmations"]) == (64, 5)
    assert by_id[POLYGON]["explorerUrl"] == "https://polygonscan.com"


async def test_a_configured_chain_is_served_by_id(
    client: httpx.AsyncClient, tenant: TenantHandle, chains: Runtime
) -> None:
    response = await client.get(f"{CHAIN}/{AMOY}", headers=tenant.public)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["isTestnet"], body["isDevChain"]) == ("Polygon Amoy", True, False)
    assert body["rpcUrl"] == "https://rpc-amoy.polygon.technology"


async def test_rpc_credentials_never_leave_the_server(
    client: httpx.AsyncClient, tenant: TenantHandle, chains: Runtime
) -> None:
    """The URL pers calls is not served to anyone, tenant admins included: only a published
    public URL is, and Polygon has none."""
    for headers in (tenant.public, tenant.admin):
        for path in (CHAIN, f"{CHAIN}/{POLYGON}", f"{CHAIN}/{AMOY}"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, response.text
            assert SECRET not in response.text
            assert "infura" not in response.text
    polygon = (await client.get(f"{CHAIN}/{POLYGON}", headers=tenant.admin)).json()
    assert polygon["rpcUrl"] is None


async def test_every_principal_of_the_tenant_reads_chains(
    client: httpx.AsyncClient, callers: Callers
) -> None:
    business = await create_active_business(client, callers.tenant)
    business_headers = {
        "x-api-key": business["apiPrivateKey"],
        "x-project-key": callers.tenant.testnet_key,
    }
    mainnet_public = {"x-project-key": callers.tenant.project_key}
    for headers in (
        callers.public, mainnet_public, callers.user, callers.system, callers.admin,
        business_headers,
    ):  # fmt: skip
        response = await client.get(f"{CHAIN}/{DEV_CHAIN_ID}", headers=headers)
        assert response.status_code == 200, (headers, response.text)


async def test_unknown_chain_is_404(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    response = await client.get(f"{CHAIN}/{AMOY}", headers=tenant.public)
    body = assert_problem(response, 404, "CHAIN_NOT_FOUND")
    assert str(AMOY) in body["detail"]


async def test_malformed_chain_ids_are_400(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    for bad in ("polygon", "0", "-1", str(2**63)):
        response = await client.get(f"{CHAIN}/{bad}", headers=tenant.public)
        assert_validation_error(response, "chainId")


async def test_chains_need_a_tenant(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(CHAIN), 401)
    assert_problem(await client.get(f"{CHAIN}/{DEV_CHAIN_ID}"), 401)
    assert_problem(await client.get(CHAIN, headers={"x-project-key": "pk_test_" + "0" * 64}), 401)
    # The operator's key names no tenant.
    assert_problem(await client.get(CHAIN, headers={"x-api-key": PLATFORM_KEY}), 403)
