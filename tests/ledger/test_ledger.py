"""The ledger's invariants, at the service level and in the database itself."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from pers.db import set_tenant
from pers.kit.enums import Environment
from pers.ledger import service as ledger
from pers.ledger.service import Holding, InsufficientBalance, Move, TokenIdAlreadyHeld
from pers.runtime import Runtime
from tests.conftest import TenantHandle

ENV = Environment.TESTNET
ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
CAROL = "0x" + "c3" * 20


class Books:
    """One tenant's books, each call in its own committed transaction (as a request would)."""

    def __init__(self, runtime: Runtime, tenant_id: uuid.UUID) -> None:
        self.runtime = runtime
        self.tenant_id = tenant_id
        self.issuer = ledger.issuer_address(runtime.wallets, tenant_id)

    async def run(self, work: Callable[[AsyncSession], Awaitable[object]]) -> object:
        async with self.runtime.db.unit_of_work() as session:
            await set_tenant(session, self.tenant_id)
            return await work(session)

    async def post(self, holding: Holding, *moves: Move) -> None:
        async def work(session: AsyncSession) -> None:
            await ledger.post(
                session,
                tenant_id=self.tenant_id,
                environment=ENV,
                entry_id=uuid.uuid4(),
                holding=holding,
                moves=moves,
                issuer=self.issuer,
                now=datetime.now(UTC),
            )

        await self.run(work)

    async def mint(self, holding: Holding, to: str, amount: int) -> None:
        await self.post(holding, Move(self.issuer, -amount), Move(to, amount))

    async def transfer(self, holding: Holding, sender: str, recipient: str, amount: int) -> None:
        await self.post(holding, Move(sender, -amount), Move(recipient, amount))

    async def balance(self, holding: Holding, address: str) -> int:
        async def work(session: AsyncSession) -> int:
            return await ledger.balance(session, self.tenant_id, ENV, address, holding)

        result = await self.run(work)
        assert isinstance(result, int)
        return result

    async def posting_sums(self) -> dict[tuple[uuid.UUID, int], int]:
        async def work(session: AsyncSession) -> dict[tuple[uuid.UUID, int], int]:
            rows = await session.execute(
                text(
                    "SELECT token_id, token_key, sum(amount) FROM postings "
                    "WHERE tenant_id = :t GROUP BY token_id, token_key"
                ),
                {"t": self.tenant_id},
            )
            return {(r[0], int(r[1])): int(r[2]) for r in rows}

        result = await self.run(work)
        assert isinstance(result, dict)
        return result


@pytest.fixture
async def books(runtime: Runtime, tenant: TenantHandle) -> Books:
    return Books(runtime, tenant.id)


def fungible() -> Holding:
    return Holding(token_id=uuid.uuid4(), token_key=0, unique=False)


async def test_mint_transfer_burn_conserve_value(books: Books) -> None:
    credits = fungible()
    await books.mint(credits, ALICE, 100)
    await books.transfer(credits, ALICE, BOB, 30)
    await books.post(credits, Move(BOB, -10), Move(books.issuer, 10))  # burn

    assert await books.balance(credits, ALICE) == 70
    assert await books.balance(credits, BOB) == 20

    async def issued(session: AsyncSession) -> int:
        return await ledger.issued(session, books.tenant_id, ENV, books.issuer, credits)

    assert await books.run(issued) == 90
    sums = await books.posting_sums()
    assert sums[(credits.token_id, 0)] == 0
    assert all(total == 0 for total in sums.values())


async def test_overdraft_is_refused_and_writes_nothing(books: Books) -> None:
    credits = fungible()
    await books.mint(credits, ALICE, 5)
    with pytest.raises(InsufficientBalance):
        await books.transfer(credits, ALICE, BOB, 6)
    assert await books.balance(credits, ALICE) == 5
    assert await books.balance(credits, BOB) == 0
    with pytest.raises(InsufficientBalance):
        await books.transfer(credits, CAROL, BOB, 1)  # no row at all


async def test_unbalanced_entries_are_refused_by_the_service(books: Books) -> None:
    credits = fungible()
    with pytest.raises(ledger.UnbalancedEntry):
        await books.post(credits, Move(books.issuer, -5), Move(ALICE, 4))
    with pytest.raises(ledger.UnbalancedEntry):
        await books.post(credits, Move(ALICE, 5))
    assert await books.balance(credits, ALICE) == 0


