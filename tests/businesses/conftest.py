"""Fixtures of the Business tests: the principals that call the module, and businesses made
through the API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pers.auth.models import ApiKeyType
from pers.db import async_url, set_tenant
from pers.kit.enums import Environment
from pers.runtime import Runtime
from pers.users.service import new_user
from tests.conftest import TenantHandle

BUSINESS = "/v1.7/business"
PROBLEM = "application/problem+json"
# Every field of the documented Business DTO (seed 001), in no particular order.
BUSINESS_FIELDS = {
    "id",
    "email",
    "accountAddress",
    "businessLegalName",
    "displayName",
    "description",
    "shortDescription",
    "websiteUrl",
    "imageUrl",
    "streetAddress",
    "city",
    "postalCode",
    "coordsLatitude",
    "coordsLongitude",
    "businessType",
    "isActive",
    "canMintToken",
    "canChargeToken",
    "canManageUsers",
    "canReceiveDonation",
}
TYPE_FIELDS = {"id", "name", "description", "code", "iconUrl"}
ABILITIES = ("canMintToken", "canChargeToken", "canManageUsers", "canReceiveDonation")


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def assert_validation_error(response: httpx.Response, field: str) -> None:
    """400 VALIDATION_ERROR naming ``field`` (in the location or, for whole-body rules, in
    the message)."""
    body = assert_problem(response, 400, "VALIDATION_ERROR")
    reported = [f"{e['field']}: {e['message']}" for e in body["errors"]]
    assert any(field in r for r in reported), f"{field} not among the reported errors {reported}"


def business_key(tenant: TenantHandle, key: str, *, mainnet: bool = False) -> dict[str, str]:
    """How a business calls: its key in x-api-key, the tenant's project key beside it."""
    project_key = tenant.project_key if mainnet else tenant.testnet_key
    return {"x-api-key": key, "x-project-key": project_key}


@dataclass
class Callers:
    """Credentials of every principal kind of one tenant, for permission tests."""

    tenant: TenantHandle
    user: dict[str, str]
    system: dict[str, str]

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.admin

    @property
    def public(self) -> dict[str, str]:
        return self.tenant.public


async def create_business(
    client: httpx.AsyncClient, tenant: TenantHandle, name: str = "Corner Cafe"
) -> dict[str, Any]:
    response = await client.post(
        f"{BUSINESS}/admin", json={"displayName": name}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def activate(
    client: httpx.AsyncClient, tenant: TenantHandle, business_id: str, **body: Any
) -> dict[str, Any]:
    payload = {"isActive": True, **body}
    response = await client.put(
        f"{BUSINESS}/admin/activate/{business_id}", json=payload, headers=tenant.admin
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def create_active_business(
    client: httpx.AsyncClient, tenant: TenantHandle, name: str = "Corner Cafe"
) -> dict[str, Any]:
    """An active business; its API key is in ``apiPrivateKey``."""
    created = await create_business(client, tenant, name)
    await activate(client, tenant, created["id"])
    return created


async def create_type(
    client: httpx.AsyncClient, tenant: TenantHandle, **body: Any
) -> dict[str, Any]:
    payload = {"name": "Restaurant", "description": "Places to eat", **body}
    response = await client.post(f"{BUSINESS}/admin/type", json=payload, headers=tenant.admin)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def make_user(runtime: Runtime, tenant: TenantHandle) -> dict[str, str]:
    """A user of the tenant and an access token for it, as a login would issue."""
    async with runtime.db.unit_of_work() as session:
        await set_tenant(session, tenant.id)
        user = new_user(
            runtime.wallets, tenant.id, runtime.clock.now(), email=f"{uuid.uuid4().hex}@u.example"
        )
        user_id = user.id
        session.add(user)
    token = runtime.signer.issue(
        typ=ApiKeyType.USER_JWT_ACCESS_TOKEN,
        tenant_id=tenant.id,
        environment=Environment.TESTNET,
        subject=str(user_id),
        now=runtime.clock.now(),
        ttl=timedelta(minutes=5),
        jti=uuid.uuid4(),
    )
    return {"Authorization": f"Bearer {token}", "x-project-key": tenant.testnet_key}


async def make_admin(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle, admin_type: str
) -> dict[str, str]:
    """An admin person of the tenant and an access token, as ``/auth/admin/login`` issues."""
    response = await client.post(
        "/v1.7/admin/admin",
        json={"email": f"{uuid.uuid4().hex}@a.example", "type": admin_type},
        headers=tenant.admin,
    )
    assert response.status_code == 200, response.text
    token = runtime.signer.issue(
        typ=ApiKeyType.ADMIN_JWT_ACCESS_TOKEN,
        tenant_id=tenant.id,
        environment=Environment.TESTNET,
        subject=response.json()["id"],
        now=runtime.clock.now(),
        ttl=timedelta(minutes=5),
        jti=uuid.uuid4(),
    )
    return {"Authorization": f"Bearer {token}"}


async def make_system_key(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, str]:
    response = await client.post(
        "/v1.7/tenant/admin/api-key", json={"keyName": "backend"}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    return {"x-api-key": response.json()["apiPrivateKey"], "x-project-key": tenant.testnet_key}


@pytest.fixture
async def callers(client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle) -> Callers:
    return Callers(
        tenant=tenant,
        user=await make_user(runtime, tenant),
        system=await make_system_key(client, tenant),
    )


@pytest.fixture
async def owner_engine(owner_url: str) -> AsyncIterator[AsyncEngine]:
    """The schema owner (superuser on the embedded server): sees and changes every row."""
    engine = create_async_engine(async_url(owner_url))
    yield engine
    await engine.dispose()
