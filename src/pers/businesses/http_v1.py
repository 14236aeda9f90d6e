"""Business module (seed 001): 13 operations on business types and business accounts.

Routes with fixed segments are declared before ``/{id}`` so they are not taken for an id.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.balances.http_v1 import TokenBalanceRead, balance_read
from pers.businesses import service
from pers.businesses.models import Business, BusinessType
from pers.businesses.service import BusinessAccount, SanitizeMode
from pers.kit.schemas import Email, WireInput, WireModel
from pers.runtime import Runtime
from pers.web import Access, PersRoute, get_runtime, get_session

router = APIRouter(prefix="/business", route_class=PersRoute, tags=["Business"])

ADMIN = Access(PrincipalKind.ADMIN)
BUSINESS = Access(PrincipalKind.BUSINESS)
READERS = Access(
    PrincipalKind.PUBLIC,
    PrincipalKind.USER,
    PrincipalKind.BUSINESS,
    PrincipalKind.SYSTEM,
    PrincipalKind.ADMIN,
)
ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"

Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]
BusinessId = Annotated[uuid.UUID, Path(alias="id", description="The id of the business")]

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=5000)]
Url = Annotated[str, Field(max_length=2048)]
Short = Annotated[str, Field(max_length=200)]


# --- wire schemas ---------------------------------------------------------------------------


class BusinessTypeRead(WireModel):
    id: int = Field(description="Business type id")
    name: str = Field(description="Business type name")
    description: str = Field(description="Business type description")
    code: str | None = Field(default=None, description="Business type code")
    icon_url: str | None = Field(default=None, description="Business type icon url")


class BusinessTypeCreate(WireInput):
    name: Name = Field(description="Business type name")
    description: Text = Field(description="Business type description")
    code: Short | None = Field(
        default=None, min_length=1, description="Business type code (unique in the tenant)"
    )
    icon_url: Url | None = Field(default=None, description="Business type icon url")


class BusinessTypeUpdate(BusinessTypeCreate):
    id: int = Field(ge=1, description="Business type id")

    def changes(self) -> dict[str, Any]:
        """``name`` and ``description`` are required; ``code`` and ``iconUrl`` change only when
        sent (null clears them)."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "id"}


class BusinessRead(WireModel):
    id: str = Field(description="The id of the business.")
    email: str | None = Field(default=None, description="The e-mail of the business.")
    account_address: str = Field(description="The wallet address of the business.")
    business_legal_name: str | None = None
    display_name: str = Field(description="The name shown to the public.")
    description: str | None = None
    short_description: str | None = None
    website_url: str | None = None
    image_url: str | None = None
    street_address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    coords_latitude: float | None = None
    coords_longitude: float | None = None
    business_type: BusinessTypeRead | None = None
    is_active: bool
    can_mint_token: bool
    can_charge_token: bool
    can_manage_users: bool
    can_receive_donation: bool


class BusinessCreated(BusinessRead):
    api_private_key: str = Field(
        description="The business API key (send as x-api-key with x-project-key). Shown once."
    )


class BusinessWithBalances(BusinessRead):
    token_balances: list[TokenBalanceRead] = Field(
        description="The token balances of the business wallet."
    )


class BusinessCreate(WireInput):
    display_name: Name = Field(description="The name shown to the public.")


class BusinessUpdate(WireInput):
    email: Email | None = None
    business_legal_name: Name | None = None
    display_name: Name | None = None
    description: Text | None = None
    short_description: Annotated[str, Field(max_length=500)] | None = None
    website_url: Url | None = None
    image_url: Url | None = None
    street_address: Annotated[str, Field(max_length=500)] | None = None
    city: Short | None = None
    postal_code: Annotated[str, Field(max_length=32)] | None = None
    coords_latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    coords_longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    business_type_id: int | None = Field(default=None, ge=1)

    @field_validator("display_name")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("cannot be null")
        return value

    @model_validator(mode="after")
    def _coordinates_together(self) -> BusinessUpdate:
        sent = {"coords_latitude", "coords_longitude"} & self.model_fields_set
        if len(sent) == 1:
            raise ValueError("coordsLatitude and coordsLongitude are set (or cleared) together")
        if sent and (self.coords_latitude is None) != (self.coords_longitude is None):
            raise ValueError("coordsLatitude and coordsLongitude are set (or cleared) together")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class BusinessActivation(WireInput):
    is_active: bool
    can_mint_token: bool | None = None
    can_charge_token: bool | None = None
    can_manage_users: bool | None = None
    can_receive_donation: bool | None = None

    @field_validator(
        "can_mint_token", "can_charge_token", "can_manage_users", "can_receive_donation"
    )
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        if value is None:
            raise ValueError("cannot be null (leave it out to keep the current value)")
        return value

    def abilities(self) -> dict[str, bool]:
        return {
            name: getattr(self, name) for name in self.model_fields_set if name.startswith("can_")
        }


