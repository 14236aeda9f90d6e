"""Logins: identity-provider tokens and guest data exchanged for PERS sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.admins import service as admins_service
from pers.admins.models import Admin
from pers.auth import service as auth_service
from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.errors import (
    AdminNotFound,
    EnvironmentMismatch,
    GuestLoginDisabled,
    InvalidToken,
    TenantMismatch,
    UserInactive,
)
from pers.auth.oidc import verify_id_token
from pers.auth.service import TokenPair, Verification
from pers.auth.tokens import REFRESH_TYPES
from pers.errors import PersError
from pers.runtime import Runtime
from pers.tenants import service as tenants_service
from pers.users import service as users_service


def _verified_email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and email and claims.get("email_verified") is True:
        return email
    return None


async def user_login(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    auth_token: str | None,
    raw_login_data: dict[str, Any] | None,
) -> TokenPair:
    """``authType: user``: an ID token of one of the tenant's providers, or guest data."""
    providers, allow_guests = await tenants_service.auth_settings(session, ctx.tenant)
    if raw_login_data is not None:
        if not allow_guests:
            raise GuestLoginDisabled()
        user = await users_service.create_guest(
            session, ctx.tenant, raw_login_data, ctx.now, wallets=rt.wallets
        )
    else:
        if not auth_token:
            raise InvalidToken("authToken is required")
        provider, claims = await verify_id_token(auth_token, providers, rt.jwks, ctx.now)
        user = await users_service.login_identity(
            session,
            ctx.tenant,
            wallets=rt.wallets,
            issuer=provider.issuer,
            subject=claims["sub"],
            verified_email=_verified_email(claims),
            now=ctx.now,
        )
        if not user.is_active:
            raise UserInactive()
    return await auth_service.issue_session(
        session,
        rt,
        kind=PrincipalKind.USER,
        tenant_id=ctx.tenant,
        environment=ctx.env,
        subject_id=user.id,
        now=ctx.now,
    )


@dataclass(frozen=True)
class AdminSession:
    tokens: TokenPair
    admin: Admin


async def admin_login(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, *, id_token: str
) -> AdminSession:
    """An admin is the active admin of the tenant whose e-mail the provider verified."""
    providers, _ = await tenants_service.auth_settings(session, ctx.tenant)
    _, claims = await verify_id_token(id_token, providers, rt.jwks, ctx.now)
    email = _verified_email(claims)
    if email is None:
        raise AdminNotFound("the ID token carries no verified e-mail")
    admin = await admins_service.find_active_by_email(session, ctx.tenant, email)
    if admin is None:
        raise AdminNotFound()
    tokens = await auth_service.issue_session(
        session,
        rt,
        kind=PrincipalKind.ADMIN,
        tenant_id=ctx.tenant,
        environment=ctx.env,
        subject_id=admin.id,
        now=ctx.now,
    )
    return AdminSession(tokens, admin)


async def refresh(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, *, refresh_token: str
) -> TokenPair:
    claims = auth_service.decode_refresh(rt, refresh_token, ctx.now)
    if ctx.tenant_id is not None and ctx.tenant_id != claims.tenant_id:
        raise TenantMismatch()
    if ctx.environment is not None and ctx.environment is not claims.environment:
        raise EnvironmentMismatch()
    if not await tenants_service.bind_tenant(session, claims.tenant_id):
        raise InvalidToken("the token's tenant does not exist")
    if claims.kind is PrincipalKind.USER:
        user = await users_service.get_active(session, claims.tenant_id, claims.subject_id)
        active = user is not None
    else:
        admin = await admins_service.get_active(session, claims.tenant_id, claims.subject_id)
        active = admin is not None
    if not active:
        raise InvalidToken("the session's user or admin is gone or deactivated")
    return await auth_service.rotate_refresh(session, rt, claims, refresh_token, ctx.now)


async def verify(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, *, token: str
) -> Verification:
    """Verify a PERS-issued token: signature, expiry, tenant, and revocation where on record.
    Tokens of other issuers answer ``valid: false``."""
    try:
        claims = rt.signer.decode(token, now=ctx.now)
        tenant_id = claims["tenantId"]
        if ctx.tenant_id is not None and str(ctx.tenant_id) != tenant_id:
            raise TenantMismatch()
        typ = claims["typ"]
        if ctx.tenant_id is None and not await tenants_service.bind_tenant(
            session, uuid.UUID(tenant_id)
        ):
            raise InvalidToken("the token's tenant does not exist")
        if typ in {t.value for t in auth_service.LONG_LIVED_TYPES}:
            await auth_service.check_long_lived(session, claims, token, ctx.now)
        elif typ in {t.value for t in REFRESH_TYPES}:
            await auth_service.check_refresh_record(session, claims, token)
    except PersError as exc:
        return auth_service.verification_failure(exc)
    return Verification(valid=True, payload=claims, error_message=None)
