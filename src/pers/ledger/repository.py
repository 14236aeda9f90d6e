from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from pers.kit.enums import Environment
from pers.ledger.models import Balance, NftItem, Posting


async def add_postings(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await session.execute(insert(Posting), rows)


async def debit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    address: str,
    token_id: uuid.UUID,
    token_key: int,
    amount: int,
    now: datetime,
) -> bool:
    """Take ``amount`` if the holder has it (the row lock and the check are one statement)."""
    result = await session.execute(
        update(Balance)
        .where(
            Balance.tenant_id == tenant_id,
            Balance.environment == environment,
            Balance.account_address == address,
            Balance.token_id == token_id,
            Balance.token_key == token_key,
            Balance.amount >= amount,
        )
        .values(amount=Balance.amount - amount, updated_at=now)
        .returning(Balance.amount)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def credit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    address: str,
    token_id: uuid.UUID,
    token_key: int,
    amount: int,
    is_unique: bool,
    now: datetime,
) -> None:
    stmt = pg_insert(Balance).values(
        tenant_id=tenant_id,
        environment=environment,
        account_address=address,
        token_id=token_id,
        token_key=token_key,
        amount=amount,
        is_unique=is_unique,
        updated_at=now,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[
                Balance.tenant_id,
                Balance.environment,
                Balance.account_address,
                Balance.token_id,
                Balance.token_key,
            ],
            set_={"amount": Balance.amount + stmt.excluded.amount, "updated_at": now},
        )
    )


async def balances_of(
    session: AsyncSession, tenant_id: uuid.UUID, environment: Environment, address: str
) -> list[Balance]:
    result = await session.execute(
        select(Balance)
        .where(
            Balance.tenant_id == tenant_id,
            Balance.environment == environment,
            Balance.account_address == address,
            Balance.amount > 0,
        )
        .order_by(Balance.token_id, Balance.token_key)
    )
    return list(result.scalars())


async def balance(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    address: str,
    token_id: uuid.UUID,
    token_key: int,
) -> int:
    result = await session.execute(
        select(Balance.amount).where(
            Balance.tenant_id == tenant_id,
            Balance.environment == environment,
            Balance.account_address == address,
            Balance.token_id == token_id,
            Balance.token_key == token_key,
        )
    )
    return result.scalar_one_or_none() or 0


async def posted_total(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    address: str,
    token_id: uuid.UUID,
    token_key: int,
) -> int:
    result = await session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0)).where(
            Posting.tenant_id == tenant_id,
            Posting.environment == environment,
            Posting.account_address == address,
            Posting.token_id == token_id,
            Posting.token_key == token_key,
        )
    )
    return int(result.scalar_one())


async def register_nft(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    token_id: uuid.UUID,
    token_key: int,
    metadata_incremental_id: int | None,
    entry_id: uuid.UUID,
    now: datetime,
) -> bool:
    """Record a newly minted ERC721 id; False when the id was minted before."""
    result = await session.execute(
        pg_insert(NftItem)
        .values(
            tenant_id=tenant_id,
            environment=environment,
            token_id=token_id,
            token_key=token_key,
            metadata_incremental_id=metadata_incremental_id,
            minted_in=entry_id,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(NftItem.token_key)
    )
    return result.first() is not None


async def held_nft_with_metadata(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    address: str,
    token_id: uuid.UUID,
    metadata_incremental_id: int,
) -> int | None:
    """The lowest ERC721 id of this token and metadata that ``address`` holds."""
    result = await session.execute(
        select(Balance.token_key)
        .join(
            NftItem,
            (NftItem.tenant_id == Balance.tenant_id)
            & (NftItem.environment == Balance.environment)
            & (NftItem.token_id == Balance.token_id)
            & (NftItem.token_key == Balance.token_key),
        )
        .where(
            Balance.tenant_id == tenant_id,
            Balance.environment == environment,
            Balance.account_address == address,
            Balance.token_id == token_id,
            Balance.amount > 0,
            NftItem.metadata_incremental_id == metadata_incremental_id,
        )
        .order_by(Balance.token_key)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def nft_metadata(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    token_id: uuid.UUID,
    token_keys: list[int],
) -> dict[int, int | None]:
    if not token_keys:
        return {}
    result = await session.execute(
        select(NftItem.token_key, NftItem.metadata_incremental_id).where(
            NftItem.tenant_id == tenant_id,
            NftItem.environment == environment,
            NftItem.token_id == token_id,
            NftItem.token_key.in_(token_keys),
        )
    )
    return {int(k): m for k, m in result.all()}
