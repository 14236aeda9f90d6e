"""Settlement, for the tenant admin (a pers extension; the spec has no such module): the
intents the chain refused, queueing one again, and the queue's state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.kit.schemas import WireModel
from pers.settlement import service
from pers.settlement.service import IntentView
from pers.web import Access, PersRoute, get_session

router = APIRouter(prefix="/settlement", route_class=PersRoute, tags=["Settlement"])

ADMIN = Access(PrincipalKind.ADMIN)
Session = Annotated[AsyncSession, Depends(get_session)]


class IntentRead(WireModel):
    transaction_id: uuid.UUID = Field(description="The ledger transaction this intent settles")
    type: str
    trigger_process_type: str
    token_address: str
    token_type: str
    chain_id: int | None
    contract_token_id: str | None = Field(description="NFT id, as a decimal string")
    amount_base_units: str = Field(description="Amount in the token's base units")
    sender_address: str
    recipient_address: str
    status: str = Field(description="created, processing, broadcasted, succeeded or failed")
    transaction_hash: str | None = Field(description="The chain transaction that carried it")
    failure_reason: str | None
    settlement_order: int = Field(description="Its place in ledger (settlement) order")
    created_at: datetime
    updated_at: datetime


class QueueRead(WireModel):
    created: int = Field(description="Queued, not yet taken by the relayer")
    processing: int = Field(description="Signed and stored, maybe not yet broadcast")
    broadcasted: int = Field(description="Sent, waiting for the confirmation depth")
    succeeded: int
    failed: int


def _read(view: IntentView) -> IntentRead:
    return IntentRead(
        transaction_id=view.id, type=view.type, trigger_process_type=view.trigger_process_type,
        token_address=view.token_address, token_type=view.token_type, chain_id=view.chain_id,
        contract_token_id=None if view.contract_token_id is None else str(view.contract_token_id),
        amount_base_units=str(view.amount), sender_address=view.sender_address,
        recipient_address=view.recipient_address, status=view.status,
        transaction_hash=view.transaction_hash, failure_reason=view.failure_reason,
        settlement_order=view.settle_seq, created_at=view.created_at, updated_at=view.updated_at,
    )  # fmt: skip


@router.get("/admin/failed", summary="ADMIN: Transactions the chain refused",
            response_model=list[IntentRead])  # fmt: skip
async def failed(
    session: Session,
    ctx: RequestContext = Depends(ADMIN),
    limit: int = Query(default=100, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> list[IntentRead]:
    """Failed intents of the request's environment in ledger order, with the reason. Their
    ledger effect stands; `pers reconcile` reports each as a difference until it settles."""
    views = await service.failed_intents(session, ctx, limit=limit, offset=offset)
    return [_read(view) for view in views]


@router.post("/admin/{transactionId}/retry", summary="ADMIN: Queue a failed transaction again",
             response_model=IntentRead)  # fmt: skip
async def retry(
    session: Session,
    transaction_id: uuid.UUID = Path(alias="transactionId"),
    ctx: RequestContext = Depends(ADMIN),
) -> IntentRead:
    """Back to `created`, at its own place in ledger order, sent on its own. 409 unless it
    is `failed`."""
    return _read(await service.retry(session, ctx, transaction_id))


@router.get("/admin/queue", summary="ADMIN: Settlement state of the environment",
            response_model=QueueRead)  # fmt: skip
async def queue(session: Session, ctx: RequestContext = Depends(ADMIN)) -> QueueRead:
    counts = await service.queue_status(session, ctx)
    return QueueRead(
        created=counts.get("created", 0), processing=counts.get("processing", 0),
        broadcasted=counts.get("broadcasted", 0), succeeded=counts.get("succeeded", 0),
        failed=counts.get("failed", 0),
    )  # fmt: skip
