"""Every SQL statement of the Redemption module; each is filtered by tenant.

Live rows only unless a function says otherwise: deleted redemptions and removed token units
are history, kept for the redeems that refer to them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pers.db import Database, driver, fast_statement, from_record, insert_row
from pers.kit.enums import Environment
from pers.redemptions.models import (
    Redemption,
    RedemptionRedeem,
    RedemptionTokenUnit,
    RedemptionType,
)
from pers.transactions.models import Transaction


class UniqueTaken(Exception):
    """An insert hit a unique constraint."""


async def add(session: AsyncSession, row: object) -> None:
    """Insert ``row`` now; a unique violation is :class:`UniqueTaken` and leaves the
    transaction usable."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise UniqueTaken() from exc


async def flush(session: AsyncSession, row: object | None = None) -> None:
    """Flush; then reload what the flush expired of ``row`` (``updated_at`` set by the database
    when the value set equals the stored one), so answers never load lazily."""
    await session.flush()
    if row is not None:
        expired = inspect(row).expired_attributes
        if expired:
            await session.refresh(row, list(expired))


# --- types ------------------------------------------------------------------------------------


async def list_types(session: AsyncSession, tenant_id: uuid.UUID) -> list[RedemptionType]:
    result = await session.execute(
        select(RedemptionType)
        .where(RedemptionType.tenant_id == tenant_id)
        .order_by(RedemptionType.id)
    )
    return list(result.scalars())


async def get_types(
    session: AsyncSession, tenant_id: uuid.UUID, type_ids: Sequence[int]
) -> list[RedemptionType]:
    if not type_ids:
        return []
    result = await session.execute(
        select(RedemptionType).where(
            RedemptionType.tenant_id == tenant_id, RedemptionType.id.in_(list(type_ids))
        )
    )
    return list(result.scalars())


# --- redemptions ------------------------------------------------------------------------------


async def get_redemption(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    redemption_id: uuid.UUID,
    *,
    lock: str | None = None,
) -> Redemption | None:
    """A live redemption; ``lock`` is "update" (admin changes) or "key share" (a redeem: it
    keeps admins from changing the supply under it, and never blocks another redeem)."""
    stmt = select(Redemption).where(
        Redemption.tenant_id == tenant_id,
        Redemption.id == redemption_id,
        Redemption.deleted_at.is_(None),
    )
    if lock == "update":
        stmt = stmt.with_for_update()
    elif lock == "key share":
        stmt = stmt.with_for_update(read=True, key_share=True)
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def get_redemptions(
    session: AsyncSession, tenant_id: uuid.UUID, redemption_ids: Sequence[uuid.UUID]
) -> list[Redemption]:
    """Deleted ones too (the user's redeems name what they redeemed)."""
    if not redemption_ids:
        return []
    result = await session.execute(
        select(Redemption).where(
            Redemption.tenant_id == tenant_id, Redemption.id.in_(list(redemption_ids))
        )
    )
    return list(result.scalars())


async def list_redemptions(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    env: Environment | None,
    active: bool | None,
) -> list[Redemption]:
    """Live redemptions by ``order``, then oldest first."""
    stmt = select(Redemption).where(
        Redemption.tenant_id == tenant_id, Redemption.deleted_at.is_(None)
    )
    if env is not None:
        stmt = stmt.where(Redemption.environment == env)
    if active is not None:
        stmt = stmt.where(Redemption.is_active.is_(active))
    stmt = stmt.order_by(Redemption.order, Redemption.created_at, Redemption.id)
    return list((await session.execute(stmt)).scalars())


# --- token units ------------------------------------------------------------------------------


async def units_of(
    session: AsyncSession, tenant_id: uuid.UUID, redemption_ids: Sequence[uuid.UUID]
) -> list[RedemptionTokenUnit]:
    if not redemption_ids:
        return []
    result = await session.execute(
        select(RedemptionTokenUnit)
        .where(
            RedemptionTokenUnit.tenant_id == tenant_id,
            RedemptionTokenUnit.redemption_id.in_(list(redemption_ids)),
            RedemptionTokenUnit.removed_at.is_(None),
        )
        .order_by(RedemptionTokenUnit.created_at, RedemptionTokenUnit.id)
    )
    return list(result.scalars())


