from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pers.claims.models import CampaignClaim, ClaimedBy
from pers.db import Database, bind_column, driver, fast_statement, from_record, insert_row
from pers.kit.enums import Environment
from pers.transactions.models import Transaction
from pers.users.models import User


@dataclass(frozen=True, slots=True)
class Limits:
    """What one counter row allows; None: no limit."""

    max_total: int | None
    max_per_day: int | None
    cooldown_seconds: int | None


@dataclass(frozen=True, slots=True)
class CounterState:
    total: int
    day: date
    day_count: int
    last_claim_at: datetime


# Counts the claim if every limit allows it, in one statement on the user's own row. A first
# claim inserts the row; concurrent first claims wait on the inserted key and take the update
# path, and ON CONFLICT DO UPDATE locks the row even when its WHERE refuses: the claims of one
# user queue here, and the checks see every claim committed before them.
_COUNT = (
    "INSERT INTO campaign_claim_counters AS c (tenant_id, campaign_id, user_id, business_id,"
    " total, day, day_count, last_claim_at) VALUES ($1, $2, $3, $4, 1, $5, 1, $6)"
    " ON CONFLICT (tenant_id, campaign_id, user_id, business_id) DO UPDATE SET"
    " total = c.total + 1,"
    " day_count = CASE WHEN c.day = excluded.day THEN c.day_count + 1 ELSE 1 END,"
    " day = excluded.day, last_claim_at = excluded.last_claim_at"
    " WHERE ($7::integer IS NULL OR c.total < $7)"
    " AND ($8::integer IS NULL OR c.day <> excluded.day OR c.day_count < $8)"
    " AND ($9::integer IS NULL"
    " OR c.last_claim_at <= excluded.last_claim_at - make_interval(secs => $9))"
    " RETURNING total"
)
_STATE = (
    "SELECT total, day, day_count, last_claim_at FROM campaign_claim_counters"
    " WHERE tenant_id = $1 AND campaign_id = $2 AND user_id = $3 AND business_id = $4"
)


async def count_claim(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    user_id: uuid.UUID,
    scope: uuid.UUID,
    now: datetime,
    limits: Limits,
) -> int | None:
    """The claim's number in this counter (1 for the first), or None when a limit refuses it
    (nothing counted; the row stays locked until the transaction ends)."""
    conn = await driver(session)
    total = await conn.fetchval(
        _COUNT, tenant_id, campaign_id, user_id, scope, now.astimezone(UTC).date(), now,
        limits.max_total, limits.max_per_day, limits.cooldown_seconds,
    )  # fmt: skip
    return None if total is None else int(total)


async def counter_state(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    user_id: uuid.UUID,
    scope: uuid.UUID,
) -> CounterState | None:
    conn = await driver(session)
    row = await conn.fetchrow(_STATE, tenant_id, campaign_id, user_id, scope)
    return None if row is None else CounterState(*row)


async def add(session: AsyncSession, claim: CampaignClaim) -> None:
    await insert_row(session, claim)


@dataclass(frozen=True, slots=True)
class FastClaim:
    """The arguments of ``pers_fast_claim`` (revision 0021), in its order."""

    tenant_id: uuid.UUID
    environment: Environment
    check: str
    subject_id: uuid.UUID
    key_hash: str | None
    key_type: str | None
    project_key: str
    touch_before: datetime
    catalog_version: int
    user_column: str
    user_value: str
    campaign_id: uuid.UUID
    trigger_id: uuid.UUID
    scope: uuid.UUID
    limits: Limits
    threshold: int | None
    claim_id: uuid.UUID
    claimed_by: ClaimedBy
    claimer_id: uuid.UUID | None
    conditions_data: dict[str, Any] | None
    multiplier: Decimal
    latitude: float | None
    longitude: float | None
    start_date: datetime | None
    end_date: datetime | None
    process_type: str
    token_ids: list[uuid.UUID]
    token_addresses: list[str]
    token_decimals: list[int]
    chain_ids: list[int | None]
    amounts: list[int]
    entry_ids: list[uuid.UUID]
    issuer: str
    now: datetime


_FAST_CLAIM = (
    "SELECT claim, claimant, movements FROM pers_fast_claim($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27,"
    " $28, $29, $30, $31, $32, $33, $34, $35, $36, $37)"
)


async def fast_claim(
    db: Database, args: FastClaim
) -> tuple[CampaignClaim, User, list[Transaction]] | None:
    """Record a claim in one autocommit statement: the claim, its user and its transactions,
    or None when the function declined or the server refused (nothing written)."""
    dialect = db.engine.dialect
    conditions = bind_column(dialect, CampaignClaim.conditions_data, args.conditions_data)
    row = await fast_statement(
        db, _FAST_CLAIM, args.tenant_id, args.environment.value, args.check,
        args.subject_id, args.key_hash, args.key_type, args.project_key,
        args.touch_before, args.catalog_version, args.user_column, args.user_value,
        args.campaign_id, args.trigger_id, args.scope, args.limits.max_total,
        args.limits.max_per_day, args.limits.cooldown_seconds, args.threshold,
        args.claim_id, args.claimed_by.value, args.claimer_id, conditions,
        args.multiplier, args.latitude, args.longitude, args.start_date,
        args.end_date, args.process_type, args.token_ids, args.token_addresses,
        args.token_decimals, args.chain_ids, args.amounts, args.entry_ids,
        args.issuer, args.now, args.now.astimezone(UTC).date(),
    )  # fmt: skip
    if row is None:
        return None
    return (
        from_record(dialect, CampaignClaim, row["claim"]),
        from_record(dialect, User, row["claimant"]),
        [from_record(dialect, Transaction, tx) for tx in row["movements"]],
    )


async def list_claims(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    *,
    user_id: uuid.UUID | None,
    campaign_id: uuid.UUID | None,
    business_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> Sequence[CampaignClaim]:
    """Newest first."""
    stmt = select(CampaignClaim).where(
        CampaignClaim.tenant_id == tenant_id, CampaignClaim.environment == environment
    )
    if user_id is not None:
        stmt = stmt.where(CampaignClaim.user_id == user_id)
    if campaign_id is not None:
        stmt = stmt.where(CampaignClaim.campaign_id == campaign_id)
    if business_id is not None:
        stmt = stmt.where(CampaignClaim.business_id == business_id)
    stmt = stmt.order_by(CampaignClaim.created_at.desc(), CampaignClaim.id.desc())
    result = await session.execute(stmt.limit(limit).offset(offset))
    return result.scalars().all()
