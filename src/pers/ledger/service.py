"""``post``: the one entry point that moves value.

Every entry is balanced (its legs sum to zero), holders never go negative, an ERC721 id has one
holder, and postings are only ever appended. Holder rows are locked in one global order (address,
then token), so two opposite transfers can never deadlock. The issuer's legs are postings only:
its (negative) position is the sum of its postings, so minting touches no shared row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pers.errors import BusinessRuleViolation, Conflict, PersError
from pers.kit.enums import Environment
from pers.ledger import repository
from pers.wallets.derivation import OwnerType, WalletDeriver


class InsufficientBalance(BusinessRuleViolation):
    code = "INSUFFICIENT_BALANCE"
    title = "The sender does not hold enough of this token"


class TokenIdAlreadyHeld(Conflict):
    code = "TOKEN_ID_ALREADY_HELD"
    title = "This token id already has a holder"


class UnbalancedEntry(PersError):
    code = "UNBALANCED_ENTRY"
    title = "A ledger entry must sum to zero"


@dataclass(frozen=True)
class Holding:
    """What is moved: a token and its id (0 for fungible ERC20). ``unique``: ERC721, whose
    mint records ``metadata_incremental_id`` with the new id."""

    token_id: uuid.UUID
    token_key: int
    unique: bool
    metadata_incremental_id: int | None = None


@dataclass(frozen=True)
class Move:
    account: str
    delta: int


@dataclass(frozen=True)
class BalanceLine:
    token_id: uuid.UUID
    token_key: int
    amount: int


def issuer_address(wallets: WalletDeriver, tenant_id: uuid.UUID) -> str:
    """The tenant's issuer account: source of every mint, sink of every burn."""
    return wallets.address(tenant_id, OwnerType.TENANT, tenant_id)


async def post(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    environment: Environment,
    entry_id: uuid.UUID,
    holding: Holding,
    moves: Sequence[Move],
    issuer: str,
    now: datetime,
) -> None:
    if len(moves) < 2 or sum(m.delta for m in moves) != 0 or any(m.delta == 0 for m in moves):
        raise UnbalancedEntry(f"entry {entry_id} is not balanced")
    if holding.unique and any(abs(m.delta) != 1 for m in moves):
        raise UnbalancedEntry("an ERC721 id moves one at a time")

    new_nft = holding.unique and any(m.account == issuer and m.delta < 0 for m in moves)
    outcome = await repository.post_entry(
        session, tenant_id=tenant_id, environment=environment, entry_id=entry_id,
        token_id=holding.token_id, token_key=holding.token_key, unique=holding.unique,
        new_nft=new_nft, metadata_incremental_id=holding.metadata_incremental_id,
        issuer=issuer, accounts=[m.account for m in moves], amounts=[m.delta for m in moves],
        now=now,
    )  # fmt: skip
    if outcome is repository.PostOutcome.INSUFFICIENT:
        raise InsufficientBalance()
    if outcome is repository.PostOutcome.NFT_EXISTS:
        raise TokenIdAlreadyHeld()


@dataclass(frozen=True, slots=True)
class Mint:
    """One mint of a batch: its own entry (issuer leg 0, holder leg 1), ``amount`` of
    ``token_key`` to ``account``."""

    entry_id: uuid.UUID
    account: str
    token_key: int
    amount: int


