"""Claiming a campaign's reward, and the claim history.

A claim passes, in order: the campaign (live, active, running, of the request's environment,
with a trigger whose ``triggerType`` admits the caller), the user (named by the caller, created
when a system or business names one not seen before), the business (engaged in the campaign),
the multiplier, the distance to the business, the user's required profile fields, the trigger's
conditions on ``conditionsData``, and last the counted limits: maxPerUser, maxPerDay (UTC day)
and the cooldown on the user's counter for the campaign, then maxPerBussiness and the
engagement's maxPerDay on the user's counter at that business. Each counter is one conditional
upsert on the claiming user's own row, so limits are exact under concurrency and no row is
shared by all claimers of a campaign.

Every claim is one completion; with a ``completionThreshold`` of N only every N-th completion
mints. A rewarded claim mints each token unit (``amount x multiplier``, at most ``maxAmount``)
to the user as its own MINT transaction with the claim's id as ``triggerProcessId``. The claim,
its counters and its transactions commit together or not at all.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation, localcontext
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import Principal, PrincipalKind, RequestContext
from pers.auth.errors import PrincipalNotAllowed
from pers.auth.service import FastCredential
from pers.businesses import service as businesses_service
from pers.businesses.errors import BusinessNotFound
from pers.businesses.models import Business
from pers.campaigns import service as campaigns_service
from pers.campaigns.errors import CampaignNotFound
from pers.campaigns.models import (
    Campaign,
    CampaignTrigger,
    ConditionType,
    RequiredUserInfo,
    TriggerCondition,
    TriggerType,
)
from pers.campaigns.service import CampaignDetail, TokenUnitDetail
from pers.claims import repository
from pers.claims.errors import (
    BusinessLocationUnknown,
    BusinessMismatch,
    BusinessNotEngaged,
    CampaignEnded,
    CampaignHasNoTrigger,
    CampaignNotActive,
    CampaignNotStarted,
    CampaignWrongEnvironment,
    ClaimerNotAllowed,
    ConditionNotMet,
    CooldownActive,
    InvalidMultiplier,
    LocationRequired,
    MaxPerBusinessReached,
    MaxPerDayAtBusinessReached,
    MaxPerDayReached,
    MaxPerUserReached,
    MultiplierAboveMaximum,
    RewardTokenNotActive,
    TooFarFromBusiness,
    UserIdentifierRequired,
    UserInfoMissing,
    UserNotActive,
)
from pers.claims.models import CAMPAIGN_SCOPE, CampaignClaim, ClaimedBy
from pers.claims.repository import Limits
from pers.errors import PersError
from pers.kit.amounts import MAX_BASE_UNITS, ExactFloat
from pers.kit.ids import uuid7
from pers.runtime import Runtime
from pers.tokens.models import TokenType
from pers.tokens.service import TokenView
from pers.transactions import service as transactions_service
from pers.transactions.models import Transaction, TriggerProcessType
from pers.users import service as users_service
from pers.users.models import User, UserIdentifier

EARTH_RADIUS_METERS = 6_371_008.8  # mean radius (IUGG)

_TRIGGER_OF: dict[ClaimedBy, TriggerType] = {
    ClaimedBy.USER: TriggerType.CLAIM_BY_USER,
    ClaimedBy.SYSTEM: TriggerType.CLAIM_BY_SYSTEM,
    ClaimedBy.BUSINESS: TriggerType.CLAIM_BY_BUSINESS,
}
_PROCESS_OF: dict[ClaimedBy, TriggerProcessType] = {
    ClaimedBy.USER: TriggerProcessType.CAMPAIGN_USER_CLAIM,
    ClaimedBy.SYSTEM: TriggerProcessType.CAMPAIGN_SYSTEM_CLAIM,
    ClaimedBy.BUSINESS: TriggerProcessType.CAMPAIGN_BUSINESS_CLAIM,
}
_PROFILE_FIELD: dict[RequiredUserInfo, str] = {
    RequiredUserInfo.ID: "id",
    RequiredUserInfo.EMAIL: "email",
    RequiredUserInfo.INSTAGRAM_ACCOUNT_ID: "instagram_account_id",
    RequiredUserInfo.EXTERNAL_ID: "external_id",
    RequiredUserInfo.FIRST_NAME: "first_name",
    RequiredUserInfo.LAST_NAME: "last_name",
    RequiredUserInfo.ACCOUNT_ADDRESS: "account_address",
    RequiredUserInfo.PUBLIC_PROFILE: "public_profile",
    RequiredUserInfo.CUSTOM_DATA: "custom_data",
    RequiredUserInfo.IS_ACTIVE: "is_active",
}


@dataclass(frozen=True)
class ClaimRequest:
    campaign_id: uuid.UUID
    conditions_data: Mapping[str, Any] | None = None
    multiplier: Decimal | None = None
    business_id: uuid.UUID | None = None
    latitude: float | None = None
    longitude: float | None = None
    user_identifier: UserIdentifier | None = None
    # The user lookup fields of system and business claims, by UserIdentifier.
    user_fields: Mapping[UserIdentifier, str] | None = None
    start_date: Any = None
    end_date: Any = None


@dataclass(frozen=True)
class ClaimRecord:
    """A claim as the API shows it: with its user, campaign and business."""

    claim: CampaignClaim
    user: User
    campaign: CampaignDetail
    business: Business | None
    transactions: tuple[Transaction, ...] = ()


def _claimed_by(ctx: RequestContext) -> ClaimedBy:
    match ctx.principal.kind:
        case PrincipalKind.USER:
            return ClaimedBy.USER
        case PrincipalKind.SYSTEM:
            return ClaimedBy.SYSTEM
        case PrincipalKind.BUSINESS:
            return ClaimedBy.BUSINESS
    raise PrincipalNotAllowed("claims are made by a user, a system key or a business")


def _check_campaign(ctx: RequestContext, campaign: Campaign) -> None:
    if campaign.environment is not ctx.env:
        raise CampaignWrongEnvironment(
            f"the campaign runs on {campaign.environment.value}, the credentials are for "
            f"{ctx.env.value}"
        )
    if not campaign.is_active:
        raise CampaignNotActive(f"campaign {campaign.id} is not active")
    if ctx.now < campaign.start_date:
        raise CampaignNotStarted(f"the campaign starts at {campaign.start_date.isoformat()}")
    if campaign.end_date is not None and ctx.now > campaign.end_date:
        raise CampaignEnded(f"the campaign ended at {campaign.end_date.isoformat()}")


def _check_trigger(detail: CampaignDetail, by: ClaimedBy) -> CampaignTrigger:
    if detail.trigger is None:
        raise CampaignHasNoTrigger(f"campaign {detail.campaign.id} has no trigger")
    trigger = detail.trigger.trigger
    if trigger.trigger_type is not _TRIGGER_OF[by]:
        raise ClaimerNotAllowed(
            f"this campaign is claimed by {trigger.trigger_type.value}, not by a "
            f"{by.value.lower()}",
            triggerType=trigger.trigger_type.value,
        )
    return trigger


async def _user(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, by: ClaimedBy, request: ClaimRequest
) -> User:
    if by is ClaimedBy.USER:
        user_id = users_service.own_id(ctx)
    else:
        identifier, value = _named_user(request)
        view = await users_service.resolve_user(
            session, rt, ctx, identifier=identifier, value=value, create=True
        )
        user_id = view.id
    users = await users_service.users_by_ids(session, ctx, [user_id])
    user = users[user_id]
    if not user.is_active:
        raise UserNotActive(f"user {user.id} is deactivated")
    return user


def _named_user(request: ClaimRequest) -> tuple[UserIdentifier, str]:
    """``userIdentifier`` says which lookup field names the user; without it, the one field
    sent (id, email, externalId or instagramAccountId) does."""
    fields = {k: v for k, v in (request.user_fields or {}).items() if v is not None}
    if request.user_identifier is not None:
        value = fields.get(request.user_identifier)
        if value is None or not value.strip():
            raise UserIdentifierRequired(
                f"userIdentifier is {request.user_identifier.value}: send that field",
                errors=[
                    {
                        "field": request.user_identifier.value,
                        "message": "required by userIdentifier",
                        "type": "missing",
                    }
                ],
            )
        return request.user_identifier, value.strip()
    if len(fields) == 1:
        ((identifier, value),) = fields.items()
        return identifier, value.strip()
    raise UserIdentifierRequired(
        "name the user: userIdentifier and one of id, email, externalId, instagramAccountId",
        errors=[{"field": "userIdentifier", "message": "required", "type": "missing"}],
    )


async def _business(
    session: AsyncSession, ctx: RequestContext, by: ClaimedBy, request: ClaimRequest
) -> Business | None:
    business_id = request.business_id
    if by is ClaimedBy.BUSINESS:
        caller = ctx.principal.id
        if business_id is not None and business_id != caller:
            raise BusinessMismatch(f"businessId {business_id} is not the calling business")
        business_id = caller
    if business_id is None:
        return None
    view = await businesses_service.get_active_business(session, ctx, business_id)
    (business,) = await businesses_service.businesses_by_ids(session, ctx, [view.id])
    return business


def _multiplier(trigger: CampaignTrigger, requested: Decimal | None) -> Decimal:
    multiplier = Decimal(1) if requested is None else Decimal(requested)
    if not multiplier.is_finite() or multiplier <= 0:
        raise InvalidMultiplier(
            "multiplier must be above 0",
            errors=[{"field": "multiplier", "message": "must be above 0", "type": "value_error"}],
        )
    if trigger.max_multiplier is not None and multiplier > trigger.max_multiplier:
        raise MultiplierAboveMaximum(
            f"multiplier {multiplier} is above the maximum {trigger.max_multiplier}",
            maxMultiplier=float(trigger.max_multiplier),
        )
    return multiplier


def distance_meters(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) on a sphere of the Earth's mean radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_METERS * math.asin(min(1.0, math.sqrt(h)))


def _check_distance(
    trigger: CampaignTrigger, business: Business | None, request: ClaimRequest
) -> None:
    limit = trigger.max_geo_distance_in_meters
    if limit is None:
        return
    if business is None or request.latitude is None or request.longitude is None:
        raise LocationRequired(f"the trigger allows claims within {limit} m of an engaged business")
    if business.coords_latitude is None or business.coords_longitude is None:
        raise BusinessLocationUnknown(f"business {business.id} has no coordinates")
    distance = distance_meters(
        request.latitude, request.longitude, business.coords_latitude, business.coords_longitude
    )
    if distance > limit:
        raise TooFarFromBusiness(
            f"the claim is {distance:.0f} m from the business; the trigger allows {limit} m",
            distanceInMeters=round(distance, 1),
            maxGeoDistanceInMeters=limit,
        )


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str | dict | list):
        return len(value) > 0
    if isinstance(value, bool):
        return value
    return True


def _check_user_info(trigger: CampaignTrigger, user: User) -> None:
    missing = [
        name
        for name in trigger.required_user_info
        if not _present(getattr(user, _PROFILE_FIELD[RequiredUserInfo(name)]))
    ]
    if missing:
        raise UserInfoMissing(
            f"the user's profile lacks: {', '.join(missing)}", missingUserInfo=missing
        )


# --- conditions ------------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    """A JSON number, or a string holding one, as an exact Decimal; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, ExactFloat):
        return Decimal(value.text)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values, numbers compared as numbers (1 == 1.0); a numeric string is a
    string, and a boolean is no number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if not isinstance(a, str) and not isinstance(b, str):
        na, nb = _number(a), _number(b)
        if na is not None and nb is not None:
            return na == nb
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def condition_holds(condition_type: ConditionType, expected: Any, data: Any) -> bool:
    """Does the claim's value ``data`` pass a condition whose value is ``expected``?"""
    match condition_type:
        case ConditionType.EQUALS:
            return _same(data, expected)
        case ConditionType.NOT_EQUALS:
            return not _same(data, expected)
        case ConditionType.GREATER_THAN | ConditionType.LESS_THAN:
            got, bound = _number(data), _number(expected)
            if got is None or bound is None:
                return False
            return got > bound if condition_type is ConditionType.GREATER_THAN else got < bound
        case ConditionType.CONTAINS:
            if isinstance(data, str):
                needle = expected if isinstance(expected, str) else _text(expected)
                return needle is not None and needle in data
            if isinstance(data, list):
                return any(_same(item, expected) for item in data)
            return False
        case ConditionType.IS_PART_OF:
            return isinstance(expected, list) and any(_same(data, item) for item in expected)


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    number = _number(value)
    return None if number is None else str(value)


