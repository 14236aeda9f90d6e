"""What an operator does with settlement: see the intents that failed, queue one again, and
see where the queue stands (docs/settlement.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import RequestContext
from pers.settlement import repository
from pers.settlement.errors import IntentNotFailed, IntentNotFound


@dataclass(frozen=True)
class IntentView:
    id: uuid.UUID
    environment: str
    type: str
    trigger_process_type: str
    token_address: str
    token_type: str
    chain_id: int | None
    contract_token_id: int | None
    amount: int
    sender_address: str
    recipient_address: str
    status: str
    transaction_hash: str | None
    failure_reason: str | None
    settle_seq: int
    created_at: datetime
    updated_at: datetime


def _view(row: Any) -> IntentView:
    return IntentView(
        id=row.id, environment=row.environment, type=row.type,
        trigger_process_type=row.trigger_process_type, token_address=row.token_address,
        token_type=row.token_type, chain_id=row.chain_id,
        contract_token_id=None if row.contract_token_id is None else int(row.contract_token_id),
        amount=int(row.amount), sender_address=row.sender_address,
        recipient_address=row.recipient_address, status=row.status,
        transaction_hash=row.transaction_hash, failure_reason=row.failure_reason,
        settle_seq=int(row.settle_seq), created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


async def failed_intents(
    session: AsyncSession, ctx: RequestContext, *, limit: int, offset: int
) -> list[IntentView]:
    rows = await repository.failed(session, ctx.tenant, ctx.env.value, limit, offset)
    return [_view(row) for row in rows]


async def retry(session: AsyncSession, ctx: RequestContext, intent_id: uuid.UUID) -> IntentView:
    """Queue a failed intent again. Its ledger effect never went away (the ledger is the
    truth); this only asks the relayer to try the chain once more, e.g. after the operator
    fixed what made it revert."""
    row = await repository.intent(session, ctx.tenant, ctx.env.value, intent_id)
    if row is None:
        raise IntentNotFound(f"no transaction {intent_id}")
    if row.status != "failed":
        raise IntentNotFailed(f"transaction {intent_id} is {row.status}", status=row.status)
    await repository.requeue_failed(session, ctx.tenant, intent_id)
    row = await repository.intent(session, ctx.tenant, ctx.env.value, intent_id)
    return _view(row)


async def queue_status(session: AsyncSession, ctx: RequestContext) -> dict[str, int]:
    return await repository.status_counts(session, ctx.tenant, ctx.env.value)