# --- mapping --------------------------------------------------------------------------------


def type_read(business_type: BusinessType) -> BusinessTypeRead:
    return BusinessTypeRead.model_validate(business_type)


def business_read(business: Business) -> BusinessRead:
    return BusinessRead(**_business_fields(business))


def _business_fields(business: Business) -> dict[str, Any]:
    return {
        "id": str(business.id),
        "email": business.email,
        "account_address": business.account_address,
        "business_legal_name": business.business_legal_name,
        "display_name": business.display_name,
        "description": business.description,
        "short_description": business.short_description,
        "website_url": business.website_url,
        "image_url": business.image_url,
        "street_address": business.street_address,
        "city": business.city,
        "postal_code": business.postal_code,
        "coords_latitude": business.coords_latitude,
        "coords_longitude": business.coords_longitude,
        "business_type": None
        if business.business_type is None
        else type_read(business.business_type),
        "is_active": business.is_active,
        "can_mint_token": business.can_mint_token,
        "can_charge_token": business.can_charge_token,
        "can_manage_users": business.can_manage_users,
        "can_receive_donation": business.can_receive_donation,
    }


def account_read(account: BusinessAccount) -> BusinessWithBalances:
    return BusinessWithBalances(
        **_business_fields(account.business),
        token_balances=[balance_read(b) for b in account.token_balances],
    )


# --- business types -------------------------------------------------------------------------


