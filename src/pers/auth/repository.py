from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.models import ApiKey, ApiKeyType, RefreshToken
from pers.db import driver

LAST_USED_GRANULARITY = timedelta(minutes=1)


async def get_api_key(
    session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID
) -> ApiKey | None:
    result = await session.execute(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class KeyFacts:
    id: uuid.UUID
    type: str
    token_hash: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


_KEY_FACTS = (
    "SELECT id, type, token_hash, expires_at, revoked_at, last_used_at FROM api_keys"
    " WHERE tenant_id = $1 AND id = $2"
)


async def live_key_facts(
    session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID
) -> KeyFacts | None:
    """What authentication checks about a long-lived key, on every request that presents one
    (a plain statement on the driver connection)."""
    conn = await driver(session)
    row = await conn.fetchrow(_KEY_FACTS, tenant_id, key_id)
    return None if row is None else KeyFacts(*row)


async def list_api_keys(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    types: list[ApiKeyType],
    include_revoked: bool,
) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.type.in_(types))
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    result = await session.execute(stmt.order_by(ApiKey.created_at, ApiKey.id))
    return list(result.scalars())


async def add(session: AsyncSession, row: ApiKey | RefreshToken) -> None:
    session.add(row)
    await session.flush()


async def touch_api_key(
    session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID, now: datetime
) -> None:
    """Record use at minute granularity, so a busy key does not write on every request."""
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.tenant_id == tenant_id,
            ApiKey.id == key_id,
            (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now - LAST_USED_GRANULARITY),
        )
        .values(last_used_at=now)
    )


async def lock_refresh_token(
    session: AsyncSession, tenant_id: uuid.UUID, token_id: uuid.UUID
) -> RefreshToken | None:
    result = await session.execute(
        select(RefreshToken)
        .where(RefreshToken.tenant_id == tenant_id, RefreshToken.id == token_id)
        .with_for_update()
    )
    return result.scalar_one_or_none()


async def revoke_family(
    session: AsyncSession, tenant_id: uuid.UUID, family_id: uuid.UUID, now: datetime
) -> None:
    await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.tenant_id == tenant_id,
            RefreshToken.family_id == family_id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


async def get_refresh_token(
    session: AsyncSession, tenant_id: uuid.UUID, token_id: uuid.UUID
) -> RefreshToken | None:
    result = await session.execute(
        select(RefreshToken).where(RefreshToken.tenant_id == tenant_id, RefreshToken.id == token_id)
    )
    return result.scalar_one_or_none()
