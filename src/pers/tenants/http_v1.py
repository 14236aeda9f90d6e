"""Tenant module (seed 001): 7 operations, plus key listing and revocation (extensions)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth import service as auth_service
from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.models import ApiKey, ApiKeyType
from pers.kit.enums import Environment
from pers.kit.schemas import Email, WireInput, WireModel
from pers.runtime import Runtime
from pers.tenants import service
from pers.tenants.models import Tenant
from pers.tenants.service import TenantView
from pers.web import Access, PersRoute, get_runtime, get_session

router = APIRouter(prefix="/tenant", route_class=PersRoute, tags=["Tenant"])

ADMIN = Access(PrincipalKind.ADMIN)
PUBLIC = Access(PrincipalKind.PUBLIC, PrincipalKind.USER, PrincipalKind.ADMIN, PrincipalKind.SYSTEM)
ALLOW_GUESTS = "allowJWTForUnauthenticatedUsers"


class AuthProviderWire(WireInput):
    issuer: str = Field(min_length=1, max_length=512, description="The ID token's `iss`.")
    jwks_uri: str = Field(
        min_length=1, max_length=2048, pattern=r"^https?://", description="URL of the JWKS."
    )
    audience: str = Field(min_length=1, max_length=512, description="Expected `aud`.")


class AuthProviderRead(WireModel):
    issuer: str
    jwks_uri: str
    audience: str


class TenantPublic(WireModel):
    project_name: str = Field(description="Name of the tenant.")
    id: str = Field(description="Unique identifier for tenant.")
    created_at: datetime = Field(description="Date when tenant was created.")
    project_description: str | None = None
    project_website: str | None = None
    project_email: str | None = None
    project_image_url: str | None = None


class TenantRead(TenantPublic):
    """The full tenant, for its own admins (and once for its creator)."""

    project_api_key: str = Field(description="Project key (mainnet).")
    testnet_project_api_key: str = Field(description="Project key for testnet.")
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_publishable_key: str | None = None
    login_token: str | None = None
    allow_jwt_for_unauthenticated_users: bool = Field(alias=ALLOW_GUESTS)
    firebase_tenant_id: str | None = None
    infura_api_key: str | None = None
    poly_scan_api_key: str | None = None
    auth_providers: list[AuthProviderRead] = Field(
        default_factory=list,
        description="Identity providers whose ID tokens log users and admins in (pers extension).",
    )
    jwt: str | None = Field(
        default=None, description="Tenant admin JWT; shown only in the response that issued it."
    )
    api_private_key: str | None = Field(
        default=None, description="Tenant system API key; shown only when issued."
    )


def public_read(tenant: Tenant) -> TenantPublic:
    return TenantPublic(
        project_name=tenant.project_name,
        id=str(tenant.id),
        created_at=tenant.created_at,
        project_description=tenant.project_description,
        project_website=tenant.project_website,
        project_email=tenant.project_email,
        project_image_url=tenant.project_image_url,
    )


def admin_read(v: TenantView) -> TenantRead:
    t = v.tenant
    return TenantRead(
        **public_read(t).model_dump(),
        project_api_key=t.project_api_key,
        testnet_project_api_key=t.testnet_project_api_key,
        stripe_api_key=v.stripe_api_key,
        stripe_webhook_secret=v.stripe_webhook_secret,
        stripe_publishable_key=t.stripe_publishable_key,
        login_token=t.login_token,
        allow_jwt_for_unauthenticated_users=t.allow_jwt_for_unauthenticated_users,
        firebase_tenant_id=t.firebase_tenant_id,
        infura_api_key=t.infura_api_key,
        poly_scan_api_key=t.poly_scan_api_key,
        auth_providers=[AuthProviderRead.model_validate(p) for p in t.auth_providers],
        jwt=v.jwt,
        api_private_key=v.api_private_key,
    )


class TenantCreate(WireInput):
    project_name: str = Field(min_length=1, max_length=200)


class ApiKeyCreate(WireInput):
    key_name: str = Field(min_length=1, max_length=200, description="name of the key")


class AdminJwtCreate(WireInput):
    is_testnet: bool = Field(description="whether the JWT is for testnet or mainnet")


class TenantUpdate(WireInput):
    project_name: str | None = Field(default=None, min_length=1, max_length=200)
    project_description: str | None = Field(default=None, max_length=5000)
    stripe_api_key: str | None = Field(default=None, max_length=500)
    stripe_webhook_secret: str | None = Field(default=None, max_length=500)
    stripe_publishable_key: str | None = Field(default=None, max_length=500)
    login_token: str | None = Field(default=None, max_length=500)
    allow_jwt_for_unauthenticated_users: bool | None = Field(default=None, alias=ALLOW_GUESTS)
    firebase_tenant_id: str | None = Field(default=None, max_length=200)
    project_website: str | None = Field(default=None, max_length=2048)
    project_email: Email | None = None
    project_image_url: str | None = Field(default=None, max_length=2048)
    infura_api_key: str | None = Field(default=None, max_length=500)
    poly_scan_api_key: str | None = Field(default=None, max_length=500)
    auth_providers: list[AuthProviderWire] | None = Field(default=None, max_length=10)

    @field_validator("project_name", "allow_jwt_for_unauthenticated_users", "auth_providers")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value

    @model_validator(mode="after")
    def _distinct_issuers(self) -> TenantUpdate:
        issuers = [p.issuer for p in self.auth_providers or []]
        if len(issuers) != len(set(issuers)):
            raise ValueError("authProviders must have distinct issuers")
        return self

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if name == "auth_providers":
                value = [p.model_dump(by_alias=True) for p in value]
            out[name] = value
        return out


class ClientConfig(WireModel):
    project_name: str = Field(description="The project name")
    id: str = Field(description="The project id")
    stripe_publishable_key: str | None = None
    firebase_tenant_id: str | None = None
    infura_api_key: str
    poly_scan_api_key: str


class ApiKeyRead(WireModel):
    id: uuid.UUID
    type: ApiKeyType
    name: str
    environment: Environment
    created_at: datetime
    shortened_private_key: str
    expires_at: datetime | None
    is_revoked: bool
    last_used_at: datetime | None


def key_read(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(
        id=key.id,
        type=key.type,
        name=key.name,
        environment=key.environment,
        created_at=key.created_at,
        shortened_private_key=key.shortened_private_key,
        expires_at=key.expires_at,
        is_revoked=key.revoked_at is not None,
        last_used_at=key.last_used_at,
    )


Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]


@router.post("", summary="Create a new tenant", response_model=TenantRead, status_code=201)
async def create_tenant(
    body: TenantCreate,
    session: Session,
    rt: Rt,
    ctx: RequestContext = Depends(Access(PrincipalKind.PLATFORM, PrincipalKind.ANONYMOUS)),
) -> TenantRead:
    """Create a new tenant aka project. Needs the platform key (`x-api-key`) unless the
    deployment runs with `PERS_OPEN_SIGNUP=true`. The response carries the one-time tenant admin
    `jwt` (testnet); store it, it cannot be seen again."""
    return admin_read(await service.create_tenant(session, rt, ctx, body.project_name))


@router.post(
    "/admin/api-key",
    summary="ADMIN: Create a new api key for tenant with tenant admin credentials",
    response_model=TenantRead,
    status_code=201,
)
async def create_api_key(
    body: ApiKeyCreate, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> TenantRead:
    """A new tenant system API key in `apiPrivateKey`, for the request's environment. Store it
    securely, you will not be able to see it again. Send it as `x-api-key`."""
    return admin_read(await service.new_system_key(session, rt, ctx, body.key_name))


@router.get(
    "/admin/api-key",
    summary="ADMIN: List the tenant's API keys and admin JWTs (pers extension)",
    response_model=list[ApiKeyRead],
)
async def list_api_keys(
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    include_revoked: bool = Query(False, alias="includeRevoked"),
) -> list[ApiKeyRead]:
    """System keys and tenant admin JWTs on record; secrets are never shown again."""
    keys = await auth_service.list_keys(session, ctx, include_revoked=include_revoked)
    return [key_read(k) for k in keys]


@router.delete(
    "/admin/api-key/{keyId}",
    summary="ADMIN: Revoke an API key or admin JWT (pers extension)",
    response_model=ApiKeyRead,
)
async def revoke_api_key(
    keyId: uuid.UUID,
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
) -> ApiKeyRead:
    """Revoke permanently; later requests with it answer 401. Owner-level admins only."""
    return key_read(await auth_service.revoke_key(session, ctx, keyId))


@router.post(
    "/admin/jwt",
    summary="ADMIN: Create a new jwt token for tenant with tenant admin credentials",
    response_model=TenantRead,
    status_code=201,
)
async def create_admin_jwt(
    body: AdminJwtCreate, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> TenantRead:
    """A new tenant admin JWT in `jwt` for testnet or mainnet. Store it securely, you will not
    be able to see it again."""
    return admin_read(await service.new_admin_jwt(session, rt, ctx, is_testnet=body.is_testnet))


@router.get("/admin", summary="ADMIN: Get tenant (pers extension)", response_model=TenantRead)
async def get_tenant(session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)) -> TenantRead:
    """The tenant with its settings, as `PUT /tenant/admin` returns it."""
    return admin_read(await service.get_admin_view(session, rt, ctx))


@router.put("/admin", summary="ADMIN: Update tenant", response_model=TenantRead)
async def update_tenant(
    session: Session,
    rt: Rt,
    body: TenantUpdate = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> TenantRead:
    """Update tenant information. Only the fields sent change; `null` clears an optional one.
    `authProviders` (pers extension) replaces the tenant's identity providers."""
    return admin_read(await service.update_tenant(session, rt, ctx, body.changes()))


@router.get("/login-token", summary="Get login token", response_model=str | None)
async def login_token(session: Session, ctx: RequestContext = Depends(PUBLIC)) -> str | None:
    """Get login token for project (`null` when the tenant set none)."""
    return (await service.get_current(session, ctx)).login_token


@router.get("/public", summary="Get public tenant", response_model=TenantPublic)
async def public_tenant(session: Session, ctx: RequestContext = Depends(PUBLIC)) -> TenantPublic:
    """Get public tenant information."""
    return public_read(await service.get_current(session, ctx))


@router.get("/client-config", summary="Get client config", response_model=ClientConfig)
async def client_config(session: Session, ctx: RequestContext = Depends(PUBLIC)) -> ClientConfig:
    """What a front-end needs to start: Stripe publishable key, Firebase tenant, web3 keys
    (empty strings when the tenant set none)."""
    t = await service.get_current(session, ctx)
    return ClientConfig(
        project_name=t.project_name,
        id=str(t.id),
        stripe_publishable_key=t.stripe_publishable_key,
        firebase_tenant_id=t.firebase_tenant_id,
        infura_api_key=t.infura_api_key or "",
        poly_scan_api_key=t.poly_scan_api_key or "",
    )
