"""Fixtures of the auth tests: a live identity provider and tenants that trust it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pers.db import set_tenant
from pers.runtime import Runtime
from pers.users.models import User
from tests.auth.helpers import (
    IdentityProvider,
    IdentityProviderServer,
    configure_tenant,
)
from tests.conftest import MovableClock, TenantHandle


@pytest.fixture(scope="session")
def idp_server() -> Iterator[IdentityProviderServer]:
    server = IdentityProviderServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_idp(
    idp_server: IdentityProviderServer, clock: MovableClock
) -> Iterator[Callable[..., IdentityProvider]]:
    """Fresh providers (own issuer, own keys) for one test; unpublished afterwards."""
    made: list[IdentityProvider] = []

    def make(kind: str = "RSA") -> IdentityProvider:
        provider = idp_server.new_provider(clock, kind)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        idp_server.providers.pop(provider.name, None)


@pytest.fixture
def idp(make_idp: Callable[..., IdentityProvider]) -> IdentityProvider:
    return make_idp()


@pytest.fixture
async def trusting_tenant(
    client: httpx.AsyncClient, tenant: TenantHandle, idp: IdentityProvider
) -> TenantHandle:
    """``tenant`` with ``idp`` as its identity provider."""
    await configure_tenant(client, tenant, idp)
    return tenant


class UserStore:
    """Read-only look at users, where the API has no user endpoint yet."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def get(self, tenant_id: uuid.UUID, user_id: str) -> User | None:
        async with self._runtime.db.unit_of_work() as session:
            await set_tenant(session, tenant_id)
            result = await session.execute(
                select(User).where(User.tenant_id == tenant_id, User.id == uuid.UUID(user_id))
            )
            return result.scalar_one_or_none()

    async def count(self, tenant_id: uuid.UUID) -> int:
        async with self._runtime.db.unit_of_work() as session:
            await set_tenant(session, tenant_id)
            result = await session.execute(
                select(func.count()).select_from(User).where(User.tenant_id == tenant_id)
            )
            return int(result.scalar_one())


@pytest.fixture
def users(runtime: Runtime) -> UserStore:
    return UserStore(runtime)


@pytest.fixture
def admin_factory(client: httpx.AsyncClient) -> Callable[..., Any]:
    """Create (or update) an admin of a tenant with the tenant admin JWT."""

    async def create(
        tenant: TenantHandle,
        email: str,
        admin_type: str = "SUPER_ADMIN",
        *,
        is_active: bool | None = None,
        display_name: str = "Ada Admin",
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"email": email, "displayName": display_name, "type": admin_type}
        if is_active is not None:
            body["isActive"] = is_active
        response = await client.post("/v1.7/admin/admin", json=body, headers=tenant.admin)
        assert response.status_code == 200, response.text
        admin: dict[str, Any] = response.json()
        return admin

    return create