async def test_the_database_refuses_an_unbalanced_entry_at_commit(books: Books) -> None:
    async def write_one_leg(session: AsyncSession) -> None:
        await session.execute(
            text(
                "INSERT INTO postings (tenant_id, entry_id, leg, environment, account_address, "
                "token_id, token_key, amount) VALUES (:t, :e, 0, 'testnet', :a, :k, 0, 5)"
            ),
            {"t": books.tenant_id, "e": uuid.uuid4(), "a": ALICE, "k": uuid.uuid4()},
        )

    with pytest.raises(DBAPIError, match="does not sum to zero"):
        await books.run(write_one_leg)


async def test_postings_are_append_only_and_balances_never_negative(books: Books) -> None:
    credits = fungible()
    await books.mint(credits, ALICE, 3)

    async def rewrite(session: AsyncSession) -> None:
        await session.execute(text("UPDATE postings SET amount = amount * 2"))

    async def erase(session: AsyncSession) -> None:
        await session.execute(text("DELETE FROM postings"))

    async def overdraw(session: AsyncSession) -> None:
        await session.execute(text("UPDATE balances SET amount = amount - 4"))

    with pytest.raises(DBAPIError, match="permission denied"):
        await books.run(rewrite)
    with pytest.raises(DBAPIError, match="permission denied"):
        await books.run(erase)
    with pytest.raises(DBAPIError, match="not_negative"):
        await books.run(overdraw)
    assert await books.balance(credits, ALICE) == 3


async def test_fifty_concurrent_transfers_spend_exactly_the_balance(books: Books) -> None:
    credits = fungible()
    await books.mint(credits, ALICE, 20)
    recipients = [f"0x{i:040x}" for i in range(1, 51)]

    async def send(to: str) -> bool:
        try:
            await books.transfer(credits, ALICE, to, 1)
        except InsufficientBalance:
            return False
        return True

    outcomes = await asyncio.gather(*(send(r) for r in recipients))
    assert sum(outcomes) == 20
    assert await books.balance(credits, ALICE) == 0
    received = [await books.balance(credits, r) for r in recipients]
    assert sum(received) == 20
    assert all(total == 0 for total in (await books.posting_sums()).values())


async def test_opposite_concurrent_transfers_do_not_deadlock(books: Books) -> None:
    credits = fungible()
    await books.mint(credits, ALICE, 1000)
    await books.mint(credits, BOB, 1000)
    moves = []
    for _ in range(25):
        moves.append(books.transfer(credits, ALICE, BOB, 3))
        moves.append(books.transfer(credits, BOB, ALICE, 2))
    await asyncio.gather(*moves)
    assert await books.balance(credits, ALICE) == 1000 - 25
    assert await books.balance(credits, BOB) == 1000 + 25


async def test_an_erc721_id_has_exactly_one_holder(books: Books) -> None:
    badge = Holding(token_id=uuid.uuid4(), token_key=7, unique=True)
    await books.mint(badge, ALICE, 1)
    with pytest.raises(TokenIdAlreadyHeld):
        await books.mint(badge, BOB, 1)
    await books.transfer(badge, ALICE, BOB, 1)
    assert await books.balance(badge, ALICE) == 0
    assert await books.balance(badge, BOB) == 1
    with pytest.raises(InsufficientBalance):
        await books.transfer(badge, ALICE, CAROL, 1)
    # Back to a lower address: the sender's row must reach 0 before the recipient's reaches 1.
    assert BOB > ALICE
    await books.transfer(badge, BOB, ALICE, 1)
    assert await books.balance(badge, ALICE) == 1
    assert await books.balance(badge, BOB) == 0


async def test_concurrent_mints_of_one_erc721_id_leave_one_holder(books: Books) -> None:
    badge = Holding(token_id=uuid.uuid4(), token_key=42, unique=True)
    holders = [f"0x{i:040x}" for i in range(100, 110)]

    async def mint(to: str) -> bool:
        try:
            await books.mint(badge, to, 1)
        except (TokenIdAlreadyHeld, DBAPIError):
            return False
        return True

    outcomes = await asyncio.gather(*(mint(h) for h in holders))
    assert sum(outcomes) == 1
    held = [await books.balance(badge, h) for h in holders]
    assert sum(held) == 1


async def test_books_of_two_tenants_and_two_environments_are_separate(
    runtime: Runtime, books: Books, other_tenant: TenantHandle
) -> None:
    credits = fungible()
    await books.mint(credits, ALICE, 10)
    other = Books(runtime, other_tenant.id)
    assert await other.balance(credits, ALICE) == 0

    async def mainnet_balance(session: AsyncSession) -> int:
        return await ledger.balance(session, books.tenant_id, Environment.MAINNET, ALICE, credits)

    assert await books.run(mainnet_balance) == 0


