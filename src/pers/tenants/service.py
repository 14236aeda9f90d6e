"""Tenants: creation, settings, project keys and the views front-ends read."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth import service as auth_service
from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.errors import MissingCredentials, OwnerAdminRequired
from pers.auth.oidc import AuthProvider, parse_providers
from pers.db import set_tenant
from pers.errors import Forbidden, NotFound
from pers.kit.enums import Environment
from pers.kit.ids import uuid7
from pers.runtime import Runtime
from pers.tenants import repository
from pers.tenants.models import Tenant

SEALED_FIELDS = {"stripe_api_key": "stripe_api_key_sealed",
                 "stripe_webhook_secret": "stripe_webhook_secret_sealed"}  # fmt: skip
PLAIN_FIELDS = frozenset(
    {
        "project_name",
        "project_description",
        "project_website",
        "project_email",
        "project_image_url",
        "stripe_publishable_key",
        "login_token",
        "allow_jwt_for_unauthenticated_users",
        "firebase_tenant_id",
        "infura_api_key",
        "poly_scan_api_key",
    }
)


class TenantNotFound(NotFound):
    code = "TENANT_NOT_FOUND"
    title = "Tenant not found"


@dataclass(frozen=True)
class TenantView:
    """A tenant with its stored secrets opened, for the tenant's own admins only."""

    tenant: Tenant
    stripe_api_key: str | None
    stripe_webhook_secret: str | None
    jwt: str | None = None
    api_private_key: str | None = None


@dataclass(frozen=True)
class BoundTenant:
    tenant_id: uuid.UUID
    environment: Environment


def new_project_key(environment: Environment) -> str:
    key = secrets.token_hex(32)
    return f"pk_test_{key}" if environment is Environment.TESTNET else key


async def bind_project_key(session: AsyncSession, key: str) -> BoundTenant | None:
    found = await repository.bind_by_project_key(session, key)
    if found is None:
        return None
    tenant_id, mainnet_key = found
    env = Environment.MAINNET if key == mainnet_key else Environment.TESTNET
    return BoundTenant(tenant_id, env)


async def bind_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Bind the transaction to the tenant; False when no such tenant exists."""
    return await repository.bind_by_id(session, tenant_id)


async def catalog_version(session: AsyncSession, tenant_id: uuid.UUID) -> int | None:
    """Where the tenant's catalog stands (revision 0017): it moves, in the writing transaction,
    whenever a campaign, trigger, condition, token unit, engagement, token, item, business or
    their types change. Equal versions: nothing a cached campaign detail holds has changed."""
    return await repository.catalog_version(session, tenant_id)


def _open(rt: Runtime, tenant: Tenant, column: str) -> str | None:
    sealed = getattr(tenant, column)
    if sealed is None:
        return None
    return rt.secrets.open(sealed, f"tenants.{column}:{tenant.id}")


def view(rt: Runtime, tenant: Tenant, **extra: str | None) -> TenantView:
    return TenantView(
        tenant=tenant,
        stripe_api_key=_open(rt, tenant, "stripe_api_key_sealed"),
        stripe_webhook_secret=_open(rt, tenant, "stripe_webhook_secret_sealed"),
        jwt=extra.get("jwt"),
        api_private_key=extra.get("api_private_key"),
    )


async def create_tenant(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, project_name: str
) -> TenantView:
    """A new tenant with both project keys and a one-time tenant admin JWT (testnet: a new
    tenant builds on testnet first; ``POST /tenant/admin/jwt`` issues a mainnet one)."""
    if ctx.principal.kind is not PrincipalKind.PLATFORM and not rt.settings.open_signup:
        if ctx.principal.kind is PrincipalKind.ANONYMOUS:
            raise MissingCredentials("creating a tenant needs the platform API key (x-api-key)")
        raise Forbidden("creating a tenant needs the platform API key (x-api-key)")
    tenant = Tenant(
        id=uuid7(),
        project_name=project_name,
        project_api_key=new_project_key(Environment.MAINNET),
        testnet_project_api_key=new_project_key(Environment.TESTNET),
        allow_jwt_for_unauthenticated_users=False,
        auth_providers=[],
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add(session, tenant)
    await set_tenant(session, tenant.id)
    issued = await auth_service.new_tenant_admin_jwt(
        session, rt, tenant_id=tenant.id, environment=Environment.TESTNET, now=ctx.now
    )
    return view(rt, tenant, jwt=issued.token)


async def get_current(session: AsyncSession, ctx: RequestContext) -> Tenant:
    return await get_by_id(session, ctx.tenant)


async def get_admin_view(session: AsyncSession, rt: Runtime, ctx: RequestContext) -> TenantView:
    return view(rt, await get_current(session, ctx))


async def update_tenant(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, changes: dict[str, Any]
) -> TenantView:
    """Apply the fields the caller sent; an explicit null clears an optional field."""
    tenant = await get_current(session, ctx)
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name in PLAIN_FIELDS:
            values[name] = value
        elif name in SEALED_FIELDS:
            column = SEALED_FIELDS[name]
            values[column] = (
                None if value is None else rt.secrets.seal(value, f"tenants.{column}:{tenant.id}")
            )
        elif name == "auth_providers":
            values[name] = value
    if values:
        values["updated_at"] = ctx.now
        await repository.update_fields(session, tenant.id, values)
        await session.refresh(tenant)
    return view(rt, tenant)


async def new_system_key(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, key_name: str
) -> TenantView:
    if not ctx.is_owner_admin:
        raise OwnerAdminRequired("only a SUPER_ADMIN or the tenant admin JWT may issue API keys")
    issued = await auth_service.new_system_key(session, rt, ctx, key_name)
    return view(rt, await get_current(session, ctx), api_private_key=issued.token)


async def new_admin_jwt(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, *, is_testnet: bool
) -> TenantView:
    if not ctx.is_owner_admin:
        raise OwnerAdminRequired("only a SUPER_ADMIN or the tenant admin JWT may issue admin JWTs")
    env = Environment.TESTNET if is_testnet else Environment.MAINNET
    issued = await auth_service.new_tenant_admin_jwt(
        session, rt, tenant_id=ctx.tenant, environment=env, now=ctx.now
    )
    return view(rt, await get_current(session, ctx), jwt=issued.token)


async def auth_settings(
    session: AsyncSession, tenant_id: uuid.UUID
) -> tuple[list[AuthProvider], bool]:
    tenant = await get_by_id(session, tenant_id)
    return parse_providers(tenant.auth_providers), tenant.allow_jwt_for_unauthenticated_users


async def get_by_id(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await repository.get(session, tenant_id)
    if tenant is None:
        raise TenantNotFound()
    return tenant
