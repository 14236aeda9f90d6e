"""Fixtures of the user tests: the auth tests' live identity provider, and user sessions."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from pers.db import set_tenant
from pers.runtime import Runtime
from pers.users.models import User
from pers.wallets.derivation import OwnerType
from tests.auth import conftest as auth_fixtures
from tests.auth.helpers import IdentityProvider, bearer, login_user, pers_claims
from tests.conftest import TenantHandle

# The auth tests' live identity provider and the tenants that trust it.
idp_server = auth_fixtures.idp_server
make_idp = auth_fixtures.make_idp
idp = auth_fixtures.idp
trusting_tenant = auth_fixtures.trusting_tenant
admin_factory = auth_fixtures.admin_factory


@dataclass(frozen=True)
class UserSession:
    """A user logged in through the identity provider."""

    id: str
    access_token: str
    tenant: TenantHandle

    @property
    def headers(self) -> dict[str, str]:
        return {**bearer(self.access_token), "x-project-key": self.tenant.testnet_key}


LoginAs = Callable[..., Awaitable[UserSession]]


@pytest.fixture
def login_as(client: httpx.AsyncClient, idp: IdentityProvider) -> LoginAs:
    """Log a user of ``idp`` into a tenant that trusts it (``trusting_tenant``)."""

    async def login(
        tenant: TenantHandle, sub: str | None = None, *, email: str | None = None
    ) -> UserSession:
        token = idp.id_token(
            sub or f"sub-{uuid.uuid4().hex}",
            email=email,
            email_verified=True if email else None,
        )
        pair = await login_user(client, tenant.testnet_key, token)
        claims = await pers_claims(client, pair["accessToken"])
        return UserSession(claims["sub"], pair["accessToken"], tenant)

    return login


async def load_user(runtime: Runtime, tenant_id: uuid.UUID, user_id: str) -> User:
    async with runtime.db.unit_of_work() as session:
        await set_tenant(session, tenant_id)
        user = await session.get(User, (tenant_id, uuid.UUID(user_id)))
        assert user is not None
        return user


def derived_address(runtime: Runtime, tenant_id: uuid.UUID, user_id: str) -> str:
    return runtime.wallets.address(tenant_id, OwnerType.USER, uuid.UUID(user_id))
