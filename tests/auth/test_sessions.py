"""PERS access tokens: where they are accepted, expiry, tenant binding, the JWKS."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from tests.auth.helpers import IdentityProvider, bearer, code_of, login_user, pers_claims
from tests.conftest import MovableClock, TenantHandle


async def test_user_access_token_reads_tenant_public_info(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("amy"))
    response = await client.get(
        "/v1.7/tenant/public",
        headers={**bearer(pair["accessToken"]), "x-project-key": trusting_tenant.testnet_key},
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(trusting_tenant.id)
    # The token names its tenant: the project key is not needed.
    alone = await client.get("/v1.7/tenant/public", headers=bearer(pair["accessToken"]))
    assert alone.status_code == 200, alone.text
    assert alone.json()["id"] == str(trusting_tenant.id)


async def test_verify_reports_a_valid_user_access_token(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("ben"))
    response = await client.post("/v1.7/auth/verify", json={"authToken": pair["accessToken"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valid"] is True
    assert body["errorMessage"] is None
    assert body["payload"] == await pers_claims(client, pair["accessToken"])
    assert body["payload"]["typ"] == "USER_JWT_ACCESS_TOKEN"


async def test_verify_reports_invalid_tokens_without_failing(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    # Not a PERS token at all: the identity provider's own ID token.
    for token in ("garbage", idp.id_token("cleo")):
        response = await client.post("/v1.7/auth/verify", json={"authToken": token})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["valid"] is False
        assert body["payload"] is None
        assert body["errorMessage"]


async def test_verify_reports_expired_access_token(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    clock: MovableClock,
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("dan"))
    clock.advance(timedelta(minutes=16))
    response = await client.post("/v2/auth/verify", json={"authToken": pair["accessToken"]})
    assert response.status_code == 200, response.text
    assert response.json()["valid"] is False
    assert "expired" in response.json()["errorMessage"]


async def test_expired_access_token_is_refused(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    clock: MovableClock,
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("ella"))
    headers = {**bearer(pair["accessToken"]), "x-project-key": trusting_tenant.testnet_key}
    clock.advance(timedelta(minutes=14))
    assert (await client.get("/v1.7/tenant/public", headers=headers)).status_code == 200
    clock.advance(timedelta(minutes=2))
    response = await client.get("/v1.7/tenant/public", headers=headers)
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_token_of_tenant_a_with_project_key_of_tenant_b_is_tenant_mismatch(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    other_tenant: TenantHandle,
    idp: IdentityProvider,
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("fay"))
    response = await client.get(
        "/v1.7/tenant/public",
        headers={**bearer(pair["accessToken"]), "x-project-key": other_tenant.testnet_key},
    )
    assert response.status_code == 401
    assert code_of(response) == "TENANT_MISMATCH"
    verify = await client.post(
        "/v1.7/auth/verify",
        json={"authToken": pair["accessToken"]},
        headers={"x-project-key": other_tenant.testnet_key},
    )
    assert verify.status_code == 200
    assert verify.json()["valid"] is False


async def test_user_access_token_cannot_call_admin_endpoints(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("gus"))
    for method, path in (
        ("GET", "/v1.7/admin"),
        ("GET", "/v1.7/tenant/admin"),
        ("GET", "/v1.7/admin/admin"),
        ("POST", "/v1.7/tenant/admin/jwt"),
    ):
        response = await client.request(
            method, path, headers=bearer(pair["accessToken"]), json={"isTestnet": True}
        )
        assert response.status_code == 403, (path, response.text)
        assert code_of(response) == "PRINCIPAL_NOT_ALLOWED"


async def test_refresh_token_cannot_authenticate_a_request(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("hal"))
    response = await client.get("/v1.7/tenant/public", headers=bearer(pair["refreshToken"]))
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_user_access_token_is_not_an_api_key(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("ian"))
    response = await client.get(
        "/v1.7/system",
        headers={"x-api-key": pair["accessToken"], "x-project-key": trusting_tenant.testnet_key},
    )
    assert response.status_code == 401
    assert code_of(response) == "INVALID_API_KEY"


async def test_tampered_access_token_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("jo"))
    claims = await pers_claims(client, pair["accessToken"])
    header = jwt.get_unverified_header(pair["accessToken"])
    # Same claims and kid, signed with a key that is not the deployment's.
    forged = jwt.encode(
        {**claims, "exp": claims["exp"] + 86400},
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": header["kid"]},
    )
    response = await client.get("/v1.7/tenant/public", headers=bearer(forged))
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_jwks_verifies_every_pers_token(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    assert all(k["kty"] == "EC" and k["alg"] == "ES256" and "d" not in k for k in keys)
    pair = await login_user(client, trusting_tenant.testnet_key, idp.id_token("kai"))
    for token in (pair["accessToken"], pair["refreshToken"], trusting_tenant.admin_jwt):
        kid = jwt.get_unverified_header(token)["kid"]
        assert kid in {k["kid"] for k in keys}
        key = jwt.PyJWK.from_dict(next(k for k in keys if k["kid"] == kid))
        claims = jwt.decode(token, key.key, algorithms=["ES256"], options={"verify_iat": False})
        assert claims["tenantId"] == str(trusting_tenant.id)
