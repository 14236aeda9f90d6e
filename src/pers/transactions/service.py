"""Moving value: every mint, transfer and burn is a Transaction record plus its ledger entry,
written in the request's one database transaction.

``move`` is what claims, redemptions and purchases call too; the operations below are the v1.7
Transaction API's use cases on top of it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import PrincipalKind, RequestContext
from pers.auth.errors import PrincipalNotAllowed
from pers.auth.service import FastCredential
from pers.businesses import service as businesses_service
from pers.businesses.service import BusinessView
from pers.db import plan_each_statement
from pers.errors import NotFound, PersError, ValidationFailed
from pers.kit import fetch, records
from pers.kit.addresses import checksum_address
from pers.kit.amounts import AmountError, to_base_units
from pers.kit.enums import Environment
from pers.kit.ids import parse_uuid, uuid7
from pers.kit.records import Record
from pers.ledger import service as ledger
from pers.ledger.service import Holding, InsufficientBalance, Mint, Move
from pers.runtime import Runtime
from pers.tokens import service as tokens_service
from pers.tokens.errors import TokenNotFound
from pers.tokens.models import TokenType
from pers.tokens.service import TokenView
from pers.transactions import repository
from pers.transactions.errors import (
    AccountNotFound,
    ChainMismatch,
    ChargeNotAllowed,
    InvalidAmount,
    InvalidRow,
    MintNotAllowed,
    SenderNotIssuer,
    TokenIdRequired,
    TokenNotActive,
    TooManyRows,
    TransactionNotFound,
    UrlContentInvalid,
    UrlContentTooLarge,
    UrlFetchFailed,
    UrlNotAllowed,
    UserIdentifierRequired,
    UserNotActive,
)
from pers.transactions.models import (
    OwnerType,
    Transaction,
    TransactionStatus,
    TransactionType,
    TriggerProcessType,
)
from pers.users import service as users_service
from pers.users.models import UserIdentifier
from pers.users.service import UserView


@dataclass(frozen=True)
class Party:
    address: str
    owner_type: OwnerType
    owner_id: uuid.UUID | None


def issuer_address(rt: Runtime, tenant_id: uuid.UUID) -> str:
    """The tenant's issuer account, which every mint comes from and every burn goes to."""
    return ledger.issuer_address(rt.wallets, tenant_id)


def issuer_party(rt: Runtime, ctx: RequestContext) -> Party:
    return Party(issuer_address(rt, ctx.tenant), OwnerType.TENANT, ctx.tenant)


def user_party(user: UserView) -> Party:
    """A user as a party of a movement; deactivated users take part in none (422)."""
    if not user.is_active:
        raise UserNotActive(f"user {user.id} is deactivated")
    return Party(user.account_address, OwnerType.USER, user.id)


def business_party(business: BusinessView) -> Party:
    return Party(business.account_address, OwnerType.BUSINESS, business.id)


def base_units(token: TokenView, amount: Decimal) -> int:
    """Token units to base units; NFTs move whole units, an ERC721 id exactly one."""
    try:
        units = to_base_units(amount, token.decimals)
    except AmountError as exc:
        raise InvalidAmount(str(exc)) from exc
    if token.type is TokenType.ERC721 and units != 1:
        raise InvalidAmount("an ERC721 token moves one at a time (amount 1)")
    return units


def _usable(token: TokenView, chain_id: int | None) -> TokenView:
    if not token.is_active:
        raise TokenNotActive(f"token {token.contract_address} is not active")
    if chain_id is not None and chain_id != token.chain_id:
        raise ChainMismatch(
            f"token {token.contract_address} is on chain {token.chain_id} in {token.environment}"
        )
    return token


