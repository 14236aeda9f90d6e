"""Every SQL statement of contract deployments; each is filtered by tenant."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pers.contract_deployments.models import PENDING, ContractDeployment, DeploymentStatus


async def add(session: AsyncSession, row: ContractDeployment) -> None:
    session.add(row)
    await session.flush()


async def get(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    deployment_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> ContractDeployment | None:
    stmt = select(ContractDeployment).where(
        ContractDeployment.tenant_id == tenant_id, ContractDeployment.id == deployment_id
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def list_deployments(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    status: DeploymentStatus | None,
    limit: int,
    offset: int,
) -> list[ContractDeployment]:
    stmt = select(ContractDeployment).where(ContractDeployment.tenant_id == tenant_id)
    if status is not None:
        stmt = stmt.where(ContractDeployment.status == status)
    result = await session.execute(
        stmt.order_by(ContractDeployment.created_at, ContractDeployment.id)
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars())


async def claim_created(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int, chain_id: int | None = None
) -> list[ContractDeployment]:
    """The tenant's oldest ``created`` deployments (on ``chain_id``, if given), locked
    (``SKIP LOCKED``: two relayers never claim the same one)."""
    conditions = [
        ContractDeployment.tenant_id == tenant_id,
        ContractDeployment.status == DeploymentStatus.CREATED,
    ]
    if chain_id is not None:
        conditions.append(ContractDeployment.chain_id == chain_id)
    result = await session.execute(
        select(ContractDeployment)
        .where(*conditions)
        .order_by(ContractDeployment.created_at, ContractDeployment.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(result.scalars())


async def set_values(
    session: AsyncSession, row: ContractDeployment, values: dict[str, Any]
) -> None:
    await session.execute(
        update(ContractDeployment)
        .where(
            ContractDeployment.tenant_id == row.tenant_id,
            ContractDeployment.id == row.id,
            ContractDeployment.status.in_(PENDING),
        )
        .values(**values)
    )
    await session.refresh(row)
