"""The relayer behind a JSON-RPC proxy that loses transactions and lies: dropped sends, "nonce too
low" and "already known" answers, timeouts, HTTP errors, and a send stuck long enough to be
replaced with higher fees. Each ends with every intent settled once and ``pers reconcile``
finding no difference."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from web3.exceptions import TransactionNotFound

from pers.chains.registry import ChainRegistry
from pers.settlement.relayer import Relayer
from tests.chain.faultproxy import (
    AlreadyKnown,
    Drop,
    Fault,
    Forward,
    Hang,
    HttpError,
    NonceTooLow,
)
from tests.chain.faultproxy import FaultProxy as Proxy
from tests.contracts import DEV_CHAIN_ID
from tests.settlement.conftest import Settlement

SEND = "eth_sendRawTransaction"
RECEIPT = "eth_getTransactionReceipt"


@pytest.fixture
def proxy(devchains: dict[int, Any]) -> Iterator[Proxy]:
    with Proxy(devchains[DEV_CHAIN_ID].url) as running:
        yield running


def _through(s: Settlement, proxy: Proxy, **overrides: Any) -> Relayer:
    """A relayer that reaches the chain only through ``proxy``, with quick re-sends."""
    settings: dict[str, Any] = {
        "settlement_rebroadcast_seconds": 0.2,
        "settlement_stuck_seconds": 30.0,
        "settlement_rpc_timeout_seconds": 1.0,
        "settlement_poll_seconds": 0.05,
        **overrides,
    }
    relayer = s.relayer(**settings)
    chain = s.registry.all()
    relayer.registry = ChainRegistry(
        [dataclasses.replace(c, rpc_url=proxy.url) for c in chain],
        testnet_chain_id=s.registry.testnet_chain_id,
        mainnet_chain_id=s.registry.mainnet_chain_id,
    )
    return relayer


async def _settle_through(s: Settlement, proxy: Proxy, **overrides: Any) -> None:
    relayer = _through(s, proxy, **overrides)
    try:
        await relayer.drain(seconds=60)
    finally:
        await relayer.close()


async def _mints(s: Settlement, count: int = 3) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    credit = await s.token("ERC20", decimals=0)
    return credit, [await s.mint_credits(f"p{i}@example.com", 7 + i) for i in range(count)]


async def _assert_settled_once(
    s: Settlement, credit: dict[str, Any], mints: list[dict[str, Any]]
) -> None:
    contract = s.contracts[credit["contractAddress"]]
    for mint in mints:
        settled = await s.transaction(mint["id"])
        assert settled["status"] == "succeeded"
        assert contract.functions.balanceOf(mint["recipientAddress"]).call() == mint["amount"]
    assert contract.functions.totalSupply().call() == sum(m["amount"] for m in mints)
    await s.assert_reconciled()


async def _attempts(s: Settlement) -> list[Any]:
    async with s.rt.db.unit_of_work() as session:
        await session.execute(
            text("SELECT set_config('pers.tenant_id', :t, true)"), {"t": str(s.tenant.id)}
        )
        rows = await session.execute(
            text(
                "SELECT s.nonce, a.number, a.tx_hash, a.max_fee_per_gas, "
                "a.max_priority_fee_per_gas, s.mined_hash FROM settlement_attempts a "
                "JOIN settlement_sends s ON s.tenant_id = a.tenant_id AND s.id = a.send_id "
                "WHERE a.tenant_id = :t ORDER BY s.nonce, a.number"
            ),
            {"t": s.tenant.id},
        )
        return list(rows.all())


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param([Drop(), Drop()], id="dropped twice"),
        pytest.param([NonceTooLow()], id="nonce too low, not sent"),
        pytest.param([NonceTooLow(after_forward=True)], id="nonce too low after sending"),
        pytest.param([AlreadyKnown(after_forward=True)], id="already known"),
        pytest.param([Hang(1.5, forward=True)], id="timeout, then it arrives"),
        pytest.param([Hang(1.5, forward=False)], id="timeout, lost"),
        pytest.param([HttpError(502)], id="HTTP 502"),
    ],
)
async def test_lost_and_misanswered_sends_settle_exactly_once(
    settlement: Settlement, proxy: Proxy, faults: list[Fault]
) -> None:
    s = settlement
    credit, mints = await _mints(s)
    proxy.plan(SEND, *faults)

    await _settle_through(s, proxy, settlement_batch_max=1)

    assert proxy.pending(SEND) == 0
    await _assert_settled_once(s, credit, mints)
    sends = proxy.calls(SEND)
    assert [e.fault for e in sends[: len(faults)]] == faults


async def test_receipts_that_fail_for_a_while_are_asked_again(
    settlement: Settlement, proxy: Proxy
) -> None:
    s = settlement
    credit, mints = await _mints(s, 2)
    proxy.plan(RECEIPT, HttpError(502), HttpError(503), Hang(1.5), Forward(), HttpError(502))

    await _settle_through(s, proxy)

    await _assert_settled_once(s, credit, mints)


async def test_a_stuck_send_is_replaced_with_higher_fees(
    settlement: Settlement, proxy: Proxy
) -> None:
    s = settlement
    credit, mints = await _mints(s, 2)
    # The node never hears of the first version, and no re-send comes before the send counts
    # as stuck: a replacement goes, with the same nonce and both fee caps raised.
    proxy.plan(SEND, Drop())

    await _settle_through(
        s, proxy, settlement_stuck_seconds=0.5, settlement_rebroadcast_seconds=30.0
    )

    await _assert_settled_once(s, credit, mints)
    attempts = await _attempts(s)
    assert len({a.nonce for a in attempts}) == 1
    assert len(attempts) >= 2
    first, last = attempts[0], attempts[-1]
    assert last.max_fee_per_gas > first.max_fee_per_gas
    assert last.max_priority_fee_per_gas > first.max_priority_fee_per_gas
    assert last.mined_hash == last.tx_hash
    settled = await s.transaction(mints[0]["id"])
    assert settled["transactionHash"] == last.tx_hash
    # Every hash ever signed for the nonce is kept; only the mined one is on chain.
    for attempt in attempts[:-1]:
        with pytest.raises(TransactionNotFound):
            s.w3.eth.get_transaction_receipt(attempt.tx_hash)
