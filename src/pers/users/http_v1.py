"""User (v1.7): the user's own account, admin user management, lookups and status types.

Only ``GET /user/auth/me`` is documented by the spec; the rest follows the v1.7 path style
(singular module, role segment) with the v2 User fields. See docs/users.md.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.errors import PROBLEM_CONTENT_TYPE
from pers.kit.pagination import PageRequest
from pers.kit.schemas import Email, EvmAddress, Paginated, WireInput, WireModel
from pers.runtime import Runtime
from pers.users import service
from pers.users.models import User, UserIdentifier, UserStatusType
from pers.users.service import MAX_IDENTIFIER_LENGTH
from pers.web import PROBLEM_SCHEMA, Access, PersRoute, get_runtime, get_session

router = APIRouter(prefix="/user", route_class=PersRoute, tags=["User"])

USER = Access(PrincipalKind.USER)
ADMIN = Access(PrincipalKind.ADMIN)
# Anyone inside the tenant: a project key alone is enough.
TENANT_READ = Access(
    PrincipalKind.PUBLIC, PrincipalKind.USER, PrincipalKind.ADMIN, PrincipalKind.SYSTEM,
    PrincipalKind.BUSINESS,
)  # fmt: skip

Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]

NO_SUCH_USER = {
    "description": "No user of the tenant matches (USER_NOT_FOUND)",
    "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA}},
}
MAX_JSON_BYTES = 16_384
Identifier = Annotated[str, Field(min_length=1, max_length=MAX_IDENTIFIER_LENGTH)]
Name = Annotated[str, Field(max_length=200)]


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    return value


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# A decimal number on the wire (JSON number both ways), exact inside.
Number = Annotated[
    Decimal,
    BeforeValidator(_not_bool),
    PlainSerializer(_number, when_used="json"),
    WithJsonSchema({"type": "number"}),
]


def _small_json(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value)) > MAX_JSON_BYTES:
        raise ValueError(f"must serialize to at most {MAX_JSON_BYTES} bytes of JSON")
    return value


JsonObject = Annotated[dict[str, Any], BeforeValidator(_small_json)]


def _refuse_null(value: Any) -> Any:
    """For fields that are optional in a partial update but cannot be cleared."""
    if value is None:
        raise ValueError("cannot be null")
    return value


# --- users -----------------------------------------------------------------------------------


class UserRead(WireModel):
    id: uuid.UUID
    email: str | None
    first_name: str | None
    last_name: str | None
    external_id: str | None
    account_address: str = Field(description="The user's custodial wallet (EIP-55), stable.")
    instagram_account_id: str | None
    google_account_name: str | None
    custom_data: dict[str, Any]
    public_profile: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime


def user_read(user: User) -> UserRead:
    return UserRead.model_validate(user)


class UserFields(WireInput):
    """Fields an admin sets on a user; on update only the fields sent change."""

    email: Email | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    external_id: Identifier | None = None
    instagram_account_id: Identifier | None = None
    google_account_name: Name | None = None
    custom_data: JsonObject | None = Field(default=None, description="Free-form, replaced whole.")
    public_profile: JsonObject | None = Field(
        default=None, description="Free-form, replaced whole."
    )

    _objects_not_null = field_validator("custom_data", "public_profile")(_refuse_null)

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class UserCreate(UserFields):
    pass


class UserUpdate(UserFields):
    is_active: bool | None = Field(
        default=None,
        description="Admins only; a user may send it unchanged. Also: PUT .../toggle-active.",
    )

    _active_not_null = field_validator("is_active")(_refuse_null)


# Fields a lookup may name, with their identifier (None: the account address).
LOOKUP_FIELDS: dict[str, UserIdentifier | None] = {
    **{field: identifier for identifier, field in service.FIELD_OF_IDENTIFIER.items()},
    "account_address": None,
}


class UserLookup(WireInput):
    """Seed 001's identifier convention: ``userIdentifier`` names the field holding the
    value. Without it, exactly one of the fields must be sent."""

    user_identifier: UserIdentifier | None = None
    id: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    instagram_account_id: str | None = Field(default=None, max_length=MAX_IDENTIFIER_LENGTH)
    external_id: str | None = Field(default=None, max_length=MAX_IDENTIFIER_LENGTH)
    account_address: str | None = Field(default=None, max_length=42, description="pers extension")

    def target(self) -> tuple[UserIdentifier | None, str]:
        """The identifier to look up by (None: the account address) and its value; raises
        ValueError when the body does not name exactly one."""
        if self.user_identifier is not None:
            value = getattr(self, service.FIELD_OF_IDENTIFIER[self.user_identifier])
            if not value:
                raise ValueError(f"userIdentifier is {self.user_identifier.value}: send it")
            return self.user_identifier, value
        sent = [name for name in LOOKUP_FIELDS if getattr(self, name)]
        if len(sent) != 1:
            raise ValueError(
                "send userIdentifier, or exactly one of id, email, instagramAccountId, "
                "externalId, accountAddress"
            )
        return LOOKUP_FIELDS[sent[0]], getattr(self, sent[0])

    @model_validator(mode="after")
    def _names_one_identifier(self) -> UserLookup:
        self.target()
        return self


@router.get(
    "/auth/me", summary="AUTH USER: Get user info without balances", response_model=UserRead
)
async def get_me(session: Session, ctx: RequestContext = Depends(USER)) -> UserRead:
    """The user account found by the access token, without token balances."""
    return user_read(await service.get_me(session, ctx))


@router.put("/auth/me", summary="AUTH USER: Update own profile", response_model=UserRead)
async def update_me(
    session: Session, body: UserUpdate = Body(), ctx: RequestContext = Depends(USER)
) -> UserRead:
    """Change `firstName`, `lastName`, `googleAccountName`, `customData`, `publicProfile`.
    Only the fields sent change; `null` clears a name. `email`, `externalId`,
    `instagramAccountId` and `isActive` are admin-managed: they may be sent with their current
    value, a change answers 403 `USER_FIELD_NOT_EDITABLE`."""
    return user_read(await service.update_me(session, ctx, body.changes()))


class UserPage(Paginated[UserRead]):
    """A page of users."""


@router.get("/admin", summary="ADMIN: Get all users (paginated)", response_model=UserPage)
async def list_users(
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    page: int = Query(1, ge=1, description="Page number, from 1."),
    limit: int = Query(20, ge=1, le=100, description="Users per page (1-100)."),
    search: str | None = Query(
        None,
        max_length=200,
        description="Case-insensitive substring of e-mail, first or last name, externalId or "
        "accountAddress; or a user id.",
    ),
    active: bool | None = Query(None, description="Only active (true) or inactive (false)."),
) -> UserPage:
    """The tenant's users, newest first, as `{data, pagination}`."""
    found = await service.list_users(
        session, ctx, PageRequest(page, limit), search=search, active=active
    )
    return UserPage.of(found.map(user_read))


