"""The typed service functions other packages call (transactions, claims, redemptions)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import Principal, PrincipalKind, RequestContext
from pers.businesses import service
from pers.businesses.errors import BusinessNotActive, BusinessNotFound
from pers.db import set_tenant
from pers.errors import Forbidden
from pers.kit.enums import Environment
from pers.runtime import Runtime
from tests.businesses.conftest import activate, create_active_business, create_business
from tests.conftest import TenantHandle


@asynccontextmanager
async def in_tenant(
    runtime: Runtime, tenant: TenantHandle, principal: Principal | None = None
) -> AsyncIterator[tuple[AsyncSession, RequestContext]]:
    ctx = RequestContext(
        tenant_id=tenant.id,
        environment=Environment.TESTNET,
        principal=principal or Principal(PrincipalKind.SYSTEM, uuid.uuid4()),
        now=runtime.clock.now(),
        request_id="test",
    )
    async with runtime.db.unit_of_work() as session:
        await set_tenant(session, tenant.id)
        yield session, ctx


async def test_get_active_business_returns_the_view(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    created = await create_business(client, tenant, "Viewed")
    await activate(client, tenant, created["id"], canMintToken=True, canReceiveDonation=True)
    async with in_tenant(runtime, tenant) as (session, ctx):
        view = await service.get_active_business(session, ctx, uuid.UUID(created["id"]))
    assert view == service.BusinessView(
        id=uuid.UUID(created["id"]),
        account_address=created["accountAddress"],
        is_active=True,
        can_mint_token=True,
        can_charge_token=False,
        can_manage_users=False,
        can_receive_donation=True,
        display_name="Viewed",
    )


async def test_get_active_business_refuses_an_inactive_one(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    created = await create_business(client, tenant)
    async with in_tenant(runtime, tenant) as (session, ctx):
        with pytest.raises(BusinessNotActive) as raised:
            await service.get_active_business(session, ctx, uuid.UUID(created["id"]))
    assert (raised.value.status, raised.value.code) == (422, "BUSINESS_NOT_ACTIVE")


async def test_get_active_business_of_another_tenant_or_missing_is_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle, runtime: Runtime
) -> None:
    theirs = await create_active_business(client, other_tenant)
    for business_id in (uuid.UUID(theirs["id"]), uuid.uuid4()):
        async with in_tenant(runtime, tenant) as (session, ctx):
            with pytest.raises(BusinessNotFound) as raised:
                await service.get_active_business(session, ctx, business_id)
        assert (raised.value.status, raised.value.code) == (404, "BUSINESS_NOT_FOUND")


async def test_get_business_by_address_finds_active_and_inactive_in_any_case(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    inactive = await create_business(client, tenant, "Dormant")
    address = inactive["accountAddress"]
    async with in_tenant(runtime, tenant) as (session, ctx):
        view = await service.get_business_by_address(session, ctx, address.lower())
    assert (view.id, view.account_address, view.is_active) == (
        uuid.UUID(inactive["id"]),
        address,
        False,
    )


async def test_get_business_by_address_of_another_tenant_or_garbage_is_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle, runtime: Runtime
) -> None:
    theirs = await create_active_business(client, other_tenant)
    for address in (theirs["accountAddress"], "0xnot-an-address", "0x" + "12" * 20):
        async with in_tenant(runtime, tenant) as (session, ctx):
            with pytest.raises(BusinessNotFound):
                await service.get_business_by_address(session, ctx, address)


async def test_me_is_the_calling_business(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    created = await create_active_business(client, tenant, "Caller")
    principal = Principal(PrincipalKind.BUSINESS, uuid.UUID(created["id"]))
    async with in_tenant(runtime, tenant, principal) as (session, ctx):
        view = await service.me(session, ctx)
    assert (view.id, view.display_name, view.account_address) == (
        uuid.UUID(created["id"]),
        "Caller",
        created["accountAddress"],
    )


async def test_me_for_a_principal_that_is_not_a_business_is_forbidden(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    async with in_tenant(runtime, tenant) as (session, ctx):
        with pytest.raises(Forbidden) as raised:
            await service.me(session, ctx)
    assert raised.value.status == 403
