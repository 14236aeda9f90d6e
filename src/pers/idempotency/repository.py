from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pers.idempotency.models import IdempotencyRecord


async def try_lock(session: AsyncSession, tenant_id: uuid.UUID, key_hash: str) -> bool:
    """A transaction-scoped advisory lock on a key that may not have a row yet."""
    result = await session.execute(
        text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"idem:{tenant_id}:{key_hash}"},
    )
    return bool(result.scalar_one())


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, key_hash: str
) -> IdempotencyRecord | None:
    result = await session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.key_hash == key_hash
        )
    )
    return result.scalar_one_or_none()


async def remove(session: AsyncSession, tenant_id: uuid.UUID, key_hash: str) -> None:
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.key_hash == key_hash
        )
    )


async def add(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    key_hash: str,
    request_hash: str,
    status: int,
    headers: dict[str, Any],
    body: bytes,
    encoding: str | None,
    now: datetime,
) -> None:
    session.add(
        IdempotencyRecord(
            tenant_id=tenant_id,
            key_hash=key_hash,
            request_hash=request_hash,
            response_status=status,
            response_headers=headers,
            response_body=body,
            response_encoding=encoding,
            created_at=now,
        )
    )
    await session.flush()