@router.post("/admin", summary="ADMIN: Create a user", response_model=UserRead, status_code=201)
async def create_user(
    body: UserCreate, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> UserRead:
    """A user with the given profile and identifiers, and its wallet `accountAddress`. When
    the person later logs in with an identity provider that verified the same e-mail, the
    login joins this user. 409 when another user has the e-mail, externalId or
    instagramAccountId."""
    return user_read(await service.create_user(session, rt, ctx, body.changes()))


@router.post(
    "/info",
    summary="Get user info by identifier",
    response_model=UserRead,
    responses={404: NO_SUCH_USER},
)
async def user_info(
    body: UserLookup,
    session: Session,
    ctx: RequestContext = Depends(Access(PrincipalKind.ADMIN, PrincipalKind.BUSINESS)),
) -> UserRead:
    """Look a user up, without balances: admins, and active businesses with `canManageUsers`
    (else 403 `BUSINESS_CANNOT_MANAGE_USERS`). 404 `USER_NOT_FOUND` when no user matches."""
    identifier, value = body.target()
    if identifier is None:
        return user_read(await service.find_user_by_address(session, ctx, value))
    return user_read(await service.find_user(session, ctx, identifier, value))


# --- status types (declared before /admin/{id} so their paths win) --------------------------


class StatusTypeRead(WireModel):
    id: int
    name: str
    description: str | None
    min_token_balance: Number = Field(
        description="Summed balance of the eligible tokens (token units) that reaches it."
    )
    discount_percentage: Number
    image_url: str | None
    eligible_token_addresses: list[str]


def status_read(status: UserStatusType) -> StatusTypeRead:
    return StatusTypeRead.model_validate(status)


Percentage = Annotated[Number, Field(ge=0, le=100, decimal_places=2)]
Threshold = Annotated[Number, Field(ge=0, max_digits=78, decimal_places=36)]


class StatusTypeCreate(WireInput):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    min_token_balance: Threshold
    discount_percentage: Percentage = Decimal(0)
    image_url: str | None = Field(default=None, max_length=2048)
    eligible_token_addresses: list[EvmAddress] = Field(default_factory=list, max_length=100)


class StatusTypeUpdate(WireInput):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    min_token_balance: Threshold | None = None
    discount_percentage: Percentage | None = None
    image_url: str | None = Field(default=None, max_length=2048)
    eligible_token_addresses: list[EvmAddress] | None = Field(default=None, max_length=100)

    _required_not_null = field_validator(
        "name", "min_token_balance", "discount_percentage", "eligible_token_addresses"
    )(_refuse_null)


@router.post(
    "/admin/status-type",
    summary="ADMIN: Create user status type",
    response_model=StatusTypeRead,
    status_code=201,
)
async def create_status_type(
    body: StatusTypeCreate, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> StatusTypeRead:
    """A tier users reach by holding at least `minTokenBalance` of the eligible tokens
    (their balances summed). Names are unique per tenant (409)."""
    status = await service.create_status_type(
        session,
        ctx,
        name=body.name,
        description=body.description,
        min_token_balance=body.min_token_balance,
        discount_percentage=body.discount_percentage,
        image_url=body.image_url,
        eligible_token_addresses=body.eligible_token_addresses,
    )
    return status_read(status)


@router.put(
    "/admin/status-type/{statusTypeId}",
    summary="ADMIN: Update user status type",
    response_model=StatusTypeRead,
)
async def update_status_type(
    statusTypeId: int,
    session: Session,
    body: StatusTypeUpdate = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> StatusTypeRead:
    """Only the fields sent change; `null` clears `description` or `imageUrl`.
    `eligibleTokenAddresses` replaces the list."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return status_read(await service.update_status_type(session, ctx, statusTypeId, changes))


@router.get("/status-type", summary="Get user status types", response_model=list[StatusTypeRead])
async def list_status_types(
    session: Session, ctx: RequestContext = Depends(TENANT_READ)
) -> list[StatusTypeRead]:
    """The tenant's user status types, lowest `minTokenBalance` first."""
    return [status_read(s) for s in await service.list_status_types(session, ctx)]


# --- one user (admin) ------------------------------------------------------------------------


@router.get("/admin/{userId}", summary="ADMIN: Get a user", response_model=UserRead)
async def get_user(
    userId: uuid.UUID, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> UserRead:
    """One user of the tenant, without balances."""
    return user_read(await service.get_user(session, ctx, userId))


@router.put("/admin/{userId}", summary="ADMIN: Update a user", response_model=UserRead)
async def update_user(
    userId: uuid.UUID,
    session: Session,
    body: UserUpdate = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> UserRead:
    """Only the fields sent change; `null` clears an optional field. 409 when another user
    has the e-mail, externalId or instagramAccountId."""
    return user_read(await service.update_user(session, ctx, userId, body.changes()))


@router.put(
    "/admin/{userId}/toggle-active",
    summary="ADMIN: Toggle user active",
    response_model=UserRead,
)
async def toggle_active(
    userId: uuid.UUID, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> UserRead:
    """Deactivate an active user, or reactivate an inactive one (as seed 001 toggles tokens
    and businesses). A deactivated user's tokens answer 401 `USER_INACTIVE`."""
    return user_read(await service.toggle_active(session, ctx, userId))


@router.get(
    "/auth/me/status",
    summary="AUTH USER: Get my current status",
    response_model=StatusTypeRead | None,
)
async def my_status(session: Session, ctx: RequestContext = Depends(USER)) -> StatusTypeRead | None:
    """The user's current status type, derived from the balances of each type's eligible
    tokens (the highest threshold reached), or `null`."""
    status = await service.status_of(session, ctx, service.own_id(ctx))
    return None if status is None else status_read(status)


@router.get(
    "/admin/{userId}/status",
    summary="ADMIN: Get a user's current status",
    response_model=StatusTypeRead | None,
)
async def user_status(
    userId: uuid.UUID,
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
) -> StatusTypeRead | None:
    """A user's current status type, or `null`."""
    status = await service.status_of(session, ctx, userId)
    return None if status is None else status_read(status)
