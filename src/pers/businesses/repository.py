"""Every SQL statement of the Business module; each is filtered by tenant."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from pers.businesses.models import Business, BusinessType
from pers.db import driver

# --- business types -----------------------------------------------------------------------


async def list_types(session: AsyncSession, tenant_id: uuid.UUID) -> list[BusinessType]:
    result = await session.execute(
        select(BusinessType).where(BusinessType.tenant_id == tenant_id).order_by(BusinessType.id)
    )
    return list(result.scalars())


async def get_type(
    session: AsyncSession, tenant_id: uuid.UUID, type_id: int, *, for_update: bool = False
) -> BusinessType | None:
    stmt = select(BusinessType).where(
        BusinessType.tenant_id == tenant_id, BusinessType.id == type_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def get_type_by_code(
    session: AsyncSession, tenant_id: uuid.UUID, code: str
) -> BusinessType | None:
    result = await session.execute(
        select(BusinessType).where(BusinessType.tenant_id == tenant_id, BusinessType.code == code)
    )
    return result.scalar_one_or_none()


async def add_type(session: AsyncSession, business_type: BusinessType) -> None:
    session.add(business_type)
    await session.flush()


async def detach_type(session: AsyncSession, tenant_id: uuid.UUID, type_id: int) -> int:
    """Businesses of the type lose it (``businessType: null``); returns how many."""
    result = await session.execute(
        update(Business)
        .where(Business.tenant_id == tenant_id, Business.business_type_id == type_id)
        .values(business_type_id=None, updated_at=func.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_type(session: AsyncSession, tenant_id: uuid.UUID, type_id: int) -> None:
    await session.execute(
        delete(BusinessType).where(BusinessType.tenant_id == tenant_id, BusinessType.id == type_id)
    )


# --- businesses ---------------------------------------------------------------------------


def _businesses(tenant_id: uuid.UUID) -> Select[Business]:
    return (
        select(Business)
        .where(Business.tenant_id == tenant_id)
        .options(joinedload(Business.business_type))
        # A business re-read after an update must show its new type, not the cached one.
        .execution_options(populate_existing=True)
    )


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, business_id: uuid.UUID, *, for_update: bool = False
) -> Business | None:
    stmt = _businesses(tenant_id).where(Business.id == business_id)
    if for_update:
        stmt = stmt.with_for_update(of=Business)
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def get_many(
    session: AsyncSession, tenant_id: uuid.UUID, business_ids: list[uuid.UUID]
) -> list[Business]:
    if not business_ids:
        return []
    result = await session.execute(
        _businesses(tenant_id)
        .where(Business.id.in_(business_ids))
        .order_by(Business.created_at, Business.id)
    )
    return list(result.unique().scalars())


async def get_by_address(
    session: AsyncSession, tenant_id: uuid.UUID, account_address: str
) -> Business | None:
    result = await session.execute(
        _businesses(tenant_id).where(Business.account_address == account_address)
    )
    return result.scalar_one_or_none()


async def get_by_key_hash(
    session: AsyncSession, tenant_id: uuid.UUID, key_hash: str
) -> Business | None:
    result = await session.execute(
        select(Business).where(Business.tenant_id == tenant_id, Business.api_key_hash == key_hash)
    )
    return result.scalar_one_or_none()


async def email_taken(
    session: AsyncSession, tenant_id: uuid.UUID, email: str, *, other_than: uuid.UUID
) -> bool:
    result = await session.execute(
        select(Business.id).where(
            Business.tenant_id == tenant_id,
            func.lower(Business.email) == email.lower(),
            Business.id != other_than,
        )
    )
    return result.first() is not None


async def list_businesses(
    session: AsyncSession, tenant_id: uuid.UUID, *, active: bool | None
) -> list[Business]:
    stmt = _businesses(tenant_id)
    if active is not None:
        stmt = stmt.where(Business.is_active.is_(active))
    result = await session.execute(stmt.order_by(Business.created_at, Business.id))
    return list(result.unique().scalars())


async def add(session: AsyncSession, business: Business) -> None:
    session.add(business)
    await session.flush()


async def update_fields(
    session: AsyncSession, tenant_id: uuid.UUID, business_id: uuid.UUID, values: dict[str, Any]
) -> None:
    if values:
        await session.execute(
            update(Business)
            .where(Business.tenant_id == tenant_id, Business.id == business_id)
            .values(**values)
        )


async def ids_by_addresses(
    session: AsyncSession, tenant_id: uuid.UUID, account_addresses: list[str]
) -> dict[str, uuid.UUID]:
    if not account_addresses:
        return {}
    result = await session.execute(
        select(Business.account_address, Business.id).where(
            Business.tenant_id == tenant_id, Business.account_address.in_(account_addresses)
        )
    )
    return {address: business_id for address, business_id in result.all()}


_VIEW_ROW = (
    "SELECT id, account_address, is_active, can_mint_token, can_charge_token,"
    " can_manage_users, can_receive_donation, display_name FROM businesses"
    " WHERE tenant_id = $1 AND id = $2"
)


async def view_row(
    session: AsyncSession, tenant_id: uuid.UUID, business_id: uuid.UUID
) -> tuple[Any, ...] | None:
    """The columns of a BusinessView, in its order: a plain statement on the driver
    connection, for the payments and claims that name a business on every request."""
    conn = await driver(session)
    row = await conn.fetchrow(_VIEW_ROW, tenant_id, business_id)
    return None if row is None else tuple(row)
