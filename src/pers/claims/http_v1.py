"""Campaign claims (seed 001, Campaign module): claims by a system, a business and the user,
and the claim history views."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import (
    AwareDatetime,
    Field,
    JsonValue,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.businesses.http_v1 import BusinessRead, business_read
from pers.campaigns.http_v1 import (
    MAX_MULTIPLIER,
    MULTIPLIER_DECIMALS,
    CampaignRead,
    campaign_read,
)
from pers.campaigns.service import CampaignDetail
from pers.claims import service
from pers.claims.service import ClaimRecord, ClaimRequest
from pers.kit.amounts import WireDecimal
from pers.kit.schemas import WireInput, WireModel
from pers.runtime import Runtime
from pers.transactions.http_v1 import TransactionRead
from pers.transactions.http_v1 import read as transaction_read
from pers.users.http_v1 import UserRead, user_read
from pers.users.models import UserIdentifier
from pers.users.service import own_id
from pers.web import Access, PersRoute, get_runtime, get_session

router = APIRouter(prefix="/campaign", route_class=PersRoute, tags=["Campaign"])

ADMIN = Access(PrincipalKind.ADMIN)
SYSTEM = Access(PrincipalKind.SYSTEM)
BUSINESS = Access(PrincipalKind.BUSINESS)
USER = Access(PrincipalKind.USER)
Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]

MAX_CONDITIONS_DATA_KEYS = 100
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class UserClaimBody(WireInput):
    campaign_id: uuid.UUID = Field(description="The campaign id")
    conditions_data: dict[str, JsonValue] | None = Field(
        default=None, description="The campaign condition data"
    )
    multiplier: WireDecimal | None = Field(
        default=None,
        gt=0,
        le=MAX_MULTIPLIER,
        description="The campaign multiplier that will be applied to the reward. Default is 1.0",
    )
    business_id: uuid.UUID | None = Field(default=None, description="Business identifier")
    latitude: float | None = Field(default=None, ge=-90, le=90, description="geolocation latitude")
    longitude: float | None = Field(
        default=None, ge=-180, le=180, description="geolocation longitude"
    )

    @field_validator("multiplier")
    @classmethod
    def _multiplier_scale(cls, value: Decimal | None) -> Decimal | None:
        # Bounded as a trigger's maxMultiplier, so amount x multiplier is computed exactly.
        exponent = None if value is None else value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MULTIPLIER_DECIMALS:
            raise ValueError(f"at most {MULTIPLIER_DECIMALS} decimal places")
        return value

    @field_validator("conditions_data", mode="wrap")
    @classmethod
    def _bounded(
        cls, value: Any, handler: ValidatorFunctionWrapHandler
    ) -> dict[str, JsonValue] | None:
        validated: dict[str, JsonValue] | None = handler(value)
        if validated is not None and len(validated) > MAX_CONDITIONS_DATA_KEYS:
            raise ValueError(f"at most {MAX_CONDITIONS_DATA_KEYS} keys")
        # The body as parsed, once valid: JsonValue would turn its JSON numbers (ExactFloat,
        # which keep their source text) into plain floats, and conditions compare them exactly.
        return value if isinstance(value, dict) else validated


class ClaimForUserBody(UserClaimBody):
    """A system or business claim names the user (created when not seen before)."""

    user_identifier: UserIdentifier | None = Field(
        default=None,
        description="Which field names the user: id, email, instagramAccountId or externalId",
    )
    start_date: AwareDatetime | None = Field(
        default=None, description="The start date of the claim"
    )
    end_date: AwareDatetime | None = Field(default=None, description="The end date of the claim")
    id: str | None = Field(default=None, max_length=255, description="The id of the user")
    email: str | None = Field(default=None, max_length=320, description="The email of the user")
    instagram_account_id: str | None = Field(
        default=None, max_length=255, description="The instagramAccountId of the user"
    )
    external_id: str | None = Field(
        default=None, max_length=255, description="The externalId of the user"
    )


class CompletionRead(WireModel):
    count: int = Field(description="The user's completions of the campaign, this claim included")
    threshold: int | None = Field(
        description="Completions per reward (the trigger's completionThreshold); null: every one"
    )
    rewarded: bool = Field(description="Whether this claim minted the campaign's token units")


class ClaimRead(WireModel):
    id: str = Field(description="The id of the campaign user claim")
    created_at: datetime = Field(description="The date the campaign user claim was created")
    user: UserRead = Field(description="The user that is claiming the campaign")
    campaign: CampaignRead = Field(description="The campaign that the user is claiming")
    business: BusinessRead | None = Field(
        description="The business that the user claimed the campaign for"
    )
    completion: CompletionRead = Field(description="Extension: progress towards the reward")
    transaction_ids: list[str] = Field(
        description="Extension: the MINT transactions of this claim (empty when not rewarded)"
    )


class ClaimedRead(ClaimRead):
    transactions: list[TransactionRead] = Field(
        description="Extension: the MINT transactions this claim made"
    )


# The campaign part of claim answers by the detail it renders: campaign details come from a
# cache (campaigns.service), read-only, so each is rendered once, not once per claim (and its
# JSON, for the fast lane's answers, once too). Each entry keeps its detail, so an id is never
# reused while it is here.
_CampaignEntry = tuple[CampaignDetail, CampaignRead, list[bytes]]  # the JSON, once rendered
_CAMPAIGN_READS: OrderedDict[int, _CampaignEntry] = OrderedDict()
_CAMPAIGN_READS_SIZE = 1024
_CAMPAIGN = TypeAdapter(CampaignRead)
_CLAIMED = TypeAdapter(ClaimedRead)


def _campaign_entry(detail: CampaignDetail) -> _CampaignEntry:
    found = _CAMPAIGN_READS.get(id(detail))
    if found is not None and found[0] is detail:
        return found
    entry: _CampaignEntry = (detail, campaign_read(detail), [])
    _CAMPAIGN_READS[id(detail)] = entry
    if len(_CAMPAIGN_READS) > _CAMPAIGN_READS_SIZE:
        _CAMPAIGN_READS.popitem(last=False)
    return entry


def _campaign_part(detail: CampaignDetail) -> CampaignRead:
    return _campaign_entry(detail)[1]


def claimed_json(record: ClaimRecord) -> bytes:
    """``claimed_read`` as JSON (by alias), with the campaign's JSON rendered once per cached
    detail: the campaign is most of a claim answer (5 of its 6 KB, the token's ABI mostly), and
    serializing it on every claim cost more than the rest of the answer."""
    _, read, rendered = _campaign_entry(record.campaign)
    if not rendered:
        rendered.append(_CAMPAIGN.dump_json(read, by_alias=True))
    rest = _CLAIMED.dump_json(claimed_read(record), by_alias=True, exclude={"campaign"})
    return rest[:-1] + b',"campaign":' + rendered[0] + b"}"


def _claim_fields(record: ClaimRecord) -> dict[str, Any]:
    c = record.claim
    return {
        "id": str(c.id),
        "created_at": c.created_at,
        "user": user_read(record.user),
        "campaign": _campaign_part(record.campaign),
        "business": None if record.business is None else business_read(record.business),
        "completion": CompletionRead(
            count=c.completion_count, threshold=c.completion_threshold, rewarded=c.rewarded
        ),
        "transaction_ids": [str(t) for t in c.transaction_ids],
    }


def claim_read(record: ClaimRecord) -> ClaimRead:
    return ClaimRead(**_claim_fields(record))


def claimed_read(record: ClaimRecord) -> ClaimedRead:
    return ClaimedRead(
        **_claim_fields(record), transactions=[transaction_read(t) for t in record.transactions]
    )


def _request(body: UserClaimBody) -> ClaimRequest:
    extra: dict[str, Any] = {}
    if isinstance(body, ClaimForUserBody):
        extra = {
            "user_identifier": body.user_identifier,
            "user_fields": {
                UserIdentifier.ID: body.id,
                UserIdentifier.EMAIL: body.email,
                UserIdentifier.INSTAGRAM_ACCOUNT_ID: body.instagram_account_id,
                UserIdentifier.EXTERNAL_ID: body.external_id,
            },
            "start_date": body.start_date,
            "end_date": body.end_date,
        }
    return ClaimRequest(
        campaign_id=body.campaign_id,
        conditions_data=body.conditions_data,
        multiplier=body.multiplier,
        business_id=body.business_id,
        latitude=body.latitude,
        longitude=body.longitude,
        **extra,
    )


# --- claims ---------------------------------------------------------------------------------


@router.post("/system/claim", summary="Claim campaign reward by System", status_code=201,
             response_model=ClaimedRead)  # fmt: skip
async def system_claim(
    body: ClaimForUserBody, session: Session, rt: Rt, ctx: RequestContext = Depends(SYSTEM)
) -> ClaimedRead:
    """Claim for a user named by `userIdentifier` (a user not seen before is created). The
    campaign's trigger must be CLAIM_BY_SYSTEM; every rule of the trigger applies."""
    return claimed_read(await service.claim(session, rt, ctx, _request(body)))


@router.post("/business/claim", summary="BUSINESS: Claim campaign reward", status_code=201,
             response_model=ClaimedRead)  # fmt: skip
async def business_claim(
    body: ClaimForUserBody, session: Session, rt: Rt, ctx: RequestContext = Depends(BUSINESS)
) -> ClaimedRead:
    """A business claims for a user at itself: the business must be active and engaged in the
    campaign, whose trigger must be CLAIM_BY_BUSINESS."""
    return claimed_read(await service.claim(session, rt, ctx, _request(body)))


@router.post("/auth/claim", summary="AUTH USER: Claim campaign reward", status_code=201,
             response_model=ClaimedRead)  # fmt: skip
async def user_claim(
    body: UserClaimBody, session: Session, rt: Rt, ctx: RequestContext = Depends(USER)
) -> ClaimedRead:
    """The logged-in user claims; the campaign's trigger must be CLAIM_BY_USER."""
    return claimed_read(await service.claim(session, rt, ctx, _request(body)))


# --- history ----------------------------------------------------------------------------------

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description="Extension: claims per page (newest first)")
]
Page = Annotated[int, Query(ge=1, description="Extension: page number, from 1")]


