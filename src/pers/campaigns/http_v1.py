"""Campaign module (seed 001): campaigns, their token units, triggers and trigger conditions,
and business engagements (the claim operations live with the claims).

Routes with fixed segments are declared before the ones with an id in the same position, so
``/admin/trigger/...`` is never taken for ``/admin/{id}/...`` and ``/admin`` never for ``/{id}``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.businesses.http_v1 import BusinessRead, business_read
from pers.campaigns import service
from pers.campaigns.models import ConditionType, RequiredUserInfo, TriggerCondition, TriggerType
from pers.campaigns.service import (
    CampaignDetail,
    EngagementDetail,
    TokenUnitDetail,
    TriggerDetail,
)
from pers.kit.amounts import ExactFloat, WireAmount, WireDecimal
from pers.kit.enums import Environment
from pers.kit.schemas import WireInput, WireModel
from pers.tokens.addresses import AccountAddress
from pers.tokens.http_v1 import TokenRead, metadata_incremental_id, token_read
from pers.web import Access, PersRoute, get_session

router = APIRouter(prefix="/campaign", route_class=PersRoute, tags=["Campaign"])

ADMIN = Access(PrincipalKind.ADMIN)
READERS = Access(
    PrincipalKind.PUBLIC,
    PrincipalKind.USER,
    PrincipalKind.BUSINESS,
    PrincipalKind.SYSTEM,
    PrincipalKind.ADMIN,
)
Session = Annotated[AsyncSession, Depends(get_session)]

INT_MAX = 2**31 - 1
MAX_MULTIPLIER = Decimal(1_000_000)
MULTIPLIER_DECIMALS = 18
MAX_CONDITION_VALUE_CHARS = 10_000
MAX_ENGAGED_BUSINESSES = 100

CampaignId = Annotated[uuid.UUID, Path(alias="id", description="The campaign id")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=5000)]
Url = Annotated[str, Field(max_length=2048)]


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


Count = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=INT_MAX)]
"""A limit: a whole number from 1 (leave it out or send null for no limit)."""
Seconds = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=INT_MAX)]


def _cannot_be_null(value: Any) -> Any:
    if value is None:
        raise ValueError("cannot be null")
    return value


# --- triggers and conditions: wire schemas --------------------------------------------------


class ConditionRead(WireModel):
    id: str = Field(description="Trigger condition id, to attach it to triggers")
    condition_type: ConditionType = Field(description="Trigger condition type")
    value: JsonValue = Field(description="Trigger condition value")
    key: str = Field(description="Trigger condition key: the claim's `conditionsData[key]`")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value.strip()).is_finite()
    except ArithmeticError:
        return False


def _floats_exact(value: Any) -> None:
    """JSON numbers are stored as binary floats: refuse ones that would not come back as
    sent (more than about 15 significant digits), and non-finite ones."""
    if isinstance(value, float):
        text = value.text if isinstance(value, ExactFloat) else repr(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("numbers must be finite")
        if Decimal(text) != Decimal(repr(float(value))):
            raise ValueError(f"the number {text} has more digits than can be kept exactly")
    elif isinstance(value, list):
        for item in value:
            _floats_exact(item)
    elif isinstance(value, dict):
        for item in value.values():
            _floats_exact(item)


class ConditionWrite(WireInput):
    condition_type: ConditionType = Field(description="Trigger condition type")
    value: JsonValue = Field(
        description="Trigger condition value. EQUALS / NOT_EQUALS: any JSON value. "
        "GREATER_THAN / LESS_THAN: a number (or a string holding one). CONTAINS: a string, "
        "number or boolean that the claim's string or list contains. IS_PART_OF: a non-empty "
        "array the claim's value must be one of."
    )
    key: str = Field(min_length=1, max_length=200, description="Trigger condition key")
    id: uuid.UUID | None = Field(
        default=None,
        description="Create: the id to give the new condition (optional; a new one when "
        "omitted). Update: optional, and when sent equal to the path id.",
    )

    @field_validator("value", mode="before")
    @classmethod
    def _exact_numbers(cls, value: Any) -> Any:
        # Before pydantic: JSON numbers still carry their source text here (ExactFloat).
        _floats_exact(value)
        return value

    @model_validator(mode="after")
    def _value_fits_type(self) -> ConditionWrite:
        value, kind = self.value, self.condition_type
        if value is None:
            raise ValueError("value: cannot be null")
        if len(json.dumps(value)) > MAX_CONDITION_VALUE_CHARS:
            raise ValueError(f"value: longer than {MAX_CONDITION_VALUE_CHARS} characters as JSON")
        if kind in (ConditionType.GREATER_THAN, ConditionType.LESS_THAN):
            if not (_is_number(value) or _numeric_text(value)):
                raise ValueError(f"value: {kind} compares numbers; send a number")
        elif kind is ConditionType.CONTAINS:
            if not isinstance(value, str | int | float):
                raise ValueError("value: CONTAINS looks for a string, number or boolean")
        elif kind is ConditionType.IS_PART_OF and not (isinstance(value, list) and value):
            raise ValueError("value: IS_PART_OF needs a non-empty array of allowed values")
        return self


class TriggerRead(WireModel):
    name: str = Field(description="Campaign trigger name")
    description: str | None = Field(description="Campaign trigger description")
    max_per_day: int | None = Field(description="Claims per user per UTC day (null: no limit)")
    max_per_user: int | None = Field(description="Claims per user of a campaign (null: no limit)")
    min_cooldown_seconds: int | None = Field(
        description="Seconds between two claims of one user (null: none)"
    )
    max_geo_distance_in_meters: float | None = Field(
        description="Max great-circle distance of the claim to the engaged business (null: "
        "not checked)"
    )
    required_user_info: list[RequiredUserInfo] = Field(
        description="User fields the claiming user must have (empty: none)"
    )
    trigger_type: TriggerType = Field(description="Who claims: user, system or business")
    max_multiplier: WireDecimal | None = Field(
        description="Largest multiplier a claim may ask for (null: any)"
    )
    completion_threshold: int | None = Field(
        description="Completions needed for each reward (null: every claim is rewarded)"
    )
    id: str = Field(description="Campaign trigger id")
    conditions: list[ConditionRead] = Field(
        description="Campaign trigger conditions, in the order they were attached"
    )


RequiredUserInfoInput = list[RequiredUserInfo] | dict[RequiredUserInfo, bool]


class TriggerWrite(WireInput):
    name: Name = Field(description="Campaign trigger name")
    description: Text | None = Field(default=None, description="Campaign trigger description")
    max_per_day: Count | None = Field(
        default=None, description="Claims per user per UTC day; null or omitted: no limit"
    )
    max_per_user: Count | None = Field(
        default=None, description="Claims per user of a campaign; null or omitted: no limit"
    )
    min_cooldown_seconds: Seconds | None = Field(
        default=None, description="Seconds between two claims of one user (0 or null: none)"
    )
    max_geo_distance_in_meters: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Max distance in meters between the claim's latitude/longitude and the "
        "engaged business; null or omitted: not checked",
    )
    required_user_info: RequiredUserInfoInput | None = Field(
        default=None,
        description="User fields the claiming user must have: an array of names "
        '(`["email", "firstName"]`), or an object of name: true. Answered as an array.',
    )
    trigger_type: TriggerType | None = Field(
        default=None, description="Who claims (default CLAIM_BY_USER)"
    )
    max_multiplier: WireDecimal | None = Field(
        default=None,
        gt=0,
        le=MAX_MULTIPLIER,
        description="Largest multiplier a claim may ask for (> 0); null or omitted: any",
    )
    completion_threshold: Count | None = Field(
        default=None,
        description="Completions needed for each reward (the reward is minted on every N-th "
        "claim); null or omitted: every claim is rewarded",
    )

    @field_validator("max_multiplier")
    @classmethod
    def _multiplier_scale(cls, value: Decimal | None) -> Decimal | None:
        exponent = None if value is None else value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MULTIPLIER_DECIMALS:
            raise ValueError(f"at most {MULTIPLIER_DECIMALS} decimal places")
        return value

    def values(self, *, only_sent: bool) -> dict[str, Any]:
        names = self.model_fields_set if only_sent else set(type(self).model_fields)
        out = {name: getattr(self, name) for name in names}
        if "required_user_info" in out:
            out["required_user_info"] = _required_user_info(out["required_user_info"])
        return out


class TriggerUpdate(TriggerWrite):
    _type_not_null = field_validator("trigger_type")(_cannot_be_null)


def _required_user_info(value: RequiredUserInfoInput | None) -> list[str]:
    """The required fields, once each, in the enum's order."""
    if value is None:
        return []
    names = {k for k, wanted in value.items() if wanted} if isinstance(value, dict) else set(value)
    return [m.value for m in RequiredUserInfo if m in names]


