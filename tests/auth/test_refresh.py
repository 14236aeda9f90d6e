"""Refresh tokens: one use each, rotation, reuse detection, expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from tests.auth.helpers import (
    IdentityProvider,
    bearer,
    code_of,
    login_user,
    pers_claims,
    refresh,
)
from tests.conftest import MovableClock, TenantHandle


async def _tenant_public(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get("/v1.7/tenant/public", headers=bearer(access_token))


async def test_refresh_rotates_the_token_pair(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    first = await login_user(client, trusting_tenant.testnet_key, idp.id_token("ann"))
    response = await refresh(client, first["refreshToken"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert set(second) == {"accessToken", "refreshToken"}
    assert second["accessToken"] != first["accessToken"]
    assert second["refreshToken"] != first["refreshToken"]

    old, new = (
        await pers_claims(client, first["accessToken"]),
        await pers_claims(client, second["accessToken"]),
    )
    assert new["sub"] == old["sub"]
    assert new["tenantId"] == old["tenantId"]
    assert new["env"] == old["env"]
    assert new["typ"] == "USER_JWT_ACCESS_TOKEN"
    assert (await _tenant_public(client, second["accessToken"])).status_code == 200

    third = await refresh(client, second["refreshToken"])
    assert third.status_code == 200, third.text


async def test_refresh_after_access_token_expiry_restores_access(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    clock: MovableClock,
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("bea"))
    clock.advance(timedelta(minutes=16))
    assert (await _tenant_public(client, pair["accessToken"])).status_code == 401
    renewed = await refresh(client, pair["refreshToken"])
    assert renewed.status_code == 200, renewed.text
    assert (await _tenant_public(client, renewed.json()["accessToken"])).status_code == 200


async def test_reused_refresh_token_revokes_family(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    login = await login_user(client, trusting_tenant.testnet_key, idp.id_token("cal"))
    second = (await refresh(client, login["refreshToken"])).json()
    third = (await refresh(client, second["refreshToken"])).json()

    # An attacker replays a refresh token that was already used.
    replay = await refresh(client, login["refreshToken"])
    assert replay.status_code == 401
    assert code_of(replay) == "REFRESH_TOKEN_REUSED"

    # The whole session is gone, including the newest refresh token nobody had used yet.
    newest = await refresh(client, third["refreshToken"])
    assert newest.status_code == 401
    assert code_of(newest) == "INVALID_TOKEN"
    again = await refresh(client, second["refreshToken"])
    assert again.status_code == 401
    verify = await client.post("/v1.7/auth/verify", json={"authToken": third["refreshToken"]})
    assert verify.json()["valid"] is False


async def test_reuse_revokes_only_that_session(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    laptop = await login_user(client, trusting_tenant.testnet_key, idp.id_token("dev"))
    phone = await login_user(client, trusting_tenant.testnet_key, idp.id_token("dev"))
    assert (await refresh(client, laptop["refreshToken"])).status_code == 200
    assert code_of(await refresh(client, laptop["refreshToken"])) == "REFRESH_TOKEN_REUSED"
    other = await refresh(client, phone["refreshToken"])
    assert other.status_code == 200, other.text


async def test_concurrent_use_of_one_refresh_token_succeeds_once(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("eli"))
    responses = await asyncio.gather(*(refresh(client, pair["refreshToken"]) for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 401, 401, 401, 401], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    codes = [code_of(r) for r in responses if r.status_code == 401]
    # The first loser detects the reuse; later ones find the family already revoked.
    assert "REFRESH_TOKEN_REUSED" in codes
    assert set(codes) <= {"REFRESH_TOKEN_REUSED", "INVALID_TOKEN"}
    # Reuse was detected, so even the winner's new refresh token is revoked.
    assert (await refresh(client, winner["refreshToken"])).status_code == 401


async def test_expired_refresh_token_is_refused(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    clock: MovableClock,
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("fin"))
    clock.advance(timedelta(hours=23, minutes=59))
    alive = await refresh(client, pair["refreshToken"])
    assert alive.status_code == 200, alive.text
    clock.advance(timedelta(days=1, minutes=1))
    response = await refresh(client, alive.json()["refreshToken"])
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_refresh_with_an_access_token_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("gia"))
    for token in (pair["accessToken"], trusting_tenant.admin_jwt):
        response = await refresh(client, token)
        assert response.status_code == 401
        assert code_of(response) == "INVALID_TOKEN"
    # The real refresh token was not touched by the failed attempts.
    assert (await refresh(client, pair["refreshToken"])).status_code == 200


async def test_refresh_of_garbage_is_refused(client: httpx.AsyncClient) -> None:
    response = await refresh(client, "not-a-token")
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_refresh_token_of_tenant_a_with_project_key_of_tenant_b_is_tenant_mismatch(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    other_tenant: TenantHandle,
    idp: IdentityProvider,
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("hal"))
    crossed = await refresh(
        client, pair["refreshToken"], **{"x-project-key": other_tenant.testnet_key}
    )
    assert crossed.status_code == 401
    assert code_of(crossed) == "TENANT_MISMATCH"
    own = await refresh(
        client, pair["refreshToken"], **{"x-project-key": trusting_tenant.testnet_key}
    )
    assert own.status_code == 200, own.text


async def test_v2_refresh_accepts_the_access_token_alongside(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("ida"), version="v2")
    response = await client.post("/v2/auth/refresh", json=pair)
    assert response.status_code == 200, response.text
    assert (await pers_claims(client, response.json()["accessToken"]))["sub"] == (
        await pers_claims(client, pair["accessToken"])
    )["sub"]
    reused = await client.post("/v2/auth/refresh", json=pair)
    assert reused.status_code == 401
    assert code_of(reused) == "REFRESH_TOKEN_REUSED"
    assert reused.json()["category"] == "SECURITY"


async def test_v1_refresh_rejects_unknown_fields(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("jon"))
    response = await client.post(
        "/v1.7/auth/refresh", json={"refreshToken": pair["refreshToken"], "extra": 1}
    )
    assert response.status_code == 400
    assert code_of(response) == "VALIDATION_ERROR"


async def test_verify_tells_unused_from_used_refresh_tokens(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("kip"))
    unused = await client.post("/v1.7/auth/verify", json={"authToken": pair["refreshToken"]})
    assert unused.json()["valid"] is True
    assert unused.json()["payload"]["typ"] == "USER_JWT_REFRESH_TOKEN"
    assert (await refresh(client, pair["refreshToken"])).status_code == 200
    used = await client.post("/v1.7/auth/verify", json={"authToken": pair["refreshToken"]})
    assert used.json()["valid"] is False
    assert used.json()["errorMessage"]
