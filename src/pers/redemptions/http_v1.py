"""Redemption module (seed 001): redemption types, redemptions and their token units, redeeming
and the user's redeems, with the v2 fields of seed 004 (``supply``, ``order``,
``countryCodeRestrictions``, ``tags``) already on the v1.7 shape.

Routes with fixed segments are declared before the ones with an id in the same position, so
``/type``, ``/admin`` and ``/auth/redeem`` are never taken for ``/{id}``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BeforeValidator, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.kit.amounts import WireAmount
from pers.kit.enums import Environment
from pers.kit.schemas import WireInput, WireModel
from pers.redemptions import service
from pers.redemptions.models import RedemptionRedeem, RedemptionType
from pers.redemptions.service import RedeemRecord, RedemptionDetail, TokenUnitDetail
from pers.runtime import Runtime
from pers.tokens.http_v1 import TokenRead, metadata_incremental_id, token_read
from pers.transactions.http_v1 import TransactionRead
from pers.transactions.http_v1 import read as transaction_read
from pers.users.http_v1 import StatusTypeRead, status_read
from pers.web import Access, PersRoute, get_runtime, get_session

router = APIRouter(prefix="/redemption", route_class=PersRoute, tags=["Redemption"])

ADMIN = Access(PrincipalKind.ADMIN)
USER = Access(PrincipalKind.USER)
READERS = Access(
    PrincipalKind.PUBLIC,
    PrincipalKind.USER,
    PrincipalKind.BUSINESS,
    PrincipalKind.SYSTEM,
    PrincipalKind.ADMIN,
)
Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]

INT_MAX = 2**31 - 1
MAX_RESTRICTIONS = 250
MAX_TAGS = 50
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

RedemptionId = Annotated[uuid.UUID, Path(alias="id", description="The redemption id")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=5000)]
Url = Annotated[str, Field(max_length=2048)]


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


def _whole(value: Any) -> Any:
    """The spec types ids and limits as numbers: a float with no fraction is that integer."""
    value = _not_bool(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Count = Annotated[int, BeforeValidator(_whole), Field(ge=1, le=INT_MAX)]
Supply = Annotated[int, BeforeValidator(_whole), Field(ge=0, le=INT_MAX)]
IntId = Annotated[int, BeforeValidator(_whole), Field(ge=1)]
Order = Annotated[int, BeforeValidator(_whole), Field(ge=-INT_MAX, le=INT_MAX)]
Tag = Annotated[str, Field(min_length=1, max_length=100)]


# --- wire schemas -----------------------------------------------------------------------------


class RedemptionTypeRead(WireModel):
    name: str = Field(description="Redemption type name")
    description: str | None = Field(description="Redemption type description")
    image_url: str | None = Field(description="Redemption type image url")
    id: int = Field(description="Redemption type id")


class RedemptionTypeWrite(WireInput):
    name: Name = Field(description="Redemption type name")
    description: Text | None = Field(default=None, description="Redemption type description")
    image_url: Url | None = Field(default=None, description="Redemption type image url")


class TokenUnitRead(WireModel):
    id: str = Field(description="Token unit id (`tokenUnitId` in the token unit operations)")
    token_id: str = Field(description="Token id")
    token: TokenRead | None = Field(description="The token as the redemption's environment sees it")
    token_metadata_incremental_id: int | None = Field(
        description="The token item minted (ERC721/ERC1155); null for ERC20"
    )
    amount: WireAmount = Field(description="Token units the user receives with each redeem")
    max_amount: WireAmount | None = Field(description="Token unit max amount (stored, unused)")


class SupplyRead(WireModel):
    available: int | None = Field(description="Redeems still possible (null: unlimited)")
    total: int | None = Field(description="maxTotalSupply (null: unlimited)")


class RedemptionRead(WireModel):
    id: str = Field(description="Redemption id")
    description: str | None = Field(description="Description of the redemption")
    name: str | None = Field(description="Name of the redemption")
    image_url: str | None = Field(description="Image url of the redemption")
    is_active: bool = Field(description="Redemption is active")
    credit_token_amount: WireAmount = Field(
        description="The amount of credit tokens needed to redeem the redemption tokens (token "
        "units of the tenant's credit token)"
    )
    type: RedemptionTypeRead | None = Field(description="The redemption type (null: none set)")
    token_units: list[TokenUnitRead] = Field(description="The redemption tokens to be redeemed")
    max_total_supply: int | None = Field(
        description="The maximum total supply of the redemption (null: unlimited)"
    )
    available_supply: int | None = Field(
        description="The available supply of the redemption (null: unlimited)"
    )
    max_per_user: int | None = Field(
        description="The maximum redemption per user (null: unlimited)"
    )
    min_user_status_type: StatusTypeRead | None = Field(
        description="The minimum user status type to redeem the redemption"
    )
    order: int = Field(description="v2: display order, ascending")
    supply: SupplyRead = Field(description="v2: the supply as {available, total}")
    country_code_restrictions: list[str] = Field(
        description='v2: country code restrictions (e.g. ["NOT_ES", "FR"])'
    )
    tags: list[str] = Field(description="v2: tags")
    is_testnet: bool = Field(description="Extension: the environment the redemption runs in")
    created_at: datetime
    updated_at: datetime


class RedemptionWrite(WireInput):
    credit_token_amount: WireAmount = Field(
        description="The amount of credit tokens needed to redeem the redemption tokens (token "
        "units; 0: free)"
    )
    description: Text | None = Field(default=None, description="Description of the redemption")
    name: Name | None = Field(default=None, description="Name of the redemption")
    image_url: Url | None = Field(default=None, description="Image url of the redemption")
    redemption_type_id: IntId | None = Field(default=None, description="Redemption type id")
    min_user_status_type_id: IntId | None = Field(
        default=None, description="min user status type id to redeem the redemption"
    )
    max_total_supply: Supply | None = Field(
        default=None, description="The maximum total supply of the redemption (null: unlimited)"
    )
    max_per_user: Count | None = Field(
        default=None, description="The maximum redemption per user (null: unlimited)"
    )
    order: Order | None = Field(default=None, description="v2: display order (default 0)")
    country_code_restrictions: list[Annotated[str, Field(max_length=6)]] | None = Field(
        default=None,
        max_length=MAX_RESTRICTIONS,
        description="v2: ISO 3166-1 alpha-2 codes allowed, and NOT_ + code denied, e.g. "
        '["NOT_ES", "FR"]',
    )
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS, description="v2: tags")

    @field_validator("credit_token_amount")
    @classmethod
    def _not_negative(cls, value: Any) -> Any:
        if value is not None and value < 0:
            raise ValueError("must not be negative")
        return value

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class RedemptionUpdate(RedemptionWrite):
    credit_token_amount: WireAmount | None = Field(  # type: ignore[assignment]
        default=None,
        description="The amount of credit tokens needed to redeem (cannot be null)",
    )

    @field_validator("credit_token_amount", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class TokenUnitWrite(WireInput):
    token_id: uuid.UUID = Field(description="Token id")
    token_metadata_incremental_id: int | None = Field(
        default=None,
        description="token metadata incremental id for the token unit (ERC721/ERC1155; omit "
        "for ERC20)",
    )
    amount: WireAmount = Field(
        description="Token unit amount is the amount of tokens that the user will receive "
        "(token units; ERC721: 1)"
    )
    max_amount: WireAmount | None = Field(
        default=None, description="Token unit max amount (at least `amount`)"
    )

    _metadata = field_validator("token_metadata_incremental_id", mode="before")(
        metadata_incremental_id
    )

    @model_validator(mode="after")
    def _max_not_below_amount(self) -> TokenUnitWrite:
        if self.max_amount is not None and self.max_amount < self.amount:
            raise ValueError("maxAmount must not be less than amount")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class RedeemBody(WireInput):
    redemption_id: uuid.UUID = Field(description="The redemption id")


class RedeemRead(WireModel):
    id: str = Field(description="The id of the redemption user redeem")
    user_id: str = Field(description="The user id that is claiming the redemption")
    redemption_id: str = Field(description="The redemption that the user is redeeming")
    transaction_ids: list[str] = Field(
        description="The transaction ids that resulted from the user redeeming the redemption"
    )
    credit_token_amount: WireAmount = Field(description="Extension: the credits spent")
    user_country_code: str | None = Field(
        description="v2: the user's country when redeemed (null: unknown)"
    )
    created_at: datetime = Field(description="Extension: when the user redeemed")
    redemption: RedemptionRead | None = Field(description="Extension: the redemption redeemed")


class RedeemedRead(RedeemRead):
    transactions: list[TransactionRead] = Field(
        description="The transactions that resulted from the user redeeming the redemption: the "
        "REDEMPTION_SPEND burn of the credits, then one REDEMPTION_RECEIVE mint per token unit"
    )


# --- mapping ----------------------------------------------------------------------------------


def type_read(row: RedemptionType) -> RedemptionTypeRead:
    return RedemptionTypeRead(
        name=row.name, description=row.description, image_url=row.image_url, id=row.id
    )


def token_unit_read(detail: TokenUnitDetail) -> TokenUnitRead:
    unit = detail.unit
    return TokenUnitRead(
        id=str(unit.id),
        token_id=str(unit.token_id),
        token=None if detail.token is None else token_read(detail.token),
        token_metadata_incremental_id=unit.token_metadata_incremental_id,
        amount=detail.amount,
        max_amount=detail.max_amount,
    )


def redemption_read(detail: RedemptionDetail) -> RedemptionRead:
    r = detail.redemption
    return RedemptionRead(
        id=str(r.id),
        description=r.description,
        name=r.name,
        image_url=r.image_url,
        is_active=r.is_active,
        credit_token_amount=r.credit_token_amount,
        type=None if detail.type is None else type_read(detail.type),
        token_units=[token_unit_read(u) for u in detail.token_units],
        max_total_supply=r.max_total_supply,
        available_supply=detail.available,
        max_per_user=r.max_per_user,
        min_user_status_type=None
        if detail.min_user_status_type is None
        else status_read(detail.min_user_status_type),
        order=r.order,
        supply=SupplyRead(available=detail.available, total=r.max_total_supply),
        country_code_restrictions=list(r.country_code_restrictions),
        tags=list(r.tags),
        is_testnet=r.environment is Environment.TESTNET,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def _redeem_fields(r: RedemptionRedeem) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "user_id": str(r.user_id),
        "redemption_id": str(r.redemption_id),
        "transaction_ids": [str(t) for t in r.transaction_ids],
        "credit_token_amount": r.credit_token_amount,
        "user_country_code": r.user_country_code,
        "created_at": r.created_at,
    }


def redeem_read(record: RedeemRecord) -> RedeemRead:
    return RedeemRead(
        **_redeem_fields(record.redeem),
        redemption=None if record.redemption is None else redemption_read(record.redemption),
    )


def redeemed_read(record: RedeemRecord) -> RedeemedRead:
    # The redeem answer leaves the redemption out (the caller just named it): rendering it,
    # with its tokens' ABIs, costs more than the redeem itself.
    return RedeemedRead(
        **_redeem_fields(record.redeem),
        redemption=None,
        transactions=[transaction_read(t) for t in record.transactions],
    )


# --- types (fixed segments first) -------------------------------------------------------------


@router.get("/type", summary="Get redemption types", response_model=list[RedemptionTypeRead])
async def list_types(
    session: Session, ctx: RequestContext = Depends(READERS)
) -> list[RedemptionTypeRead]:
    """Get all redemption types, oldest first."""
    return [type_read(t) for t in await service.list_types(session, ctx)]


@router.post("/admin/type", summary="ADMIN: Create a new redemption type",
             response_model=RedemptionTypeRead, status_code=201)  # fmt: skip
async def create_type(
    body: RedemptionTypeWrite, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> RedemptionTypeRead:
    """Create a new redemption type."""
    row = await service.create_type(
        session, ctx, name=body.name, description=body.description, image_url=body.image_url
    )
    return type_read(row)


# --- redeeming ------------------------------------------------------------------------------


@router.post("/auth/redeem", summary="AUTH USER: Redeem a redemption", status_code=201,
             response_model=RedeemedRead)  # fmt: skip
async def redeem(
    body: RedeemBody,
    request: Request,
    session: Session,
    rt: Rt,
    ctx: RequestContext = Depends(USER),
) -> RedeemedRead:
    """The logged-in user redeems: the redemption must be active and of the project key's
    environment; the user's country allowed (when known), status high enough, redeems below
    `maxPerUser`, stock left and credits enough. The credits are burnt (REDEMPTION_SPEND) and
    each token unit minted to the user (REDEMPTION_RECEIVE), all or nothing."""
    header = rt.settings.country_header
    record = await service.redeem(
        session, rt, ctx, body.redemption_id,
        country_header=None if header is None else request.headers.get(header),
    )  # fmt: skip
    return redeemed_read(record)


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Extension: redeems per page")]
Page = Annotated[int, Query(ge=1, description="Extension: page number, from 1")]


@router.get("/auth/redeem", summary="AUTH USER: Get all redemption user redeems",
            response_model=list[RedeemRead])  # fmt: skip
async def my_redeems(
    session: Session,
    ctx: RequestContext = Depends(USER),
    page: Page = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> list[RedeemRead]:
    """The user's redeems in the project key's environment, newest first."""
    records = await service.my_redeems(session, ctx, limit=limit, offset=(page - 1) * limit)
    return [redeem_read(r) for r in records]


# --- redemptions ----------------------------------------------------------------------------


@router.get("", summary="Get all active redemptions", response_model=list[RedemptionRead])
async def list_active(
    session: Session, ctx: RequestContext = Depends(READERS)
) -> list[RedemptionRead]:
    """Active redemptions of the request's environment, by `order`, then oldest first."""
    return [redemption_read(d) for d in await service.list_active(session, ctx)]


