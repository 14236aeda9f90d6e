from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import String, cast, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from pers.db import TENANT_SETTING
from pers.tenants.models import Tenant


def _bind_column() -> ColumnElement[str]:
    return func.set_config(TENANT_SETTING, cast(Tenant.id, String), true())


async def bind_by_project_key(session: AsyncSession, key: str) -> tuple[uuid.UUID, str] | None:
    """The tenant of a project key (its id and mainnet key), binding the transaction to it in
    the same round trip. Columns only: this runs on every request."""
    result = await session.execute(
        select(Tenant.id, Tenant.project_api_key, _bind_column()).where(
            or_(Tenant.project_api_key == key, Tenant.testnet_project_api_key == key)
        )
    )
    row = result.first()
    return None if row is None else (row[0], row[1])


async def bind_by_id(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    result = await session.execute(select(Tenant.id, _bind_column()).where(Tenant.id == tenant_id))
    return result.first() is not None


async def get(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def add(session: AsyncSession, tenant: Tenant) -> None:
    session.add(tenant)
    await session.flush()


async def update_fields(
    session: AsyncSession, tenant_id: uuid.UUID, values: dict[str, Any]
) -> None:
    if values:
        await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(**values))
