"""Transaction module (seed 001): minting, transfers, burns and the transaction history."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import Field, TypeAdapter, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.errors import ValidationFailed
from pers.kit.amounts import WireAmount, from_base_units
from pers.kit.schemas import WireInput, WireModel
from pers.runtime import Runtime
from pers.tokens.http_v1 import metadata_incremental_id
from pers.transactions import service
from pers.transactions.models import (
    OwnerType,
    Transaction,
    TransactionStatus,
    TransactionType,
    TriggerProcessType,
)
from pers.transactions.service import AccountQuery, AccountType, Direction
from pers.users.models import UserIdentifier
from pers.web import Access, PersRoute, get_runtime, get_session

router = APIRouter(prefix="/transaction", route_class=PersRoute, tags=["Transaction"])

ADMIN = Access(PrincipalKind.ADMIN)
BUSINESS = Access(PrincipalKind.BUSINESS)
USER = Access(PrincipalKind.USER)
READER = Access(
    PrincipalKind.ADMIN, PrincipalKind.SYSTEM, PrincipalKind.USER, PrincipalKind.BUSINESS
)
Session = Annotated[AsyncSession, Depends(get_session)]
Rt = Annotated[Runtime, Depends(get_runtime)]


class TransactionRead(WireModel):
    amount: WireAmount = Field(description="Transaction amount, in token units")
    id: str = Field(description="Transaction id")
    token_address: str = Field(description="Transaction token address")
    token_type: str = Field(description="ERC20, ERC721 or ERC1155")
    sender_address: str
    recipient_address: str | None
    transaction_hash: str | None
    type: TransactionType
    trigger_process_type: TriggerProcessType
    trigger_process_id: str | None = Field(
        description="The entity that triggered the transaction (e.g. a campaign claim id)"
    )
    status: TransactionStatus
    created_at: datetime
    updated_at: datetime
    contract_token_id: str | None = Field(description="On-chain token id (NFTs)")
    token_metadata_incremental_id: int | None
    chain_id: int | None
    tenant_id: str
    sender_id: str | None
    sender_owner_type: OwnerType
    recipient_id: str | None
    recipient_owner_type: OwnerType
    engaged_business_id: str | None


def read(tx: Transaction) -> TransactionRead:
    def opt(value: uuid.UUID | None) -> str | None:
        return None if value is None else str(value)

    return TransactionRead(
        amount=from_base_units(tx.amount, tx.token_decimals),
        id=str(tx.id),
        token_address=tx.token_address,
        token_type=tx.token_type,
        sender_address=tx.sender_address,
        recipient_address=tx.recipient_address,
        transaction_hash=tx.transaction_hash,
        type=tx.type,
        trigger_process_type=tx.trigger_process_type,
        trigger_process_id=tx.trigger_process_id,
        status=tx.status,
        created_at=tx.created_at,
        updated_at=tx.updated_at,
        contract_token_id=None if tx.contract_token_id is None else str(tx.contract_token_id),
        token_metadata_incremental_id=tx.token_metadata_incremental_id,
        chain_id=tx.chain_id,
        tenant_id=str(tx.tenant_id),
        sender_id=opt(tx.sender_id),
        sender_owner_type=tx.sender_owner_type,
        recipient_id=opt(tx.recipient_id),
        recipient_owner_type=tx.recipient_owner_type,
        engaged_business_id=opt(tx.engaged_business_id),
    )


class CreditsRequest(WireInput):
    user_email: str | None = Field(
        default=None,
        max_length=320,
        description="The user's identifier value (an e-mail unless userIdentifier says otherwise)",
    )
    user_identifier: UserIdentifier | None = Field(
        default=None, description="Which user field userEmail holds (default email)"
    )
    amount: WireAmount


class UserTransferRequest(WireInput):
    business_id: uuid.UUID = Field(description="Business id")
    token_address: str | None = Field(
        default=None, description="Token address; the default credit token when omitted"
    )
    token_metadata_incremental_id: int | None = Field(default=None)
    chain_id: int = Field(description="chain Id")
    amount: WireAmount

    _metadata = field_validator("token_metadata_incremental_id", mode="before")(
        metadata_incremental_id
    )


class UserBurnRequest(WireInput):
    token_address: str = Field(description="Token address")
    chain_id: int = Field(description="chain Id")
    token_metadata_incremental_id: int | None = Field(default=None, description="Token id")
    amount: WireAmount

    _metadata = field_validator("token_metadata_incremental_id", mode="before")(
        metadata_incremental_id
    )


class AdminTokenRequest(WireInput):
    amount: WireAmount
    token_address: str
    token_metadata_incremental_id: int | None = Field(default=None)
    chain_id: int = Field(description="chain Id")
    sender_address: str | None = Field(default=None, description="Sender address")
    recipient_address: str | None = Field(default=None, description="Recipient address")

    _metadata = field_validator("token_metadata_incremental_id", mode="before")(
        metadata_incremental_id
    )


class MintFromUrlRequest(WireInput):
    url: str = Field(
        max_length=2048,
        description="http(s) URL of a CSV (with a header row), NDJSON or JSON-array file of "
        "rows naming a recipient and an optional amount",
    )
    amount: WireAmount | None = Field(
        default=None, description="Amount for the rows that have none, in token units"
    )
    token_address: str
    token_metadata_incremental_id: int | None = Field(default=None)
    chain_id: int = Field(description="chain Id")
    sender_address: str | None = Field(
        default=None, description="Sender address (the tenant's issuer; optional)"
    )

    _metadata = field_validator("token_metadata_incremental_id", mode="before")(
        metadata_incremental_id
    )


class MintedRowRead(TransactionRead):
    """A row that was minted: its Transaction, plus where it was in the file."""

    row: int = Field(description="The row's position among the file's rows, from 1")
    result: Literal["minted"]


class RowError(WireModel):
    code: str = Field(description="Stable error code, as in problem responses")
    detail: str


class FailedRowRead(WireModel):
    """A row that was not minted; nothing was written for it."""

    row: int = Field(description="The row's position among the file's rows, from 1")
    result: Literal["failed"]
    status: Literal["failed"]
    recipient: str | None = Field(description="The recipient as the row wrote it, if any")
    error: RowError


class AccountQueryRequest(WireInput):
    email: str | None = Field(default=None, description="User email (or identifier value)")
    user_identifier: UserIdentifier | None = None
    account_address: str | None = None
    business_or_user_id: uuid.UUID | None = None
    account_type: AccountType = Field(
        description="Type to retrieve transactions from: user or business"
    )

    def query(self) -> AccountQuery:
        return AccountQuery(
            account_type=self.account_type,
            email=self.email,
            user_identifier=self.user_identifier,
            account_address=self.account_address,
            business_or_user_id=self.business_or_user_id,
        )


async def _query_params(
    account_type: AccountType | None = Query(None, alias="accountType"),
    email: str | None = Query(None),
    user_identifier: UserIdentifier | None = Query(None, alias="userIdentifier"),
    account_address: str | None = Query(None, alias="accountAddress"),
    business_or_user_id: uuid.UUID | None = Query(None, alias="businessOrUserId"),
) -> AccountQueryRequest | None:
    if account_type is None:
        return None
    return AccountQueryRequest(
        account_type=account_type,
        email=email,
        user_identifier=user_identifier,
        account_address=account_address,
        business_or_user_id=business_or_user_id,
    )


# --- moving value --------------------------------------------------------------------------------


@router.post("/business/mint/credits", summary="BUSINESS: Mint credits", status_code=201,
             response_model=TransactionRead)  # fmt: skip
async def business_mint_credits(
    body: CreditsRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(BUSINESS)
) -> TransactionRead:
    """Mint credits (the tenant's active ERC20) to a user; the business needs `canMintToken`.
    A user identifier not seen before creates the user."""
    tx = await service.mint_credits(
        session, rt, ctx, identifier=body.user_identifier, user_email=body.user_email,
        amount=body.amount,
    )  # fmt: skip
    return read(tx)


@router.post("/admin/mint/credits", summary="ADMIN: Mint credits to user", status_code=201,
             response_model=TransactionRead)  # fmt: skip
async def admin_mint_credits(
    body: CreditsRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> TransactionRead:
    """Mint credits to a user from the tenant. A user identifier not seen before creates the
    user."""
    tx = await service.mint_credits(
        session, rt, ctx, identifier=body.user_identifier, user_email=body.user_email,
        amount=body.amount,
    )  # fmt: skip
    return read(tx)


@router.post("/business/transfer/credits", summary="BUSINESS: Transfer credits", status_code=201,
             response_model=TransactionRead)  # fmt: skip
async def business_transfer_credits(
    body: CreditsRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(BUSINESS)
) -> TransactionRead:
    """Transfer credits from a user to the business (charging); needs `canChargeToken`."""
    tx = await service.charge_credits(
        session, rt, ctx, identifier=body.user_identifier, user_email=body.user_email,
        amount=body.amount,
    )  # fmt: skip
    return read(tx)


@router.post("/admin/transfer/credits", summary="ADMIN: Transfer credits from user",
             status_code=201, response_model=TransactionRead)  # fmt: skip
async def admin_transfer_credits(
    body: CreditsRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> TransactionRead:
    """Transfer credits from a user back to the tenant account."""
    tx = await service.charge_credits(
        session, rt, ctx, identifier=body.user_identifier, user_email=body.user_email,
        amount=body.amount,
    )  # fmt: skip
    return read(tx)


@router.post("/auth/transfer/credits", summary="AUTH USER: Transfer credits", status_code=201,
             response_model=TransactionRead)  # fmt: skip
async def user_transfer_credits(
    body: UserTransferRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(USER)
) -> TransactionRead:
    """Transfer credits (or the token at `tokenAddress`) from the user to a business."""
    return read(await _user_transfer(session, rt, ctx, body))


@router.post("/auth/transfer/token", summary="AUTH USER: Transfer token", status_code=201,
             response_model=TransactionRead)  # fmt: skip
async def user_transfer_token(
    body: UserTransferRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(USER)
) -> TransactionRead:
    """Transfer a token (`tokenMetadataIncrementalId` names the item of an NFT token) from the
    user to a business."""
    return read(await _user_transfer(session, rt, ctx, body))


async def _user_transfer(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, body: UserTransferRequest
) -> Transaction:
    return await service.user_transfer_to_business(
        session, rt, ctx, business_id=body.business_id, token_address=body.token_address,
        metadata_id=body.token_metadata_incremental_id, chain_id=body.chain_id,
        amount=body.amount,
    )  # fmt: skip


@router.post("/auth/burn/token", summary="AUTH USER: Burn token", status_code=201,
             response_model=TransactionRead)  # fmt: skip
async def user_burn_token(
    body: UserBurnRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(USER)
) -> TransactionRead:
    """Burn tokens the user holds."""
    tx = await service.user_burn(
        session, rt, ctx, token_address=body.token_address,
        metadata_id=body.token_metadata_incremental_id, chain_id=body.chain_id,
        amount=body.amount,
    )  # fmt: skip
    return read(tx)


@router.post("/admin/mint/token", summary="ADMIN: Mint token", status_code=201,
             response_model=TransactionRead)  # fmt: skip
async def admin_mint_token(
    body: AdminTokenRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> TransactionRead:
    """Mint a token to a user's or business's account (`recipientAddress`). NFTs need
    `tokenMetadataIncrementalId`; an ERC721 mint creates a new token id."""
    tx = await service.admin_mint_token(
        session, rt, ctx, token_address=body.token_address,
        metadata_id=body.token_metadata_incremental_id, chain_id=body.chain_id,
        amount=body.amount, recipient_address=body.recipient_address,
        sender_address=body.sender_address,
    )  # fmt: skip
    return read(tx)


@router.post(
    "/admin/mint/token/url",
    summary="ADMIN: Mint token from URL",
    status_code=201,
    response_model=None,
    responses={201: {"model": list[MintedRowRead | FailedRowRead],
                     "description": "One result per row, in file order"}},
)  # fmt: skip
async def admin_mint_token_from_url(
    body: MintFromUrlRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> Response:
    """Mint a token to every recipient listed in the file at `url`: CSV with a header row,
    NDJSON, or a JSON array of objects; each row names one recipient (`recipient`, `email`,
    `externalId`, `instagramAccountId`, `id` or `accountAddress`) and optionally an `amount`
    (else the body's `amount`). The answer has one element per row, in order: the
    Transaction with `row` and `result: "minted"`, or `{row, result: "failed", status:
    "failed", recipient, error: {code, detail}}`. See docs/transactions.md."""
    outcome = await service.mint_from_url(
        session, rt, ctx, url=body.url, amount=body.amount, token_address=body.token_address,
        metadata_id=body.token_metadata_incremental_id, chain_id=body.chain_id,
        sender_address=body.sender_address,
    )  # fmt: skip
    return Response(_url_mint_json(outcome), status_code=201, media_type="application/json")


def _url_mint_json(outcome: service.UrlMint) -> memoryview:
    """The rows as one JSON array, serialized row by row: the first minted row is a validated
    MintedRowRead, the others reuse its JSON with their own fields (100,000 rows must not cost
    100,000 models). The outcome's rows are released as they are written, and the array is
    joined once: at the peak the answer is held twice, not more."""
    template: dict[str, Any] | None = None
    amounts: dict[int, Any] = {}
    body = bytearray(b"[")
    rows = outcome.rows
    rows.reverse()
    while rows:
        row = rows.pop()
        if len(body) > 1:
            body += b","
        if isinstance(row, service.FailedRow):
            failed = FailedRowRead(
                row=row.row, result="failed", status="failed", recipient=row.recipient,
                error=RowError(code=row.code, detail=row.detail),
            )  # fmt: skip
            body += failed.model_dump_json(by_alias=True).encode()
            continue
        if template is None:
            template = _minted_read(outcome, row).model_dump(mode="json", by_alias=True)
        amount = amounts.get(row.amount)
        if amount is None:
            amount = amounts[row.amount] = _WIRE_AMOUNT.dump_python(
                from_base_units(row.amount, outcome.token.decimals), mode="json"
            )
        recipient = row.recipient
        fields = {
            **template,
            "amount": amount,
            "id": str(row.id),
            "recipientAddress": recipient.address,
            "recipientId": None if recipient.owner_id is None else str(recipient.owner_id),
            "recipientOwnerType": recipient.owner_type.value,
            "contractTokenId": None
            if row.contract_token_id is None
            else str(row.contract_token_id),
            "row": row.row,
        }
        body += json.dumps(fields, separators=(",", ":")).encode()
    body += b"]"
    return memoryview(body)


_WIRE_AMOUNT: TypeAdapter[Decimal] = TypeAdapter(WireAmount)


def _minted_read(outcome: service.UrlMint, row: service.MintedRow) -> MintedRowRead:
    token, sender = outcome.token, outcome.sender
    return MintedRowRead(
        amount=from_base_units(row.amount, token.decimals),
        id=str(row.id),
        token_address=token.contract_address,
        token_type=token.type.value,
        sender_address=sender.address,
        recipient_address=row.recipient.address,
        transaction_hash=None,
        type=TransactionType.MINT,
        trigger_process_type=TriggerProcessType.ADMIN_TRIGGERED,
        trigger_process_id=None,
        status=TransactionStatus.CREATED,
        created_at=outcome.created_at,
        updated_at=outcome.created_at,
        contract_token_id=None if row.contract_token_id is None else str(row.contract_token_id),
        token_metadata_incremental_id=outcome.token_metadata_incremental_id,
        chain_id=token.chain_id,
        tenant_id=str(outcome.tenant_id),
        sender_id=None if sender.owner_id is None else str(sender.owner_id),
        sender_owner_type=sender.owner_type,
        recipient_id=None if row.recipient.owner_id is None else str(row.recipient.owner_id),
        recipient_owner_type=row.recipient.owner_type,
        engaged_business_id=None,
        row=row.row,
        result="minted",
    )


@router.post("/admin/burn/token", summary="ADMIN: Burn token", status_code=201,
             response_model=TransactionRead)  # fmt: skip
async def admin_burn_token(
    body: AdminTokenRequest, session: Session, rt: Rt, ctx: RequestContext = Depends(ADMIN)
) -> TransactionRead:
    """Burn tokens held by `senderAddress` (a user or business of the tenant)."""
    tx = await service.admin_burn_token(
        session, rt, ctx, token_address=body.token_address,
        metadata_id=body.token_metadata_incremental_id, chain_id=body.chain_id,
        amount=body.amount, sender_address=body.sender_address,
    )  # fmt: skip
    return read(tx)


# --- history -------------------------------------------------------------------------------------


@router.get(
    "/auth/sender",
    summary="AUTH USER: Get transactions by sender for authentificated user",
    response_model=list[TransactionRead],
)
async def my_sent(session: Session, ctx: RequestContext = Depends(USER)) -> list[TransactionRead]:
    """What the user sent, newest first."""
    return [read(t) for t in await service.my_transactions(session, ctx, Direction.SENT)]


@router.get("/auth/recipient",
            summary="AUTH USER: Get transactions by recipient for authentificated user",
            response_model=list[TransactionRead])  # fmt: skip
async def my_received(
    session: Session, ctx: RequestContext = Depends(USER)
) -> list[TransactionRead]:
    """What the user received, newest first."""
    return [read(t) for t in await service.my_transactions(session, ctx, Direction.RECEIVED)]


async def _admin_query(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    body: AccountQueryRequest | None,
    params: AccountQueryRequest | None,
    direction: Direction,
) -> list[TransactionRead]:
    chosen = body or params
    if chosen is None:
        raise ValidationFailed("accountType is required (in the body or the query string)")
    return [read(t) for t in await service.admin_query(session, rt, ctx, chosen.query(), direction)]


@router.post("/admin/sender", summary="ADMIN: Get transactions by sender for authenticated admin",
             response_model=list[TransactionRead])  # fmt: skip
async def admin_by_sender(
    session: Session,
    rt: Rt,
    body: AccountQueryRequest | None = Body(None),
    params: AccountQueryRequest | None = Depends(_query_params),
    ctx: RequestContext = Depends(ADMIN),
) -> list[TransactionRead]:
    """Transactions sent by a user or business (body as documented, or the same fields in the
    query string)."""
    return await _admin_query(session, rt, ctx, body, params, Direction.SENT)


@router.post("/admin/recipient",
             summary="Get transactions by recipient for authenticated admin",
             response_model=list[TransactionRead])  # fmt: skip
async def admin_by_recipient(
    session: Session,
    rt: Rt,
    body: AccountQueryRequest | None = Body(None),
    params: AccountQueryRequest | None = Depends(_query_params),
    ctx: RequestContext = Depends(ADMIN),
) -> list[TransactionRead]:
    """Transactions received by a user or business."""
    return await _admin_query(session, rt, ctx, body, params, Direction.RECEIVED)


@router.get("/admin", summary="ADMIN: Get transactions", response_model=list[TransactionRead])
async def admin_transactions(
    session: Session,
    rt: Rt,
    body: AccountQueryRequest | None = Body(None),
    params: AccountQueryRequest | None = Depends(_query_params),
    ctx: RequestContext = Depends(ADMIN),
) -> list[TransactionRead]:
    """Transactions a user or business sent or received. The spec sends a JSON body with this
    GET; the same fields are accepted in the query string."""
    return await _admin_query(session, rt, ctx, body, params, Direction.ANY)


@router.get("/{transactionId}", summary="Get transaction by id", response_model=TransactionRead)
async def get_transaction(
    transactionId: uuid.UUID,
    session: Session,
    ctx: RequestContext = Depends(READER),
) -> TransactionRead:
    """A transaction of the tenant: admins and systems see all, users and businesses their own."""
    return read(await service.get_transaction(session, ctx, transactionId))
