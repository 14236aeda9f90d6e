"""Settlement through faults: a worker killed mid-way, two workers on one queue, a reorg, an
intent the chain refuses. Each ends with the chain equal to the ledger and every intent's
effect on chain exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from web3.types import RPCEndpoint

from pers.chains.registry import ChainRegistry
from pers.settlement.relayer import Crash
from tests.settlement.conftest import Settlement


def crash_at(point: str, times: int = 1) -> Any:
    left = {"n": times}

    def checkpoint(name: str) -> None:
        if name == point and left["n"] > 0:
            left["n"] -= 1
            raise Crash(point)

    return checkpoint


async def _statuses(s: Settlement, txs: list[dict[str, Any]]) -> list[str]:
    return [(await s.transaction(tx["id"]))["status"] for tx in txs]


def _operator_transactions(s: Settlement) -> int:
    return int(s.w3.eth.get_transaction_count(s.operator.address))


async def _mint_some(s: Settlement, count: int = 4) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    credit = await s.token("ERC20", decimals=0)
    mints = [await s.mint_credits(f"k{i}@example.com", 10 + i) for i in range(count)]
    return credit, mints


async def _assert_exactly_once(
    s: Settlement, credit: dict[str, Any], mints: list[dict[str, Any]]
) -> None:
    contract = s.contracts[credit["contractAddress"]]
    for mint in mints:
        assert contract.functions.balanceOf(mint["recipientAddress"]).call() == int(mint["amount"])
    assert contract.functions.totalSupply().call() == sum(int(m["amount"]) for m in mints)
    await s.assert_reconciled()


@pytest.mark.parametrize("point", ["signed", "stored", "broadcast", "receipt"])
async def test_a_worker_killed_mid_way_leaves_nothing_done_twice(
    settlement: Settlement, point: str
) -> None:
    s = settlement
    credit, mints = await _mint_some(s)
    before = _operator_transactions(s)
    first = s.relayer(crash_at(point), settlement_batch_max=1)
    with pytest.raises(Crash):
        await first.drain()
    await first.abandon()

    await s.settle(settlement_batch_max=1)

    assert await _statuses(s, mints) == ["succeeded"] * len(mints)
    await _assert_exactly_once(s, credit, mints)
    # One chain transaction per intent, none more: nothing was sent twice with effect.
    assert _operator_transactions(s) - before == len(mints)


async def test_two_workers_on_one_queue_settle_each_intent_once(settlement: Settlement) -> None:
    s = settlement
    credit, mints = await _mint_some(s, 3)
    stop = asyncio.Event()
    workers = [s.relayer(settlement_batch_max=2), s.relayer(settlement_batch_max=2)]
    running = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        for i in range(3, 12):
            mints.append(await s.mint_credits(f"k{i}@example.com", 10 + i))
        for _ in range(400):
            if set(await _statuses(s, mints)) == {"succeeded"}:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*running)
    assert await _statuses(s, mints) == ["succeeded"] * len(mints)
    await _assert_exactly_once(s, credit, mints)


async def test_a_reorg_of_an_unconfirmed_send_is_settled_again_once(
    settlement: Settlement,
) -> None:
    s = settlement
    chain = s.registry.all()[0]
    deep = ChainRegistry(
        [dataclasses.replace(chain, confirmations=3)],
        testnet_chain_id=s.registry.testnet_chain_id,
        mainnet_chain_id=None,
    )
    credit, mints = await _mint_some(s, 2)
    relayer = s.relayer(settlement_batch_max=5)
    relayer.registry = deep
    await relayer.run_once()  # signed, sent and mined; not yet 3 blocks deep
    await relayer.run_once()
    assert set(await _statuses(s, mints)) == {"broadcasted"}
    block = s.w3.eth.get_transaction_receipt(s.w3.eth.get_block("latest")["transactions"][0])[
        "blockNumber"
    ]
    s.w3.provider.make_request(RPCEndpoint("debug_setHead"), [hex(block - 1)])
    assert s.contracts[credit["contractAddress"]].functions.totalSupply().call() == 0

    await relayer.run_once()  # the receipt is gone: sent again
    assert set(await _statuses(s, mints)) == {"broadcasted"}
    s.w3.provider.make_request(RPCEndpoint("evm_mine"), [hex(3)])
    await relayer.drain()

    assert await _statuses(s, mints) == ["succeeded", "succeeded"]
    await _assert_exactly_once(s, credit, mints)
    settled = await s.transaction(mints[0]["id"])
    assert s.w3.eth.get_transaction_receipt(settled["transactionHash"])["status"] == 1


async def test_an_intent_the_chain_refuses_fails_with_its_reason_and_can_be_retried(
    settlement: Settlement,
) -> None:
    s = settlement
    credit = await s.token("ERC20", decimals=0)
    contract = s.contracts[credit["contractAddress"]]
    first = await s.mint_credits("r@example.com", 50)
    await s.settle()
    holder = first["recipientAddress"]
    # Outside pers, the operator burns the holder's credits on chain: the chain now disagrees.
    s.operator_transact(contract.functions.burnFrom(holder, 50))
    mints = [await s.mint_credits(f"other{i}@example.com", 5) for i in range(2)]
    charge = await s.client.post(
        "/v1.7/transaction/admin/transfer/credits",
        json={"userEmail": "r@example.com", "userIdentifier": "email", "amount": 30},
        headers=s.admin,
    )
    assert charge.status_code == 201, charge.text
    mints.append(await s.mint_credits("other9@example.com", 5))

    await s.settle()

    # The batch could not go as one: each went alone, and only the charge failed.
    assert await _statuses(s, mints) == ["succeeded"] * 3
    failed = await s.transaction(charge.json()["id"])
    assert failed["status"] == "failed"
    listed = await s.client.get("/v1.7/settlement/admin/failed", headers=s.admin)
    assert listed.status_code == 200, listed.text
    [row] = listed.json()
    assert row["transactionId"] == charge.json()["id"]
    assert "revert" in row["failureReason"]

    # The operator puts the credits back on chain and retries: the charge settles.
    s.operator_transact(contract.functions.mint(holder, 50))
    retried = await s.client.post(
        f"/v1.7/settlement/admin/{charge.json()['id']}/retry", headers=s.admin
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "created"
    await s.settle()
    assert (await s.transaction(charge.json()["id"]))["status"] == "succeeded"
    assert contract.functions.balanceOf(holder).call() == 20
    await s.assert_reconciled()