@router.get("/admin", summary="ADMIN: Get all redemptions", response_model=list[RedemptionRead])
async def list_for_admin(
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    active: bool | None = Query(
        None, description="Filter by active status: `true` or `false`; omitted: every redemption"
    ),
) -> list[RedemptionRead]:
    """Every live redemption of both environments (`isTestnet` tells which)."""
    return [redemption_read(d) for d in await service.list_for_admin(session, ctx, active=active)]


@router.post("/admin", summary="ADMIN: Create a new redemption", response_model=RedemptionRead,
             status_code=201)  # fmt: skip
async def create_redemption(
    body: RedemptionWrite, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> RedemptionRead:
    """Create a redemption in the environment of the admin's credentials. It starts
    **inactive**: add its token units, then toggle it active."""
    return redemption_read(await service.create_redemption(session, ctx, body.changes()))


@router.get("/{id}", summary="Get redemption", response_model=RedemptionRead)
async def get_redemption(
    redemption_id: RedemptionId, session: Session, ctx: RequestContext = Depends(READERS)
) -> RedemptionRead:
    """Admins see any; systems any of their environment; others the active ones of their
    environment (404 otherwise)."""
    return redemption_read(await service.get_redemption(session, ctx, redemption_id))


@router.get("/{id}/available-supply", summary="Get redemption redeems amount available",
            response_model=int | None)  # fmt: skip
async def available_supply(
    redemption_id: RedemptionId, session: Session, ctx: RequestContext = Depends(READERS)
) -> int | None:
    """How many redeems are still possible (`null`: no maxTotalSupply)."""
    return await service.available_supply(session, ctx, redemption_id)


@router.put("/admin/{id}", summary="ADMIN: Update redemption", response_model=RedemptionRead)
async def update_redemption(
    redemption_id: RedemptionId,
    session: Session,
    body: RedemptionUpdate = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> RedemptionRead:
    """Only the fields sent change (`null` clears an optional one). A new `maxTotalSupply`
    keeps the redeems made (422 `MAX_TOTAL_SUPPLY_BELOW_REDEEMED` below them)."""
    detail = await service.update_redemption(session, ctx, redemption_id, body.changes())
    return redemption_read(detail)


@router.delete("/admin/{id}", summary="ADMIN: Delete redemption", response_model=bool)
async def delete_redemption(
    redemption_id: RedemptionId, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> bool:
    """Soft delete: gone from every list and lookup (404); the redeems made stay."""
    return await service.delete_redemption(session, ctx, redemption_id)


@router.put("/admin/{id}/toggle-active", summary="ADMIN: Activate redemption",
            response_model=RedemptionRead)  # fmt: skip
async def toggle_active(
    redemption_id: RedemptionId, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> RedemptionRead:
    """Activate / deactivate the redemption."""
    return redemption_read(await service.toggle_active(session, ctx, redemption_id))


@router.post("/admin/{id}/token-units", summary="ADMIN: Create redemption token unit",
             response_model=RedemptionRead, status_code=201)  # fmt: skip
async def add_token_unit(
    redemption_id: RedemptionId,
    body: TokenUnitWrite,
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
) -> RedemptionRead:
    """What each redeem mints to the user. ERC20: `amount` in token units, no item. ERC1155:
    the item's `tokenMetadataIncrementalId`, a whole `amount`. ERC721: the item, `amount` 1.
    One unit per token item (409 `TOKEN_UNIT_ALREADY_EXISTS`)."""
    detail = await service.add_token_unit(
        session, ctx, redemption_id, token_id=body.token_id, amount=body.amount,
        token_metadata_incremental_id=body.token_metadata_incremental_id,
        max_amount=body.max_amount,
    )  # fmt: skip
    return redemption_read(detail)


@router.put(
    "/admin/{id}/token-units/{tokenUnitId}",
    summary="ADMIN: Update redemption token unit",
    response_model=RedemptionRead,
)
async def update_token_unit(
    redemption_id: RedemptionId,
    session: Session,
    unit_id: uuid.UUID = Path(alias="tokenUnitId"),
    body: TokenUnitWrite = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> RedemptionRead:
    """`tokenId` and `amount` are required; `tokenMetadataIncrementalId` and `maxAmount`
    change only when sent."""
    detail = await service.update_token_unit(session, ctx, redemption_id, unit_id, body.changes())
    return redemption_read(detail)


@router.delete(
    "/admin/{id}/token-units/{tokenUnitId}",
    summary="ADMIN: Remove redemption token unit",
    response_model=RedemptionRead,
)
async def remove_token_unit(
    redemption_id: RedemptionId,
    session: Session,
    unit_id: uuid.UUID = Path(alias="tokenUnitId"),
    ctx: RequestContext = Depends(ADMIN),
) -> RedemptionRead:
    """The redemption stops giving this token unit (soft removed, for the redeems' history)."""
    return redemption_read(await service.remove_token_unit(session, ctx, redemption_id, unit_id))
