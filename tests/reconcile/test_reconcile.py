"""``pers reconcile`` against real contracts on a dev chain: agreement, and each kind of
difference (a stray on-chain mint, a missing on-chain effect, a wrong ERC721 owner, a failed
intent) reported exactly, through the service and through ``pers.cli.main``."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
from typing import Any

import pytest
from eth_utils.address import to_checksum_address

from pers import cli
from pers.config import Settings
from pers.kit.enums import Environment
from pers.reconcile import report as rendering
from pers.reconcile.service import ChainReadError, Options, ReconcileError, reconcile
from tests.reconcile.conftest import ZERO, World
from tests.transactions.conftest import DEV_CHAIN_ID


def stray() -> str:
    return str(to_checksum_address("0x" + secrets.token_hex(20)))


async def run_cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    owner_url: str,
    *args: str,
) -> tuple[int, str, str]:
    """``pers reconcile ...`` in this process, configured through the environment as an
    operator would (the database's owner URL, the data directory holding the master secret)."""
    monkeypatch.setenv("PERS_DATABASE_URL", owner_url)
    monkeypatch.setenv("PERS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PERS_DEVCHAIN_PORT", str(settings.devchain_port))
    capsys.readouterr()
    code = await asyncio.to_thread(cli.main, ["reconcile", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(found: Any) -> list[tuple[Any, ...]]:
    return [
        (d.token_type, d.token_id, d.holder, d.ledger, d.chain, d.delta)
        for d in found.differences
    ]


async def test_settled_ledger_and_chain_agree(
    world: World,
    chain_settings: Settings,
    owner_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    headers, me = await world.economy.user()
    cafe = await world.economy.business("Cafe")
    gold = await world.economy.item(world.tokens["ERC721"]["id"], "Gold")
    coffee = await world.economy.item(world.tokens["ERC1155"]["id"], "Coffee")
    settled = [
        await world.mint("ERC20", me["accountAddress"], "120.50"),
        await world.mint("ERC20", cafe["accountAddress"], 3),
        await world.mint("ERC721", me["accountAddress"], 1, gold),
        await world.mint("ERC1155", me["accountAddress"], 4, coffee),
    ]
    for tx in settled:
        await world.settle(tx)
    moves = [
        {"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": "20.25"},
        {
            "businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 1,
            "tokenAddress": world.tokens["ERC1155"]["contractAddress"],
            "tokenMetadataIncrementalId": coffee,
        },
    ]  # fmt: skip
    for body in moves:
        response = await world.client.post(
            "/v1.7/transaction/auth/transfer/token", json=body, headers=headers
        )
        assert response.status_code == 201, response.text
        await world.settle(response.json())
    burned = await world.client.post(
        "/v1.7/transaction/admin/burn/token",
        json={
            "amount": 1, "tokenAddress": world.tokens["ERC1155"]["contractAddress"],
            "chainId": DEV_CHAIN_ID, "tokenMetadataIncrementalId": coffee,
            "senderAddress": me["accountAddress"],
        },
        headers=world.economy.admin,
    )  # fmt: skip
    assert burned.status_code == 201, burned.text
    await world.settle(burned.json())
    # Written but not settled yet: in flight, not a difference.
    await world.mint("ERC20", me["accountAddress"], 1)

    found = await reconcile(
        world.runtime.db, chain_settings, world.runtime.wallets, Options(tenant=world.tenant.id)
    )
    assert found.differences == []
    assert found.failed == []
    assert found.problems == []
    assert found.clean and found.exit_code == 0
    assert found.in_flight_total == 1
    # credits: me, cafe; coffee: me, cafe; gold: my id
    assert found.holders == 5
    [chain] = found.chains
    assert chain.chain_id == DEV_CHAIN_ID
    assert chain.missing_contracts == ()
    assert chain.block == world.w3.eth.block_number

    code, out, _err = await run_cli(
        monkeypatch, capsys, chain_settings, owner_url, "--tenant", str(world.tenant.id), "--json"
    )
    assert code == 0, out
    body = json.loads(out)
    assert body["clean"] is True
    assert body["differences"] == [] and body["failed"] == []
    assert body["summary"]["inFlight"] == 1
    assert body["inFlight"] == [
        {
            "tenantId": str(world.tenant.id), "environment": "testnet", "status": "created",
            "count": 1,
        }
    ]  # fmt: skip
    code, out, _err = await run_cli(
        monkeypatch, capsys, chain_settings, owner_url, "--tenant", str(world.tenant.id)
    )
    assert code == 0
    assert "OK: the settled ledger and the chain agree" in out
    assert "1 in flight (1 created)" in out