async def move(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    kind: TransactionType,
    trigger: TriggerProcessType,
    token: TokenView,
    holding: Holding,
    amount: int,
    sender: Party,
    recipient: Party,
    trigger_process_id: str | None = None,
    engaged_business_id: uuid.UUID | None = None,
    entry_id: uuid.UUID | None = None,
) -> Transaction:
    """Record one movement and post its ledger entry (same id). Raises before writing
    anything the ledger refuses (no overdraft, one holder per ERC721 id)."""
    tx = Transaction(
        tenant_id=ctx.tenant,
        id=entry_id or uuid7(),
        environment=ctx.env,
        type=kind,
        trigger_process_type=trigger,
        trigger_process_id=trigger_process_id,
        token_id=token.id,
        token_address=token.contract_address,
        token_type=token.type.value,
        token_decimals=token.decimals,
        chain_id=token.chain_id,
        contract_token_id=None if token.type is TokenType.ERC20 else holding.token_key,
        token_metadata_incremental_id=holding.metadata_incremental_id
        if token.type is not TokenType.ERC1155
        else holding.token_key,
        amount=amount,
        sender_address=sender.address,
        sender_owner_type=sender.owner_type,
        sender_id=sender.owner_id,
        recipient_address=recipient.address,
        recipient_owner_type=recipient.owner_type,
        recipient_id=recipient.owner_id,
        engaged_business_id=engaged_business_id,
        status=TransactionStatus.CREATED,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    await ledger.post(
        session,
        tenant_id=ctx.tenant,
        environment=ctx.env,
        entry_id=tx.id,
        holding=holding,
        moves=[Move(sender.address, -amount), Move(recipient.address, amount)],
        issuer=ledger.issuer_address(rt.wallets, ctx.tenant),
        now=ctx.now,
    )
    await repository.add(session, tx)
    return tx


@dataclass(frozen=True)
class RewardUnit:
    """A checked token unit (what a claim or a redeem mints): the token as the environment
    sees it, and the amounts in base units."""

    token: TokenView
    amount: int
    max_amount: int | None


async def check_reward_unit(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    env: Environment,
    token_id: uuid.UUID,
    metadata_id: int | None,
    amount: Decimal,
    max_amount: Decimal | None,
    not_on_mainnet: type[PersError],
) -> RewardUnit:
    """Validate a token unit of a campaign or a redemption living in ``env``: the token exists
    (404) and, on mainnet, has a mainnet address (``not_on_mainnet``, 422); ERC20 units name no
    item (400), NFT units name an existing one (422 TOKEN_ID_REQUIRED, 404); amounts are exact
    in the token's decimals (400); an ERC721 unit mints one id; ``maxAmount >= amount``."""
    # Every token has its testnet side: this is the existence check.
    token = await tokens_service.get_token(session, ctx, token_id, env=Environment.TESTNET)
    if env is Environment.MAINNET:
        try:
            token = await tokens_service.get_token(session, ctx, token_id, env=Environment.MAINNET)
        except TokenNotFound:
            raise not_on_mainnet(
                f"token {token_id} has no mainnet address", tokenIds=[str(token_id)]
            ) from None
    if token.type is TokenType.ERC20:
        if metadata_id is not None:
            raise _invalid_unit(
                "body.tokenMetadataIncrementalId", "ERC20 (credit) tokens have no items: omit it"
            )
    else:
        if metadata_id is None:
            raise TokenIdRequired(
                f"a {token.type.value} token unit names its item: tokenMetadataIncrementalId"
            )
        await tokens_service.get_token_metadata(session, ctx, token.id, metadata_id, env=env)
    units = _unit_base_units(token, amount, "amount")
    max_units = None if max_amount is None else _unit_base_units(token, max_amount, "maxAmount")
    if token.type is TokenType.ERC721 and units != 1:
        raise InvalidAmount("an ERC721 token unit mints one token id: amount must be 1")
    if max_units is not None and max_units < units:
        raise _invalid_unit("body.maxAmount", "must not be less than amount")
    return RewardUnit(token, units, max_units)


def _unit_base_units(token: TokenView, amount: Decimal, field: str) -> int:
    try:
        return to_base_units(amount, token.decimals)
    except AmountError as exc:
        raise InvalidAmount(f"{field}: {exc}", field=field) from exc


def _invalid_unit(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


async def mint_reward(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    token: TokenView,
    metadata_id: int | None,
    amount: int,
    user: UserView,
    trigger: TriggerProcessType,
    trigger_process_id: str,
    engaged_business_id: uuid.UUID | None = None,
) -> Transaction:
    """A reward from the tenant's issuer to a user (campaign claims, redemptions): ``amount``
    base units of the token, or of its item ``metadata_id`` (ERC1155); for an ERC721, a fresh
    id of that item. Recorded as a MINT whose ``triggerProcessId`` names what rewarded it."""
    entry_id = uuid7()
    holding = await mint_holding(session, ctx, token, metadata_id, entry_id)
    return await move(
        session, rt, ctx,
        kind=TransactionType.MINT, trigger=trigger, token=token, holding=holding, amount=amount,
        sender=issuer_party(rt, ctx), recipient=user_party(user),
        trigger_process_id=trigger_process_id, engaged_business_id=engaged_business_id,
        entry_id=entry_id,
    )  # fmt: skip


async def spend_credits(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    token: TokenView,
    amount: int,
    user: UserView,
    trigger: TriggerProcessType,
    trigger_process_id: str,
) -> Transaction:
    """A user pays ``amount`` base units of the credit token back to the tenant's issuer (a
    redemption's price): a BURN whose ``triggerProcessId`` names what was bought. The ledger
    refuses an overdraft (422 ``INSUFFICIENT_BALANCE``) before writing anything."""
    return await move(
        session, rt, ctx,
        kind=TransactionType.BURN, trigger=trigger, token=_usable(token, None),
        holding=Holding(token.id, 0, unique=False), amount=amount,
        sender=user_party(user), recipient=issuer_party(rt, ctx),
        trigger_process_id=trigger_process_id,
    )  # fmt: skip


async def mint_holding(
    session: AsyncSession,
    ctx: RequestContext,
    token: TokenView,
    metadata_id: int | None,
    entry_id: uuid.UUID,
) -> Holding:
    """What a mint creates: ERC20 units; an ERC1155 item (its metadata id is its token id); a
    fresh ERC721 id (the entry's 128-bit id, unique without coordination) carrying its item."""
    if token.type is TokenType.ERC20:
        return Holding(token.id, 0, unique=False)
    if metadata_id is None:
        raise TokenIdRequired(f"minting {token.type.value} needs tokenMetadataIncrementalId")
    if not await tokens_service.mintable_item(session, ctx, token, metadata_id):
        raise TokenNotActive(f"token metadata {metadata_id} is not active")
    if token.type is TokenType.ERC1155:
        return Holding(token.id, metadata_id, unique=False)
    return Holding(token.id, entry_id.int, unique=True, metadata_incremental_id=metadata_id)


async def spend_holding(
    session: AsyncSession,
    ctx: RequestContext,
    token: TokenView,
    holder: str,
    metadata_id: int | None,
) -> Holding:
    """What a holder gives: ERC20 units; ERC1155 units of one item; for ERC721, the holder's
    (lowest) id minted with that item."""
    if token.type is TokenType.ERC20:
        return Holding(token.id, 0, unique=False)
    if metadata_id is None:
        raise TokenIdRequired(f"moving {token.type.value} needs tokenMetadataIncrementalId")
    if token.type is TokenType.ERC1155:
        return Holding(token.id, metadata_id, unique=False)
    key = await ledger.held_nft(session, ctx.tenant, ctx.env, holder, token.id, metadata_id)
    if key is None:
        raise InsufficientBalance(f"{holder} holds no token of item {metadata_id}")
    return Holding(token.id, key, unique=True, metadata_incremental_id=metadata_id)


class AccountType(StrEnum):
    BUSINESS = "BUSINESS"
    USER = "USER"


async def party_by_address(session: AsyncSession, ctx: RequestContext, address: str) -> Party:
    """The tenant's user or business owning ``address``."""
    try:
        return user_party(await users_service.get_user_by_address(session, ctx, address))
    except NotFound:
        pass
    try:
        return business_party(
            await businesses_service.get_business_by_address(session, ctx, address)
        )
    except NotFound:
        raise AccountNotFound(f"no account {address} in this tenant") from None


def _identifier_value(
    identifier: UserIdentifier | None, user_email: str | None
) -> tuple[UserIdentifier, str]:
    """The spec's body names a user with ``userEmail`` and ``userIdentifier`` (which field the
    value is): ``userEmail`` carries the value (an e-mail, or the named identifier's value)."""
    if user_email is None or not user_email.strip():
        raise UserIdentifierRequired("userEmail (the user's identifier value) is required")
    return identifier or UserIdentifier.EMAIL, user_email.strip()


async def _credit_token(session: AsyncSession, ctx: RequestContext) -> TokenView:
    return _usable(await tokens_service.get_credit_token(session, ctx), None)


def _require_business(ctx: RequestContext) -> uuid.UUID:
    if ctx.principal.kind is not PrincipalKind.BUSINESS or ctx.principal.id is None:
        raise PrincipalNotAllowed("this operation is for a business")
    return ctx.principal.id


def _require_user(ctx: RequestContext) -> uuid.UUID:
    if ctx.principal.kind is not PrincipalKind.USER or ctx.principal.id is None:
        raise PrincipalNotAllowed("this operation is for a logged-in user")
    return ctx.principal.id


# --- credits (the tenant's ERC20) --------------------------------------------------------------


async def mint_credits(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    identifier: UserIdentifier | None,
    user_email: str | None,
    amount: Decimal,
) -> Transaction:
    """Admin, or a business with canMintToken: credits from the tenant's issuer to a user (an
    unknown identifier creates the user)."""
    engaged = None
    trigger = TriggerProcessType.ADMIN_TRIGGERED
    if ctx.principal.kind is PrincipalKind.BUSINESS:
        business = await businesses_service.get_active_business(
            session, ctx, _require_business(ctx)
        )
        if not business.can_mint_token:
            raise MintNotAllowed()
        engaged, trigger = business.id, TriggerProcessType.EARN
    token = await _credit_token(session, ctx)
    units = base_units(token, amount)
    field, value = _identifier_value(identifier, user_email)
    user = await users_service.resolve_user(
        session, rt, ctx, identifier=field, value=value, create=True
    )
    return await move(
        session, rt, ctx,
        kind=TransactionType.MINT, trigger=trigger, token=token,
        holding=Holding(token.id, 0, unique=False), amount=units,
        sender=issuer_party(rt, ctx), recipient=user_party(user), engaged_business_id=engaged,
    )  # fmt: skip


async def charge_credits(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    identifier: UserIdentifier | None,
    user_email: str | None,
    amount: Decimal,
) -> Transaction:
    """A business with canChargeToken takes credits from a user (to the business); an admin
    takes them back to the tenant."""
    token = await _credit_token(session, ctx)
    units = base_units(token, amount)
    field, value = _identifier_value(identifier, user_email)
    user = await users_service.resolve_user(
        session, rt, ctx, identifier=field, value=value, create=False
    )
    if ctx.principal.kind is PrincipalKind.BUSINESS:
        business = await businesses_service.get_active_business(
            session, ctx, _require_business(ctx)
        )
        if not business.can_charge_token:
            raise ChargeNotAllowed()
        recipient, engaged = business_party(business), business.id
        trigger = TriggerProcessType.SPEND
    else:
        recipient, engaged = issuer_party(rt, ctx), None
        trigger = TriggerProcessType.ADMIN_TRIGGERED
    return await move(
        session, rt, ctx,
        kind=TransactionType.TRANSFER, trigger=trigger, token=token,
        holding=Holding(token.id, 0, unique=False), amount=units,
        sender=user_party(user), recipient=recipient, engaged_business_id=engaged,
    )  # fmt: skip


# --- the fast lane (docs/decisions.md, "The fast lane") ----------------------------------------


async def fast_admin_mint_credits(
    rt: Runtime,
    credential: FastCredential,
    *,
    identifier: UserIdentifier | None,
    user_email: str | None,
    amount: Decimal,
    now: datetime,
) -> Transaction | None:
    """:func:`mint_credits` by an admin, when everything holds, in one statement; None (with
    nothing written) for anything else, which the regular path then answers."""
    if credential.principal is not PrincipalKind.ADMIN or user_email is None:
        return None
    if not user_email.strip():
        return None
    lookup = users_service.lookup_key(identifier or UserIdentifier.EMAIL, user_email.strip())
    if lookup is None:
        return None
    return await repository.fast_credits(
        rt.db,
        repository.FastCredits(
            kind="mint", auth=credential.check, tenant_id=credential.tenant_id,
            auth_id=credential.subject_id, environment=credential.environment,
            key_hash=credential.key_hash, key_type=credential.key_type, project_key=None,
            user_column=lookup[0], user_value=lookup[1],
            trigger=TriggerProcessType.ADMIN_TRIGGERED, business_id=None, chain_id=None,
            amount=amount, issuer=ledger.issuer_address(rt.wallets, credential.tenant_id),
            entry_id=uuid7(), now=now, touch_before=credential.touch_before,
        ),
    )  # fmt: skip


async def fast_user_pay_credits(
    rt: Runtime,
    credential: FastCredential,
    *,
    project_key: str,
    business_id: uuid.UUID,
    chain_id: int,
    amount: Decimal,
    now: datetime,
) -> Transaction | None:
    """:func:`user_transfer_to_business` of credits, when everything holds, in one statement;
    None (with nothing written) for anything else, which the regular path then answers."""
    if credential.principal is not PrincipalKind.USER:
        return None
    return await repository.fast_credits(
        rt.db,
        repository.FastCredits(
            kind="pay", auth="user", tenant_id=credential.tenant_id,
            auth_id=credential.subject_id, environment=credential.environment, key_hash=None,
            key_type=None, project_key=project_key, user_column=None, user_value=None,
            trigger=TriggerProcessType.TRANSFER, business_id=business_id, chain_id=chain_id,
            amount=amount, issuer=ledger.issuer_address(rt.wallets, credential.tenant_id),
            entry_id=uuid7(), now=now, touch_before=credential.touch_before,
        ),
    )  # fmt: skip


# --- the user's own tokens ----------------------------------------------------------------------


async def user_transfer_to_business(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    business_id: uuid.UUID,
    token_address: str | None,
    metadata_id: int | None,
    chain_id: int,
    amount: Decimal,
) -> Transaction:
    """The logged-in user pays a business in credits (default) or any token."""
    user = await users_service.get_user_view(session, ctx, _require_user(ctx))
    business = await businesses_service.get_active_business(session, ctx, business_id)
    token = (
        await tokens_service.get_by_contract_address(session, ctx, token_address)
        if token_address
        else await tokens_service.get_credit_token(session, ctx)
    )
    token = _usable(token, chain_id)
    units = base_units(token, amount)
    holding = await spend_holding(session, ctx, token, user.account_address, metadata_id)
    return await move(
        session, rt, ctx,
        kind=TransactionType.TRANSFER, trigger=TriggerProcessType.TRANSFER, token=token,
        holding=holding, amount=units, sender=user_party(user),
        recipient=business_party(business), engaged_business_id=business.id,
    )  # fmt: skip


async def user_burn(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    token_address: str,
    metadata_id: int | None,
    chain_id: int,
    amount: Decimal,
) -> Transaction:
    user = await users_service.get_user_view(session, ctx, _require_user(ctx))
    token = _usable(
        await tokens_service.get_by_contract_address(session, ctx, token_address), chain_id
    )
    units = base_units(token, amount)
    holding = await spend_holding(session, ctx, token, user.account_address, metadata_id)
    return await move(
        session, rt, ctx,
        kind=TransactionType.BURN, trigger=TriggerProcessType.SPEND, token=token,
        holding=holding, amount=units, sender=user_party(user), recipient=issuer_party(rt, ctx),
    )  # fmt: skip


# --- admin tokens --------------------------------------------------------------------------------


async def admin_mint_token(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    token_address: str,
    metadata_id: int | None,
    chain_id: int,
    amount: Decimal,
    recipient_address: str | None,
    sender_address: str | None,
) -> Transaction:
    token = _usable(
        await tokens_service.get_by_contract_address(session, ctx, token_address), chain_id
    )
    issuer = issuer_party(rt, ctx)
    if sender_address and sender_address.lower() != issuer.address.lower():
        raise SenderNotIssuer(f"the tenant's issuer is {issuer.address}")
    if not recipient_address:
        raise AccountNotFound("recipientAddress is required")
    recipient = await party_by_address(session, ctx, recipient_address)
    units = base_units(token, amount)
    entry_id = uuid7()
    holding = await mint_holding(session, ctx, token, metadata_id, entry_id)
    return await move(
        session, rt, ctx,
        kind=TransactionType.MINT, trigger=TriggerProcessType.ADMIN_TRIGGERED, token=token,
        holding=holding, amount=units, sender=issuer, recipient=recipient, entry_id=entry_id,
    )  # fmt: skip


async def admin_burn_token(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    token_address: str,
    metadata_id: int | None,
    chain_id: int,
    amount: Decimal,
    sender_address: str | None,
) -> Transaction:
    token = _usable(
        await tokens_service.get_by_contract_address(session, ctx, token_address), chain_id
    )
    if not sender_address:
        raise AccountNotFound("senderAddress (the holder to burn from) is required")
    holder = await party_by_address(session, ctx, sender_address)
    units = base_units(token, amount)
    holding = await spend_holding(session, ctx, token, holder.address, metadata_id)
    return await move(
        session, rt, ctx,
        kind=TransactionType.BURN, trigger=TriggerProcessType.ADMIN_TRIGGERED, token=token,
        holding=holding, amount=units, sender=holder, recipient=issuer_party(rt, ctx),
    )  # fmt: skip


# --- reading -------------------------------------------------------------------------------------


class Direction(StrEnum):
    SENT = "sent"
    RECEIVED = "received"
    ANY = "any"


async def my_transactions(
    session: AsyncSession, ctx: RequestContext, direction: Direction
) -> list[Transaction]:
    user = await users_service.get_user_view(session, ctx, _require_user(ctx))
    return await _list(session, ctx, user.account_address, direction)


async def _list(
    session: AsyncSession, ctx: RequestContext, address: str, direction: Direction
) -> list[Transaction]:
    if direction is Direction.SENT:
        return await repository.list_for(session, ctx.tenant, ctx.env, sender=address)
    if direction is Direction.RECEIVED:
        return await repository.list_for(session, ctx.tenant, ctx.env, recipient=address)
    return await repository.list_for(session, ctx.tenant, ctx.env, participant=address)


@dataclass(frozen=True)
class AccountQuery:
    account_type: AccountType
    email: str | None = None
    user_identifier: UserIdentifier | None = None
    account_address: str | None = None
    business_or_user_id: uuid.UUID | None = None


async def _query_address(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, q: AccountQuery
) -> str:
    if q.account_address:
        party = await party_by_address(session, ctx, q.account_address)
        if party.owner_type.value.upper() != q.account_type.value:
            raise AccountNotFound(f"{q.account_address} is not a {q.account_type.value.lower()}")
        return party.address
    if q.account_type is AccountType.BUSINESS:
        if q.business_or_user_id is None:
            raise AccountNotFound("name the business by businessOrUserId or accountAddress")
        business = await businesses_service.get_business(session, ctx, q.business_or_user_id)
        return business.account_address
    if q.business_or_user_id is not None:
        user = await users_service.get_user_view(session, ctx, q.business_or_user_id)
        return user.account_address
    field, value = _identifier_value(q.user_identifier, q.email)
    user = await users_service.resolve_user(
        session, rt, ctx, identifier=field, value=value, create=False
    )
    return user.account_address


async def admin_query(
    session: AsyncSession, rt: Runtime, ctx: RequestContext, q: AccountQuery, direction: Direction
) -> list[Transaction]:
    return await _list(session, ctx, await _query_address(session, rt, ctx, q), direction)


async def get_transaction(
    session: AsyncSession, ctx: RequestContext, tx_id: uuid.UUID
) -> Transaction:
    """Admins and systems see any of the tenant's transactions; a user or a business only the
    ones it sent or received. Others answer 404, like a missing one."""
    tx = await repository.get(session, ctx.tenant, ctx.env, tx_id)
    if tx is None:
        raise TransactionNotFound()
    kind = ctx.principal.kind
    if kind in (PrincipalKind.ADMIN, PrincipalKind.SYSTEM):
        return tx
    party_ids = {tx.sender_id, tx.recipient_id}
    if kind in (PrincipalKind.USER, PrincipalKind.BUSINESS) and ctx.principal.id in party_ids:
        return tx
    raise TransactionNotFound()


# --- mint from URL -------------------------------------------------------------------------------

CHUNK_ROWS = 1000

# The fields a row may name its recipient with, compared without case, "_" or "-"; None is an
# account address (a user's or a business's). "recipient" takes any of them and is classified.
RECIPIENT_FIELDS: dict[str, UserIdentifier | None] = {
    "email": UserIdentifier.EMAIL,
    "externalid": UserIdentifier.EXTERNAL_ID,
    "instagramaccountid": UserIdentifier.INSTAGRAM_ACCOUNT_ID,
    "id": UserIdentifier.ID,
    "accountaddress": None,
    "address": None,
}
GENERIC_RECIPIENT = "recipient"
AMOUNT_FIELD = "amount"


@dataclass(frozen=True, slots=True)
class MintedRow:
    row: int
    id: uuid.UUID
    recipient: Party
    amount: int
    contract_token_id: int | None


@dataclass(frozen=True, slots=True)
class FailedRow:
    row: int
    recipient: str | None
    code: str
    detail: str


@dataclass(frozen=True)
class UrlMint:
    """The outcome of a mint from URL: one result per row, in file order, and what every
    minted row's transaction shares."""

    tenant_id: uuid.UUID
    token: TokenView
    sender: Party
    token_metadata_incremental_id: int | None
    created_at: datetime
    rows: list[MintedRow | FailedRow]


def _field_name(key: object) -> str:
    return str(key).strip().lower().replace("_", "").replace("-", "")


def classify_recipient(value: str) -> UserIdentifier | None:
    """What a bare ``recipient`` value is: an account address (None), an e-mail, a user id, or
    else an externalId."""
    if len(value) == 42 and value[:2].lower() == "0x":
        return None
    if "@" in value:
        return UserIdentifier.EMAIL
    if parse_uuid(value) is not None:
        return UserIdentifier.ID
    return UserIdentifier.EXTERNAL_ID


def row_recipient(fields: dict[str, Any]) -> tuple[UserIdentifier | None, str]:
    """The one recipient a row names; :class:`InvalidRow` for none, several, or a value that is
    not text (or a whole number, for ids kept as numbers)."""
    named: list[tuple[str, Any]] = []
    for key, value in fields.items():
        name = _field_name(key)
        if name != GENERIC_RECIPIENT and name not in RECIPIENT_FIELDS:
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        named.append((name, value))
    if not named:
        raise InvalidRow(
            "the row names no recipient (recipient, email, externalId, instagramAccountId, id "
            "or accountAddress)"
        )
    if len(named) > 1:
        raise InvalidRow(f"the row names {len(named)} recipients: {', '.join(n for n, _ in named)}")
    name, raw = named[0]
    if isinstance(raw, str):
        value = raw.strip()
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = str(raw)
    else:
        raise InvalidRow(f"{name} must be text")
    kind = classify_recipient(value) if name == GENERIC_RECIPIENT else RECIPIENT_FIELDS[name]
    return kind, value


def _raw_recipient(fields: dict[str, Any] | None) -> str | None:
    """The recipient as the row wrote it, for a failed row's report (first one named)."""
    for key, value in (fields or {}).items():
        name = _field_name(key)
        if (name == GENERIC_RECIPIENT or name in RECIPIENT_FIELDS) and value not in (None, ""):
            return str(value)[:320]
    return None


def row_amount(token: TokenView, raw: Any, default: int | None) -> int:
    """Base units of a row's amount (token units, exact), or the default when the row has
    none; :class:`InvalidAmount` otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if default is None:
            raise InvalidAmount("the row has no amount and the request no default amount")
        return default
    if isinstance(raw, bool):
        raise InvalidAmount("the amount must be a number")
    if isinstance(raw, Decimal):
        amount = raw
    elif isinstance(raw, int):
        amount = Decimal(raw)
    elif isinstance(raw, str):
        try:
            amount = Decimal(raw.strip())
        except InvalidOperation:
            raise InvalidAmount(f"the amount {raw.strip()[:40]!r} is not a number") from None
    else:
        raise InvalidAmount("the amount must be a number")
    if not amount.is_finite():
        raise InvalidAmount("the amount must be a finite number")
    return base_units(token, amount)


@dataclass
class _UrlMintPlan:
    rt: Runtime
    ctx: RequestContext
    token: TokenView
    holding: Holding
    default_units: int | None
    batch: ledger.MintBatch
    header: repository.MintHeader


def _user_party_or_error(user: UserView) -> Party | PersError:
    """A row's recipient, or the row's error (a deactivated user fails only that row)."""
    try:
        return user_party(user)
    except UserNotActive as exc:
        return exc


async def _recipients(
    session: AsyncSession,
    plan: _UrlMintPlan,
    wanted: list[tuple[UserIdentifier | None, str]],
) -> dict[tuple[UserIdentifier | None, str], Party | PersError]:
    """Parties for a chunk's recipients: addresses among users then businesses (never
    created); identifiers through the users service (new e-mails and externalIds create
    users, as the other mints do)."""
    ctx = plan.ctx
    found: dict[tuple[UserIdentifier | None, str], Party | PersError] = {}
    addresses: dict[str, str] = {}
    for kind, value in wanted:
        if kind is None:
            checksummed = checksum_address(value)
            if checksummed is None:
                found[(kind, value)] = AccountNotFound(f"{value!r} is not an account address")
            else:
                addresses[value] = checksummed
    if addresses:
        users = await users_service.users_by_addresses(session, ctx, addresses.values())
        rest = [a for a in addresses.values() if a not in users]
        businesses = await businesses_service.ids_by_addresses(session, ctx, rest)
        for value, address in addresses.items():
            if address in users:
                found[(None, value)] = _user_party_or_error(users[address])
            elif address in businesses:
                found[(None, value)] = Party(address, OwnerType.BUSINESS, businesses[address])
            else:
                found[(None, value)] = AccountNotFound(f"no account {address} in this tenant")
    identifiers = [(kind, value) for kind, value in wanted if kind is not None]
    if identifiers:
        resolved = await users_service.resolve_users(
            session, plan.rt, ctx, identifiers, create=True
        )
        for (kind, value), user in resolved.items():
            found[(kind, value)] = (
                user if isinstance(user, PersError) else _user_party_or_error(user)
            )
    return found


async def _mint_chunk(
    session: AsyncSession, plan: _UrlMintPlan, chunk: list[Record]
) -> list[MintedRow | FailedRow]:
    results: list[MintedRow | FailedRow | None] = [None] * len(chunk)
    pending: list[tuple[int, UserIdentifier | None, str, int]] = []
    for index, record in enumerate(chunk):
        if record.fields is None:
            error = record.error or "the row cannot be read"
            results[index] = FailedRow(record.number, None, InvalidRow.code, error)
            continue
        try:
            kind, value = row_recipient(record.fields)
            units = row_amount(plan.token, record.fields.get(_amount_key(record.fields)),
                               plan.default_units)  # fmt: skip
        except PersError as exc:
            raw = _raw_recipient(record.fields)
            results[index] = FailedRow(record.number, raw, exc.code, exc.detail)
            continue
        pending.append((index, kind, value, units))

    parties = await _recipients(session, plan, [(kind, value) for _i, kind, value, _u in pending])
    mints: list[Mint] = []
    minted: list[MintedRow] = []
    unique = plan.holding.unique
    for index, kind, value, units in pending:
        number = chunk[index].number
        party = parties[(kind, value)]
        if isinstance(party, PersError):
            results[index] = FailedRow(number, value, party.code, party.detail)
            continue
        entry_id = uuid7()
        key = entry_id.int if unique else plan.holding.token_key
        mints.append(Mint(entry_id, party.address, key, units))
        contract_token_id = None if plan.token.type is TokenType.ERC20 else key
        row = MintedRow(number, entry_id, party, units, contract_token_id)
        minted.append(row)
        results[index] = row

    if mints:
        await plan.batch.add(session, mints)
        await repository.add_mints(
            session, plan.header,
            ids=[row.id for row in minted],
            contract_token_ids=[row.contract_token_id for row in minted],
            amounts=[row.amount for row in minted],
            recipients=[row.recipient.address for row in minted],
            recipient_owner_types=[row.recipient.owner_type for row in minted],
            recipient_ids=[row.recipient.owner_id for row in minted],
        )  # fmt: skip
    return [result for result in results if result is not None]


def _amount_key(fields: dict[str, Any]) -> str:
    for key in fields:
        if _field_name(key) == AMOUNT_FIELD:
            return key
    return AMOUNT_FIELD


async def mint_from_url(
    session: AsyncSession,
    rt: Runtime,
    ctx: RequestContext,
    *,
    url: str,
    amount: Decimal | None,
    token_address: str,
    metadata_id: int | None,
    chain_id: int,
    sender_address: str | None,
) -> UrlMint:
    """Mint to every recipient listed in the file at ``url`` (docs/transactions.md, "Mint from
    URL"). The token, sender and default amount are checked before anything is fetched; the
    file is streamed and processed in chunks of ``CHUNK_ROWS`` rows. A row that fails is
    reported and the others go on; a file that cannot be fetched or read to its end fails the
    whole request, and nothing of it is kept (it all runs in the request's transaction)."""
    token = _usable(
        await tokens_service.get_by_contract_address(session, ctx, token_address), chain_id
    )
    issuer = issuer_party(rt, ctx)
    if sender_address and sender_address.lower() != issuer.address.lower():
        raise SenderNotIssuer(f"the tenant's issuer is {issuer.address}")
    default_units = None if amount is None else base_units(token, amount)
    holding = await mint_holding(session, ctx, token, metadata_id, uuid7())
    shown_metadata_id = (
        holding.token_key if token.type is TokenType.ERC1155 else holding.metadata_incremental_id
    )
    plan = _UrlMintPlan(
        rt=rt, ctx=ctx, token=token, holding=holding, default_units=default_units,
        batch=ledger.MintBatch(
            tenant_id=ctx.tenant, environment=ctx.env, token_id=token.id,
            unique=holding.unique, metadata_incremental_id=holding.metadata_incremental_id,
            issuer=issuer.address, now=ctx.now,
        ),
        header=repository.MintHeader(
            tenant_id=ctx.tenant, environment=ctx.env,
            trigger=TriggerProcessType.ADMIN_TRIGGERED, token_id=token.id,
            token_address=token.contract_address, token_type=token.type.value,
            token_decimals=token.decimals, chain_id=token.chain_id,
            token_metadata_incremental_id=shown_metadata_id, sender_address=issuer.address,
            sender_owner_type=issuer.owner_type, sender_id=issuer.owner_id, now=ctx.now,
        ),
    )  # fmt: skip
    await plan_each_statement(session)
    rows = await _mint_rows(session, plan, url)
    await plan.batch.finish(session)
    return UrlMint(ctx.tenant, token, issuer, shown_metadata_id, ctx.now, rows)


async def _mint_rows(
    session: AsyncSession, plan: _UrlMintPlan, url: str
) -> list[MintedRow | FailedRow]:
    settings = plan.rt.settings
    max_rows = settings.mint_url_max_rows
    rows: list[MintedRow | FailedRow] = []
    waiting: list[Record] = []
    try:
        async with fetch.open_url(
            url, allow_private=settings.allow_private_urls,
            max_bytes=settings.mint_url_max_bytes,
            timeout_seconds=settings.mint_url_timeout_seconds,
            io_timeout_seconds=settings.http_timeout_seconds,
        ) as download:  # fmt: skip
            async for batch in records.read_records(download.chunks(), download.content_type):
                if batch and batch[-1].number > max_rows:
                    raise TooManyRows(f"the file has more than {max_rows} rows", limit=max_rows)
                waiting.extend(batch)
                while len(waiting) >= CHUNK_ROWS:
                    rows.extend(await _mint_chunk(session, plan, waiting[:CHUNK_ROWS]))
                    del waiting[:CHUNK_ROWS]
            if waiting:
                rows.extend(await _mint_chunk(session, plan, waiting))
    except fetch.FetchRefused as exc:
        raise UrlNotAllowed(str(exc)) from None
    except fetch.FetchTooLarge as exc:
        raise UrlContentTooLarge(str(exc), limit=exc.limit) from None
    except fetch.FetchFailed as exc:
        raise UrlFetchFailed(str(exc)) from None
    except records.FileInvalid as exc:
        raise UrlContentInvalid(str(exc)) from None
    return rows
