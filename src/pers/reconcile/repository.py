"""The ledger side of a reconciliation: what the ``transactions`` table says was settled.

Reads only, one tenant at a time (the caller binds the tenant for Row Level Security) and
always filtered by it. Addresses are compared in lower case: rows keep EIP-55 spellings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from pers.kit.enums import Environment
from pers.tenants.models import Tenant
from pers.tokens.models import Token
from pers.transactions.models import Transaction, TransactionStatus

IN_FLIGHT = (
    TransactionStatus.CREATED,
    TransactionStatus.PROCESSING,
    TransactionStatus.PENDING_SIGNATURE,
    TransactionStatus.BROADCASTED,
)


@dataclass(frozen=True, slots=True)
class SettledBalance:
    environment: Environment
    chain_id: int | None
    token_address: str  # lower case
    token_type: str
    token_key: int  # 0 for ERC20
    holder: str  # lower case
    amount: int


@dataclass(frozen=True, slots=True)
class TokenSeen:
    environment: Environment
    chain_id: int | None
    token_address: str  # lower case
    token_type: str


@dataclass(frozen=True, slots=True)
class FailedIntent:
    id: uuid.UUID
    environment: Environment
    chain_id: int | None
    token_address: str
    token_type: str
    token_key: int | None
    amount: int
    sender: str
    recipient: str
    reason: str | None
    updated_at: datetime


async def tenant_ids(session: AsyncSession, only: uuid.UUID | None) -> list[uuid.UUID]:
    """Every tenant, or ``only`` if it exists (``tenants`` has no Row Level Security)."""
    stmt = select(Tenant.id).order_by(Tenant.id)
    if only is not None:
        stmt = stmt.where(Tenant.id == only)
    return list((await session.execute(stmt)).scalars())


def _scope(tenant_id: uuid.UUID, environment: Environment | None) -> list[ColumnElement[bool]]:
    clauses = [Transaction.tenant_id == tenant_id]
    if environment is not None:
        clauses.append(Transaction.environment == environment)
    return clauses


async def settled_balances(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment | None,
    issuer: str,
) -> list[SettledBalance]:
    """Per environment, chain, token, token id and holder: what the ``succeeded`` transactions
    moved, +amount to the recipient and -amount from the sender. The issuer's legs are left
    out: on chain it is the zero address (mints and burns), which holds nothing."""
    issuer = issuer.lower()
    key = func.coalesce(Transaction.contract_token_id, 0)
    token = func.lower(Transaction.token_address)
    settled = [*_scope(tenant_id, environment), Transaction.status == TransactionStatus.SUCCEEDED]
    received = select(
        Transaction.environment, Transaction.chain_id, token.label("token"),
        Transaction.token_type, key.label("key"),
        func.lower(Transaction.recipient_address).label("holder"),
        Transaction.amount.label("delta"),
    ).where(*settled, func.lower(Transaction.recipient_address) != issuer)  # fmt: skip
    sent = select(
        Transaction.environment, Transaction.chain_id, token.label("token"),
        Transaction.token_type, key.label("key"),
        func.lower(Transaction.sender_address).label("holder"),
        (literal(0) - Transaction.amount).label("delta"),
    ).where(*settled, func.lower(Transaction.sender_address) != issuer)  # fmt: skip
    legs = union_all(received, sent).subquery()
    stmt = select(
        legs.c.environment, legs.c.chain_id, legs.c.token, legs.c.token_type, legs.c.key,
        legs.c.holder, func.sum(legs.c.delta),
    ).group_by(
        legs.c.environment, legs.c.chain_id, legs.c.token, legs.c.token_type, legs.c.key,
        legs.c.holder,
    )  # fmt: skip
    return [
        SettledBalance(Environment(env), chain, tok, kind, int(k), holder, int(amount))
        for env, chain, tok, kind, k, holder, amount in await session.execute(stmt)
    ]


async def tokens_seen(
    session: AsyncSession, tenant_id: uuid.UUID, environment: Environment | None
) -> list[TokenSeen]:
    """Every token any transaction names, whatever its status: the ones whose contracts are
    read and whose logs are scanned."""
    stmt = (
        select(
            Transaction.environment,
            Transaction.chain_id,
            func.lower(Transaction.token_address),
            Transaction.token_type,
        )
        .where(*_scope(tenant_id, environment))
        .distinct()
    )
    return [
        TokenSeen(Environment(env), chain, tok, kind)
        for env, chain, tok, kind in await session.execute(stmt)
    ]


async def registered_tokens(
    session: AsyncSession, tenant_id: uuid.UUID, environment: Environment | None
) -> list[TokenSeen]:
    """The tenant's token contracts, used or not: a contract nobody moved through the ledger
    can still hold what someone minted on chain."""
    rows = await session.execute(
        select(
            Token.type,
            Token.testnet_contract_address,
            Token.testnet_chain_id,
            Token.mainnet_contract_address,
            Token.mainnet_chain_id,
        ).where(Token.tenant_id == tenant_id)
    )
    found: list[TokenSeen] = []
    for kind, testnet_address, testnet_chain, mainnet_address, mainnet_chain in rows:
        sides = [
            (Environment.TESTNET, testnet_address, testnet_chain),
            (Environment.MAINNET, mainnet_address, mainnet_chain),
        ]
        for env, address, chain in sides:
            if address is not None and environment in (None, env):
                found.append(TokenSeen(env, chain, address.lower(), str(kind.value)))
    return found


async def failed_intents(
    session: AsyncSession, tenant_id: uuid.UUID, environment: Environment | None
) -> list[FailedIntent]:
    stmt = (
        select(
            Transaction.id, Transaction.environment, Transaction.chain_id,
            Transaction.token_address, Transaction.token_type, Transaction.contract_token_id,
            Transaction.amount, Transaction.sender_address, Transaction.recipient_address,
            Transaction.failure_reason, Transaction.updated_at,
        )
        .where(*_scope(tenant_id, environment), Transaction.status == TransactionStatus.FAILED)
        .order_by(Transaction.id)
    )  # fmt: skip
    return [
        FailedIntent(
            id=row.id,
            environment=Environment(row.environment),
            chain_id=row.chain_id,
            token_address=row.token_address,
            token_type=row.token_type,
            token_key=None if row.contract_token_id is None else int(row.contract_token_id),
            amount=int(row.amount),
            sender=row.sender_address,
            recipient=row.recipient_address,
            reason=row.failure_reason,
            updated_at=row.updated_at,
        )
        for row in await session.execute(stmt)
    ]


async def in_flight(
    session: AsyncSession, tenant_id: uuid.UUID, environment: Environment | None
) -> list[tuple[Environment, TransactionStatus, int]]:
    stmt = (
        select(Transaction.environment, Transaction.status, func.count())
        .where(*_scope(tenant_id, environment), Transaction.status.in_(IN_FLIGHT))
        .group_by(Transaction.environment, Transaction.status)
    )
    return [
        (Environment(env), TransactionStatus(status), int(count))
        for env, status, count in await session.execute(stmt)
    ]
