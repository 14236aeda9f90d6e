"""Root operations: welcome, health check, system-key check and admin check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import MovableClock, TenantHandle
from tests.web.helpers import API_KEYS, PLATFORM, assert_problem


async def system_key(client: httpx.AsyncClient, tenant: TenantHandle) -> str:
    response = await client.post(API_KEYS, json={"keyName": "sys"}, headers=tenant.admin)
    assert response.status_code == 201, response.text
    key: str = response.json()["apiPrivateKey"]
    assert key
    return key


async def test_welcome_needs_no_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1.7/")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "pers"
    assert body["apiVersion"] == "1.7.2"
    assert body["version"]
    assert body["docs"] == "/docs"


async def test_healthcheck_with_project_key_reports_ok_and_current_time(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get("/v1.7/healthcheck", headers=tenant.public)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    now = datetime.fromisoformat(body["currentTime"])
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)


async def test_healthcheck_current_time_follows_the_server_clock(
    client: httpx.AsyncClient, tenant: TenantHandle, clock: MovableClock
) -> None:
    clock.advance(timedelta(days=3))

    response = await client.get("/v1.7/healthcheck", headers=tenant.public)

    assert response.status_code == 200, response.text
    now = datetime.fromisoformat(response.json()["currentTime"])
    assert abs(now - (datetime.now(UTC) + timedelta(days=3))) < timedelta(minutes=1)


async def test_healthcheck_without_project_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1.7/healthcheck")

    assert_problem(response, 401, "MISSING_CREDENTIALS")


async def test_healthcheck_with_unknown_project_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1.7/healthcheck", headers={"x-project-key": "pk_test_nope"})

    assert_problem(response, 401, "INVALID_PROJECT_KEY")


async def test_system_check_accepts_a_system_key(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    key = await system_key(client, tenant)

    response = await client.get("/v1.7/system", headers={**tenant.public, "x-api-key": key})

    assert response.status_code == 200, response.text
    assert response.json() is True


async def test_system_check_rejects_the_admin_jwt_with_403(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get("/v1.7/system", headers={**tenant.public, **tenant.admin})

    assert_problem(response, 403, "PRINCIPAL_NOT_ALLOWED")


async def test_system_check_rejects_a_revoked_system_key_with_401(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    key = await system_key(client, tenant)
    listed = await client.get(API_KEYS, headers=tenant.admin)
    key_id = next(k["id"] for k in listed.json() if k["name"] == "sys")
    revoked = await client.delete(f"{API_KEYS}/{key_id}", headers=tenant.admin)
    assert revoked.status_code == 200, revoked.text

    response = await client.get("/v1.7/system", headers={**tenant.public, "x-api-key": key})

    assert_problem(response, 401, "INVALID_API_KEY")


async def test_system_key_of_another_tenant_is_401_tenant_mismatch(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    key = await system_key(client, other_tenant)

    response = await client.get("/v1.7/system", headers={**tenant.public, "x-api-key": key})

    assert_problem(response, 401, "TENANT_MISMATCH")


async def test_system_check_with_only_the_project_key_is_401(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get("/v1.7/system", headers=tenant.public)

    assert_problem(response, 401, "MISSING_CREDENTIALS")


async def test_admin_check_accepts_the_tenant_admin_jwt(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get("/v1.7/admin", headers=tenant.admin)

    assert response.status_code == 200, response.text
    assert response.json() is True


@pytest.mark.parametrize("with_project_key", [False, True], ids=["no-credential", "project-key"])
async def test_admin_check_without_an_admin_credential_is_401_missing_credentials(
    client: httpx.AsyncClient, tenant: TenantHandle, with_project_key: bool
) -> None:
    """A project key names the tenant but authenticates nobody: still 401, not 403."""
    headers = tenant.public if with_project_key else {}

    response = await client.get("/v1.7/admin", headers=headers)

    assert_problem(response, 401, "MISSING_CREDENTIALS")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_admin_check_with_a_system_key_is_403(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    key = await system_key(client, tenant)

    response = await client.get("/v1.7/admin", headers={"x-api-key": key})

    assert_problem(response, 403, "PRINCIPAL_NOT_ALLOWED")


async def test_admin_check_with_the_platform_key_is_403(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1.7/admin", headers=PLATFORM)

    assert_problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
