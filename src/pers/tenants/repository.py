from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from pers.db import TENANT_SETTING, driver
from pers.tenants.models import Tenant

# Binding runs on every request: plain statements on the driver connection (see pers.db.driver).
_BIND_BY_PROJECT_KEY = (
    "SELECT id, project_api_key, set_config($2, id::text, true) FROM tenants"
    " WHERE project_api_key = $1 OR testnet_project_api_key = $1"
)
_BIND_BY_ID = "SELECT set_config($2, id::text, true) FROM tenants WHERE id = $1"
_CATALOG_VERSION = "SELECT catalog_version FROM tenants WHERE id = $1"


async def bind_by_project_key(session: AsyncSession, key: str) -> tuple[uuid.UUID, str] | None:
    """The tenant of a project key (its id and mainnet key), binding the transaction to it in
    the same round trip."""
    conn = await driver(session)
    row = await conn.fetchrow(_BIND_BY_PROJECT_KEY, key, TENANT_SETTING)
    return None if row is None else (row[0], row[1])


async def bind_by_id(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    conn = await driver(session)
    return await conn.fetchval(_BIND_BY_ID, tenant_id, TENANT_SETTING) is not None


async def catalog_version(session: AsyncSession, tenant_id: uuid.UUID) -> int | None:
    conn = await driver(session)
    found = await conn.fetchval(_CATALOG_VERSION, tenant_id)
    return None if found is None else int(found)


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