async def _history(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    user_id: uuid.UUID | None = None,
    campaign_id: uuid.UUID | None = None,
    business_id: uuid.UUID | None = None,
    page: int,
    limit: int,
) -> list[ClaimRead]:
    records = await service.history(
        session, ctx, user_id=user_id, campaign_id=campaign_id, business_id=business_id,
        limit=limit, offset=(page - 1) * limit,
    )  # fmt: skip
    return [claim_read(r) for r in records]


@router.get("/auth/claim", summary="AUTH USER: Get claim history",
            response_model=list[ClaimRead])  # fmt: skip
async def my_claims(
    session: Session,
    ctx: RequestContext = Depends(USER),
    page: Page = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> list[ClaimRead]:
    """The user's claims in the project key's environment, newest first."""
    return await _history(session, ctx, user_id=own_id(ctx), page=page, limit=limit)


CampaignId = Annotated[uuid.UUID, Path(alias="campaignId", description="The campaign id")]
UserId = Annotated[uuid.UUID, Path(alias="userId", description="The user id")]
BusinessId = Annotated[uuid.UUID, Path(alias="businessId", description="The business id")]


@router.get("/auth/{campaignId}/claim", summary="AUTH USER: Get claim history by campaign",
            response_model=list[ClaimRead])  # fmt: skip
async def my_claims_of_campaign(
    campaign_id: CampaignId,
    session: Session,
    ctx: RequestContext = Depends(USER),
    page: Page = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> list[ClaimRead]:
    """The user's claims of one campaign (a deleted one too), newest first."""
    return await _history(
        session, ctx, user_id=own_id(ctx), campaign_id=campaign_id, page=page, limit=limit
    )


@router.get("/admin/claim", summary="ADMIN: Get all campaigns claim history",
            response_model=list[ClaimRead])  # fmt: skip
async def all_claims(
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    page: Page = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> list[ClaimRead]:
    """Every claim of the tenant in the credentials' environment, newest first."""
    return await _history(session, ctx, page=page, limit=limit)


@router.get("/admin/claim/user/{userId}", summary="ADMIN: Get claim history of a user",
            response_model=list[ClaimRead])  # fmt: skip
async def claims_of_user(
    user_id: UserId,
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    page: Page = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> list[ClaimRead]:
    """One user's claims in the credentials' environment, newest first (404 for no such
    user)."""
    await service.require_user(session, ctx, user_id)
    return await _history(session, ctx, user_id=user_id, page=page, limit=limit)


@router.get("/admin/claim/business/{businessId}", summary="ADMIN: Get claim history of a business",
            response_model=list[ClaimRead])  # fmt: skip
async def claims_at_business(
    business_id: BusinessId,
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    page: Page = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> list[ClaimRead]:
    """Claims made at one business (by it, or naming it as `businessId`) in the credentials'
    environment, newest first (404 for no such business)."""
    return await _history(session, ctx, business_id=business_id, page=page, limit=limit)


@router.get("/admin/{campaignId}/claim", summary="ADMIN: Get claim history by campaign",
            response_model=list[ClaimRead])  # fmt: skip
async def claims_of_campaign(
    campaign_id: CampaignId,
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    page: Page = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> list[ClaimRead]:
    """Claims of one campaign (a deleted one too), newest first."""
    return await _history(session, ctx, campaign_id=campaign_id, page=page, limit=limit)
