"""Auth (v1.7): admin login, token exchange, refresh, verify; and the JWKS."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from pers.admins.http_v1 import AdminRead, admin_read
from pers.auth import login
from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.errors import AuthTypeNotSupported, InvalidToken
from pers.kit.schemas import WireInput, WireModel
from pers.runtime import Runtime
from pers.web import Access, PersRoute, get_runtime, get_session

router = APIRouter(prefix="/auth", route_class=PersRoute, tags=["Auth"])
well_known = APIRouter(route_class=PersRoute, tags=["Well-known"])

PROJECT = Access(PrincipalKind.PUBLIC)
# Admin login carries an identity provider's ID token as its bearer, not a PERS token.
ADMIN_LOGIN = Access(PrincipalKind.PUBLIC, bearer_is_credential=False)
# Refresh and verify name their tenant inside the token in the body; the project key is
# optional, and a stale access token a client still sends as its bearer is ignored.
TOKEN_BOUND = Access(
    PrincipalKind.PUBLIC, PrincipalKind.ANONYMOUS, PrincipalKind.SYSTEM,
    bearer_is_credential=False,
)  # fmt: skip

Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]


class AuthType(StrEnum):
    USER = "user"
    BUSINESS = "business"
    TENANT = "tenant"
    SYSTEM = "system"
    EXTERNAL = "external"


class TokenExchange(WireInput):
    auth_token: str | None = Field(
        default=None,
        max_length=16384,
        description="An ID token of one of the tenant's authProviders (required unless "
        "rawLoginData opens a guest session).",
    )
    auth_type: AuthType = Field(default=AuthType.USER)
    context: dict[str, Any] | None = Field(
        default=None, description="Business or tenant selection (business sessions only)."
    )
    raw_login_data: dict[str, Any] | None = Field(
        default=None,
        description="Guest session data; only when the tenant sets "
        "allowJWTForUnauthenticatedUsers. Always creates a new user.",
    )


class TokenPairRead(WireModel):
    access_token: str
    refresh_token: str


class AdminLoginRead(TokenPairRead):
    admin: AdminRead


class RefreshRequest(WireInput):
    refresh_token: str = Field(min_length=1, max_length=16384)
    access_token: str | None = Field(
        default=None, max_length=16384, description="Accepted (v2 shape) and not needed."
    )


class VerifyRequest(WireInput):
    auth_token: str = Field(min_length=1, max_length=16384)


class VerifyRead(WireModel):
    valid: bool
    payload: dict[str, Any] | None
    error_message: str | None


async def exchange(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, body: TokenExchange
) -> TokenPairRead:
    if body.auth_type is AuthType.USER:
        pair = await login.user_login(
            session, rt, ctx, auth_token=body.auth_token, raw_login_data=body.raw_login_data
        )
    elif body.auth_type is AuthType.TENANT:
        if not body.auth_token:
            raise InvalidToken("authToken is required")
        pair = (await login.admin_login(session, rt, ctx, id_token=body.auth_token)).tokens
    else:
        raise AuthTypeNotSupported(
            f"authType {body.auth_type.value!r} is not exchanged by this deployment; "
            "use 'user' or 'tenant'"
        )
    return TokenPairRead(access_token=pair.access_token, refresh_token=pair.refresh_token)


@router.post("/admin/login", summary="Login tenant admin and get JWT tokens",
             response_model=AdminLoginRead)  # fmt: skip
async def admin_login(
    request: Request, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN_LOGIN)
) -> AdminLoginRead:
    """`Authorization: Bearer <ID token>` of one of the tenant's identity providers, with the
    tenant's `x-project-key`. The admin is the tenant's active admin with the token's verified
    e-mail. Access token 15 minutes, refresh token 1 day."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("send the identity provider's ID token as 'Authorization: Bearer'")
    result = await login.admin_login(session, rt, ctx, id_token=token.strip())
    return AdminLoginRead(
        access_token=result.tokens.access_token,
        refresh_token=result.tokens.refresh_token,
        admin=await admin_read(session, result.admin),
    )


@router.post("/token", summary="Exchange an identity token for PERS tokens",
             response_model=TokenPairRead)  # fmt: skip
async def token(
    body: TokenExchange, session: Session, rt: Rt, ctx: RequestContext = Depends(PROJECT)
) -> TokenPairRead:
    """`authType: user` (default): the user of the ID token's (issuer, subject) is found or
    created. `authType: tenant`: an admin session. With `rawLoginData` and a tenant that allows
    it, a guest session for a new user."""
    return await exchange(session, rt, ctx, body)


@router.post("/refresh", summary="Refresh the token pair", response_model=TokenPairRead)
async def refresh(
    body: RefreshRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(TOKEN_BOUND)
) -> TokenPairRead:
    """Each refresh token works once. Using one a second time revokes its whole session."""
    pair = await login.refresh(session, rt, ctx, refresh_token=body.refresh_token)
    return TokenPairRead(access_token=pair.access_token, refresh_token=pair.refresh_token)


@router.post("/verify", summary="Verify a PERS token", response_model=VerifyRead)
async def verify(
    body: VerifyRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(TOKEN_BOUND)
) -> VerifyRead:
    """`valid`, the token's `payload`, or the `errorMessage` saying why not."""
    result = await login.verify(session, rt, ctx, token=body.auth_token)
    return VerifyRead(
        valid=result.valid, payload=result.payload, error_message=result.error_message
    )


@well_known.get("/.well-known/jwks.json", summary="Public keys of PERS-issued JWTs")
async def jwks(rt: Rt) -> dict[str, Any]:
    """The JWKS that verifies every PERS JWT (ES256)."""
    return rt.signer.jwks()
