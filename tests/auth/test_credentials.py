"""System API keys, the platform key, and malformed or missing credentials."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.auth.helpers import bearer, code_of, pers_claims
from tests.conftest import PLATFORM_KEY, MovableClock, TenantHandle


async def _issue_system_key(
    client: httpx.AsyncClient, tenant: TenantHandle, name: str = "backend"
) -> str:
    response = await client.post(
        "/v1.7/tenant/admin/api-key", json={"keyName": name}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == str(tenant.id)
    key: str = body["apiPrivateKey"]
    assert key
    return key


def _system(tenant: TenantHandle, key: str) -> dict[str, str]:
    return {"x-api-key": key, "x-project-key": tenant.testnet_key}


async def test_system_key_is_accepted_and_listed(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    key = await _issue_system_key(client, tenant, "orders-service")
    check = await client.get("/v1.7/system", headers=_system(tenant, key))
    assert check.status_code == 200, check.text
    assert check.json() is True
    # Without the project key the key still names its tenant.
    assert (await client.get("/v1.7/system", headers={"x-api-key": key})).json() is True

    listed = await client.get("/v1.7/tenant/admin/api-key", headers=tenant.admin)
    assert listed.status_code == 200
    entry = next(k for k in listed.json() if k["name"] == "orders-service")
    assert entry["type"] == "TENANT_SYSTEM_JWT"
    assert entry["environment"] == "testnet"
    assert entry["isRevoked"] is False
    assert entry["lastUsedAt"] is not None
    assert entry["id"] == (await pers_claims(client, key))["jti"]
    assert key not in listed.text
    assert entry["shortenedPrivateKey"] == f"{key[:8]}...{key[-4:]}"


async def test_system_key_is_not_an_admin(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    key = await _issue_system_key(client, tenant)
    for headers in (_system(tenant, key), bearer(key)):
        response = await client.get("/v1.7/admin", headers=headers)
        assert response.status_code == 403, response.text
        assert code_of(response) == "PRINCIPAL_NOT_ALLOWED"


async def test_revoked_system_key_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    key = await _issue_system_key(client, tenant)
    other = await _issue_system_key(client, tenant, "other")
    key_id = (await pers_claims(client, key))["jti"]
    revoked = await client.delete(f"/v1.7/tenant/admin/api-key/{key_id}", headers=tenant.admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["isRevoked"] is True

    response = await client.get("/v1.7/system", headers=_system(tenant, key))
    assert response.status_code == 401
    assert code_of(response) == "INVALID_API_KEY"
    assert (await client.get("/v1.7/system", headers=_system(tenant, other))).json() is True


async def test_unknown_api_key_is_refused(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    response = await client.get("/v1.7/system", headers=_system(tenant, "pers_sk_not_a_key"))
    assert response.status_code == 401
    assert code_of(response) == "INVALID_API_KEY"


async def test_system_key_of_tenant_a_with_project_key_of_tenant_b_is_tenant_mismatch(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    key = await _issue_system_key(client, tenant)
    response = await client.get("/v1.7/system", headers=_system(other_tenant, key))
    assert response.status_code == 401
    assert code_of(response) == "TENANT_MISMATCH"


async def test_verify_system_key_valid_then_revoked(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    key = await _issue_system_key(client, tenant)
    valid = await client.post("/v1.7/auth/verify", json={"authToken": key})
    assert valid.status_code == 200, valid.text
    assert valid.json()["valid"] is True
    assert valid.json()["payload"]["typ"] == "TENANT_SYSTEM_JWT"
    assert valid.json()["payload"]["tenantId"] == str(tenant.id)

    key_id = valid.json()["payload"]["jti"]
    await client.delete(f"/v1.7/tenant/admin/api-key/{key_id}", headers=tenant.admin)
    revoked = await client.post("/v1.7/auth/verify", json={"authToken": key})
    assert revoked.status_code == 200
    assert revoked.json()["valid"] is False
    assert revoked.json()["payload"] is None
    assert "revoked" in revoked.json()["errorMessage"]

    invalid = await client.post("/v1.7/auth/verify", json={"authToken": key[:-4] + "AAAA"})
    assert invalid.status_code == 200
    assert invalid.json()["valid"] is False


async def test_platform_key_cannot_call_admin_endpoints(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    headers = {"x-api-key": PLATFORM_KEY}
    for method, path in (
        ("GET", "/v1.7/admin"),
        ("GET", "/v1.7/tenant/admin"),
        ("GET", "/v1.7/admin/admin"),
        ("GET", "/v1.7/tenant/admin/api-key"),
    ):
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 403, (path, response.text)
        assert code_of(response) == "PRINCIPAL_NOT_ALLOWED"
    with_tenant = await client.get(
        "/v1.7/tenant/admin", headers={**headers, "x-project-key": tenant.project_key}
    )
    assert with_tenant.status_code == 403
    assert code_of(with_tenant) == "PRINCIPAL_NOT_ALLOWED"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer garbage", "Bearer a.b.c", "Basic x", "Bearer", "Token abc"],
)
async def test_malformed_authorization_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle, authorization: str
) -> None:
    response = await client.get("/v1.7/admin", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"
    assert response.headers["www-authenticate"] == "Bearer"
    # An invalid credential is refused even where the project key alone would do.
    public = await client.get(
        "/v1.7/tenant/public",
        headers={"Authorization": authorization, "x-project-key": tenant.testnet_key},
    )
    assert public.status_code == 401


async def test_missing_credentials_are_refused(client: httpx.AsyncClient) -> None:
    for path in ("/v1.7/admin", "/v1.7/system", "/v1.7/tenant/public"):
        response = await client.get(path)
        assert response.status_code == 401, path
        assert code_of(response) == "MISSING_CREDENTIALS"


async def test_unknown_project_key_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get("/v1.7/tenant/public", headers={"x-project-key": "nope"})
    assert response.status_code == 401
    assert code_of(response) == "INVALID_PROJECT_KEY"
    with_admin = await client.get(
        "/v1.7/tenant/admin", headers={**tenant.admin, "x-project-key": "nope"}
    )
    assert with_admin.status_code == 401
    assert code_of(with_admin) == "INVALID_PROJECT_KEY"


async def test_project_key_alone_is_not_an_admin(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get("/v1.7/admin", headers=tenant.public)
    assert response.status_code == 401
    assert code_of(response) == "MISSING_CREDENTIALS"


async def test_system_key_is_accepted_as_bearer(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    key = await _issue_system_key(client, tenant)
    response = await client.get("/v1.7/system", headers=bearer(key))
    assert response.status_code == 200, response.text
    assert response.json() is True


async def test_tenant_admin_jwt_is_not_an_api_key(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get(
        "/v1.7/system", headers={"x-api-key": tenant.admin_jwt, "x-project-key": tenant.testnet_key}
    )
    assert response.status_code == 401
    assert code_of(response) == "INVALID_API_KEY"


async def test_tenant_admin_jwt_expires_while_system_key_does_not(
    client: httpx.AsyncClient, tenant: TenantHandle, clock: MovableClock
) -> None:
    key = await _issue_system_key(client, tenant)
    assert (await pers_claims(client, tenant.admin_jwt))["exp"] is not None
    assert "exp" not in await pers_claims(client, key)
    clock.advance(timedelta(days=364))
    assert (await client.get("/v1.7/admin", headers=tenant.admin)).status_code == 200
    clock.advance(timedelta(days=2))
    expired = await client.get("/v1.7/admin", headers=tenant.admin)
    assert expired.status_code == 401
    assert code_of(expired) == "INVALID_TOKEN"
    assert (await client.get("/v1.7/system", headers=_system(tenant, key))).json() is True
