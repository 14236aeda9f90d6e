"""Every user has its custodial wallet ``accountAddress`` from the moment it exists."""

from __future__ import annotations

import httpx

from pers.runtime import Runtime
from tests.auth.helpers import configure_tenant, exchange, pers_claims
from tests.conftest import TenantHandle
from tests.users.conftest import LoginAs, derived_address, load_user


async def test_login_creates_the_user_with_its_derived_wallet_address(
    runtime: Runtime, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    session = await login_as(trusting_tenant, "addr-1")
    user = await load_user(runtime, trusting_tenant.id, session.id)
    assert user.account_address == derived_address(runtime, trusting_tenant.id, session.id)
    assert user.account_address.startswith("0x")
    assert len(user.account_address) == 42


async def test_address_is_stable_across_logins(
    runtime: Runtime, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    first = await login_as(trusting_tenant, "addr-2")
    before = (await load_user(runtime, trusting_tenant.id, first.id)).account_address
    second = await login_as(trusting_tenant, "addr-2")
    assert second.id == first.id
    assert (await load_user(runtime, trusting_tenant.id, second.id)).account_address == before


async def test_guest_login_creates_the_user_with_its_derived_wallet_address(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    await configure_tenant(client, tenant, allow_guests=True)
    response = await exchange(client, tenant.testnet_key, {"rawLoginData": {"device": "kiosk"}})
    assert response.status_code == 200, response.text
    user_id = (await pers_claims(client, response.json()["accessToken"]))["sub"]
    user = await load_user(runtime, tenant.id, user_id)
    assert user.account_address == derived_address(runtime, tenant.id, user_id)
