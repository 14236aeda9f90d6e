"""User logins: ID tokens of a tenant's identity providers exchanged for PERS sessions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import httpx

from tests.auth.conftest import UserStore
from tests.auth.helpers import (
    IdentityProvider,
    code_of,
    configure_tenant,
    exchange,
    login_user,
    pers_claims,
)
from tests.conftest import TenantHandle


async def test_first_login_creates_a_user_with_a_user_session(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    users: UserStore,
) -> None:
    assert await users.count(trusting_tenant.id) == 0
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("alice"))

    access = await pers_claims(client, pair["accessToken"])
    refresh = await pers_claims(client, pair["refreshToken"])
    assert access["typ"] == "USER_JWT_ACCESS_TOKEN"
    assert refresh["typ"] == "USER_JWT_REFRESH_TOKEN"
    assert access["tenantId"] == str(trusting_tenant.id)
    assert access["sub"] == refresh["sub"]
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 24 * 3600
    user = await users.get(trusting_tenant.id, access["sub"])
    assert user is not None
    assert user.is_active
    assert await users.count(trusting_tenant.id) == 1


async def test_second_login_of_same_identity_returns_same_user(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    users: UserStore,
) -> None:
    first = await login_user(client, trusting_tenant.testnet_key, idp.id_token("bob"))
    second = await login_user(client, trusting_tenant.testnet_key, idp.id_token("bob"))
    other = await login_user(client, trusting_tenant.testnet_key, idp.id_token("carol"))

    first_sub = (await pers_claims(client, first["accessToken"]))["sub"]
    assert (await pers_claims(client, second["accessToken"]))["sub"] == first_sub
    assert (await pers_claims(client, other["accessToken"]))["sub"] != first_sub
    assert first["accessToken"] != second["accessToken"]
    assert await users.count(trusting_tenant.id) == 2


async def test_same_subject_at_two_issuers_is_two_users(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    make_idp: Callable[..., IdentityProvider],
) -> None:
    google, apple = make_idp(), make_idp("EC")
    await configure_tenant(client, tenant, google, apple)
    a = await login_user(client, tenant.testnet_key, google.id_token("same-sub"))
    b = await login_user(client, tenant.testnet_key, apple.id_token("same-sub"))
    assert (await pers_claims(client, a["accessToken"]))["sub"] != (
        await pers_claims(client, b["accessToken"])
    )["sub"]


async def test_verified_email_is_attached_to_the_new_user(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    users: UserStore,
) -> None:
    token = idp.id_token("dora", email="dora@example.com", email_verified=True)
    pair = await login_user(client, trusting_tenant.testnet_key, token)
    user = await users.get(
        trusting_tenant.id, (await pers_claims(client, pair["accessToken"]))["sub"]
    )
    assert user is not None
    assert user.email == "dora@example.com"


async def test_unverified_email_is_not_attached(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    users: UserStore,
) -> None:
    unverified = idp.id_token("eve", email="eve@example.com", email_verified=False)
    missing_flag = idp.id_token("frank", email="frank@example.com")
    for token in (unverified, missing_flag):
        pair = await login_user(client, trusting_tenant.testnet_key, token)
        sub = (await pers_claims(client, pair["accessToken"]))["sub"]
        user = await users.get(trusting_tenant.id, sub)
        assert user is not None
        assert user.email is None


async def test_verified_email_from_second_provider_joins_the_existing_user(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    make_idp: Callable[..., IdentityProvider],
) -> None:
    first, second = make_idp(), make_idp()
    await configure_tenant(client, tenant, first, second)
    a = await login_user(
        client,
        tenant.testnet_key,
        first.id_token("g-1", email="gina@example.com", email_verified=True),
    )
    b = await login_user(
        client,
        tenant.testnet_key,
        second.id_token("a-1", email="GINA@example.com", email_verified=True),
    )
    assert (await pers_claims(client, a["accessToken"]))["sub"] == (
        await pers_claims(client, b["accessToken"])
    )["sub"]


async def test_unverified_email_never_joins_an_existing_user(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    make_idp: Callable[..., IdentityProvider],
) -> None:
    first, second = make_idp(), make_idp()
    await configure_tenant(client, tenant, first, second)
    a = await login_user(
        client,
        tenant.testnet_key,
        first.id_token("h-1", email="hank@example.com", email_verified=True),
    )
    # Somebody at another provider claims the same, unverified, address: a separate account.
    b = await login_user(
        client,
        tenant.testnet_key,
        second.id_token("h-2", email="hank@example.com", email_verified=False),
    )
    assert (await pers_claims(client, a["accessToken"]))["sub"] != (
        await pers_claims(client, b["accessToken"])
    )["sub"]


async def test_project_key_sets_the_session_environment(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    testnet = await login_user(client, trusting_tenant.testnet_key, idp.id_token("ivy"))
    mainnet = await login_user(client, trusting_tenant.project_key, idp.id_token("ivy"))
    testnet_claims = await pers_claims(client, testnet["accessToken"])
    mainnet_claims = await pers_claims(client, mainnet["accessToken"])
    assert testnet_claims["env"] == "testnet"
    assert mainnet_claims["env"] == "mainnet"
    assert testnet_claims["sub"] == mainnet_claims["sub"]


async def test_v2_token_exchange_logs_the_same_user_in(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    v1 = await login_user(client, trusting_tenant.testnet_key, idp.id_token("jack"))
    v2 = await login_user(client, trusting_tenant.testnet_key, idp.id_token("jack"), version="v2")
    assert (await pers_claims(client, v1["accessToken"]))["sub"] == (
        await pers_claims(client, v2["accessToken"])
    )["sub"]


async def test_same_identity_at_two_tenants_is_two_users(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
    idp: IdentityProvider,
) -> None:
    await configure_tenant(client, tenant, idp)
    await configure_tenant(client, other_tenant, idp)
    a = await pers_claims(
        client, (await login_user(client, tenant.testnet_key, idp.id_token("kim")))["accessToken"]
    )
    b = await pers_claims(
        client,
        (await login_user(client, other_tenant.testnet_key, idp.id_token("kim")))["accessToken"],
    )
    assert a["tenantId"] == str(tenant.id)
    assert b["tenantId"] == str(other_tenant.id)
    assert a["sub"] != b["sub"]


async def test_concurrent_first_logins_create_exactly_one_user(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    users: UserStore,
) -> None:
    subject = f"rush-{uuid.uuid4().hex}"
    tokens = [
        idp.id_token(subject, email="rush@example.com", email_verified=True) for _ in range(10)
    ]
    responses = await asyncio.gather(
        *(
            exchange(client, trusting_tenant.testnet_key, {"authToken": t, "authType": "user"})
            for t in tokens
        )
    )
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    subs = {(await pers_claims(client, r.json()["accessToken"]))["sub"] for r in responses}
    assert len(subs) == 1
    assert await users.count(trusting_tenant.id) == 1


# --- guests ---------------------------------------------------------------------------------


async def test_guest_login_creates_a_new_user_each_time(
    client: httpx.AsyncClient, tenant: TenantHandle, users: UserStore
) -> None:
    await configure_tenant(client, tenant, allow_guests=True)
    subs = set()
    for _ in range(2):
        response = await exchange(
            client, tenant.testnet_key, {"rawLoginData": {"device": "kiosk-1"}}
        )
        assert response.status_code == 200, response.text
        claims = await pers_claims(client, response.json()["accessToken"])
        assert claims["typ"] == "USER_JWT_ACCESS_TOKEN"
        subs.add(claims["sub"])
    assert len(subs) == 2
    assert await users.count(tenant.id) == 2


async def test_guest_login_refused_when_tenant_does_not_allow_it(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    users: UserStore,
) -> None:
    response = await exchange(
        client,
        trusting_tenant.testnet_key,
        {"rawLoginData": {"device": "kiosk-1"}, "authToken": idp.id_token("lena")},
    )
    assert response.status_code == 403
    assert code_of(response) == "GUEST_LOGIN_DISABLED"
    assert await users.count(trusting_tenant.id) == 0


async def test_guest_login_refused_again_after_tenant_disables_it(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    await configure_tenant(client, tenant, allow_guests=True)
    assert (await exchange(client, tenant.testnet_key, {"rawLoginData": {}})).status_code == 200
    await configure_tenant(client, tenant, allow_guests=False)
    response = await exchange(client, tenant.testnet_key, {"rawLoginData": {}})
    assert response.status_code == 403
    assert code_of(response) == "GUEST_LOGIN_DISABLED"


async def test_verified_email_taken_at_the_same_issuer_makes_a_separate_user_without_email(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    users: UserStore,
) -> None:
    first = await login_user(
        client,
        trusting_tenant.testnet_key,
        idp.id_token("k-1", email="kit@example.com", email_verified=True),
    )
    # A second account of the same provider with the same verified e-mail: not merged.
    second = await login_user(
        client,
        trusting_tenant.testnet_key,
        idp.id_token("k-2", email="kit@example.com", email_verified=True),
    )
    first_sub = (await pers_claims(client, first["accessToken"]))["sub"]
    second_sub = (await pers_claims(client, second["accessToken"]))["sub"]
    assert first_sub != second_sub
    second_user = await users.get(trusting_tenant.id, second_sub)
    assert second_user is not None
    assert second_user.email is None


async def test_returning_user_whose_verified_email_is_taken_still_logs_in(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    make_idp: Callable[..., IdentityProvider],
    users: UserStore,
) -> None:
    first, second = make_idp(), make_idp()
    await configure_tenant(client, tenant, first, second)
    # Signs up while the provider has not verified the address yet: no e-mail on the account.
    signup = await login_user(
        client,
        tenant.testnet_key,
        first.id_token("l-1", email="lee@example.com", email_verified=False),
    )
    user_id = (await pers_claims(client, signup["accessToken"]))["sub"]
    # Meanwhile another account takes the address through another provider.
    await login_user(
        client,
        tenant.testnet_key,
        second.id_token("l-2", email="lee@example.com", email_verified=True),
    )
    # The first user comes back, now verified: still the same user, and still able to log in.
    back = await exchange(
        client,
        tenant.testnet_key,
        {"authToken": first.id_token("l-1", email="lee@example.com", email_verified=True)},
    )
    assert back.status_code == 200, back.text
    assert (await pers_claims(client, back.json()["accessToken"]))["sub"] == user_id
    user = await users.get(tenant.id, user_id)
    assert user is not None
    assert user.email is None


async def test_returning_user_gets_the_email_verified_later(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    users: UserStore,
) -> None:
    signup = await login_user(
        client,
        trusting_tenant.testnet_key,
        idp.id_token("m-1", email="mo@example.com", email_verified=False),
    )
    user_id = (await pers_claims(client, signup["accessToken"]))["sub"]
    await login_user(
        client,
        trusting_tenant.testnet_key,
        idp.id_token("m-1", email="mo@example.com", email_verified=True),
    )
    user = await users.get(trusting_tenant.id, user_id)
    assert user is not None
    assert user.email == "mo@example.com"
