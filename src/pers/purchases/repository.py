"""Every SQL statement of the Purchase module; each is filtered by tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pers.kit.enums import Environment
from pers.purchases.models import (
    DonationType,
    Purchase,
    PurchaseStatus,
    PurchaseToken,
    PurchaseType,
    StripeEvent,
)

# --- purchase and donation types --------------------------------------------------------------


async def add(session: AsyncSession, row: PurchaseType | PurchaseToken | Purchase) -> None:
    session.add(row)
    await session.flush()


async def get_type(
    session: AsyncSession, tenant_id: uuid.UUID, type_id: int
) -> PurchaseType | None:
    result = await session.execute(
        select(PurchaseType).where(PurchaseType.tenant_id == tenant_id, PurchaseType.id == type_id)
    )
    return result.scalar_one_or_none()


async def get_types(
    session: AsyncSession, tenant_id: uuid.UUID, type_ids: Iterable[int]
) -> dict[int, PurchaseType]:
    ids = list(dict.fromkeys(type_ids))
    if not ids:
        return {}
    result = await session.execute(
        select(PurchaseType).where(PurchaseType.tenant_id == tenant_id, PurchaseType.id.in_(ids))
    )
    return {t.id: t for t in result.scalars()}


async def add_donation_type(session: AsyncSession, row: DonationType) -> bool:
    """False when the tenant already has a donation type with this id."""
    stmt = (
        insert(DonationType)
        .values(tenant_id=row.tenant_id, id=row.id, percentage=row.percentage,
                created_at=row.created_at)
        .on_conflict_do_nothing(index_elements=["tenant_id", "id"])
        .returning(DonationType.id)
    )  # fmt: skip
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def list_donation_types(session: AsyncSession, tenant_id: uuid.UUID) -> list[DonationType]:
    result = await session.execute(
        select(DonationType).where(DonationType.tenant_id == tenant_id).order_by(DonationType.id)
    )
    return list(result.scalars())


async def get_donation_types(
    session: AsyncSession, tenant_id: uuid.UUID, type_ids: Iterable[int]
) -> dict[int, DonationType]:
    ids = list(dict.fromkeys(type_ids))
    if not ids:
        return {}
    result = await session.execute(
        select(DonationType).where(DonationType.tenant_id == tenant_id, DonationType.id.in_(ids))
    )
    return {t.id: t for t in result.scalars()}


# --- purchase tokens --------------------------------------------------------------------------


async def get_token(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    token_id: uuid.UUID,
    *,
    for_update: bool = False,
    with_deleted: bool = False,
) -> PurchaseToken | None:
    stmt = select(PurchaseToken).where(
        PurchaseToken.tenant_id == tenant_id, PurchaseToken.id == token_id
    )
    if not with_deleted:
        stmt = stmt.where(PurchaseToken.deleted_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_tokens(
    session: AsyncSession, tenant_id: uuid.UUID, token_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, PurchaseToken]:
    """Deleted ones too: past purchases still show theirs."""
    ids = list(dict.fromkeys(token_ids))
    if not ids:
        return {}
    result = await session.execute(
        select(PurchaseToken).where(PurchaseToken.tenant_id == tenant_id, PurchaseToken.id.in_(ids))
    )
    return {t.id: t for t in result.scalars()}


async def list_tokens(
    session: AsyncSession, tenant_id: uuid.UUID, *, active: bool | None
) -> Sequence[PurchaseToken]:
    stmt = select(PurchaseToken).where(
        PurchaseToken.tenant_id == tenant_id, PurchaseToken.deleted_at.is_(None)
    )
    if active is not None:
        stmt = stmt.where(PurchaseToken.is_active.is_(active))
    stmt = stmt.order_by(PurchaseToken.created_at, PurchaseToken.id)
    return (await session.execute(stmt)).scalars().all()


# --- purchases --------------------------------------------------------------------------------


async def get_purchase_by_intent(
    session: AsyncSession, tenant_id: uuid.UUID, intent_id: str, *, for_update: bool = False
) -> Purchase | None:
    stmt = select(Purchase).where(
        Purchase.tenant_id == tenant_id, Purchase.stripe_payment_intent_id == intent_id
    )
    if for_update:
        # Re-read after the lock: a concurrent delivery may have completed it meanwhile.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_purchases(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    user_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
) -> Sequence[Purchase]:
    """Newest first."""
    stmt = (
        select(Purchase)
        .where(
            Purchase.tenant_id == tenant_id,
            Purchase.environment == environment,
            Purchase.user_id == user_id,
        )
        .order_by(Purchase.created_at.desc(), Purchase.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(stmt)).scalars().all()


async def transition(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    purchase_id: uuid.UUID,
    *,
    allowed_from: Iterable[PurchaseStatus],
    to: PurchaseStatus,
    now: datetime,
    **values: Any,
) -> bool:
    """Move the purchase to ``to`` only from one of ``allowed_from`` (one conditional UPDATE);
    False when its status is another."""
    result = await session.execute(
        update(Purchase)
        .where(
            Purchase.tenant_id == tenant_id,
            Purchase.id == purchase_id,
            Purchase.status.in_(list(allowed_from)),
        )
        .values(status=to, updated_at=now, **values)
        .returning(Purchase.id)
        .execution_options(synchronize_session="fetch")
    )
    return result.scalar_one_or_none() is not None


# --- Stripe events ----------------------------------------------------------------------------


async def event_seen(session: AsyncSession, tenant_id: uuid.UUID, event_id: str) -> bool:
    result = await session.execute(
        select(StripeEvent.event_id).where(
            StripeEvent.tenant_id == tenant_id, StripeEvent.event_id == event_id
        )
    )
    return result.scalar_one_or_none() is not None


async def record_event(session: AsyncSession, event: StripeEvent) -> bool:
    """False when the event was recorded already (by a concurrent delivery)."""
    stmt = (
        insert(StripeEvent)
        .values(tenant_id=event.tenant_id, event_id=event.event_id, event_type=event.event_type,
                payment_intent_id=event.payment_intent_id, outcome=event.outcome,
                received_at=event.received_at)
        .on_conflict_do_nothing(index_elements=["tenant_id", "event_id"])
        .returning(StripeEvent.event_id)
    )  # fmt: skip
    return (await session.execute(stmt)).scalar_one_or_none() is not None
