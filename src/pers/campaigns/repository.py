"""Every SQL statement of the Campaign module; each is filtered by tenant.

Live rows only unless a function says otherwise: deleted campaigns and triggers, removed token
units and engagements are history, kept for the claims that refer to them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pers.campaigns.models import (
    BusinessEngagement,
    Campaign,
    CampaignTokenUnit,
    CampaignTrigger,
    EngagedBusiness,
    TriggerCondition,
    TriggerConditionLink,
)
from pers.kit.enums import Environment


class UniqueTaken(Exception):
    """An insert hit a unique constraint; ``constraint`` names it."""

    def __init__(self, constraint: str | None) -> None:
        super().__init__(constraint)
        self.constraint = constraint


def _constraint(exc: IntegrityError) -> str | None:
    orig: Any = exc.orig
    name = getattr(orig, "constraint_name", None) or getattr(
        getattr(orig, "__cause__", None), "constraint_name", None
    )
    return str(name) if name else None


async def add(session: AsyncSession, row: object) -> None:
    """Insert ``row`` now; a unique violation is :class:`UniqueTaken` and leaves the
    transaction usable."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise UniqueTaken(_constraint(exc)) from exc


async def flush(session: AsyncSession) -> None:
    await session.flush()


# --- campaigns ----------------------------------------------------------------------------