async def get_unit(
    session: AsyncSession, tenant_id: uuid.UUID, redemption_id: uuid.UUID, unit_id: uuid.UUID
) -> RedemptionTokenUnit | None:
    result = await session.execute(
        select(RedemptionTokenUnit).where(
            RedemptionTokenUnit.tenant_id == tenant_id,
            RedemptionTokenUnit.redemption_id == redemption_id,
            RedemptionTokenUnit.id == unit_id,
            RedemptionTokenUnit.removed_at.is_(None),
        )
    )
    return result.scalar_one_or_none()


# --- supply -----------------------------------------------------------------------------------

_AVAILABLE = (
    "SELECT redemption_id, sum(remaining) FROM redemption_supply_shards"
    " WHERE tenant_id = $1 AND redemption_id = ANY($2::uuid[]) GROUP BY redemption_id"
)
_DROP_SHARDS = "DELETE FROM redemption_supply_shards WHERE tenant_id = $1 AND redemption_id = $2"
_ADD_SHARDS = (
    "INSERT INTO redemption_supply_shards (tenant_id, redemption_id, shard, remaining)"
    " SELECT $1, $2, s, r FROM unnest($3::integer[], $4::integer[]) AS t(s, r)"
)
# First pass: a shard with stock that no other redeem holds, nearest to ``start``; never waits.
# The shard is chosen by an uncorrelated scalar subquery, which PostgreSQL runs once (an
# InitPlan). Joined instead (UPDATE ... FROM (SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED)), the
# subquery may be rescanned once per candidate row, skip the shard this statement just updated
# and take a second unit from another shard.
_TAKE_FREE = (
    "UPDATE redemption_supply_shards SET remaining = remaining - 1"
    " WHERE tenant_id = $1 AND redemption_id = $2 AND shard = ("
    "  SELECT shard FROM redemption_supply_shards"
    "  WHERE tenant_id = $1 AND redemption_id = $2 AND remaining >= 1"
    "  ORDER BY (shard + $4 - $3) % $4 LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING shard"
)
# Second pass, shard by shard: waits for a redeem holding the shard to commit or roll back,
# then re-reads it, so a refusal means every shard was seen empty after every earlier redeem.
_TAKE_FROM = (
    "UPDATE redemption_supply_shards SET remaining = remaining - 1"
    " WHERE tenant_id = $1 AND redemption_id = $2 AND shard = $3 AND remaining >= 1"
    " RETURNING shard"
)


async def available(
    session: AsyncSession, tenant_id: uuid.UUID, redemption_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Remaining stock by redemption (limited ones only: unlimited ones have no shards)."""
    if not redemption_ids:
        return {}
    conn = await driver(session)
    rows = await conn.fetch(_AVAILABLE, tenant_id, list(redemption_ids))
    return {row[0]: int(row[1]) for row in rows}


async def set_shards(
    session: AsyncSession, tenant_id: uuid.UUID, redemption_id: uuid.UUID, remaining: list[int]
) -> None:
    """Replace the redemption's shards with one row per entry of ``remaining`` (the caller
    holds the redemption ``FOR UPDATE``, which no redeem can then pass)."""
    conn = await driver(session)
    await conn.execute(_DROP_SHARDS, tenant_id, redemption_id)
    if remaining:
        await conn.execute(
            _ADD_SHARDS, tenant_id, redemption_id, list(range(len(remaining))), remaining
        )


async def take_supply(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    redemption_id: uuid.UUID,
    *,
    shards: int,
    start: int,
) -> bool:
    """Take one unit of stock; False when every shard is empty."""
    conn = await driver(session)
    if await conn.fetchval(_TAKE_FREE, tenant_id, redemption_id, start, shards) is not None:
        return True
    for step in range(shards):
        shard = (start + step) % shards
        if await conn.fetchval(_TAKE_FROM, tenant_id, redemption_id, shard) is not None:
            return True
    return False


# --- per-user counters ------------------------------------------------------------------------

# Counts the redeem if the user is below maxPerUser, in one statement on the user's own row
# (as the claim counters: concurrent first redeems wait on the inserted key; ON CONFLICT DO
# UPDATE locks the row even when its WHERE refuses, so one user's redeems queue here).
_COUNT = (
    "INSERT INTO redemption_user_counters AS c (tenant_id, redemption_id, user_id, total,"
    " last_redeem_at) VALUES ($1, $2, $3, 1, $4)"
    " ON CONFLICT (tenant_id, redemption_id, user_id) DO UPDATE SET"
    " total = c.total + 1, last_redeem_at = excluded.last_redeem_at"
    " WHERE ($5::integer IS NULL OR c.total < $5)"
    " RETURNING total"
)
_TOTAL = (
    "SELECT total FROM redemption_user_counters"
    " WHERE tenant_id = $1 AND redemption_id = $2 AND user_id = $3"
)


async def count_redeem(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    redemption_id: uuid.UUID,
    user_id: uuid.UUID,
    now: datetime,
    max_per_user: int | None,
) -> int | None:
    """The redeem's number for this user (1 for the first), or None when maxPerUser refuses."""
    conn = await driver(session)
    total = await conn.fetchval(_COUNT, tenant_id, redemption_id, user_id, now, max_per_user)
    return None if total is None else int(total)


