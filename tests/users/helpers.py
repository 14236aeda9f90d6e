"""HTTP helpers of the user tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import TenantHandle

ME = "/v1.7/user/auth/me"
ADMIN_USERS = "/v1.7/user/admin"
INFO = "/v1.7/user/info"
STATUS_TYPES = "/v1.7/user/status-type"
ADMIN_STATUS_TYPES = "/v1.7/user/admin/status-type"


async def create_user(
    client: httpx.AsyncClient, tenant: TenantHandle, **body: Any
) -> dict[str, Any]:
    """A user created by the tenant admin; must succeed."""
    response = await client.post(ADMIN_USERS, json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def system_headers(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, str]:
    """Credentials of the tenant's own systems (a system API key)."""
    response = await client.post(
        "/v1.7/tenant/admin/api-key", json={"keyName": "backend"}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    return {"x-api-key": response.json()["apiPrivateKey"], "x-project-key": tenant.testnet_key}


def unique_email(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"