# --- campaigns: wire schemas ----------------------------------------------------------------


class TokenUnitRead(WireModel):
    id: str = Field(description="Token unit id (`tokenUnitId` in the token unit operations)")
    token_id: str = Field(description="Token id")
    token: TokenRead | None = Field(description="The token as the campaign's environment sees it")
    token_metadata_incremental_id: int | None = Field(
        description="The token item minted (ERC721/ERC1155); null for ERC20"
    )
    amount: WireAmount = Field(description="Token units a claim receives (before multiplier)")
    max_amount: WireAmount | None = Field(
        description="Most token units a claim receives once multiplied (null: no cap)"
    )


class BusinessEngagementRead(WireModel):
    id: str = Field(description="Business engagement id")
    business_ids: list[str] = Field(description="The business ids engaged")
    businesses: list[BusinessRead] = Field(
        description="The engaged businesses the caller may see (inactive ones: admins and "
        "systems only)"
    )
    short_description: str | None = Field(
        description="A short description of the business engagement, with indications what "
        "to do etc"
    )
    max_per_bussiness: int | None = Field(
        description="Max claims per user at each of the businesses (null: no limit)"
    )
    max_per_day: int | None = Field(
        description="Max claims per user per UTC day at each of the businesses (null: no limit)"
    )
    created_at: datetime
    updated_at: datetime


