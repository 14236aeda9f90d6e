"""The service functions other packages call: the environment's chain, the configured-chain
rule, and the latest contract of a type."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from pers.auth.context import Principal, PrincipalKind, RequestContext
from pers.chains import service
from pers.chains.errors import ChainNotConfigured, ChainNotFound
from pers.chains.models import ContractType
from pers.db import set_tenant
from pers.kit.enums import Environment
from pers.runtime import Runtime
from tests.chains.conftest import (
    ADDRESS_A,
    ADDRESS_B,
    ADDRESS_C,
    AMOY,
    DEV_CHAIN_ID,
    POLYGON,
    register,
)
from tests.conftest import MovableClock, TenantHandle


async def test_environments_map_to_their_chains(runtime: Runtime, chains: Runtime) -> None:
    testnet = service.chain_for_environment(runtime.settings, Environment.TESTNET)
    mainnet = service.chain_for_environment(runtime.settings, Environment.MAINNET)
    assert testnet is not None
    assert testnet.chain_id == DEV_CHAIN_ID
    assert testnet.is_dev_chain
    assert mainnet is not None
    assert mainnet.chain_id == POLYGON
    assert mainnet.rpc_url.startswith("https://polygon-mainnet.infura.io/")


async def test_without_a_mainnet_chain_mainnet_settles_nowhere(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test session configures a mainnet chain (a second dev chain): take it away.
    monkeypatch.setattr(runtime.settings, "chains", [])
    monkeypatch.setattr(runtime.settings, "mainnet_chain_id", None)
    assert service.chain_for_environment(runtime.settings, Environment.MAINNET) is None


async def test_unknown_chains_are_404_to_read_and_422_to_write(runtime: Runtime) -> None:
    with pytest.raises(ChainNotFound):
        service.get_chain(runtime.settings, AMOY)
    with pytest.raises(ChainNotConfigured):
        service.configured_chain(runtime.settings, AMOY)
    assert service.configured_chain(runtime.settings, DEV_CHAIN_ID).chain_id == DEV_CHAIN_ID


async def test_latest_contract_of_a_type_on_a_chain(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: MovableClock,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
) -> None:
    factory = ContractType.COUNTERFACTUAL_WALLET_FACTORY
    await register(client, tenant, contractAddress=ADDRESS_A, contractType=factory.value)
    clock.advance(timedelta(seconds=1))
    newer = await register(client, tenant, contractAddress=ADDRESS_B, contractType=factory.value)
    clock.advance(timedelta(seconds=1))
    await register(client, tenant, contractAddress=ADDRESS_C, contractType="ERC20")
    await register(client, other_tenant, contractAddress=ADDRESS_C, contractType=factory.value)

    ctx = RequestContext(
        tenant_id=tenant.id,
        environment=Environment.TESTNET,
        principal=Principal(PrincipalKind.SYSTEM, uuid.uuid4()),
        now=runtime.clock.now(),
        request_id="test",
    )
    async with runtime.db.unit_of_work() as session:
        await set_tenant(session, tenant.id)
        latest = await service.latest_contract(session, ctx, DEV_CHAIN_ID, factory)
        none = await service.latest_contract(
            session, ctx, DEV_CHAIN_ID, ContractType.SMART_WALLET_FACTORY
        )
    assert latest is not None
    assert str(latest.id) == newer["id"]
    assert latest.contract_address == ADDRESS_B
    assert none is None
