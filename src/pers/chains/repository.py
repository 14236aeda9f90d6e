"""Every SQL statement of the contract registry; each is filtered by tenant."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pers.chains.models import Contract, ContractType


class AddressTaken(Exception):
    """The tenant already has a contract at this address on this chain."""


async def add(session: AsyncSession, contract: Contract) -> None:
    """Insert ``contract``; a concurrent registration of the same (chain, address) waits for
    the first one's transaction and then fails here, like a sequential one."""
    try:
        async with session.begin_nested():
            session.add(contract)
    except IntegrityError as exc:
        raise AddressTaken() from exc


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, contract_id: uuid.UUID
) -> Contract | None:
    result = await session.execute(
        select(Contract).where(Contract.tenant_id == tenant_id, Contract.id == contract_id)
    )
    return result.scalar_one_or_none()


async def get_by_address(
    session: AsyncSession, tenant_id: uuid.UUID, chain_id: int, contract_address: str
) -> Contract | None:
    result = await session.execute(
        select(Contract).where(
            Contract.tenant_id == tenant_id,
            Contract.chain_id == chain_id,
            Contract.contract_address == contract_address,
        )
    )
    return result.scalar_one_or_none()


async def list_contracts(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    chain_id: int | None,
    contract_type: ContractType | None,
    limit: int,
    offset: int,
) -> list[Contract]:
    stmt = select(Contract).where(Contract.tenant_id == tenant_id)
    if chain_id is not None:
        stmt = stmt.where(Contract.chain_id == chain_id)
    if contract_type is not None:
        stmt = stmt.where(Contract.contract_type == contract_type)
    result = await session.execute(
        stmt.order_by(Contract.created_at, Contract.id).limit(limit).offset(offset)
    )
    return list(result.scalars())


async def latest_of_type(
    session: AsyncSession, tenant_id: uuid.UUID, chain_id: int, contract_type: ContractType
) -> Contract | None:
    result = await session.execute(
        select(Contract)
        .where(
            Contract.tenant_id == tenant_id,
            Contract.chain_id == chain_id,
            Contract.contract_type == contract_type,
        )
        .order_by(Contract.created_at.desc(), Contract.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()