def _batch(books: Books, holding: Holding, metadata: int | None = None) -> ledger.MintBatch:
    return ledger.MintBatch(
        tenant_id=books.tenant_id, environment=ENV, token_id=holding.token_id,
        unique=holding.unique, metadata_incremental_id=metadata, issuer=books.issuer,
        now=datetime.now(UTC),
    )  # fmt: skip


async def test_a_mint_batch_writes_one_balanced_entry_per_mint(books: Books) -> None:
    coin = fungible()
    await books.mint(coin, ALICE, 5)

    async def work(session: AsyncSession) -> None:
        batch = _batch(books, coin)
        await batch.add(session, [ledger.Mint(uuid.uuid4(), BOB, 0, 3)])
        await batch.add(
            session,
            [ledger.Mint(uuid.uuid4(), ALICE, 0, 2), ledger.Mint(uuid.uuid4(), BOB, 0, 4)],
        )
        await batch.finish(session)
        with pytest.raises(ledger.UnbalancedEntry):
            await batch.add(session, [ledger.Mint(uuid.uuid4(), BOB, 0, 1)])

    await books.run(work)
    assert await books.balance(coin, ALICE) == 7
    assert await books.balance(coin, BOB) == 7
    assert await books.posting_sums() == {(coin.token_id, 0): 0}

    async def entries(session: AsyncSession) -> list[tuple[int, int]]:
        rows = await session.execute(
            text(
                "SELECT count(*), sum(amount) FROM postings WHERE tenant_id = :t "
                "AND token_id = :token GROUP BY entry_id"
            ),
            {"t": books.tenant_id, "token": coin.token_id},
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    assert await books.run(entries) == [(2, 0)] * 4


async def test_a_mint_batch_refuses_what_post_refuses(books: Books) -> None:
    nft = Holding(token_id=uuid.uuid4(), token_key=0, unique=True)

    async def two_of_one_id(session: AsyncSession) -> None:
        await _batch(books, nft, 1).add(session, [ledger.Mint(uuid.uuid4(), ALICE, 7, 2)])

    async def to_the_issuer(session: AsyncSession) -> None:
        await _batch(books, fungible()).add(
            session, [ledger.Mint(uuid.uuid4(), books.issuer, 0, 1)]
        )

    async def minted_twice(session: AsyncSession) -> None:
        batch = _batch(books, nft, 1)
        await batch.add(session, [ledger.Mint(uuid.uuid4(), ALICE, 7, 1)])
        await batch.add(session, [ledger.Mint(uuid.uuid4(), BOB, 7, 1)])

    for work in (two_of_one_id, to_the_issuer):
        with pytest.raises(ledger.UnbalancedEntry):
            await books.run(work)
    with pytest.raises(TokenIdAlreadyHeld):
        await books.run(minted_twice)
    assert await books.balance(nft, ALICE) == 0


async def test_the_balance_check_can_only_be_planned_on_the_primary_key(books: Books) -> None:
    """The check at commit is planned once per connection (a generic plan) and must never read
    every posting of the tenant, whatever the table's statistics: under the function's own
    settings, its query has one possible plan, the primary key (revision 0020)."""

    async def plan(session: AsyncSession) -> tuple[list[str], str]:
        config = await session.scalar(
            text("SELECT proconfig FROM pg_proc WHERE proname = 'pers_check_entry_balanced'")
        )
        settings = list(config or [])
        for setting in settings:
            name, _, value = setting.partition("=")
            await session.execute(
                text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value}
            )
        await session.execute(
            text(
                "PREPARE balanced_check(uuid, uuid) AS SELECT sum(amount) FROM postings"
                " WHERE tenant_id = $1 AND entry_id = $2"
            )
        )
        # Literals: EXPLAIN EXECUTE takes no bind parameters (the ids are uuids, not input).
        explained = await session.execute(
            text(f"EXPLAIN EXECUTE balanced_check('{books.tenant_id}', '{uuid.uuid4()}')")
        )
        await session.execute(text("DEALLOCATE balanced_check"))
        return settings, "\n".join(row[0] for row in explained)

    outcome = await books.run(plan)
    assert isinstance(outcome, tuple)
    settings, explained = outcome
    assert "plan_cache_mode=force_generic_plan" in settings
    assert "enable_seqscan=off" in settings
    assert "pk_postings" in explained, explained
    assert "$2" in explained, explained  # generic: the plan holds for any entry