class CampaignRead(WireModel):
    name: str = Field(description="Campaign name")
    description: str | None = Field(description="Campaign description")
    beneficiary_account_address: str | None = Field(
        description="Campaign beneficiary account address"
    )
    start_date: datetime = Field(description="Campaign start date")
    end_date: datetime | None = Field(description="Campaign end date (null: no end)")
    image_url: str | None = Field(description="img url")
    external_url: str | None = Field(description="Campaign url")
    id: str = Field(description="Campaign id")
    is_active: bool = Field(description="Campaign isActive")
    is_testnet: bool = Field(
        description="Campaign isTestnet, this means that the campaign is running on testnet, "
        "not mainnet"
    )
    trigger: TriggerRead | None = Field(
        description="Campaign trigger: what triggers the campaign, and what are the conditions "
        "for the trigger to be activated (null: none set, the campaign cannot be claimed)"
    )
    token_units: list[TokenUnitRead] = Field(description="Campaign reward: what are the rewards")
    business_engagements: list[BusinessEngagementRead] = Field(
        description="Campaign businesses: what businesses are involved in the campaign"
    )
    created_at: datetime = Field(description="create date")
    updated_at: datetime = Field(description="update date")


class CampaignWrite(WireInput):
    name: Name = Field(description="Campaign name")
    description: Text | None = Field(default=None, description="Campaign description")
    beneficiary_account_address: AccountAddress | None = Field(
        default=None, description="Campaign beneficiary account address"
    )
    start_date: AwareDatetime | None = Field(
        default=None,
        description="Campaign start date, default is the current date (ISO 8601 with a zone)",
    )
    end_date: AwareDatetime | None = Field(
        default=None, description="Campaign end date, after startDate (null: no end)"
    )
    image_url: Url | None = Field(default=None, description="img url")
    external_url: Url | None = Field(default=None, description="Campaign url")

    @model_validator(mode="after")
    def _dates_in_order(self) -> CampaignWrite:
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValueError("endDate must be after startDate")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class CampaignUpdate(CampaignWrite):
    _start_not_null = field_validator("start_date")(_cannot_be_null)


