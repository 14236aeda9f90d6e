"""Testnet and mainnet are separate: a credential of one never acts with the other's key."""

from __future__ import annotations

import httpx

from tests.auth.helpers import IdentityProvider, bearer, code_of, login_user, refresh
from tests.conftest import TenantHandle


async def test_testnet_user_token_with_the_mainnet_project_key_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("tess"))
    response = await client.get(
        "/v1.7/tenant/public",
        headers={**bearer(pair["accessToken"]), "x-project-key": trusting_tenant.project_key},
    )
    assert response.status_code == 401
    assert code_of(response) == "ENVIRONMENT_MISMATCH"


async def test_testnet_system_key_with_the_mainnet_project_key_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    issued = await client.post(
        "/v1.7/tenant/admin/api-key", json={"keyName": "testnet"}, headers=tenant.admin
    )
    key = issued.json()["apiPrivateKey"]
    mainnet = await client.get(
        "/v1.7/system", headers={"x-project-key": tenant.project_key, "x-api-key": key}
    )
    assert mainnet.status_code == 401
    assert code_of(mainnet) == "ENVIRONMENT_MISMATCH"
    testnet = await client.get(
        "/v1.7/system", headers={"x-project-key": tenant.testnet_key, "x-api-key": key}
    )
    assert testnet.status_code == 200
    assert testnet.json() is True


async def test_refresh_with_the_other_environments_project_key_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("rita"))
    response = await client.post(
        "/v1.7/auth/refresh",
        json={"refreshToken": pair["refreshToken"]},
        headers={"x-project-key": trusting_tenant.project_key},
    )
    assert response.status_code == 401
    assert code_of(response) == "ENVIRONMENT_MISMATCH"
    # Refused before use: the token still works with the right key.
    again = await refresh(client, pair["refreshToken"])
    assert again.status_code == 200, again.text


async def test_refresh_ignores_a_stale_access_token_sent_as_bearer(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("sam"))
    response = await client.post(
        "/v1.7/auth/refresh",
        json={"refreshToken": pair["refreshToken"]},
        headers=bearer("stale.or.garbage"),
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"accessToken", "refreshToken"}
