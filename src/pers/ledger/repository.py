from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import IntEnum

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pers.db import driver
from pers.kit.enums import Environment
from pers.ledger.models import Balance, NftItem, Posting


class PostOutcome(IntEnum):
    """What ``pers_post_entry`` (migration 0009) answers."""

    WRITTEN = 0
    INSUFFICIENT = 1
    NFT_EXISTS = 2


_POST_ENTRY = "SELECT pers_post_entry($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"


async def post_entry(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    environment: Environment,
    entry_id: uuid.UUID,
    token_id: uuid.UUID,
    token_key: int,
    unique: bool,
    new_nft: bool,
    metadata_incremental_id: int | None,
    issuer: str,
    accounts: list[str],
    amounts: list[int],
    now: datetime,
) -> PostOutcome:
    """One entry in one round trip: the new ERC721 id, holder legs in lock order, postings."""
    conn = await driver(session)
    status = await conn.fetchval(
        _POST_ENTRY, tenant_id, environment.value, entry_id, token_id, Decimal(token_key),
        unique, new_nft, metadata_incremental_id, issuer, accounts,
        [Decimal(a) for a in amounts], now,
    )  # fmt: skip
    return PostOutcome(status)


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


# --- bulk (many mints of one token in one statement each) ----------------------------------------
# The rows travel as one array per column and are expanded by unnest(): one statement and one
# round trip however many rows, and no per-row SQL for the server to parse.

_BULK_POSTINGS = text(
    "INSERT INTO postings (tenant_id, entry_id, leg, environment, account_address, token_id,"
    " token_key, amount, created_at)"
    " SELECT CAST(:tenant_id AS uuid), r.entry_id, r.leg, CAST(:environment AS varchar),"
    " r.account_address, CAST(:token_id AS uuid), r.token_key, r.amount,"
    " CAST(:now AS timestamptz)"
    " FROM unnest(CAST(:entry_ids AS uuid[]), CAST(:legs AS smallint[]),"
    " CAST(:accounts AS varchar[]), CAST(:token_keys AS numeric[]), CAST(:amounts AS numeric[]))"
    " AS r(entry_id, leg, account_address, token_key, amount)"
)

_BULK_CREDITS = text(
    "INSERT INTO balances (tenant_id, environment, account_address, token_id, token_key, amount,"
    " is_unique, updated_at)"
    " SELECT CAST(:tenant_id AS uuid), CAST(:environment AS varchar), r.account_address,"
    " CAST(:token_id AS uuid), r.token_key, r.amount, CAST(:is_unique AS boolean),"
    " CAST(:now AS timestamptz)"
    " FROM unnest(CAST(:accounts AS varchar[]), CAST(:token_keys AS numeric[]),"
    " CAST(:amounts AS numeric[])) WITH ORDINALITY AS r(account_address, token_key, amount, n)"
    " ORDER BY r.n"
    " ON CONFLICT (tenant_id, environment, account_address, token_id, token_key)"
    " DO UPDATE SET amount = balances.amount + excluded.amount, updated_at = excluded.updated_at"
)

_BULK_NFTS = text(
    "INSERT INTO nft_items (tenant_id, environment, token_id, token_key, metadata_incremental_id,"
    " minted_in, created_at)"
    " SELECT CAST(:tenant_id AS uuid), CAST(:environment AS varchar), CAST(:token_id AS uuid),"
    " r.token_key, CAST(:metadata_id AS integer), r.entry_id, CAST(:now AS timestamptz)"
    " FROM unnest(CAST(:token_keys AS numeric[]), CAST(:entry_ids AS uuid[]))"
    " AS r(token_key, entry_id)"
    " ON CONFLICT DO NOTHING"
)


async def add_postings_bulk(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    environment: Environment,
    token_id: uuid.UUID,
    now: datetime,
    entry_ids: list[uuid.UUID],
    legs: list[int],
    accounts: list[str],
    token_keys: list[int],
    amounts: list[int],
) -> None:
    await session.execute(
        _BULK_POSTINGS,
        {
            "tenant_id": tenant_id, "environment": environment.value, "token_id": token_id,
            "now": now, "entry_ids": entry_ids, "legs": legs, "accounts": accounts,
            "token_keys": [Decimal(k) for k in token_keys],
            "amounts": [Decimal(a) for a in amounts],
        },
    )  # fmt: skip


async def credit_bulk(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    environment: Environment,
    token_id: uuid.UUID,
    is_unique: bool,
    now: datetime,
    accounts: list[str],
    token_keys: list[int],
    amounts: list[int],
) -> None:
    """Add to many holders' balances; rows are locked in the order given (the caller sorts),
    and each (account, key) must appear once."""
    await session.execute(
        _BULK_CREDITS,
        {
            "tenant_id": tenant_id, "environment": environment.value, "token_id": token_id,
            "is_unique": is_unique, "now": now, "accounts": accounts,
            "token_keys": [Decimal(k) for k in token_keys],
            "amounts": [Decimal(a) for a in amounts],
        },
    )  # fmt: skip


async def register_nfts_bulk(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    environment: Environment,
    token_id: uuid.UUID,
    metadata_incremental_id: int | None,
    now: datetime,
    token_keys: list[int],
    entry_ids: list[uuid.UUID],
) -> int:
    """Record newly minted ERC721 ids; returns how many were new."""
    result = await session.execute(
        _BULK_NFTS,
        {
            "tenant_id": tenant_id, "environment": environment.value, "token_id": token_id,
            "metadata_id": metadata_incremental_id, "now": now,
            "token_keys": [Decimal(k) for k in token_keys], "entry_ids": entry_ids,
        },
    )  # fmt: skip
    return int(getattr(result, "rowcount", 0))
