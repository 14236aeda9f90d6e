"""Campaigns: their lifecycle and environment, the token units they reward, the trigger that
says who claims them and how often, the trigger conditions, and the businesses engaged.

Who sees what: admins see every live campaign in both environments (a campaign lives in one
environment and admins move it); every other principal sees the campaigns of its request's
environment, and only active ones, except tenant systems, which see inactive ones too.

Lock order: a trigger (``FOR SHARE`` to use it, ``FOR UPDATE`` to change it) before the
campaigns that use it; a campaign row (``FOR UPDATE``) before its token units and engagements,
so every change to a campaign's parts is serialized on the campaign. Conditions are locked alone
when they change. Claims never write these rows, so a campaign is not a hot row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.businesses import service as businesses_service
from pers.businesses.errors import BusinessNotFound
from pers.businesses.models import Business
from pers.campaigns import repository
from pers.campaigns.errors import (
    BusinessAlreadyEngaged,
    BusinessEngagementNotFound,
    CampaignNotFound,
    TokenNotOnMainnet,
    TokenUnitExists,
    TokenUnitNotFound,
    TriggerConditionIdTaken,
    TriggerConditionNotFound,
    TriggerNotFound,
)
from pers.campaigns.models import (
    BusinessEngagement,
    Campaign,
    CampaignTokenUnit,
    CampaignTrigger,
    ConditionType,
    TriggerCondition,
    TriggerConditionLink,
    TriggerType,
)
from pers.db import detach
from pers.errors import ValidationFailed
from pers.kit.amounts import from_base_units
from pers.kit.cache import VersionedCache
from pers.kit.enums import Environment
from pers.kit.ids import uuid7
from pers.tenants import service as tenants_service
from pers.tokens import service as tokens_service
from pers.tokens.service import TokenDetail
from pers.transactions import service as transactions_service

SEES_EVERY_ENVIRONMENT = frozenset({PrincipalKind.ADMIN})
SEES_INACTIVE = frozenset({PrincipalKind.ADMIN, PrincipalKind.SYSTEM})
CAMPAIGN_FIELDS = frozenset(
    {
        "name",
        "description",
        "beneficiary_account_address",
        "start_date",
        "end_date",
        "image_url",
        "external_url",
    }
)
TRIGGER_FIELDS = frozenset(
    {
        "name",
        "description",
        "max_per_day",
        "max_per_user",
        "min_cooldown_seconds",
        "max_geo_distance_in_meters",
        "required_user_info",
        "trigger_type",
        "max_multiplier",
        "completion_threshold",
    }
)
ENGAGEMENT_FIELDS = frozenset({"short_description", "max_per_bussiness", "max_per_day"})


@dataclass(frozen=True)
class TriggerDetail:
    trigger: CampaignTrigger
    conditions: tuple[TriggerCondition, ...]


@dataclass(frozen=True)
class TokenUnitDetail:
    """A token unit with its amounts in token units (ERC20: scaled by the token's decimals).
    ``token`` is the token as the campaign's environment sees it."""

    unit: CampaignTokenUnit
    token: TokenDetail | None
    amount: Decimal
    max_amount: Decimal | None


@dataclass(frozen=True)
class EngagementDetail:
    """An engagement: ``business_ids`` all its businesses, ``businesses`` those the caller may
    see (inactive businesses only for admins and systems)."""

    engagement: BusinessEngagement
    business_ids: tuple[uuid.UUID, ...]
    businesses: tuple[Business, ...]


@dataclass(frozen=True)
class CampaignDetail:
    campaign: Campaign
    trigger: TriggerDetail | None
    token_units: tuple[TokenUnitDetail, ...]
    engagements: tuple[EngagementDetail, ...]


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


# --- assembling what the wire shows -------------------------------------------------------


async def _trigger_details(
    session: AsyncSession, ctx: RequestContext, triggers: Sequence[CampaignTrigger]
) -> dict[uuid.UUID, TriggerDetail]:
    pairs = await repository.conditions_of(session, ctx.tenant, [t.id for t in triggers])
    conditions: dict[uuid.UUID, list[TriggerCondition]] = {t.id: [] for t in triggers}
    for trigger_id, condition in pairs:
        conditions[trigger_id].append(condition)
    return {t.id: TriggerDetail(t, tuple(conditions[t.id])) for t in triggers}


async def _unit_details(
    session: AsyncSession,
    ctx: RequestContext,
    units: Sequence[CampaignTokenUnit],
    environments: Mapping[uuid.UUID, Environment],
) -> dict[uuid.UUID, list[TokenUnitDetail]]:
    """Token units by campaign id, each with its token as the campaign's environment sees it."""
    tokens = await tokens_service.tokens_as_seen(
        session, ctx, [(u.token_id, environments[u.campaign_id]) for u in units]
    )
    out: dict[uuid.UUID, list[TokenUnitDetail]] = {}
    for unit in units:
        seen = tokens[(unit.token_id, environments[unit.campaign_id])]
        out.setdefault(unit.campaign_id, []).append(
            TokenUnitDetail(
                unit=unit,
                token=seen.detail,
                amount=from_base_units(unit.amount, seen.decimals),
                max_amount=None
                if unit.max_amount is None
                else from_base_units(unit.max_amount, seen.decimals),
            )
        )
    return out


async def _engagement_details(
    session: AsyncSession, ctx: RequestContext, engagements: Sequence[BusinessEngagement]
) -> dict[uuid.UUID, list[EngagementDetail]]:
    links = await repository.engaged_businesses(session, ctx.tenant, [e.id for e in engagements])
    business_ids: dict[uuid.UUID, list[uuid.UUID]] = {e.id: [] for e in engagements}
    for link in links:
        business_ids[link.engagement_id].append(link.business_id)
    businesses = {
        b.id: b
        for b in await businesses_service.businesses_by_ids(
            session, ctx, [link.business_id for link in links]
        )
    }
    out: dict[uuid.UUID, list[EngagementDetail]] = {}
    for engagement in engagements:
        ids = business_ids[engagement.id]
        visible = [
            businesses[i]
            for i in ids
            if i in businesses and businesses_service.visible_to(ctx, businesses[i])
        ]
        out.setdefault(engagement.campaign_id, []).append(
            EngagementDetail(engagement, tuple(ids), tuple(visible))
        )
    return out


async def _details(
    session: AsyncSession, ctx: RequestContext, campaigns: Sequence[Campaign]
) -> list[CampaignDetail]:
    """Campaigns with their trigger, token units and engagements, in a fixed number of
    statements whatever the number of campaigns."""
    ids = [c.id for c in campaigns]
    trigger_ids = list({c.trigger_id for c in campaigns if c.trigger_id is not None})
    triggers = await _trigger_details(
        session, ctx, await repository.get_triggers(session, ctx.tenant, trigger_ids)
    )
    units = await _unit_details(
        session,
        ctx,
        await repository.units_of(session, ctx.tenant, ids),
        {c.id: c.environment for c in campaigns},
    )
    engagements = await _engagement_details(
        session, ctx, await repository.engagements_of(session, ctx.tenant, ids)
    )
    return [
        CampaignDetail(
            campaign=c,
            trigger=None if c.trigger_id is None else triggers.get(c.trigger_id),
            token_units=tuple(units.get(c.id, ())),
            engagements=tuple(engagements.get(c.id, ())),
        )
        for c in campaigns
    ]


async def _detail(session: AsyncSession, ctx: RequestContext, campaign: Campaign) -> CampaignDetail:
    return (await _details(session, ctx, [campaign]))[0]


# --- campaigns ----------------------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    """Dates are answered in UTC whatever offset they were sent with."""
    return at.astimezone(UTC)


def _check_dates(start: datetime, end: datetime | None) -> None:
    if end is not None and end <= start:
        raise _invalid("body.endDate", "must be after startDate")


def _visible(ctx: RequestContext, campaign: Campaign) -> bool:
    kind = ctx.principal.kind
    if kind not in SEES_EVERY_ENVIRONMENT and campaign.environment is not ctx.env:
        return False
    return campaign.is_active or kind in SEES_INACTIVE


async def _lock_campaign(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID
) -> Campaign:
    """A live campaign of the tenant, in either environment, locked until the end of the
    transaction (admin operations)."""
    campaign = await repository.get_campaign(session, ctx.tenant, campaign_id, for_update=True)
    if campaign is None:
        raise CampaignNotFound(f"no campaign {campaign_id} in this tenant")
    return campaign


async def _touched(
    session: AsyncSession, ctx: RequestContext, campaign: Campaign
) -> CampaignDetail:
    campaign.updated_at = ctx.now
    await repository.flush(session)
    return await _detail(session, ctx, campaign)


async def list_active(session: AsyncSession, ctx: RequestContext) -> list[CampaignDetail]:
    """Active campaigns of the request's environment that have not ended (upcoming ones
    included: their ``startDate`` says when they open)."""
    campaigns = await repository.list_campaigns(
        session, ctx.tenant, env=ctx.env, active=True, running_at=ctx.now
    )
    return await _details(session, ctx, campaigns)


async def list_for_admin(
    session: AsyncSession, ctx: RequestContext, *, active: bool | None
) -> list[CampaignDetail]:
    """Every live campaign of both environments, optionally only active or inactive ones."""
    campaigns = await repository.list_campaigns(
        session, ctx.tenant, env=None, active=active, running_at=None
    )
    return await _details(session, ctx, campaigns)


async def get_campaign(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID
) -> CampaignDetail:
    """A live campaign as the principal may see it (see the module docstring); 404 otherwise."""
    campaign = await repository.get_campaign(session, ctx.tenant, campaign_id)
    if campaign is None or not _visible(ctx, campaign):
        raise CampaignNotFound(f"no campaign {campaign_id} for this request")
    return await _detail(session, ctx, campaign)


async def create_campaign(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    name: str,
    description: str | None = None,
    beneficiary_account_address: str | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    image_url: str | None = None,
    external_url: str | None = None,
) -> CampaignDetail:
    """A new campaign in the request's environment, inactive until toggled (a draft: its
    trigger and token units are set first). ``start_date`` defaults to now."""
    start = _utc(start_date or ctx.now)
    end_date = None if end_date is None else _utc(end_date)
    _check_dates(start, end_date)
    campaign = Campaign(
        tenant_id=ctx.tenant,
        id=uuid7(),
        name=name,
        description=description,
        beneficiary_account_address=beneficiary_account_address,
        start_date=start,
        end_date=end_date,
        image_url=image_url,
        external_url=external_url,
        is_active=False,
        environment=ctx.env,
        trigger_id=None,
        deleted_at=None,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add(session, campaign)
    return await _detail(session, ctx, campaign)


async def update_campaign(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID, changes: Mapping[str, Any]
) -> CampaignDetail:
    """Apply the fields sent; ``None`` clears an optional one (``start_date`` cannot be)."""
    campaign = await _lock_campaign(session, ctx, campaign_id)
    values = {k: v for k, v in changes.items() if k in CAMPAIGN_FIELDS}
    if "start_date" in values and values["start_date"] is None:
        raise _invalid("body.startDate", "cannot be null")
    for name in ("start_date", "end_date"):
        if values.get(name) is not None:
            values[name] = _utc(values[name])
    _check_dates(
        values.get("start_date", campaign.start_date), values.get("end_date", campaign.end_date)
    )
    for name, value in values.items():
        setattr(campaign, name, value)
    return await _touched(session, ctx, campaign)


async def delete_campaign(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID
) -> bool:
    """Soft delete: the campaign is gone from every list and lookup and can never be claimed
    again, but its row, token units and engagements stay for the claims that refer to them."""
    campaign = await _lock_campaign(session, ctx, campaign_id)
    campaign.deleted_at = ctx.now
    campaign.is_active = False
    campaign.updated_at = ctx.now
    await repository.flush(session)
    return True


async def toggle_active(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID
) -> CampaignDetail:
    campaign = await _lock_campaign(session, ctx, campaign_id)
    campaign.is_active = not campaign.is_active
    return await _touched(session, ctx, campaign)


async def toggle_environment(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID
) -> CampaignDetail:
    """Move the campaign between testnet and mainnet. To mainnet only when every token it
    rewards has a mainnet address (422 ``TOKEN_NOT_ON_MAINNET`` naming the others)."""
    campaign = await _lock_campaign(session, ctx, campaign_id)
    if campaign.environment is Environment.TESTNET:
        units = await repository.units_of(session, ctx.tenant, [campaign.id])
        token_ids = list(dict.fromkeys(u.token_id for u in units))
        on_mainnet = await tokens_service.token_details(
            session, ctx, token_ids, env=Environment.MAINNET
        )
        missing = [str(t) for t in token_ids if t not in on_mainnet]
        if missing:
            raise TokenNotOnMainnet(
                f"tokens without a mainnet address: {', '.join(missing)}", tokenIds=missing
            )
        campaign.environment = Environment.MAINNET
    else:
        campaign.environment = Environment.TESTNET
    return await _touched(session, ctx, campaign)


# --- token units --------------------------------------------------------------------------


async def _checked_unit(
    session: AsyncSession,
    ctx: RequestContext,
    campaign: Campaign,
    *,
    token_id: uuid.UUID,
    metadata_id: int | None,
    amount: Decimal,
    max_amount: Decimal | None,
    other_than: uuid.UUID | None = None,
) -> tuple[int, int | None]:
    """Validate a token unit for the campaign; its amount and max amount in base units."""
    checked = await transactions_service.check_reward_unit(
        session, ctx, env=campaign.environment, token_id=token_id, metadata_id=metadata_id,
        amount=amount, max_amount=max_amount, not_on_mainnet=TokenNotOnMainnet,
    )  # fmt: skip
    for unit in await repository.units_of(session, ctx.tenant, [campaign.id]):
        same = (unit.token_id, unit.token_metadata_incremental_id) == (token_id, metadata_id)
        if same and unit.id != other_than:
            raise TokenUnitExists(
                f"token unit {unit.id} already rewards this token", tokenUnitId=str(unit.id)
            )
    return checked.amount, checked.max_amount


async def add_token_unit(
    session: AsyncSession,
    ctx: RequestContext,
    campaign_id: uuid.UUID,
    *,
    token_id: uuid.UUID,
    amount: Decimal,
    token_metadata_incremental_id: int | None = None,
    max_amount: Decimal | None = None,
) -> CampaignDetail:
    campaign = await _lock_campaign(session, ctx, campaign_id)
    units, max_units = await _checked_unit(
        session,
        ctx,
        campaign,
        token_id=token_id,
        metadata_id=token_metadata_incremental_id,
        amount=amount,
        max_amount=max_amount,
    )
    unit = CampaignTokenUnit(
        tenant_id=ctx.tenant,
        id=uuid7(),
        campaign_id=campaign.id,
        token_id=token_id,
        token_metadata_incremental_id=token_metadata_incremental_id,
        amount=units,
        max_amount=max_units,
        removed_at=None,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    try:
        await repository.add(session, unit)
    except repository.UniqueTaken as exc:
        raise TokenUnitExists() from exc
    return await _touched(session, ctx, campaign)


async def _require_unit(
    session: AsyncSession, ctx: RequestContext, campaign: Campaign, unit_id: uuid.UUID
) -> CampaignTokenUnit:
    unit = await repository.get_unit(session, ctx.tenant, campaign.id, unit_id)
    if unit is None:
        raise TokenUnitNotFound(f"campaign {campaign.id} has no token unit {unit_id}")
    return unit


async def update_token_unit(
    session: AsyncSession,
    ctx: RequestContext,
    campaign_id: uuid.UUID,
    unit_id: uuid.UUID,
    changes: Mapping[str, Any],
) -> CampaignDetail:
    """``token_id`` and ``amount`` are always given; ``token_metadata_incremental_id`` and
    ``max_amount`` change only when given (``None`` clears them). The result is validated as
    a whole, as a new unit would be."""
    campaign = await _lock_campaign(session, ctx, campaign_id)
    unit = await _require_unit(session, ctx, campaign, unit_id)
    if "max_amount" in changes:
        max_amount: Decimal | None = changes["max_amount"]
    elif unit.max_amount is None:
        max_amount = None
    else:
        old = await tokens_service.get_token(session, ctx, unit.token_id, env=Environment.TESTNET)
        max_amount = from_base_units(unit.max_amount, old.decimals)
    token_id: uuid.UUID = changes.get("token_id", unit.token_id)
    metadata_id: int | None = changes.get(
        "token_metadata_incremental_id", unit.token_metadata_incremental_id
    )
    units, max_units = await _checked_unit(
        session,
        ctx,
        campaign,
        token_id=token_id,
        metadata_id=metadata_id,
        amount=changes["amount"],
        max_amount=max_amount,
        other_than=unit.id,
    )
    unit.token_id = token_id
    unit.token_metadata_incremental_id = metadata_id
    unit.amount = units
    unit.max_amount = max_units
    unit.updated_at = ctx.now
    return await _touched(session, ctx, campaign)


async def remove_token_unit(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID, unit_id: uuid.UUID
) -> CampaignDetail:
    """The campaign stops rewarding the unit; the row stays (soft removed) for claim history."""
    campaign = await _lock_campaign(session, ctx, campaign_id)
    unit = await _require_unit(session, ctx, campaign, unit_id)
    unit.removed_at = ctx.now
    unit.updated_at = ctx.now
    return await _touched(session, ctx, campaign)


# --- the campaign's trigger ---------------------------------------------------------------


async def set_trigger(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID, trigger_id: uuid.UUID
) -> CampaignDetail:
    """Give the campaign this trigger (replacing its current one)."""
    # The shared lock keeps the trigger from being deleted before this commits.
    trigger = await repository.get_trigger(session, ctx.tenant, trigger_id, lock="share")
    if trigger is None:
        raise TriggerNotFound(f"no trigger {trigger_id} in this tenant")
    campaign = await _lock_campaign(session, ctx, campaign_id)
    campaign.trigger_id = trigger.id
    return await _touched(session, ctx, campaign)


# --- business engagements -----------------------------------------------------------------


async def _check_businesses(
    session: AsyncSession,
    ctx: RequestContext,
    campaign: Campaign,
    business_ids: Sequence[uuid.UUID],
    *,
    engagement_id: uuid.UUID | None,
) -> None:
    found = {b.id for b in await businesses_service.businesses_by_ids(session, ctx, business_ids)}
    unknown = [str(b) for b in business_ids if b not in found]
    if unknown:
        raise BusinessNotFound(
            f"no business {', '.join(unknown)} in this tenant", businessIds=unknown
        )
    taken = await repository.engaged_elsewhere(
        session, ctx.tenant, campaign.id, business_ids, other_than=engagement_id
    )
    if taken:
        names = [str(b) for b in taken]
        raise BusinessAlreadyEngaged(
            f"already engaged in this campaign: {', '.join(names)}", businessIds=names
        )


async def add_engagement(
    session: AsyncSession,
    ctx: RequestContext,
    campaign_id: uuid.UUID,
    *,
    business_ids: Sequence[uuid.UUID],
    short_description: str | None = None,
    max_per_bussiness: int | None = None,
    max_per_day: int | None = None,
) -> CampaignDetail:
    """Engage businesses (active or not: claims check that the business is active) in the
    campaign with shared per-user limits. A business is in at most one engagement of a
    campaign (409 ``BUSINESS_ALREADY_ENGAGED``)."""
    campaign = await _lock_campaign(session, ctx, campaign_id)
    await _check_businesses(session, ctx, campaign, business_ids, engagement_id=None)
    engagement = BusinessEngagement(
        tenant_id=ctx.tenant,
        id=uuid7(),
        campaign_id=campaign.id,
        short_description=short_description,
        max_per_bussiness=max_per_bussiness,
        max_per_day=max_per_day,
        removed_at=None,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await repository.add(session, engagement)
    await _set_businesses(session, ctx, engagement, business_ids)
    return await _touched(session, ctx, campaign)


async def _set_businesses(
    session: AsyncSession,
    ctx: RequestContext,
    engagement: BusinessEngagement,
    business_ids: Sequence[uuid.UUID],
) -> None:
    try:
        await repository.set_engaged_businesses(session, engagement, business_ids, ctx.now)
    except repository.UniqueTaken as exc:
        raise BusinessAlreadyEngaged() from exc


async def _require_engagement(
    session: AsyncSession, ctx: RequestContext, campaign: Campaign, engagement_id: uuid.UUID
) -> BusinessEngagement:
    engagement = await repository.get_engagement(session, ctx.tenant, campaign.id, engagement_id)
    if engagement is None:
        raise BusinessEngagementNotFound(
            f"campaign {campaign.id} has no business engagement {engagement_id}"
        )
    return engagement


async def update_engagement(
    session: AsyncSession,
    ctx: RequestContext,
    campaign_id: uuid.UUID,
    engagement_id: uuid.UUID,
    *,
    business_ids: Sequence[uuid.UUID],
    changes: Mapping[str, Any],
) -> CampaignDetail:
    """``business_ids`` replaces the engagement's businesses; the limits and description
    change only when given (``None`` clears them)."""
    campaign = await _lock_campaign(session, ctx, campaign_id)
    engagement = await _require_engagement(session, ctx, campaign, engagement_id)
    await _check_businesses(session, ctx, campaign, business_ids, engagement_id=engagement.id)
    for name, value in changes.items():
        if name in ENGAGEMENT_FIELDS:
            setattr(engagement, name, value)
    engagement.updated_at = ctx.now
    await repository.flush(session)
    await _set_businesses(session, ctx, engagement, business_ids)
    return await _touched(session, ctx, campaign)


async def remove_engagement(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID, engagement_id: uuid.UUID
) -> CampaignDetail:
    """The engagement ends (soft removed, kept for claim history); its businesses are free to
    be engaged again."""
    campaign = await _lock_campaign(session, ctx, campaign_id)
    engagement = await _require_engagement(session, ctx, campaign, engagement_id)
    engagement.removed_at = ctx.now
    engagement.updated_at = ctx.now
    await repository.flush(session)
    await repository.clear_engaged_businesses(session, ctx.tenant, engagement.id)
    return await _touched(session, ctx, campaign)


# --- triggers -----------------------------------------------------------------------------


async def _trigger_detail(
    session: AsyncSession, ctx: RequestContext, trigger: CampaignTrigger
) -> TriggerDetail:
    return (await _trigger_details(session, ctx, [trigger]))[trigger.id]


async def _lock_trigger(
    session: AsyncSession, ctx: RequestContext, trigger_id: uuid.UUID
) -> CampaignTrigger:
    trigger = await repository.get_trigger(session, ctx.tenant, trigger_id, lock="update")
    if trigger is None:
        raise TriggerNotFound(f"no trigger {trigger_id} in this tenant")
    return trigger


async def list_triggers(session: AsyncSession, ctx: RequestContext) -> list[TriggerDetail]:
    """Every live trigger of the tenant with its conditions, oldest first."""
    triggers = await repository.list_triggers(session, ctx.tenant)
    details = await _trigger_details(session, ctx, triggers)
    return [details[t.id] for t in triggers]


async def create_trigger(
    session: AsyncSession, ctx: RequestContext, fields: Mapping[str, Any]
) -> TriggerDetail:
    """A trigger from ``fields`` (``name`` required; ``trigger_type`` defaults to
    ``CLAIM_BY_USER``; unset limits mean no limit)."""
    values = {k: v for k, v in fields.items() if k in TRIGGER_FIELDS}
    values.setdefault("required_user_info", [])
    if values.get("trigger_type") is None:
        values["trigger_type"] = TriggerType.CLAIM_BY_USER
    trigger = CampaignTrigger(
        tenant_id=ctx.tenant,
        id=uuid7(),
        deleted_at=None,
        created_at=ctx.now,
        updated_at=ctx.now,
        **values,
    )
    await repository.add(session, trigger)
    return TriggerDetail(trigger, ())


async def update_trigger(
    session: AsyncSession, ctx: RequestContext, trigger_id: uuid.UUID, changes: Mapping[str, Any]
) -> TriggerDetail:
    """Apply the fields sent; ``None`` clears an optional one (no limit). The campaigns using
    the trigger follow it."""
    trigger = await _lock_trigger(session, ctx, trigger_id)
    for name, value in changes.items():
        if name in TRIGGER_FIELDS:
            setattr(trigger, name, [] if name == "required_user_info" and value is None else value)
    trigger.updated_at = ctx.now
    await repository.flush(session)
    return await _trigger_detail(session, ctx, trigger)


async def delete_trigger(session: AsyncSession, ctx: RequestContext, trigger_id: uuid.UUID) -> bool:
    """Soft delete the trigger. The campaigns using it lose it (``trigger: null``) in the same
    transaction and cannot be claimed until they are given another one."""
    trigger = await _lock_trigger(session, ctx, trigger_id)
    trigger.deleted_at = ctx.now
    trigger.updated_at = ctx.now
    await repository.flush(session)
    await repository.detach_trigger(session, ctx.tenant, trigger.id, ctx.now)
    return True


async def toggle_trigger_condition(
    session: AsyncSession, ctx: RequestContext, trigger_id: uuid.UUID, condition_id: uuid.UUID
) -> TriggerDetail:
    """Attach the condition to the trigger, or detach it when it is attached."""
    trigger = await _lock_trigger(session, ctx, trigger_id)
    condition = await repository.get_condition(session, ctx.tenant, condition_id)
    if condition is None:
        raise TriggerConditionNotFound(f"no trigger condition {condition_id} in this tenant")
    if not await repository.unlink_condition(session, ctx.tenant, trigger.id, condition.id):
        link = TriggerConditionLink(
            tenant_id=ctx.tenant,
            trigger_id=trigger.id,
            condition_id=condition.id,
            created_at=ctx.now,
        )
        await repository.add(session, link)
    trigger.updated_at = ctx.now
    await repository.flush(session)
    return await _trigger_detail(session, ctx, trigger)


# --- trigger conditions -------------------------------------------------------------------


async def create_condition(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    condition_type: ConditionType,
    key: str,
    value: Any,
    condition_id: uuid.UUID | None = None,
) -> TriggerCondition:
    """A new condition, not attached to any trigger yet. ``condition_id`` lets the caller
    choose its id (409 ``TRIGGER_CONDITION_ID_TAKEN`` when the tenant has it already)."""
    if condition_id is not None and await repository.get_condition(
        session, ctx.tenant, condition_id
    ):
        raise TriggerConditionIdTaken(f"trigger condition {condition_id} exists")
    condition = TriggerCondition(
        tenant_id=ctx.tenant,
        id=condition_id or uuid7(),
        condition_type=condition_type,
        key=key,
        value=value,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    try:
        await repository.add(session, condition)
    except repository.UniqueTaken as exc:
        raise TriggerConditionIdTaken(f"trigger condition {condition.id} exists") from exc
    return condition


async def update_condition(
    session: AsyncSession,
    ctx: RequestContext,
    condition_id: uuid.UUID,
    *,
    condition_type: ConditionType,
    key: str,
    value: Any,
    body_id: uuid.UUID | None = None,
) -> TriggerCondition:
    """Replace the condition; every trigger it is attached to follows. ``body_id``: the id the
    request body names, if any; it must be ``condition_id``."""
    if body_id is not None and body_id != condition_id:
        raise _invalid("body.id", "differs from the id in the path")
    condition = await repository.get_condition(session, ctx.tenant, condition_id, lock="update")
    if condition is None:
        raise TriggerConditionNotFound(f"no trigger condition {condition_id} in this tenant")
    condition.condition_type = condition_type
    condition.key = key
    condition.value = value
    condition.updated_at = ctx.now
    await repository.flush(session)
    return condition


# --- for other packages (claims) ----------------------------------------------------------


async def get_claimable_campaign(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID
) -> CampaignDetail:
    """A live campaign whatever its environment and state, with its trigger (and conditions),
    token units (amounts in token units; ``unit.amount`` in base units) and engagements; 404
    ``CAMPAIGN_NOT_FOUND`` when deleted, missing or another tenant's. The caller checks that it
    is active, running and of the request's environment."""
    version = await tenants_service.catalog_version(session, ctx.tenant)
    key = (ctx.tenant, ctx.env, campaign_id)
    cached = _CLAIMABLE.get(key, version)
    if cached is not None:
        return cached
    campaign = await repository.get_campaign(session, ctx.tenant, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"no campaign {campaign_id} in this tenant")
    detail = await _detail(session, ctx, campaign)
    # Out of this session: its rollback or expiry must not reach what later requests read.
    detach(session, detail)
    _CLAIMABLE.put(key, version, detail)
    return detail


def peek_claimable_campaign(
    ctx: RequestContext, campaign_id: uuid.UUID
) -> tuple[int, CampaignDetail] | None:
    """The cached detail of :func:`get_claimable_campaign` with the catalog version it was
    read at, without asking the database: the fast lane has its statement confirm the version
    (None when nothing is cached; the regular path then reads and caches it)."""
    return _CLAIMABLE.peek((ctx.tenant, ctx.env, campaign_id))


# Claimable campaign details by (tenant, environment, campaign), with the tenant's catalog
# version they were read at: claims read them on every request, and they change only when an
# admin changes the catalog (docs/decisions.md, "Campaign details are cached, revalidated").
# The details are read-only once built; a claim never changes them.
_CLAIMABLE: VersionedCache[tuple[uuid.UUID, Environment, uuid.UUID], CampaignDetail] = (
    VersionedCache(4096)
)


async def campaigns_by_ids(
    session: AsyncSession, ctx: RequestContext, campaign_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, CampaignDetail]:
    """Campaigns by id, deleted ones included (claim history shows the campaign claimed)."""
    campaigns = await repository.get_campaigns(
        session, ctx.tenant, list(dict.fromkeys(campaign_ids)), include_deleted=True
    )
    return {d.campaign.id: d for d in await _details(session, ctx, campaigns)}


async def find_engagement(
    session: AsyncSession, ctx: RequestContext, campaign_id: uuid.UUID, business_id: uuid.UUID
) -> BusinessEngagement | None:
    """The live engagement of the business in the campaign, if any (its limits apply to claims
    at that business)."""
    return await repository.find_engagement(session, ctx.tenant, campaign_id, business_id)
