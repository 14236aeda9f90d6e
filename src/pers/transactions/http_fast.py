"""The fast lane of the Transaction module (pers.fastlane): an admin's credit mint and a user's
credit payment to a business, answered in one statement when they succeed. Each handler reads
the request exactly as the regular route does (the same request model, the same response
model) and declines (None) whenever anything is not the plain successful case."""

from __future__ import annotations

import uuid

from pydantic import TypeAdapter

from pers.fastlane import FastAnswer, FastHandler, FastRequest, read_call
from pers.runtime import Runtime
from pers.transactions import service
from pers.transactions.http_v1 import CreditsRequest, TransactionRead, UserTransferRequest, read
from pers.transactions.models import Transaction

_TRANSACTION = TypeAdapter(TransactionRead)


def _answer(tx: Transaction) -> FastAnswer:
    return FastAnswer(201, _TRANSACTION.dump_json(read(tx), by_alias=True))


async def admin_mint_credits(rt: Runtime, request: FastRequest) -> FastAnswer | None:
    """``POST /v1.7/transaction/admin/mint/credits`` with an admin's bearer token alone."""
    headers = request.headers
    if "x-project-key" in headers or "x-api-key" in headers:
        return None
    call = read_call(rt, request, request.bearer(), CreditsRequest)
    if call is None:
        return None
    credential, body = call
    tx = await service.fast_admin_mint_credits(
        rt, credential, identifier=body.user_identifier, user_email=body.user_email,
        amount=body.amount, now=request.now,
    )  # fmt: skip
    return None if tx is None else _answer(tx)


async def user_transfer_credits(rt: Runtime, request: FastRequest) -> FastAnswer | None:
    """``POST /v1.7/transaction/auth/transfer/credits`` of credits (no ``tokenAddress``) with a
    user's bearer token and the project key."""
    headers = request.headers
    project_key = headers.get("x-project-key")
    if project_key is None or "x-api-key" in headers:
        return None
    call = read_call(rt, request, request.bearer(), UserTransferRequest)
    if call is None:
        return None
    credential, body = call
    if body.token_address is not None or body.token_metadata_incremental_id is not None:
        return None
    business_id: uuid.UUID = body.business_id
    tx = await service.fast_user_pay_credits(
        rt, credential, project_key=project_key, business_id=business_id,
        chain_id=body.chain_id, amount=body.amount, now=request.now,
    )  # fmt: skip
    return None if tx is None else _answer(tx)


# Paths under the /v1.7 prefix, as the router declares them.
ROUTES: dict[tuple[str, str], FastHandler] = {
    ("POST", "/transaction/admin/mint/credits"): admin_mint_credits,
    ("POST", "/transaction/auth/transfer/credits"): user_transfer_credits,
}
