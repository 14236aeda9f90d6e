"""Headers to RequestContext.

Order: the project key (if sent) fixes the tenant and the environment and binds the transaction
to the tenant; each presented credential is then verified (an invalid one is always 401, even if
another credential would do); the first credential whose principal the operation admits wins;
with none, a project key alone is the PUBLIC principal where the operation admits it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pers.admins import service as admins_service
from pers.auth import service as auth_service
from pers.auth.context import Principal, PrincipalKind, RequestContext
from pers.auth.errors import (
    EnvironmentMismatch,
    InvalidApiKey,
    InvalidProjectKey,
    InvalidToken,
    MissingCredentials,
    PrincipalNotAllowed,
    TenantMismatch,
    UserInactive,
)
from pers.auth.models import ApiKeyType
from pers.auth.tokens import ACCESS_TYPES, looks_like_jwt
from pers.businesses import service as businesses_service
from pers.kit.crypto import constant_time_equals
from pers.kit.enums import Environment
from pers.runtime import Runtime
from pers.tenants import service as tenants_service
from pers.users import service as users_service


@dataclass(frozen=True)
class Credentials:
    project_key: str | None
    api_key: str | None
    bearer: str | None
    raw_authorization: str | None = None


@dataclass(frozen=True)
class _Candidate:
    principal: Principal
    tenant_id: uuid.UUID | None
    environment: Environment | None


class _Binding:
    """The tenant the transaction is bound to; credentials must agree with it."""

    def __init__(self) -> None:
        self.tenant_id: uuid.UUID | None = None
        self.environment: Environment | None = None
        self.from_project_key = False

    async def bind(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        if self.tenant_id is None:
            if not await tenants_service.bind_tenant(session, tenant_id):
                raise InvalidToken("the token's tenant does not exist")
            self.tenant_id = tenant_id
        elif self.tenant_id != tenant_id:
            raise TenantMismatch()


async def _from_pers_jwt(
    session: AsyncSession,
    rt: Runtime,
    binding: _Binding,
    token: str,
    now: datetime,
    *,
    via_api_key_header: bool,
) -> _Candidate:
    try:
        return await _verify_pers_jwt(session, rt, binding, token, now, via_api_key_header)
    except InvalidToken as exc:
        if via_api_key_header:
            raise InvalidApiKey(exc.detail) from exc
        raise


async def _verify_pers_jwt(
    session: AsyncSession,
    rt: Runtime,
    binding: _Binding,
    token: str,
    now: datetime,
    via_api_key_header: bool,
) -> _Candidate:
    claims = rt.signer.decode(token, now=now)
    typ = ApiKeyType(claims["typ"])
    if typ not in ACCESS_TYPES:
        raise InvalidToken(f"a {typ.value} cannot authenticate a request")
    if via_api_key_header and typ is not ApiKeyType.TENANT_SYSTEM_JWT:
        raise InvalidApiKey("x-api-key holds a token that is not an API key")
    tenant_id = uuid.UUID(claims["tenantId"])
    await binding.bind(session, tenant_id)
    env = Environment(claims["env"])
    if binding.from_project_key and binding.environment is not env:
        # Testnet credentials never act on mainnet (and the reverse).
        raise EnvironmentMismatch(
            f"the token is for {env.value}, the project key for {binding.environment}"
        )
    subject = claims["sub"]
    if typ in (ApiKeyType.TENANT_SYSTEM_JWT, ApiKeyType.TENANT_ADMIN_JWT):
        key_id = await auth_service.check_long_lived(session, claims, token, now)
        if typ is ApiKeyType.TENANT_ADMIN_JWT:
            return _Candidate(Principal(PrincipalKind.ADMIN, None, "SUPER_ADMIN"), tenant_id, env)
        return _Candidate(Principal(PrincipalKind.SYSTEM, key_id), tenant_id, env)
    try:
        subject_id = uuid.UUID(subject)
    except ValueError as exc:
        raise InvalidToken("malformed subject") from exc
    if typ is ApiKeyType.ADMIN_JWT_ACCESS_TOKEN:
        admin = await admins_service.get_active(session, tenant_id, subject_id)
        if admin is None:
            raise InvalidToken("the admin no longer exists or is deactivated")
        principal = Principal(PrincipalKind.ADMIN, admin.id, admin.type.value)
        return _Candidate(principal, tenant_id, env)
    user = await users_service.find_view(session, tenant_id, subject_id)
    if user is None:
        raise InvalidToken("the user no longer exists")
    if not user.is_active:
        raise UserInactive()
    return _Candidate(Principal(PrincipalKind.USER, user.id), tenant_id, env)


async def _from_business_key(session: AsyncSession, binding: _Binding, key: str) -> _Candidate:
    """A business key names no tenant: the project key must. Business keys are not bound to an
    environment (a partner is the same business on testnet and mainnet)."""
    if not binding.from_project_key or binding.tenant_id is None:
        raise MissingCredentials(
            "a business API key (x-api-key) must be sent with the tenant's project key "
            "(x-project-key)"
        )
    business = await businesses_service.find_by_api_key(session, binding.tenant_id, key)
    if business is None:
        raise InvalidApiKey("unknown or revoked business API key")
    if not business.is_active:
        raise InvalidApiKey("the business of this API key is not active")
    return _Candidate(Principal(PrincipalKind.BUSINESS, business.id), binding.tenant_id, None)


async def resolve_context(
    session: AsyncSession,
    rt: Runtime,
    creds: Credentials,
    *,
    allowed: frozenset[PrincipalKind],
    now: datetime,
    request_id: str,
) -> RequestContext:
    binding = _Binding()
    if creds.project_key is not None:
        bound = await tenants_service.bind_project_key(session, creds.project_key)
        if bound is None:
            raise InvalidProjectKey()
        binding.tenant_id = bound.tenant_id
        binding.environment = bound.environment
        binding.from_project_key = True

    candidates: list[_Candidate] = []
    if creds.bearer is not None:
        candidates.append(
            await _from_pers_jwt(session, rt, binding, creds.bearer, now, via_api_key_header=False)
        )
    if creds.api_key is not None:
        if constant_time_equals(creds.api_key, rt.deployment.platform_api_key):
            candidates.append(_Candidate(Principal(PrincipalKind.PLATFORM), None, None))
        elif businesses_service.is_business_key(creds.api_key):
            candidates.append(await _from_business_key(session, binding, creds.api_key))
        elif looks_like_jwt(creds.api_key):
            candidates.append(
                await _from_pers_jwt(
                    session, rt, binding, creds.api_key, now, via_api_key_header=True
                )
            )
        else:
            raise InvalidApiKey()

    chosen = next((c for c in candidates if c.principal.kind in allowed), None)
    if chosen is None:
        if PrincipalKind.PUBLIC in allowed and binding.tenant_id is not None:
            chosen = _Candidate(Principal(PrincipalKind.PUBLIC), None, None)
        elif PrincipalKind.ANONYMOUS in allowed and not candidates:
            chosen = _Candidate(Principal(PrincipalKind.ANONYMOUS), None, None)
        elif candidates:
            kinds = ", ".join(sorted(k.value for k in allowed))
            raise PrincipalNotAllowed(f"this operation is open to: {kinds}")
        elif PrincipalKind.PUBLIC in allowed:
            raise MissingCredentials("send the tenant's project key in x-project-key")
        else:
            raise MissingCredentials()

    environment = binding.environment if binding.from_project_key else chosen.environment
    return RequestContext(
        tenant_id=binding.tenant_id,
        environment=environment,
        principal=chosen.principal,
        now=now,
        request_id=request_id,
    )
