from __future__ import annotations

import uuid

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from pers.users.models import User, UserIdentity


async def get(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
    result = await session.execute(
        select(User).where(User.tenant_id == tenant_id, User.id == user_id)
    )
    return result.scalar_one_or_none()


async def get_by_email(session: AsyncSession, tenant_id: uuid.UUID, email: str) -> User | None:
    result = await session.execute(
        select(User).where(User.tenant_id == tenant_id, func.lower(User.email) == email.lower())
    )
    return result.scalar_one_or_none()


async def get_identity(
    session: AsyncSession, tenant_id: uuid.UUID, issuer: str, subject: str
) -> UserIdentity | None:
    result = await session.execute(
        select(UserIdentity).where(
            UserIdentity.tenant_id == tenant_id,
            UserIdentity.issuer == issuer,
            UserIdentity.subject == subject,
        )
    )
    return result.scalar_one_or_none()


async def has_identity_from(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, issuer: str
) -> bool:
    result = await session.execute(
        select(UserIdentity.subject).where(
            UserIdentity.tenant_id == tenant_id,
            UserIdentity.user_id == user_id,
            UserIdentity.issuer == issuer,
        )
    )
    return result.first() is not None


async def lock_key(session: AsyncSession, tenant_id: uuid.UUID, key: str) -> None:
    """Serialize creation of rows that do not exist yet (first login of an identity)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"user:{tenant_id}:{key}"},
    )


async def add(session: AsyncSession, row: User | UserIdentity) -> None:
    session.add(row)
    await session.flush()


async def touch_identity(session: AsyncSession, identity: UserIdentity) -> None:
    await session.execute(
        update(UserIdentity)
        .where(
            UserIdentity.tenant_id == identity.tenant_id,
            UserIdentity.issuer == identity.issuer,
            UserIdentity.subject == identity.subject,
        )
        .values(last_login_at=func.now())
    )
