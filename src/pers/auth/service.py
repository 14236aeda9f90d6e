"""Issuing, refreshing, verifying and revoking PERS credentials."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth import repository
from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.errors import InvalidToken, OwnerAdminRequired, RefreshTokenReused
from pers.auth.models import ApiKey, ApiKeyType, RefreshToken
from pers.auth.tokens import REFRESH_TYPES
from pers.errors import NotFound, PersError
from pers.kit.crypto import sha256_hex
from pers.kit.enums import Environment
from pers.kit.ids import uuid7
from pers.runtime import Runtime

SESSION_TYPES: dict[PrincipalKind, tuple[ApiKeyType, ApiKeyType]] = {
    PrincipalKind.USER: (ApiKeyType.USER_JWT_ACCESS_TOKEN, ApiKeyType.USER_JWT_REFRESH_TOKEN),
    PrincipalKind.ADMIN: (ApiKeyType.ADMIN_JWT_ACCESS_TOKEN, ApiKeyType.ADMIN_JWT_REFRESH_TOKEN),
}
LONG_LIVED_TYPES = (ApiKeyType.TENANT_SYSTEM_JWT, ApiKeyType.TENANT_ADMIN_JWT)


class ApiKeyNotFound(NotFound):
    code = "API_KEY_NOT_FOUND"
    title = "API key not found"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str


def shorten(token: str) -> str:
    return f"{token[:8]}...{token[-4:]}"


async def issue_session(
    session: AsyncSession,
    rt: Runtime,
    *,
    kind: PrincipalKind,
    tenant_id: uuid.UUID,
    environment: Environment,
    subject_id: uuid.UUID,
    now: datetime,
    family_id: uuid.UUID | None = None,
) -> TokenPair:
    """An access token (15 min) and a refresh token (1 day) for a user or admin session."""
    access_type, refresh_type = SESSION_TYPES[kind]
    settings = rt.settings
    access = rt.signer.issue(
        typ=access_type,
        tenant_id=tenant_id,
        environment=environment,
        subject=str(subject_id),
        now=now,
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        jti=uuid7(),
    )
    refresh_id = uuid7()
    refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
    refresh = rt.signer.issue(
        typ=refresh_type,
        tenant_id=tenant_id,
        environment=environment,
        subject=str(subject_id),
        now=now,
        ttl=refresh_ttl,
        jti=refresh_id,
    )
    await repository.add(
        session,
        RefreshToken(
            tenant_id=tenant_id,
            id=refresh_id,
            family_id=family_id or refresh_id,
            subject_kind=kind.value,
            subject_id=subject_id,
            environment=environment,
            token_hash=sha256_hex(refresh),
            expires_at=now + refresh_ttl,
            created_at=now,
        ),
    )
    return TokenPair(access, refresh)


@dataclass(frozen=True)
class RefreshClaims:
    tenant_id: uuid.UUID
    token_id: uuid.UUID
    kind: PrincipalKind
    subject_id: uuid.UUID
    environment: Environment


def decode_refresh(rt: Runtime, token: str, now: datetime) -> RefreshClaims:
    claims = rt.signer.decode(token, now=now)
    typ = ApiKeyType(claims["typ"])
    if typ not in REFRESH_TYPES:
        raise InvalidToken("not a refresh token")
    kind = PrincipalKind.USER if typ is ApiKeyType.USER_JWT_REFRESH_TOKEN else PrincipalKind.ADMIN
    try:
        subject = uuid.UUID(claims["sub"])
    except ValueError as exc:
        raise InvalidToken("malformed subject") from exc
    return RefreshClaims(
        tenant_id=uuid.UUID(claims["tenantId"]),
        token_id=uuid.UUID(claims["jti"]),
        kind=kind,
        subject_id=subject,
        environment=Environment(claims["env"]),
    )


async def rotate_refresh(
    session: AsyncSession, rt: Runtime, claims: RefreshClaims, token: str, now: datetime
) -> TokenPair:
    """Use a refresh token once. A second use revokes the whole family (token theft)."""
    row = await repository.lock_refresh_token(session, claims.tenant_id, claims.token_id)
    if row is None or row.token_hash != sha256_hex(token):
        raise InvalidToken("unknown refresh token")
    if row.revoked_at is not None:
        raise InvalidToken("refresh token revoked")
    if row.used_at is not None:
        await repository.revoke_family(session, claims.tenant_id, row.family_id, now)
        raise RefreshTokenReused()
    if row.expires_at <= now:
        raise InvalidToken("refresh token expired")
    row.used_at = now
    return await issue_session(
        session,
        rt,
        kind=claims.kind,
        tenant_id=claims.tenant_id,
        environment=claims.environment,
        subject_id=claims.subject_id,
        now=now,
        family_id=row.family_id,
    )


async def check_long_lived(
    session: AsyncSession, claims: dict[str, Any], token: str, now: datetime
) -> uuid.UUID:
    """A system key or tenant admin JWT must still be on record, unrevoked and unexpired.
    Returns the key's id."""
    tenant_id = uuid.UUID(claims["tenantId"])
    key = await repository.live_key_facts(session, tenant_id, uuid.UUID(claims["jti"]))
    if key is None or key.token_hash != sha256_hex(token) or key.type != claims["typ"]:
        raise InvalidToken("unknown key")
    if key.revoked_at is not None:
        raise InvalidToken("key revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise InvalidToken("key expired")
    if key.last_used_at is None or key.last_used_at < now - repository.LAST_USED_GRANULARITY:
        await repository.touch_api_key(session, tenant_id, key.id, now)
    return key.id


@dataclass(frozen=True, slots=True)
class FastCredential:
    """A PERS token whose signature, issuer and expiry were verified here, as the fast lane's
    statements check it (``pers_fast_credits`` and ``pers_fast_claim`` do what
    :func:`check_long_lived` and the admin and user lookups of authentication do):

    - ``principal`` is who the token is: ADMIN (a tenant admin JWT or an admin's access
      token), SYSTEM (a system key) or USER;
    - ``check`` is what the statement verifies of ``subject_id``: ``key``, the long-lived
      key's record (live, unrevoked, unexpired, with ``key_hash`` and ``key_type``, touched
      when last used before ``touch_before``); ``admin``, an active admin; ``user``, an active
      user.
    """

    principal: PrincipalKind
    check: str
    tenant_id: uuid.UUID
    subject_id: uuid.UUID
    environment: Environment
    key_hash: str | None
    key_type: str | None
    touch_before: datetime


_FAST_KINDS = {
    ApiKeyType.TENANT_ADMIN_JWT: (PrincipalKind.ADMIN, "key"),
    ApiKeyType.TENANT_SYSTEM_JWT: (PrincipalKind.SYSTEM, "key"),
    ApiKeyType.ADMIN_JWT_ACCESS_TOKEN: (PrincipalKind.ADMIN, "admin"),
    ApiKeyType.USER_JWT_ACCESS_TOKEN: (PrincipalKind.USER, "user"),
}


def fast_credential(rt: Runtime, token: str, now: datetime) -> FastCredential | None:
    """The token as the fast lane checks it; None when it is not one the lane takes (anything
    invalid, or a type it does not handle): the regular path then answers."""
    try:
        claims = rt.signer.decode(token, now=now)
        typ = ApiKeyType(claims["typ"])
        tenant_id = uuid.UUID(claims["tenantId"])
        environment = Environment(claims["env"])
        if typ not in _FAST_KINDS:
            return None
        principal, check = _FAST_KINDS[typ]
        if check == "key":
            subject, key_hash = uuid.UUID(claims["jti"]), sha256_hex(token)
        else:
            subject, key_hash = uuid.UUID(claims["sub"]), None
    except (InvalidToken, ValueError, KeyError, TypeError):
        return None
    return FastCredential(
        principal=principal,
        check=check,
        tenant_id=tenant_id,
        subject_id=subject,
        environment=environment,
        key_hash=key_hash,
        key_type=typ.value if key_hash is not None else None,
        touch_before=now - repository.LAST_USED_GRANULARITY,
    )


async def check_refresh_record(session: AsyncSession, claims: dict[str, Any], token: str) -> None:
    row = await repository.get_refresh_token(
        session, uuid.UUID(claims["tenantId"]), uuid.UUID(claims["jti"])
    )
    if row is None or row.token_hash != sha256_hex(token):
        raise InvalidToken("unknown refresh token")
    if row.revoked_at is not None or row.used_at is not None:
        raise InvalidToken("refresh token already used or revoked")


async def create_long_lived(
    session: AsyncSession,
    rt: Runtime,
    *,
    tenant_id: uuid.UUID,
    environment: Environment,
    typ: ApiKeyType,
    name: str,
    now: datetime,
    ttl: timedelta | None,
) -> IssuedKey:
    key_id = uuid7()
    token = rt.signer.issue(
        typ=typ,
        tenant_id=tenant_id,
        environment=environment,
        subject=f"tenant:{tenant_id}" if typ is ApiKeyType.TENANT_ADMIN_JWT else f"key:{key_id}",
        now=now,
        ttl=ttl,
        jti=key_id,
    )
    key = ApiKey(
        tenant_id=tenant_id,
        id=key_id,
        type=typ,
        name=name,
        environment=environment,
        token_hash=sha256_hex(token),
        shortened_private_key=shorten(token),
        expires_at=None if ttl is None else now + ttl,
        created_at=now,
    )
    await repository.add(session, key)
    return IssuedKey(key, token)


async def new_system_key(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, name: str
) -> IssuedKey:
    return await create_long_lived(
        session,
        rt,
        tenant_id=ctx.tenant,
        environment=ctx.env,
        typ=ApiKeyType.TENANT_SYSTEM_JWT,
        name=name,
        now=ctx.now,
        ttl=None,
    )


async def new_tenant_admin_jwt(
    session: AsyncSession,
    rt: Runtime,
    *,
    tenant_id: uuid.UUID,
    environment: Environment,
    now: datetime,
) -> IssuedKey:
    label = "Testnet" if environment is Environment.TESTNET else "Mainnet"
    return await create_long_lived(
        session,
        rt,
        tenant_id=tenant_id,
        environment=environment,
        typ=ApiKeyType.TENANT_ADMIN_JWT,
        name=f"Tenant admin JWT ({label}) - {now.date().isoformat()}",
        now=now,
        ttl=timedelta(days=rt.settings.tenant_admin_jwt_ttl_days),
    )


async def list_keys(
    session: AsyncSession, ctx: RequestContext, *, include_revoked: bool
) -> list[ApiKey]:
    return await repository.list_api_keys(
        session, ctx.tenant, types=list(LONG_LIVED_TYPES), include_revoked=include_revoked
    )


async def revoke_key(session: AsyncSession, ctx: RequestContext, key_id: uuid.UUID) -> ApiKey:
    if not ctx.is_owner_admin:
        raise OwnerAdminRequired("only a SUPER_ADMIN or the tenant admin JWT may revoke keys")
    key = await repository.get_api_key(session, ctx.tenant, key_id)
    if key is None:
        raise ApiKeyNotFound()
    if key.revoked_at is None:
        key.revoked_at = ctx.now
    await session.flush()
    return key


@dataclass(frozen=True)
class Verification:
    valid: bool
    payload: dict[str, Any] | None
    error_message: str | None


def verification_failure(exc: PersError) -> Verification:
    return Verification(valid=False, payload=None, error_message=exc.detail)
