from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pers.db import Database, fast_statement, from_record, insert_row
from pers.kit.enums import Environment
from pers.transactions.models import (
    OwnerType,
    Transaction,
    TransactionStatus,
    TransactionType,
    TriggerProcessType,
)


async def add(session: AsyncSession, row: Transaction) -> None:
    await insert_row(session, row)


@dataclass(frozen=True, slots=True)
class FastCredits:
    """The arguments of ``pers_fast_credits`` (revision 0018), in its order."""

    kind: str  # "mint" (issuer to a user) or "pay" (a user to a business)
    auth: str  # "key", "admin" or "user"
    tenant_id: uuid.UUID
    auth_id: uuid.UUID
    environment: Environment
    key_hash: str | None
    key_type: str | None
    project_key: str | None
    user_column: str | None
    user_value: str | None
    trigger: TriggerProcessType
    business_id: uuid.UUID | None
    chain_id: int | None
    amount: Decimal
    issuer: str
    entry_id: uuid.UUID
    now: datetime
    touch_before: datetime


_FAST_CREDITS = (
    "SELECT * FROM pers_fast_credits($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
    " $14, $15, $16, $17, $18)"
)


async def fast_credits(db: Database, args: FastCredits) -> Transaction | None:
    """Run the successful case of a credit movement in one autocommit statement: the written
    transaction, or None when the function declined or the server refused (nothing written)."""
    row = await fast_statement(
        db, _FAST_CREDITS, args.kind, args.auth, args.tenant_id, args.auth_id,
        args.environment.value, args.key_hash, args.key_type, args.project_key,
        args.user_column, args.user_value, args.trigger.value, args.business_id,
        args.chain_id, args.amount, args.issuer, args.entry_id, args.now,
        args.touch_before,
    )  # fmt: skip
    if row is None:
        return None
    return from_record(db.engine.dialect, Transaction, row)


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, environment: Environment, tx_id: uuid.UUID
) -> Transaction | None:
    result = await session.execute(
        select(Transaction).where(
            Transaction.tenant_id == tenant_id,
            Transaction.environment == environment,
            Transaction.id == tx_id,
        )
    )
    return result.scalar_one_or_none()


async def list_for(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    *,
    sender: str | None = None,
    recipient: str | None = None,
    participant: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Transaction]:
    stmt = select(Transaction).where(
        Transaction.tenant_id == tenant_id, Transaction.environment == environment
    )
    if sender is not None:
        stmt = stmt.where(Transaction.sender_address == sender)
    if recipient is not None:
        stmt = stmt.where(Transaction.recipient_address == recipient)
    if participant is not None:
        stmt = stmt.where(
            or_(
                Transaction.sender_address == participant,
                Transaction.recipient_address == participant,
            )
        )
    stmt = stmt.order_by(Transaction.created_at.desc(), Transaction.id.desc()).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    result = await session.execute(stmt)
    return list(result.scalars())


_INSERT_MINTS = text(
    "INSERT INTO transactions (tenant_id, id, environment, type, trigger_process_type, token_id,"
    " token_address, token_type, token_decimals, chain_id, contract_token_id,"
    " token_metadata_incremental_id, amount, sender_address, sender_owner_type, sender_id,"
    " recipient_address, recipient_owner_type, recipient_id, status, created_at, updated_at)"
    " SELECT CAST(:tenant_id AS uuid), r.id, CAST(:environment AS varchar),"
    " CAST(:type AS varchar), CAST(:trigger AS varchar), CAST(:token_id AS uuid),"
    " CAST(:token_address AS varchar), CAST(:token_type AS varchar),"
    " CAST(:token_decimals AS integer), CAST(:chain_id AS bigint), r.contract_token_id,"
    " CAST(:metadata_id AS integer), r.amount, CAST(:sender_address AS varchar),"
    " CAST(:sender_owner_type AS varchar), CAST(:sender_id AS uuid), r.recipient_address,"
    " r.recipient_owner_type, r.recipient_id, CAST(:status AS varchar),"
    " CAST(:now AS timestamptz), CAST(:now AS timestamptz)"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:contract_token_ids AS numeric[]),"
    " CAST(:amounts AS numeric[]), CAST(:recipients AS varchar[]),"
    " CAST(:recipient_owner_types AS varchar[]), CAST(:recipient_ids AS uuid[]))"
    " AS r(id, contract_token_id, amount, recipient_address, recipient_owner_type, recipient_id)"
)


@dataclass(frozen=True)
class MintHeader:
    """What every transaction of a bulk mint shares."""

    tenant_id: uuid.UUID
    environment: Environment
    trigger: TriggerProcessType
    token_id: uuid.UUID
    token_address: str
    token_type: str
    token_decimals: int
    chain_id: int | None
    token_metadata_incremental_id: int | None
    sender_address: str
    sender_owner_type: OwnerType
    sender_id: uuid.UUID | None
    now: datetime


async def add_mints(
    session: AsyncSession,
    header: MintHeader,
    *,
    ids: list[uuid.UUID],
    contract_token_ids: list[int | None],
    amounts: list[int],
    recipients: list[str],
    recipient_owner_types: list[OwnerType],
    recipient_ids: list[uuid.UUID | None],
) -> None:
    """Insert many MINT transactions (status created) in one statement."""
    await session.execute(
        _INSERT_MINTS,
        {
            "tenant_id": header.tenant_id, "environment": header.environment.value,
            "type": TransactionType.MINT.value, "trigger": header.trigger.value,
            "token_id": header.token_id, "token_address": header.token_address,
            "token_type": header.token_type, "token_decimals": header.token_decimals,
            "chain_id": header.chain_id, "metadata_id": header.token_metadata_incremental_id,
            "sender_address": header.sender_address,
            "sender_owner_type": header.sender_owner_type.value, "sender_id": header.sender_id,
            "status": TransactionStatus.CREATED.value, "now": header.now, "ids": ids,
            "contract_token_ids": [None if k is None else Decimal(k) for k in contract_token_ids],
            "amounts": [Decimal(a) for a in amounts], "recipients": recipients,
            "recipient_owner_types": [t.value for t in recipient_owner_types],
            "recipient_ids": recipient_ids,
        },
    )  # fmt: skip