def _check_conditions(
    conditions: Sequence[TriggerCondition], data: Mapping[str, Any] | None
) -> None:
    data = data or {}
    for condition in conditions:
        if condition.key not in data or not condition_holds(
            condition.condition_type, condition.value, data[condition.key]
        ):
            raise ConditionNotMet(
                f"condition {condition.condition_type.value} on {condition.key!r} does not hold",
                conditionId=str(condition.id),
                key=condition.key,
                conditionType=condition.condition_type.value,
            )


# --- limits ----------------------------------------------------------------------------------


async def _count(
    session: AsyncSession,
    ctx: RequestContext,
    campaign_id: uuid.UUID,
    user_id: uuid.UUID,
    trigger: CampaignTrigger,
    business: Business | None,
    engagement_limits: Limits | None,
) -> int:
    """Count the claim on the user's counters; the campaign-wide count is returned."""
    limits = Limits(trigger.max_per_user, trigger.max_per_day, trigger.min_cooldown_seconds)
    total = await repository.count_claim(
        session, tenant_id=ctx.tenant, campaign_id=campaign_id, user_id=user_id,
        scope=CAMPAIGN_SCOPE, now=ctx.now, limits=limits,
    )  # fmt: skip
    if total is None:
        await _refusal(session, ctx, campaign_id, user_id, CAMPAIGN_SCOPE, limits, at=None)
    if business is not None and engagement_limits is not None:
        at_business = await repository.count_claim(
            session, tenant_id=ctx.tenant, campaign_id=campaign_id, user_id=user_id,
            scope=business.id, now=ctx.now, limits=engagement_limits,
        )  # fmt: skip
        if at_business is None:
            await _refusal(
                session, ctx, campaign_id, user_id, business.id, engagement_limits, at=business
            )
    assert total is not None
    return total


