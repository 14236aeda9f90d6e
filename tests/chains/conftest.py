"""Fixtures of the chain and contract tests: chains configured on the running deployment, and
the callers of each principal kind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pers.config import ChainSetting, NativeCurrencySetting
from pers.runtime import Runtime
from tests.businesses.conftest import (  # noqa: F401 - fixture
    Callers,
    assert_problem,
    assert_validation_error,
    callers,
    create_active_business,
    make_admin,
)
from tests.conftest import TenantHandle

CHAIN = "/v1.7/chain"
CONTRACT = "/v1.7/contract"
DEV_CHAIN_ID = 131277322940537
POLYGON = 137
AMOY = 80002
# A provider key in the path (as Infura and Alchemy put it), in userinfo and in the query.
SECRET = "c0ffee5ecret"
POLYGON_RPC = f"https://polygon-mainnet.infura.io/v3/{SECRET}"
AMOY_RPC = f"https://rpc:{SECRET}@amoy.example/rpc?apikey={SECRET}"

CHAIN_FIELDS = {
    "chainId",
    "name",
    "isTestnet",
    "environment",
    "confirmations",
    "rpcUrl",
    "explorerUrl",
    "nativeCurrency",
    "isDevChain",
}
CONTRACT_FIELDS = {
    "id",
    "contractAddress",
    "chainId",
    "contractType",
    "implementationAddress",
    "ownerAddress",
    "factoryAddress",
    "contractVersion",
    "nativeTokenType",
    "salt",
    "txHash",
    "abiUrl",
    "isProxy",
    "createdAt",
    "updatedAt",
}
# EIP-55 test vectors.
ADDRESS_A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ADDRESS_B = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
ADDRESS_C = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
ADDRESS_D = "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"
TX_HASH = "0x" + "ab" * 32

POLYGON_SETTING = ChainSetting(
    chain_id=POLYGON,
    name="Polygon",
    rpc_url=POLYGON_RPC,
    is_testnet=False,
    confirmations=64,
    explorer_url="https://polygonscan.com",
    native_currency=NativeCurrencySetting(name="POL", symbol="POL", decimals=18),
)
AMOY_SETTING = ChainSetting(
    chain_id=AMOY,
    name="Polygon Amoy",
    rpc_url=AMOY_RPC,
    public_rpc_url="https://rpc-amoy.polygon.technology",
    is_testnet=True,
    confirmations=5,
)


@pytest.fixture
def chains(runtime: Runtime) -> Iterator[Runtime]:
    """Polygon (the mainnet chain, its RPC URL carrying a key) and Amoy beside the dev chain."""
    settings = runtime.settings
    saved = (settings.chains, settings.mainnet_chain_id)
    settings.chains = [POLYGON_SETTING, AMOY_SETTING]
    settings.mainnet_chain_id = POLYGON
    yield runtime
    settings.chains, settings.mainnet_chain_id = saved


async def register(client: httpx.AsyncClient, tenant: TenantHandle, **body: Any) -> dict[str, Any]:
    payload = {"contractAddress": ADDRESS_A, "chainId": DEV_CHAIN_ID, "contractType": "ERC20"}
    payload.update(body)
    response = await client.post(CONTRACT, json=payload, headers=tenant.admin)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