class TokenUnitWrite(WireInput):
    token_id: uuid.UUID = Field(description="Token id")
    token_metadata_incremental_id: int | None = Field(
        default=None,
        description="token metadata incremental id for the token unit, this is used to identify "
        "the specific token metadata that should be minted (ERC721/ERC1155; omit for ERC20)",
    )
    amount: WireAmount = Field(
        description="Token unit amount is the amount of tokens that the user will receive when "
        "aquiring the token unit (token units; ERC721: 1)"
    )
    max_amount: WireAmount | None = Field(
        default=None,
        description="Token unit max amount, this is the maximum amount of tokens that the user "
        "can receive when aquiring the token unit (at least `amount`)",
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


class EngagementWrite(WireInput):
    business_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_ENGAGED_BUSINESSES,
        description="The business ids to engage with",
    )
    short_description: Annotated[str, Field(max_length=500)] | None = Field(
        default=None,
        description="A short description of the business engagement, with indications what to "
        "do etc",
    )
    max_per_bussiness: Count | None = Field(
        default=None, description="max per user at the business (null or omitted: no limit)"
    )
    max_per_day: Count | None = Field(
        default=None,
        description="max per day, the maximum number of times a user can engage with the "
        "buisness in the campaign per day (null or omitted: no limit)",
    )

    @field_validator("business_ids")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(value)) != len(value):
            raise ValueError("a business id is listed twice")
        return value

    def changes(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self.model_fields_set if n != "business_ids"}


# --- mapping --------------------------------------------------------------------------------


def condition_read(condition: TriggerCondition) -> ConditionRead:
    return ConditionRead(
        id=str(condition.id),
        condition_type=condition.condition_type,
        value=condition.value,
        key=condition.key,
    )