async def _refusal(
    session: AsyncSession,
    ctx: RequestContext,
    campaign_id: uuid.UUID,
    user_id: uuid.UUID,
    scope: uuid.UUID,
    limits: Limits,
    *,
    at: Business | None,
) -> None:
    """Raise the rule the counter refused the claim for (the row is locked: it is current)."""
    state = await repository.counter_state(
        session, tenant_id=ctx.tenant, campaign_id=campaign_id, user_id=user_id, scope=scope
    )
    if state is None:  # pragma: no cover - a refusal always finds the row it refused on
        raise RuntimeError("claim counter vanished")
    if limits.max_total is not None and state.total >= limits.max_total:
        if at is not None:
            raise MaxPerBusinessReached(
                f"{state.total} claims at business {at.id}; the limit is {limits.max_total}",
                maxPerBussiness=limits.max_total,
            )
        raise MaxPerUserReached(
            f"{state.total} claims; the limit is {limits.max_total}", maxPerUser=limits.max_total
        )
    if (
        limits.max_per_day is not None
        and state.day == ctx.now.astimezone(UTC).date()
        and state.day_count >= limits.max_per_day
    ):
        if at is not None:
            raise MaxPerDayAtBusinessReached(
                f"{state.day_count} claims at business {at.id} today; the limit is "
                f"{limits.max_per_day}",
                maxPerDay=limits.max_per_day,
            )
        raise MaxPerDayReached(
            f"{state.day_count} claims today; the limit is {limits.max_per_day}",
            maxPerDay=limits.max_per_day,
        )
    seconds = limits.cooldown_seconds or 0
    wait = seconds - (ctx.now - state.last_claim_at).total_seconds()
    raise CooldownActive(
        f"the last claim was less than {seconds} s ago; retry in {math.ceil(wait)} s",
        minCooldownSeconds=seconds,
        retryAfterSeconds=max(1, math.ceil(wait)),
    )