class MintBatch:
    """Many mints of one token by the issuer, in one database transaction (mint from URL).

    Each mint is its own balanced entry, exactly as ``post`` would write it; the difference is
    the number of statements. ``add`` writes a chunk's postings (and ERC721 ids) with one
    statement each. The holders' credits are summed per (account, token id) in memory and
    applied by ``finish`` in one pass, sorted by account: the global lock order of ``post``,
    across the whole batch (locking per chunk would take rows out of order from one chunk to
    the next, and deadlock with transfers), and balance rows stay locked only from ``finish``
    to the commit, not for the whole download. ``finish`` must run before the transaction
    commits; until then the batch's postings are ahead of the balances.
    """

    CREDIT_STATEMENT_ROWS = 5000

    def __init__(
        self,
        *,
        tenant_id: uuid.UUID,
        environment: Environment,
        token_id: uuid.UUID,
        unique: bool,
        metadata_incremental_id: int | None,
        issuer: str,
        now: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.environment = environment
        self.token_id = token_id
        self.unique = unique
        self.metadata_incremental_id = metadata_incremental_id
        self.issuer = issuer
        self.now = now
        self._credits: dict[tuple[str, int], int] = {}
        self._finished = False

    async def add(self, session: AsyncSession, mints: Sequence[Mint]) -> None:
        if self._finished:
            raise UnbalancedEntry("this mint batch is finished")
        if not mints:
            return
        for mint in mints:
            if mint.amount <= 0 or mint.account == self.issuer:
                raise UnbalancedEntry(f"entry {mint.entry_id} is not a mint to a holder")
            if self.unique and mint.amount != 1:
                raise UnbalancedEntry("an ERC721 id moves one at a time")
        entry_ids = [m.entry_id for m in mints]
        if self.unique:
            fresh = await repository.register_nfts_bulk(
                session, tenant_id=self.tenant_id, environment=self.environment,
                token_id=self.token_id, metadata_incremental_id=self.metadata_incremental_id,
                now=self.now, token_keys=[m.token_key for m in mints], entry_ids=entry_ids,
            )  # fmt: skip
            if fresh != len(mints):
                raise TokenIdAlreadyHeld()
        await repository.add_postings_bulk(
            session, tenant_id=self.tenant_id, environment=self.environment,
            token_id=self.token_id, now=self.now,
            entry_ids=entry_ids + entry_ids,
            legs=[0] * len(mints) + [1] * len(mints),
            accounts=[self.issuer] * len(mints) + [m.account for m in mints],
            token_keys=[m.token_key for m in mints] * 2,
            amounts=[-m.amount for m in mints] + [m.amount for m in mints],
        )  # fmt: skip
        credits = self._credits
        for mint in mints:
            key = (mint.account, mint.token_key)
            credits[key] = credits.get(key, 0) + mint.amount

    async def finish(self, session: AsyncSession) -> None:
        """Credit the holders, in account order."""
        self._finished = True
        lines = sorted(self._credits.items())
        self._credits = {}
        step = self.CREDIT_STATEMENT_ROWS
        for start in range(0, len(lines), step):
            part = lines[start : start + step]
            await repository.credit_bulk(
                session, tenant_id=self.tenant_id, environment=self.environment,
                token_id=self.token_id, is_unique=self.unique, now=self.now,
                accounts=[account for (account, _key), _amount in part],
                token_keys=[key for (_account, key), _amount in part],
                amounts=[amount for _line, amount in part],
            )  # fmt: skip


async def balances_of(
    session: AsyncSession, tenant_id: uuid.UUID, environment: Environment, address: str
) -> list[BalanceLine]:
    rows = await repository.balances_of(session, tenant_id, environment, address)
    return [BalanceLine(r.token_id, r.token_key, r.amount) for r in rows]


async def balance(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    address: str,
    holding: Holding,
) -> int:
    return await repository.balance(
        session, tenant_id, environment, address, holding.token_id, holding.token_key
    )


async def issued(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    issuer: str,
    holding: Holding,
) -> int:
    """Outstanding supply: what the issuer put out minus what came back."""
    return -await repository.posted_total(
        session, tenant_id, environment, issuer, holding.token_id, holding.token_key
    )


async def held_nft(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    address: str,
    token_id: uuid.UUID,
    metadata_incremental_id: int,
) -> int | None:
    """An ERC721 id of this token and metadata held by ``address`` (the lowest), if any."""
    return await repository.held_nft_with_metadata(
        session, tenant_id, environment, address, token_id, metadata_incremental_id
    )


async def nft_metadata(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment: Environment,
    token_id: uuid.UUID,
    token_keys: list[int],
) -> dict[int, int | None]:
    """The metadata incremental id each ERC721 id was minted with."""
    return await repository.nft_metadata(session, tenant_id, environment, token_id, token_keys)
