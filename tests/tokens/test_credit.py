"""The credit token: the tenant's one active ERC20 per environment, over HTTP
(``GET /token/credit``) and through the services the ledger calls."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import Principal, PrincipalKind, RequestContext
from pers.db import set_tenant
from pers.errors import PersError
from pers.kit.enums import Environment
from pers.runtime import Runtime
from pers.tokens import service
from pers.tokens.errors import CreditTokenNotConfigured, TokenNotFound
from pers.tokens.models import TokenType
from tests.conftest import TenantHandle
from tests.contracts import MAINNET_CHAIN_ID, deployed
from tests.tokens.conftest import (
    ADMIN_TOKENS,
    TOKEN_FIELDS,
    TOKENS,
    create_token,
    list_tokens,
    mainnet_admin,
    mainnet_public,
    new_address,
    problem,
    promote,
)

T = TypeVar("T")


async def call_service(
    runtime: Runtime,
    tenant: TenantHandle,
    env: Environment,
    fn: Callable[[AsyncSession, RequestContext], Awaitable[T]],
) -> T:
    """Run a service function as the tenant's system would, in one unit of work."""
    async with runtime.db.unit_of_work() as session:
        await set_tenant(session, tenant.id)
        ctx = RequestContext(
            tenant_id=tenant.id,
            environment=env,
            principal=Principal(PrincipalKind.SYSTEM),
            now=datetime.now(UTC),
            request_id="tokens-test",
        )
        return await fn(session, ctx)