# --- minting ---------------------------------------------------------------------------------


def reward_units(unit: TokenUnitDetail, token_type: TokenType, multiplier: Decimal) -> int:
    """What a token unit mints for one claim: ``amount x multiplier`` base units rounded down,
    at most ``maxAmount``; an ERC721 unit mints one id."""
    if token_type is TokenType.ERC721:
        return 1
    with localcontext() as exact:
        exact.prec = 160
        scaled = (Decimal(unit.unit.amount) * multiplier).to_integral_value(rounding=ROUND_FLOOR)
    units = int(scaled)
    if unit.unit.max_amount is not None:
        units = min(units, unit.unit.max_amount)
    return units


async def _mint(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    detail: CampaignDetail,
    user: User,
    business: Business | None,
    multiplier: Decimal,
    claim_id: uuid.UUID,
    by: ClaimedBy,
) -> list[Transaction]:
    minted: list[Transaction] = []
    for unit in detail.token_units:
        if unit.token is None or not unit.token.token.is_active:
            raise RewardTokenNotActive(f"token {unit.unit.token_id} is not active")
        token = unit.token.token
        amount = reward_units(unit, token.type, multiplier)
        if amount <= 0:
            raise InvalidMultiplier(
                f"multiplier {multiplier} leaves less than one base unit of token {token.id}",
                errors=[
                    {"field": "multiplier", "message": "rewards round to 0", "type": "value_error"}
                ],
            )
        if amount > MAX_BASE_UNITS:
            raise InvalidMultiplier(
                f"multiplier {multiplier} makes more of token {token.id} than a token can hold",
                errors=[
                    {
                        "field": "multiplier",
                        "message": "rewards above 2**256 - 1 base units",
                        "type": "value_error",
                    }
                ],
            )
        tx = await transactions_service.mint_reward(
            session, rt, ctx, token=token,
            metadata_id=unit.unit.token_metadata_incremental_id, amount=amount,
            user=users_service.user_view(user), trigger=_PROCESS_OF[by],
            trigger_process_id=str(claim_id),
            engaged_business_id=None if business is None else business.id,
        )  # fmt: skip
        minted.append(tx)
    return minted