@router.post(
    "/admin/type",
    summary="ADMIN: Create a new business type",
    response_model=BusinessTypeRead,
    status_code=201,
)
async def create_type(
    body: BusinessTypeCreate, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> BusinessTypeRead:
    """Create a new business type. `code`, when given, is unique in the tenant."""
    created = await service.create_type(
        session,
        ctx,
        name=body.name,
        description=body.description,
        code=body.code,
        icon_url=body.icon_url,
    )
    return type_read(created)


@router.put("/admin/type", summary="ADMIN: Update a business type", response_model=BusinessTypeRead)
async def update_type(
    session: Session, body: BusinessTypeUpdate = Body(), ctx: RequestContext = Depends(ADMIN)
) -> BusinessTypeRead:
    """Update the business type named by `id` in the body. `name` and `description` are
    required; `code` and `iconUrl` change only when sent (`null` clears them)."""
    return type_read(await service.update_type(session, ctx, body.id, body.changes()))


@router.delete("/admin/type/{id}", summary="ADMIN: Delete a business type", response_model=bool)
async def delete_type(
    session: Session,
    type_id: int = Path(alias="id", description="Business type id"),
    ctx: RequestContext = Depends(ADMIN),
) -> bool:
    """Delete a business type. Its businesses are kept and lose their type
    (`businessType: null`)."""
    return await service.delete_type(session, ctx, type_id)


@router.get("/type", summary="Get all business types", response_model=list[BusinessTypeRead])
async def list_types(
    session: Session, ctx: RequestContext = Depends(READERS)
) -> list[BusinessTypeRead]:
    """Every business type of the tenant, by id."""
    return [type_read(t) for t in await service.list_types(session, ctx)]


# --- business accounts ----------------------------------------------------------------------


@router.get(
    "/business/me", summary="BUSINESS: Get business info", response_model=BusinessWithBalances
)
async def get_me(session: Session, ctx: RequestContext = Depends(BUSINESS)) -> BusinessWithBalances:
    """Get business info with current token balances. Authenticate with the business API key
    in `x-api-key` and the tenant's project key in `x-project-key`."""
    return account_read(await service.my_account(session, ctx))


@router.get("", summary="Get all active business info", response_model=list[BusinessRead])
async def list_active(
    session: Session, ctx: RequestContext = Depends(READERS)
) -> list[BusinessRead]:
    """Get all active business info w/o balances."""
    return [business_read(b) for b in await service.list_active(session, ctx)]


@router.get(
    "/admin",
    summary="ADMIN: Get all business info active or not",
    response_model=list[BusinessRead],
)
async def list_for_admin(
    response: Response,
    session: Session,
    rt: Rt,
    ctx: RequestContext = Depends(ADMIN),
    active: bool | None = Query(
        None, description="Filter by active status (optional): `true` or `false`."
    ),
    sanitize: SanitizeMode | None = Query(
        None,
        description=(
            "Sanitize the businesses' wallet addresses: `soft` checks each stored "
            "`accountAddress` against the current derivation and changes nothing; `hard` "
            "overwrites an address that differs (use with caution: tokens at the old address "
            "stay there; needs a SUPER_ADMIN). The outcome is reported in the headers "
            "`x-sanitize-checked`, `x-sanitize-mismatched` and `x-sanitize-repaired`."
        ),
    ),
) -> list[BusinessRead]:
    """Get all business info active or not w/o balances."""
    listing = await service.list_for_admin(session, rt, ctx, active=active, sanitize=sanitize)
    if listing.sanitized is not None:
        response.headers["x-sanitize-checked"] = str(listing.sanitized.checked)
        response.headers["x-sanitize-mismatched"] = str(len(listing.sanitized.mismatched))
        response.headers["x-sanitize-repaired"] = str(len(listing.sanitized.repaired))
    return [business_read(b) for b in listing.businesses]


@router.post(
    "/admin",
    summary="ADMIN: Create a new business account",
    response_model=BusinessCreated,
    status_code=201,
)
async def create_business(
    body: BusinessCreate, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> BusinessCreated:
    """Create a new business account, inactive until activated by an admin. The response holds
    the business's API key in `apiPrivateKey`: store it, it cannot be seen again
    (`PUT /business/admin/{id}/api-key` issues a new one)."""
    issued = await service.create_business(session, rt, ctx, display_name=body.display_name)
    return BusinessCreated(**_business_fields(issued.business), api_private_key=issued.api_key)


@router.get(
    "/account/{accountAddress}", summary="Get business info by account address",
    response_model=BusinessRead,
)  # fmt: skip
async def get_by_address(
    session: Session,
    account_address: str = Path(alias="accountAddress", pattern=ADDRESS_PATTERN),
    ctx: RequestContext = Depends(READERS),
) -> BusinessRead:
    """Get business info w/o balances, by its wallet address (any letter case). Inactive
    businesses are found by admins and systems only."""
    return business_read(await service.get_business_at(session, ctx, account_address))


@router.put("/admin/{id}/api-key", summary="ADMIN: Retrieve a new api key", response_model=str)
async def rotate_api_key(
    business_id: BusinessId, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> str:
    """Retrieve a new API key for the business and revoke the previous one at once."""
    return await service.rotate_api_key(session, ctx, business_id)


@router.put(
    "/admin/activate/{id}",
    summary="ADMIN: Toggle business account active",
    response_model=BusinessRead,
)
async def set_activation(
    business_id: BusinessId,
    session: Session,
    body: BusinessActivation = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> BusinessRead:
    """Activate or deactivate a business and set its abilities (`canMintToken`,
    `canChargeToken`, `canManageUsers`, `canReceiveDonation`); abilities left out keep their
    value. An inactive business's API key is refused."""
    business = await service.set_activation(
        session, ctx, business_id, is_active=body.is_active, abilities=body.abilities()
    )
    return business_read(business)


@router.put(
    "/admin/{id}", summary="ADMIN: Update a business account", response_model=BusinessWithBalances
)
async def update_business(
    business_id: BusinessId,
    session: Session,
    body: BusinessUpdate = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> BusinessWithBalances:
    """Update a business account's profile. Only the fields sent change; `null` clears an
    optional one (`displayName` cannot be null). `coordsLatitude` (-90..90) and
    `coordsLongitude` (-180..180) are sent together; `businessTypeId` names a type of the
    tenant."""
    return account_read(await service.update_business(session, ctx, business_id, body.changes()))


@router.get("/{id}", summary="Get business info", response_model=BusinessRead)
async def get_business(
    business_id: BusinessId, session: Session, ctx: RequestContext = Depends(READERS)
) -> BusinessRead:
    """Get business info w/o balances. Inactive businesses are found by admins and systems
    only."""
    return business_read(await service.get_business(session, ctx, business_id))
