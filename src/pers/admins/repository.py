from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pers.admins.models import Admin


async def get(session: AsyncSession, tenant_id: uuid.UUID, admin_id: uuid.UUID) -> Admin | None:
    result = await session.execute(
        select(Admin).where(Admin.tenant_id == tenant_id, Admin.id == admin_id)
    )
    return result.scalar_one_or_none()


async def get_by_email(
    session: AsyncSession, tenant_id: uuid.UUID, email: str, *, for_update: bool = False
) -> Admin | None:
    stmt = select(Admin).where(
        Admin.tenant_id == tenant_id, func.lower(Admin.email) == email.lower()
    )
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def list_all(session: AsyncSession, tenant_id: uuid.UUID) -> list[Admin]:
    result = await session.execute(
        select(Admin).where(Admin.tenant_id == tenant_id).order_by(Admin.created_at, Admin.id)
    )
    return list(result.scalars())


async def add(session: AsyncSession, admin: Admin) -> None:
    session.add(admin)
    await session.flush()