# --- the claim -------------------------------------------------------------------------------


async def claim(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, request: ClaimRequest
) -> ClaimRecord:
    by = _claimed_by(ctx)
    detail = await campaigns_service.get_claimable_campaign(session, ctx, request.campaign_id)
    campaign = detail.campaign
    _check_campaign(ctx, campaign)
    trigger = _check_trigger(detail, by)
    user = await _user(session, rt, ctx, by, request)
    business = await _business(session, ctx, by, request)
    engagement_limits = None
    if business is not None:
        engagement = await campaigns_service.find_engagement(session, ctx, campaign.id, business.id)
        if engagement is None:
            raise BusinessNotEngaged(f"business {business.id} is not engaged in this campaign")
        engagement_limits = Limits(engagement.max_per_bussiness, engagement.max_per_day, None)
    multiplier = _multiplier(trigger, request.multiplier)
    _check_distance(trigger, business, request)
    _check_user_info(trigger, user)
    assert detail.trigger is not None
    _check_conditions(detail.trigger.conditions, request.conditions_data)

    completion = await _count(
        session, ctx, campaign.id, user.id, trigger, business, engagement_limits
    )
    threshold = trigger.completion_threshold
    rewarded = threshold is None or completion % threshold == 0
    claim_id = uuid7()
    minted = (
        await _mint(session, rt, ctx, detail, user, business, multiplier, claim_id, by)
        if rewarded
        else []
    )
    row = CampaignClaim(
        tenant_id=ctx.tenant,
        id=claim_id,
        environment=ctx.env,
        campaign_id=campaign.id,
        trigger_id=trigger.id,
        user_id=user.id,
        business_id=None if business is None else business.id,
        claimed_by=by,
        claimer_id=None if by is ClaimedBy.USER else ctx.principal.id,
        conditions_data=None if request.conditions_data is None else dict(request.conditions_data),
        multiplier=multiplier,
        latitude=request.latitude,
        longitude=request.longitude,
        start_date=request.start_date,
        end_date=request.end_date,
        completion_count=completion,
        completion_threshold=threshold,
        rewarded=rewarded,
        transaction_ids=[t.id for t in minted],
        created_at=ctx.now,
    )
    await repository.add(session, row)
    return ClaimRecord(row, user, detail, business, tuple(minted))


# --- the fast lane (docs/decisions.md, "The fast lane") ----------------------------------------