async def get_credit(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get(f"{TOKENS}/credit", headers=headers)


# --- GET /token/credit ------------------------------------------------------------------------


async def test_credit_token_is_the_active_erc20(
    client: httpx.AsyncClient, tenant: TenantHandle, user: dict[str, str]
) -> None:
    await create_token(client, tenant, "ERC721")
    credit = await create_token(client, tenant, "ERC20", decimals=2, symbol="PTS")
    for headers in (tenant.public, user, tenant.admin):
        response = await get_credit(client, headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == TOKEN_FIELDS
        assert body["id"] == credit["id"]
        assert body["type"] == "ERC20"
        assert body["decimals"] == 2
        assert body["metadata"] is None


async def test_no_credit_token_answers_credit_token_not_configured(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    problem(await get_credit(client, tenant.public), 422, "CREDIT_TOKEN_NOT_CONFIGURED")
    credit = await create_token(client, tenant, "ERC20")
    await client.put(f"{ADMIN_TOKENS}/{credit['id']}/toggle-active", headers=tenant.admin)
    problem(await get_credit(client, tenant.public), 422, "CREDIT_TOKEN_NOT_CONFIGURED")


async def test_a_second_erc20_is_registered_inactive_and_cannot_be_activated_alongside(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    current = await create_token(client, tenant, "ERC20")
    replacement = await create_token(client, tenant, "ERC20")
    assert replacement["isActive"] is False
    response = await client.put(
        f"{ADMIN_TOKENS}/{replacement['id']}/toggle-active", headers=tenant.admin
    )
    body = problem(response, 409, "CREDIT_TOKEN_ALREADY_ACTIVE")
    assert body["activeTokenId"] == current["id"]
    assert (await get_credit(client, tenant.public)).json()["id"] == current["id"]


async def test_switching_the_credit_token_is_deactivate_then_activate(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    current = await create_token(client, tenant, "ERC20")
    replacement = await create_token(client, tenant, "ERC20")
    off = await client.put(f"{ADMIN_TOKENS}/{current['id']}/toggle-active", headers=tenant.admin)
    assert off.json()["isActive"] is False
    on = await client.put(f"{ADMIN_TOKENS}/{replacement['id']}/toggle-active", headers=tenant.admin)
    assert on.status_code == 200, on.text
    assert on.json()["isActive"] is True
    assert (await get_credit(client, tenant.public)).json()["id"] == replacement["id"]


async def test_concurrent_activations_leave_exactly_one_active_erc20(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    first = await create_token(client, tenant, "ERC20")
    others = [await create_token(client, tenant, "ERC20") for _ in range(5)]
    await client.put(f"{ADMIN_TOKENS}/{first['id']}/toggle-active", headers=tenant.admin)
    responses = await asyncio.gather(
        *(
            client.put(f"{ADMIN_TOKENS}/{t['id']}/toggle-active", headers=tenant.admin)
            for t in others
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409, 409]
    [winner] = [r.json()["id"] for r in responses if r.status_code == 200]
    for r in responses:
        if r.status_code == 409:
            # The losers waited for the winner and name it: a decided answer, not a race.
            assert r.json()["code"] == "CREDIT_TOKEN_ALREADY_ACTIVE"
            assert r.json()["activeTokenId"] == winner
    active = [t for t in await list_tokens(client, tenant.public) if t["type"] == "ERC20"]
    assert [t["id"] for t in active] == [winner]


async def test_credit_token_is_chosen_per_environment(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    testnet_credit = await create_token(client, tenant, "ERC20")
    problem(await get_credit(client, mainnet_public(tenant)), 422, "CREDIT_TOKEN_NOT_CONFIGURED")
    await promote(client, tenant, testnet_credit["id"])
    on_mainnet = await get_credit(client, mainnet_public(tenant))
    assert on_mainnet.json()["id"] == testnet_credit["id"]
    # A new testnet ERC20 is inactive on testnet (the slot is taken) and absent from mainnet
    # until promoted; promoted while the mainnet slot is taken, it arrives inactive there too.
    second = await create_token(client, tenant, "ERC20")
    promoted = await promote(client, tenant, second["id"])
    assert promoted["isActive"] is False
    admin_main = await mainnet_admin(client, tenant)
    off = await client.put(
        f"{ADMIN_TOKENS}/{testnet_credit['id']}/toggle-active", headers=admin_main
    )
    assert off.json()["isActive"] is False
    on = await client.put(f"{ADMIN_TOKENS}/{second['id']}/toggle-active", headers=admin_main)
    assert on.json()["isActive"] is True
    assert (await get_credit(client, mainnet_public(tenant))).json()["id"] == second["id"]
    assert (await get_credit(client, tenant.public)).json()["id"] == testnet_credit["id"]


async def test_credit_token_of_another_tenant_is_not_seen(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    await create_token(client, tenant, "ERC20")
    problem(await get_credit(client, other_tenant.public), 422, "CREDIT_TOKEN_NOT_CONFIGURED")


# --- services for the ledger ------------------------------------------------------------------


async def test_get_credit_token_service_returns_the_environments_view(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    with pytest.raises(CreditTokenNotConfigured) as missing:
        await call_service(runtime, tenant, Environment.TESTNET, service.get_credit_token)
    assert missing.value.status == 422
    credit = await create_token(client, tenant, "ERC20", decimals=6, name="Points", symbol="P")
    mainnet_address = deployed(tenant.id, "ERC20", decimals=6, chain_id=MAINNET_CHAIN_ID)
    await promote(client, tenant, credit["id"], mainnet_address, chain_id=MAINNET_CHAIN_ID)

    testnet = await call_service(runtime, tenant, Environment.TESTNET, service.get_credit_token)
    assert testnet == service.TokenView(
        id=uuid.UUID(credit["id"]),
        type=TokenType.ERC20,
        name="Points",
        symbol="P",
        decimals=6,
        contract_address=credit["contractAddress"],
        chain_id=credit["chainId"],
        is_active=True,
        environment=Environment.TESTNET,
        abi_url=None,
        is_gallery=False,
    )
    mainnet = await call_service(runtime, tenant, Environment.MAINNET, service.get_credit_token)
    assert (mainnet.contract_address, mainnet.chain_id, mainnet.environment) == (
        mainnet_address,
        137,
        Environment.MAINNET,
    )


async def test_get_token_service_serves_inactive_tokens_and_hides_unpromoted_ones(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    await client.put(f"{ADMIN_TOKENS}/{token['id']}/toggle-active", headers=tenant.admin)
    token_id = uuid.UUID(token["id"])

    def get(session: AsyncSession, ctx: RequestContext) -> Awaitable[service.TokenView]:
        return service.get_token(session, ctx, token_id)

    view = await call_service(runtime, tenant, Environment.TESTNET, get)
    assert (view.id, view.type, view.decimals, view.is_active) == (
        token_id,
        TokenType.ERC1155,
        0,
        False,
    )
    for handle, env in ((tenant, Environment.MAINNET), (other_tenant, Environment.TESTNET)):
        with pytest.raises(TokenNotFound) as missing:
            await call_service(runtime, handle, env, get)
        assert missing.value.code == "TOKEN_NOT_FOUND"
        assert missing.value.status == 404


async def test_get_by_contract_address_service_matches_any_spelling_in_its_environment(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC721")
    testnet_address = token["contractAddress"]
    # The operator's first mainnet contract would get the testnet one's address (same deployer,
    # same nonce): this test wants two addresses, so it takes the second.
    deployed(tenant.id, "ERC721", chain_id=MAINNET_CHAIN_ID)
    mainnet_address = deployed(tenant.id, "ERC721", chain_id=MAINNET_CHAIN_ID)
    assert mainnet_address != testnet_address
    await promote(client, tenant, token["id"], mainnet_address)

    async def lookup(env: Environment, address: str) -> service.TokenView:
        return await call_service(
            runtime,
            tenant,
            env,
            lambda session, ctx: service.get_by_contract_address(session, ctx, address),
        )

    for spelling in (testnet_address, testnet_address.lower(), "0x" + testnet_address[2:].upper()):
        found = await lookup(Environment.TESTNET, spelling)
        assert found.id == uuid.UUID(token["id"])
        assert found.contract_address == testnet_address
    assert (await lookup(Environment.MAINNET, mainnet_address)).chain_id == 137
    missing: list[tuple[Environment, str]] = [
        (Environment.MAINNET, testnet_address),  # the testnet address means nothing on mainnet
        (Environment.TESTNET, mainnet_address),
        (Environment.TESTNET, new_address()),
        (Environment.TESTNET, "not-an-address"),
    ]
    for env, address in missing:
        with pytest.raises(PersError) as error:
            await lookup(env, address)
        assert error.value.code == "TOKEN_NOT_FOUND"


async def test_get_token_metadata_service_finds_items_by_incremental_id(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    token = await create_token(client, tenant, "ERC1155")
    for name in ("Coffee", "Cake"):
        await client.post(
            f"{ADMIN_TOKENS}/{token['id']}/metadata", json={"name": name}, headers=tenant.admin
        )
    token_id = uuid.UUID(token["id"])

    async def item(n: int) -> service.TokenMetadataView:
        return await call_service(
            runtime,
            tenant,
            Environment.TESTNET,
            lambda session, ctx: service.get_token_metadata(session, ctx, token_id, n),
        )

    assert (await item(2)).name == "Cake"
    assert (await item(1)).incremental_id == 1
    with pytest.raises(PersError) as missing:
        await item(3)
    assert missing.value.code == "TOKEN_METADATA_NOT_FOUND"
