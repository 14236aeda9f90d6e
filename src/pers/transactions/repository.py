from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pers.kit.enums import Environment
from pers.transactions.models import Transaction


async def add(session: AsyncSession, row: Transaction) -> None:
    session.add(row)
    await session.flush()


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, environment: Environment, tx_id: uuid.UUID
) -> Transaction | None:
    result = await session.execute(
        select(Transaction).where(
            Transaction.tenant_id == tenant_id,
            Transaction.environment == environment,
            Transaction.id == tx_id,
        )
    )
    return result.scalar_one_or_none()


async def list_for(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    *,
    sender: str | None = None,
    recipient: str | None = None,
    participant: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Transaction]:
    stmt = select(Transaction).where(
        Transaction.tenant_id == tenant_id, Transaction.environment == environment
    )
    if sender is not None:
        stmt = stmt.where(Transaction.sender_address == sender)
    if recipient is not None:
        stmt = stmt.where(Transaction.recipient_address == recipient)
    if participant is not None:
        stmt = stmt.where(
            or_(
                Transaction.sender_address == participant,
                Transaction.recipient_address == participant,
            )
        )
    stmt = stmt.order_by(Transaction.created_at.desc(), Transaction.id.desc()).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    result = await session.execute(stmt)
    return list(result.scalars())