async def fast_claim(
    rt: Runtime,
    credential: FastCredential,
    *,
    project_key: str,
    request: ClaimRequest,
    now: datetime,
) -> ClaimRecord | None:
    """:func:`claim` by a user or a system key, when everything holds, in one statement; None
    (with nothing written) for anything else, which the regular path then answers.

    The rules that read only the campaign and the request run here, on the cached campaign
    detail, with the same functions :func:`claim` uses; the statement confirms the detail is
    current (the catalog version), checks the credential and the user, and counts the claim
    with the regular path's counter statement. Not taken: claims at a business, triggers that
    require user info, reward tokens other than ERC20, and any refusal."""
    if credential.principal is PrincipalKind.USER:
        by = ClaimedBy.USER
    elif credential.principal is PrincipalKind.SYSTEM:
        by = ClaimedBy.SYSTEM
    else:
        return None
    if request.business_id is not None:
        return None
    # The user, or the system key (its id), as authentication names them.
    principal = Principal(credential.principal, credential.subject_id)
    ctx = RequestContext(
        tenant_id=credential.tenant_id, environment=credential.environment,
        principal=principal, now=now, request_id="",
    )  # fmt: skip
    cached = campaigns_service.peek_claimable_campaign(ctx, request.campaign_id)
    if cached is None:
        return None
    version, detail = cached
    try:
        _check_campaign(ctx, detail.campaign)
        trigger = _check_trigger(detail, by)
        if trigger.required_user_info or detail.trigger is None:
            return None
        multiplier = _multiplier(trigger, request.multiplier)
        _check_distance(trigger, None, request)
        _check_conditions(detail.trigger.conditions, request.conditions_data)
        if by is ClaimedBy.USER:
            lookup = users_service.lookup_key(UserIdentifier.ID, str(credential.subject_id))
        else:
            lookup = users_service.lookup_key(*_named_user(request))
    except PersError:
        return None
    if lookup is None:
        return None
    column, value = lookup
    if not isinstance(request.start_date, datetime | None) or not isinstance(
        request.end_date, datetime | None
    ):
        return None
    tokens: list[TokenView] = []
    amounts: list[int] = []
    for unit in detail.token_units:
        token = None if unit.token is None else unit.token.token
        if token is None or not token.is_active or token.type is not TokenType.ERC20:
            return None
        amount = reward_units(unit, token.type, multiplier)
        if amount <= 0 or amount > MAX_BASE_UNITS:
            return None
        tokens.append(token)
        amounts.append(amount)
    found = await repository.fast_claim(
        rt.db,
        repository.FastClaim(
            tenant_id=ctx.tenant, environment=ctx.env, check=credential.check,
            subject_id=credential.subject_id, key_hash=credential.key_hash,
            key_type=credential.key_type, project_key=project_key,
            touch_before=credential.touch_before, catalog_version=version,
            user_column=column, user_value=value, campaign_id=detail.campaign.id,
            trigger_id=trigger.id, scope=CAMPAIGN_SCOPE,
            limits=Limits(trigger.max_per_user, trigger.max_per_day,
                          trigger.min_cooldown_seconds),
            threshold=trigger.completion_threshold, claim_id=uuid7(), claimed_by=by,
            claimer_id=None if by is ClaimedBy.USER else credential.subject_id,
            conditions_data=(
                None if request.conditions_data is None else dict(request.conditions_data)
            ),
            multiplier=multiplier, latitude=request.latitude, longitude=request.longitude,
            start_date=request.start_date, end_date=request.end_date,
            process_type=_PROCESS_OF[by].value, token_ids=[t.id for t in tokens],
            token_addresses=[t.contract_address for t in tokens],
            token_decimals=[t.decimals for t in tokens], chain_ids=[t.chain_id for t in tokens],
            amounts=amounts, entry_ids=[uuid7() for _ in tokens],
            issuer=transactions_service.issuer_party(rt, ctx).address, now=now,
        ),
    )  # fmt: skip
    if found is None:
        return None
    row, user, minted = found
    return ClaimRecord(row, user, detail, None, tuple(minted))


# --- history ---------------------------------------------------------------------------------


async def history(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    user_id: uuid.UUID | None,
    campaign_id: uuid.UUID | None,
    business_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> list[ClaimRecord]:
    """Claims of the request's environment, newest first, each with its user, campaign (also
    a deleted one) and business."""
    if campaign_id is not None and not await campaigns_service.campaigns_by_ids(
        session, ctx, [campaign_id]
    ):
        raise CampaignNotFound(f"no campaign {campaign_id} in this tenant")
    if business_id is not None and not await businesses_service.businesses_by_ids(
        session, ctx, [business_id]
    ):
        raise BusinessNotFound(f"no business {business_id} in this tenant")
    claims = await repository.list_claims(
        session, ctx.tenant, ctx.env, user_id=user_id, campaign_id=campaign_id,
        business_id=business_id, limit=limit, offset=offset,
    )  # fmt: skip
    users = await users_service.users_by_ids(session, ctx, [c.user_id for c in claims])
    campaigns = await campaigns_service.campaigns_by_ids(
        session, ctx, [c.campaign_id for c in claims]
    )
    businesses = {
        b.id: b
        for b in await businesses_service.businesses_by_ids(
            session, ctx, [c.business_id for c in claims if c.business_id is not None]
        )
    }
    return [
        ClaimRecord(
            claim=c,
            user=users[c.user_id],
            campaign=campaigns[c.campaign_id],
            business=None if c.business_id is None else businesses.get(c.business_id),
        )
        for c in claims
    ]


async def require_user(session: AsyncSession, ctx: RequestContext, user_id: uuid.UUID) -> None:
    await users_service.get_user_view(session, ctx, user_id)