async def user_total(
    session: AsyncSession, tenant_id: uuid.UUID, redemption_id: uuid.UUID, user_id: uuid.UUID
) -> int:
    conn = await driver(session)
    total = await conn.fetchval(_TOTAL, tenant_id, redemption_id, user_id)
    return 0 if total is None else int(total)


# --- redeems ----------------------------------------------------------------------------------


async def add_redeem(session: AsyncSession, redeem: RedemptionRedeem) -> None:
    await insert_row(session, redeem)


async def redeemed_count(
    session: AsyncSession, tenant_id: uuid.UUID, redemption_id: uuid.UUID
) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(RedemptionRedeem)
        .where(
            RedemptionRedeem.tenant_id == tenant_id,
            RedemptionRedeem.redemption_id == redemption_id,
        )
    )
    return int(result.scalar_one())


async def list_redeems(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    *,
    user_id: uuid.UUID,
    limit: int,
    offset: int,
) -> list[RedemptionRedeem]:
    """Newest first."""
    stmt: Any = (
        select(RedemptionRedeem)
        .where(
            RedemptionRedeem.tenant_id == tenant_id,
            RedemptionRedeem.environment == environment,
            RedemptionRedeem.user_id == user_id,
        )
        .order_by(RedemptionRedeem.created_at.desc(), RedemptionRedeem.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list((await session.execute(stmt)).scalars())


# --- the fast lane ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FastRedeem:
    """The arguments of ``pers_fast_redeem`` (revision 0022), in its order; one entry per token
    unit in each list."""

    tenant_id: uuid.UUID
    environment: Environment
    user_id: uuid.UUID
    project_key: str
    catalog_version: int
    redemption_id: uuid.UUID
    country: str | None
    redeem_id: uuid.UUID
    spend_entry_id: uuid.UUID
    token_ids: list[uuid.UUID]
    token_addresses: list[str]
    token_types: list[str]
    token_decimals: list[int]
    chain_ids: list[int | None]
    token_keys: list[int]
    unique: list[bool]
    metadata_ids: list[int | None]
    amounts: list[int]
    entry_ids: list[uuid.UUID]
    issuer: str
    now: datetime


_FAST_REDEEM = (
    "SELECT redeem, movements FROM pers_fast_redeem($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
    " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
)


async def fast_redeem(
    db: Database, args: FastRedeem
) -> tuple[RedemptionRedeem, list[Transaction]] | None:
    """Record a redeem in one autocommit statement: the redeem and its transactions, or None
    when the function declined or the server refused (nothing written)."""
    row = await fast_statement(
        db, _FAST_REDEEM, args.tenant_id, args.environment.value, args.user_id,
        args.user_id.int, args.project_key, args.catalog_version, args.redemption_id,
        args.country, args.redeem_id, args.spend_entry_id, args.token_ids,
        args.token_addresses, args.token_types, args.token_decimals, args.chain_ids,
        args.token_keys, args.unique, args.metadata_ids, args.amounts, args.entry_ids,
        args.issuer, args.now,
    )  # fmt: skip
    if row is None:
        return None
    dialect = db.engine.dialect
    return (
        from_record(dialect, RedemptionRedeem, row["redeem"]),
        [from_record(dialect, Transaction, tx) for tx in row["movements"]],
    )