def trigger_read(detail: TriggerDetail) -> TriggerRead:
    t = detail.trigger
    return TriggerRead(
        name=t.name,
        description=t.description,
        max_per_day=t.max_per_day,
        max_per_user=t.max_per_user,
        min_cooldown_seconds=t.min_cooldown_seconds,
        max_geo_distance_in_meters=t.max_geo_distance_in_meters,
        required_user_info=[RequiredUserInfo(v) for v in t.required_user_info],
        trigger_type=t.trigger_type,
        max_multiplier=t.max_multiplier,
        completion_threshold=t.completion_threshold,
        id=str(t.id),
        conditions=[condition_read(c) for c in detail.conditions],
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


def engagement_read(detail: EngagementDetail) -> BusinessEngagementRead:
    e = detail.engagement
    return BusinessEngagementRead(
        id=str(e.id),
        business_ids=[str(b) for b in detail.business_ids],
        businesses=[business_read(b) for b in detail.businesses],
        short_description=e.short_description,
        max_per_bussiness=e.max_per_bussiness,
        max_per_day=e.max_per_day,
        created_at=e.created_at,
        updated_at=e.updated_at,
    )


def campaign_read(detail: CampaignDetail) -> CampaignRead:
    c = detail.campaign
    return CampaignRead(
        name=c.name,
        description=c.description,
        beneficiary_account_address=c.beneficiary_account_address,
        start_date=c.start_date,
        end_date=c.end_date,
        image_url=c.image_url,
        external_url=c.external_url,
        id=str(c.id),
        is_active=c.is_active,
        is_testnet=c.environment is Environment.TESTNET,
        trigger=None if detail.trigger is None else trigger_read(detail.trigger),
        token_units=[token_unit_read(u) for u in detail.token_units],
        business_engagements=[engagement_read(e) for e in detail.engagements],
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


# --- triggers and conditions (declared first: fixed segments) -------------------------------


@router.get("/trigger/all", summary="List triggers", response_model=list[TriggerRead])
async def list_triggers(
    session: Session, ctx: RequestContext = Depends(READERS)
) -> list[TriggerRead]:
    """Every trigger of the tenant (shared by both environments) with its conditions."""
    return [trigger_read(t) for t in await service.list_triggers(session, ctx)]


@router.post(
    "/admin/trigger",
    summary="ADMIN: Create trigger for campaign",
    response_model=TriggerRead,
    status_code=201,
)
async def create_trigger(
    body: TriggerWrite, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> TriggerRead:
    """Create a trigger; set it on campaigns with `PUT /campaign/admin/{id}/trigger/{triggerId}`.
    `triggerType` defaults to `CLAIM_BY_USER`; limits left out (or null) mean no limit."""
    detail = await service.create_trigger(session, ctx, body.values(only_sent=False))
    return trigger_read(detail)


@router.put(
    "/admin/trigger/{triggerId}/condition/{conditionId}",
    summary="ADMIN: Add or remove condition to campaign trigger",
    response_model=TriggerRead,
)
async def toggle_trigger_condition(
    session: Session,
    trigger_id: uuid.UUID = Path(alias="triggerId"),
    condition_id: uuid.UUID = Path(alias="conditionId"),
    ctx: RequestContext = Depends(ADMIN),
) -> TriggerRead:
    """Attach the condition to the trigger, or detach it if it is attached. A condition may be
    attached to several triggers."""
    return trigger_read(
        await service.toggle_trigger_condition(session, ctx, trigger_id, condition_id)
    )


@router.put(
    "/admin/trigger/{id}", summary="ADMIN: Update campaign trigger", response_model=TriggerRead
)
async def update_trigger(
    session: Session,
    trigger_id: uuid.UUID = Path(alias="id"),
    body: TriggerUpdate = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> TriggerRead:
    """`name` is required; the other fields change only when sent (`null` clears a limit:
    no limit; `triggerType` cannot be null). Every campaign using the trigger follows."""
    return trigger_read(
        await service.update_trigger(session, ctx, trigger_id, body.values(only_sent=True))
    )


@router.delete("/admin/trigger/{id}", summary="ADMIN: Delete campaign trigger", response_model=bool)
async def delete_trigger(
    session: Session,
    trigger_id: uuid.UUID = Path(alias="id"),
    ctx: RequestContext = Depends(ADMIN),
) -> bool:
    """Delete the trigger. Campaigns using it are kept and lose it (`trigger: null`): they
    cannot be claimed until another trigger is set."""
    return await service.delete_trigger(session, ctx, trigger_id)


@router.post(
    "/admin/trigger-condition",
    summary="ADMIN: Create campaign trigger condition",
    response_model=ConditionRead,
    status_code=201,
)
async def create_condition(
    body: ConditionWrite, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> ConditionRead:
    """Create a condition (attach it to triggers with
    `PUT /campaign/admin/trigger/{triggerId}/condition/{conditionId}`). A claim passes it when
    its `conditionsData[key]` compares with `value` as `conditionType` says."""
    condition = await service.create_condition(
        session,
        ctx,
        condition_type=body.condition_type,
        key=body.key,
        value=body.value,
        condition_id=body.id,
    )
    return condition_read(condition)


@router.put(
    "/admin/trigger-condition/{id}",
    summary="ADMIN: Update campaign trigger condition",
    response_model=ConditionRead,
)
async def update_condition(
    session: Session,
    condition_id: uuid.UUID = Path(alias="id"),
    body: ConditionWrite = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> ConditionRead:
    """Replace the condition's type, key and value; every trigger it is attached to follows.
    An `id` in the body must be the path's."""
    condition = await service.update_condition(
        session,
        ctx,
        condition_id,
        condition_type=body.condition_type,
        key=body.key,
        value=body.value,
        body_id=body.id,
    )
    return condition_read(condition)


# --- campaigns ------------------------------------------------------------------------------


@router.get("", summary="List active campaigns", response_model=list[CampaignRead])
async def list_active(
    session: Session, ctx: RequestContext = Depends(READERS)
) -> list[CampaignRead]:
    """Active campaigns of the request's environment (testnet or mainnet project key) that
    have not ended, oldest first."""
    return [campaign_read(d) for d in await service.list_active(session, ctx)]


@router.get("/admin", summary="ADMIN: List campaigns", response_model=list[CampaignRead])
async def list_for_admin(
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    active: bool | None = Query(
        None, description="Filter by active status: `true` or `false`; omitted: every campaign"
    ),
) -> list[CampaignRead]:
    """Every campaign of the tenant, testnet and mainnet (`isTestnet` tells which), ended ones
    too; deleted campaigns are not listed."""
    return [campaign_read(d) for d in await service.list_for_admin(session, ctx, active=active)]


@router.post(
    "/admin", summary="ADMIN: Create new campaign", response_model=CampaignRead, status_code=201
)
async def create_campaign(
    body: CampaignWrite, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> CampaignRead:
    """Create a campaign in the environment of the admin's credentials (the tenant admin JWT:
    testnet). It starts **inactive**: set its trigger and token units, then toggle it active."""
    detail = await service.create_campaign(
        session,
        ctx,
        name=body.name,
        description=body.description,
        beneficiary_account_address=body.beneficiary_account_address,
        start_date=body.start_date,
        end_date=body.end_date,
        image_url=body.image_url,
        external_url=body.external_url,
    )
    return campaign_read(detail)


@router.get("/{id}", summary="Get campaign", response_model=CampaignRead)
async def get_campaign(
    campaign_id: CampaignId, session: Session, ctx: RequestContext = Depends(READERS)
) -> CampaignRead:
    """A campaign. Admins see any; systems any of their environment; users, businesses and the
    project key alone the active ones of their environment (404 otherwise)."""
    return campaign_read(await service.get_campaign(session, ctx, campaign_id))


@router.put("/admin/{id}", summary="ADMIN: Update campaign", response_model=CampaignRead)
async def update_campaign(
    campaign_id: CampaignId,
    session: Session,
    body: CampaignUpdate = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> CampaignRead:
    """`name` is required; the other fields change only when sent (`null` clears an optional
    one; `startDate` cannot be null). `endDate` must stay after `startDate`."""
    return campaign_read(await service.update_campaign(session, ctx, campaign_id, body.changes()))


@router.delete("/admin/{id}", summary="ADMIN: Delete campaign", response_model=bool)
async def delete_campaign(
    campaign_id: CampaignId, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> bool:
    """Soft delete: the campaign disappears from every list and lookup (404) and cannot be
    claimed again; its claims and their history stay."""
    return await service.delete_campaign(session, ctx, campaign_id)


@router.put(
    "/admin/{id}/activate", summary="ADMIN: Toggle activate campaign", response_model=CampaignRead
)
async def toggle_active(
    campaign_id: CampaignId, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> CampaignRead:
    """Activate / deactivate campaign."""
    return campaign_read(await service.toggle_active(session, ctx, campaign_id))


@router.put(
    "/admin/{id}/environment",
    summary="ADMIN: Toggle testnet campaign",
    response_model=CampaignRead,
)
async def toggle_environment(
    campaign_id: CampaignId, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> CampaignRead:
    """Set campaign to testnet or mainnet (flips `isTestnet`). Moving to mainnet needs every
    token it rewards to have a mainnet address (422 `TOKEN_NOT_ON_MAINNET`)."""
    return campaign_read(await service.toggle_environment(session, ctx, campaign_id))


@router.post(
    "/admin/{id}/token-units",
    summary="ADMIN: Add campaign token",
    response_model=CampaignRead,
    status_code=201,
)
async def add_token_unit(
    campaign_id: CampaignId,
    body: TokenUnitWrite,
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
) -> CampaignRead:
    """Reward a token with each claim. ERC20: `amount` in token units (up to the token's
    decimals), no `tokenMetadataIncrementalId`. ERC1155: the item's
    `tokenMetadataIncrementalId`, a whole `amount`. ERC721: the item, `amount` 1. One unit per
    token item (409 `TOKEN_UNIT_ALREADY_EXISTS`)."""
    detail = await service.add_token_unit(
        session,
        ctx,
        campaign_id,
        token_id=body.token_id,
        amount=body.amount,
        token_metadata_incremental_id=body.token_metadata_incremental_id,
        max_amount=body.max_amount,
    )
    return campaign_read(detail)


@router.put(
    "/admin/{id}/token-units/{tokenUnitId}",
    summary="ADMIN: Update campaign token",
    response_model=CampaignRead,
)
async def update_token_unit(
    campaign_id: CampaignId,
    session: Session,
    unit_id: uuid.UUID = Path(alias="tokenUnitId"),
    body: TokenUnitWrite = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> CampaignRead:
    """`tokenId` and `amount` are required; `tokenMetadataIncrementalId` and `maxAmount`
    change only when sent (`null` clears them). Checked as a new unit would be."""
    detail = await service.update_token_unit(session, ctx, campaign_id, unit_id, body.changes())
    return campaign_read(detail)


@router.delete(
    "/admin/{id}/token-units/{tokenUnitId}",
    summary="ADMIN: Remove campaign token",
    response_model=CampaignRead,
)
async def remove_token_unit(
    campaign_id: CampaignId,
    session: Session,
    unit_id: uuid.UUID = Path(alias="tokenUnitId"),
    ctx: RequestContext = Depends(ADMIN),
) -> CampaignRead:
    """The campaign stops rewarding this token unit."""
    return campaign_read(await service.remove_token_unit(session, ctx, campaign_id, unit_id))


@router.put(
    "/admin/{id}/trigger/{triggerId}",
    summary="ADMIN: Set campaign trigger",
    response_model=CampaignRead,
)
async def set_trigger(
    campaign_id: CampaignId,
    session: Session,
    trigger_id: uuid.UUID = Path(alias="triggerId"),
    ctx: RequestContext = Depends(ADMIN),
) -> CampaignRead:
    """Set the campaign's trigger (replacing the current one)."""
    return campaign_read(await service.set_trigger(session, ctx, campaign_id, trigger_id))


@router.post(
    "/admin/{id}/business-engagement",
    summary="ADMIN: Add business engagement to campaign",
    response_model=CampaignRead,
    status_code=201,
)
async def add_engagement(
    campaign_id: CampaignId,
    body: EngagementWrite,
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
) -> CampaignRead:
    """Engage businesses of the tenant in the campaign, with per-user limits at each of them.
    A business is in at most one engagement of a campaign (409 `BUSINESS_ALREADY_ENGAGED`)."""
    detail = await service.add_engagement(
        session,
        ctx,
        campaign_id,
        business_ids=body.business_ids,
        short_description=body.short_description,
        max_per_bussiness=body.max_per_bussiness,
        max_per_day=body.max_per_day,
    )
    return campaign_read(detail)


@router.put(
    "/admin/{id}/business-engagement/{businessEngagementId}",
    summary="ADMIN: Update business engagement in campaign",
    response_model=CampaignRead,
)
async def update_engagement(
    campaign_id: CampaignId,
    session: Session,
    engagement_id: uuid.UUID = Path(alias="businessEngagementId"),
    body: EngagementWrite = Body(),
    ctx: RequestContext = Depends(ADMIN),
) -> CampaignRead:
    """`businessIds` replaces the engaged businesses; `shortDescription`, `maxPerBussiness`
    and `maxPerDay` change only when sent (`null` clears them)."""
    detail = await service.update_engagement(
        session,
        ctx,
        campaign_id,
        engagement_id,
        business_ids=body.business_ids,
        changes=body.changes(),
    )
    return campaign_read(detail)


@router.delete(
    "/admin/{id}/business-engagement/{businessEngagementId}",
    summary="ADMIN: Remove business engagement from campaign",
    response_model=CampaignRead,
)
async def remove_engagement(
    campaign_id: CampaignId,
    session: Session,
    engagement_id: uuid.UUID = Path(alias="businessEngagementId"),
    ctx: RequestContext = Depends(ADMIN),
) -> CampaignRead:
    """End the engagement; its businesses may be engaged again."""
    return campaign_read(await service.remove_engagement(session, ctx, campaign_id, engagement_id))