async def get_campaign(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    *,
    for_update: bool = False,
    include_deleted: bool = False,
) -> Campaign | None:
    stmt = select(Campaign).where(Campaign.tenant_id == tenant_id, Campaign.id == campaign_id)
    if not include_deleted:
        stmt = stmt.where(Campaign.deleted_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def get_campaigns(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    campaign_ids: Sequence[uuid.UUID],
    *,
    include_deleted: bool,
) -> list[Campaign]:
    if not campaign_ids:
        return []
    stmt = select(Campaign).where(
        Campaign.tenant_id == tenant_id, Campaign.id.in_(list(campaign_ids))
    )
    if not include_deleted:
        stmt = stmt.where(Campaign.deleted_at.is_(None))
    result = await session.execute(stmt.order_by(Campaign.created_at, Campaign.id))
    return list(result.scalars())


async def list_campaigns(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    env: Environment | None,
    active: bool | None,
    running_at: datetime | None,
) -> list[Campaign]:
    """Live campaigns, oldest first: of ``env`` (None: both), active or not (None: both),
    and with ``running_at`` not past their end (None: ended ones too)."""
    stmt = select(Campaign).where(Campaign.tenant_id == tenant_id, Campaign.deleted_at.is_(None))
    if env is not None:
        stmt = stmt.where(Campaign.environment == env)
    if active is not None:
        stmt = stmt.where(Campaign.is_active.is_(active))
    if running_at is not None:
        stmt = stmt.where(or_(Campaign.end_date.is_(None), Campaign.end_date > running_at))
    result = await session.execute(stmt.order_by(Campaign.created_at, Campaign.id))
    return list(result.scalars())


async def detach_trigger(
    session: AsyncSession, tenant_id: uuid.UUID, trigger_id: uuid.UUID, now: datetime
) -> int:
    """Live campaigns using the trigger lose it (``trigger: null``); returns how many."""
    result = await session.execute(
        update(Campaign)
        .where(
            Campaign.tenant_id == tenant_id,
            Campaign.trigger_id == trigger_id,
            # A deleted campaign keeps its trigger: its history shows what it was claimed by.
            Campaign.deleted_at.is_(None),
        )
        .values(trigger_id=None, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- triggers and conditions --------------------------------------------------------------


async def get_trigger(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    trigger_id: uuid.UUID,
    *,
    lock: str | None = None,
) -> CampaignTrigger | None:
    """A live trigger; ``lock`` is ``"update"`` or ``"share"`` (kept until the transaction
    ends: a shared lock keeps the trigger from being deleted meanwhile)."""
    stmt = select(CampaignTrigger).where(
        CampaignTrigger.tenant_id == tenant_id,
        CampaignTrigger.id == trigger_id,
        CampaignTrigger.deleted_at.is_(None),
    )
    if lock == "update":
        stmt = stmt.with_for_update()
    elif lock == "share":
        stmt = stmt.with_for_update(read=True)
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def get_triggers(
    session: AsyncSession, tenant_id: uuid.UUID, trigger_ids: Sequence[uuid.UUID]
) -> list[CampaignTrigger]:
    """Triggers by id, deleted ones too (a deleted campaign's history may name one)."""
    if not trigger_ids:
        return []
    result = await session.execute(
        select(CampaignTrigger).where(
            CampaignTrigger.tenant_id == tenant_id, CampaignTrigger.id.in_(list(trigger_ids))
        )
    )
    return list(result.scalars())


async def list_triggers(session: AsyncSession, tenant_id: uuid.UUID) -> list[CampaignTrigger]:
    result = await session.execute(
        select(CampaignTrigger)
        .where(CampaignTrigger.tenant_id == tenant_id, CampaignTrigger.deleted_at.is_(None))
        .order_by(CampaignTrigger.created_at, CampaignTrigger.id)
    )
    return list(result.scalars())


async def conditions_of(
    session: AsyncSession, tenant_id: uuid.UUID, trigger_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, TriggerCondition]]:
    """(trigger id, condition) pairs, each trigger's conditions in the order attached."""
    if not trigger_ids:
        return []
    result = await session.execute(
        select(TriggerConditionLink.trigger_id, TriggerCondition)
        .join(
            TriggerCondition,
            (TriggerCondition.tenant_id == TriggerConditionLink.tenant_id)
            & (TriggerCondition.id == TriggerConditionLink.condition_id),
        )
        .where(
            TriggerConditionLink.tenant_id == tenant_id,
            TriggerConditionLink.trigger_id.in_(list(trigger_ids)),
        )
        .order_by(TriggerConditionLink.created_at, TriggerCondition.id)
    )
    return [(trigger_id, condition) for trigger_id, condition in result.all()]


async def get_condition(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    condition_id: uuid.UUID,
    *,
    lock: str | None = None,
) -> TriggerCondition | None:
    stmt = select(TriggerCondition).where(
        TriggerCondition.tenant_id == tenant_id, TriggerCondition.id == condition_id
    )
    if lock == "update":
        stmt = stmt.with_for_update()
    elif lock == "share":
        stmt = stmt.with_for_update(read=True)
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def unlink_condition(
    session: AsyncSession, tenant_id: uuid.UUID, trigger_id: uuid.UUID, condition_id: uuid.UUID
) -> bool:
    """Detach the condition from the trigger; False when it was not attached."""
    result = await session.execute(
        delete(TriggerConditionLink).where(
            TriggerConditionLink.tenant_id == tenant_id,
            TriggerConditionLink.trigger_id == trigger_id,
            TriggerConditionLink.condition_id == condition_id,
        )
    )
    return bool(getattr(result, "rowcount", 0))


# --- token units --------------------------------------------------------------------------


async def units_of(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_ids: Sequence[uuid.UUID]
) -> list[CampaignTokenUnit]:
    if not campaign_ids:
        return []
    result = await session.execute(
        select(CampaignTokenUnit)
        .where(
            CampaignTokenUnit.tenant_id == tenant_id,
            CampaignTokenUnit.campaign_id.in_(list(campaign_ids)),
            CampaignTokenUnit.removed_at.is_(None),
        )
        .order_by(CampaignTokenUnit.created_at, CampaignTokenUnit.id)
    )
    return list(result.scalars())


async def get_unit(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_id: uuid.UUID, unit_id: uuid.UUID
) -> CampaignTokenUnit | None:
    result = await session.execute(
        select(CampaignTokenUnit).where(
            CampaignTokenUnit.tenant_id == tenant_id,
            CampaignTokenUnit.campaign_id == campaign_id,
            CampaignTokenUnit.id == unit_id,
            CampaignTokenUnit.removed_at.is_(None),
        )
    )
    return result.scalar_one_or_none()


# --- business engagements -----------------------------------------------------------------


async def engagements_of(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_ids: Sequence[uuid.UUID]
) -> list[BusinessEngagement]:
    if not campaign_ids:
        return []
    result = await session.execute(
        select(BusinessEngagement)
        .where(
            BusinessEngagement.tenant_id == tenant_id,
            BusinessEngagement.campaign_id.in_(list(campaign_ids)),
            BusinessEngagement.removed_at.is_(None),
        )
        .order_by(BusinessEngagement.created_at, BusinessEngagement.id)
    )
    return list(result.scalars())


async def get_engagement(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    engagement_id: uuid.UUID,
) -> BusinessEngagement | None:
    result = await session.execute(
        select(BusinessEngagement).where(
            BusinessEngagement.tenant_id == tenant_id,
            BusinessEngagement.campaign_id == campaign_id,
            BusinessEngagement.id == engagement_id,
            BusinessEngagement.removed_at.is_(None),
        )
    )
    return result.scalar_one_or_none()


async def find_engagement(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_id: uuid.UUID, business_id: uuid.UUID
) -> BusinessEngagement | None:
    """The live engagement of the business in the campaign (one unique index probe)."""
    result = await session.execute(
        select(BusinessEngagement)
        .join(
            EngagedBusiness,
            (EngagedBusiness.tenant_id == BusinessEngagement.tenant_id)
            & (EngagedBusiness.engagement_id == BusinessEngagement.id),
        )
        .where(
            EngagedBusiness.tenant_id == tenant_id,
            EngagedBusiness.campaign_id == campaign_id,
            EngagedBusiness.business_id == business_id,
        )
    )
    return result.scalar_one_or_none()


async def engaged_businesses(
    session: AsyncSession, tenant_id: uuid.UUID, engagement_ids: Sequence[uuid.UUID]
) -> list[EngagedBusiness]:
    if not engagement_ids:
        return []
    result = await session.execute(
        select(EngagedBusiness)
        .where(
            EngagedBusiness.tenant_id == tenant_id,
            EngagedBusiness.engagement_id.in_(list(engagement_ids)),
        )
        .order_by(EngagedBusiness.created_at, EngagedBusiness.business_id)
    )
    return list(result.scalars())


async def engaged_elsewhere(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    business_ids: Sequence[uuid.UUID],
    *,
    other_than: uuid.UUID | None,
) -> list[uuid.UUID]:
    """Which of ``business_ids`` are in another live engagement of the campaign."""
    if not business_ids:
        return []
    stmt = select(EngagedBusiness.business_id).where(
        EngagedBusiness.tenant_id == tenant_id,
        EngagedBusiness.campaign_id == campaign_id,
        EngagedBusiness.business_id.in_(list(business_ids)),
    )
    if other_than is not None:
        stmt = stmt.where(EngagedBusiness.engagement_id != other_than)
    result = await session.execute(stmt)
    return list(result.scalars())


async def set_engaged_businesses(
    session: AsyncSession,
    engagement: BusinessEngagement,
    business_ids: Sequence[uuid.UUID],
    now: datetime,
) -> None:
    """Make ``business_ids`` the engagement's businesses: drop the others, add the new ones."""
    wanted = list(dict.fromkeys(business_ids))
    await session.execute(
        delete(EngagedBusiness).where(
            EngagedBusiness.tenant_id == engagement.tenant_id,
            EngagedBusiness.engagement_id == engagement.id,
            EngagedBusiness.business_id.not_in(wanted),
        )
    )
    present = set(
        (
            await session.execute(
                select(EngagedBusiness.business_id).where(
                    EngagedBusiness.tenant_id == engagement.tenant_id,
                    EngagedBusiness.engagement_id == engagement.id,
                )
            )
        ).scalars()
    )
    for business_id in wanted:
        if business_id not in present:
            await add(
                session,
                EngagedBusiness(
                    tenant_id=engagement.tenant_id,
                    engagement_id=engagement.id,
                    business_id=business_id,
                    campaign_id=engagement.campaign_id,
                    created_at=now,
                ),
            )


async def clear_engaged_businesses(
    session: AsyncSession, tenant_id: uuid.UUID, engagement_id: uuid.UUID
) -> None:
    await session.execute(
        delete(EngagedBusiness).where(
            EngagedBusiness.tenant_id == tenant_id,
            EngagedBusiness.engagement_id == engagement_id,
        )
    )
