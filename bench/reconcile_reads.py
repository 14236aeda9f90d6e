"""How fast ``pers reconcile`` reads a chain: 10,000 holders of a credit token (ERC-20), 10,000
of a reward id (ERC-1155) and 2,000 status ids (ERC-721) on an in-memory dev chain, read at one
block the way reconcile reads them (``pers.chain.reads.ChainReader``), against one
``eth_call`` per holder sent as JSON-RPC batches.

    python -m bench.reconcile_reads [holders]

Setting up is the slow part: py-evm mints about 150 holders a second.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from pathlib import Path

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.types import RPCEndpoint

from pers.chain.compile import compile_all
from pers.chain.contracts import ContractName
from pers.chain.devchain import DevChain, DevChainServer
from pers.chain.reads import BALANCE_OF, ChainReader

CHAIN_ID = 4_242_010
CACHE = Path(__file__).resolve().parents[1] / ".pers-test" / "contracts"
PER_TX = 500


def send(w3: Web3, account: LocalAccount, call: ContractFunction | ContractConstructor) -> str:
    params = {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)}
    tx = call.build_transaction(params)  # type: ignore[arg-type]
    raw = account.sign_transaction(dict(tx)).raw_transaction
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw), timeout=120)
    assert receipt["status"] == 1
    return str(receipt["contractAddress"])


def deploy(w3: Web3, account: LocalAccount, name: ContractName, *args: object) -> Contract:
    build = compile_all(CACHE)[name]
    factory = w3.eth.contract(abi=build.abi, bytecode=build.bytecode)
    return w3.eth.contract(address=send(w3, account, factory.constructor(*args)), abi=build.abi)


async def read(
    url: str, credit: str, reward: str, status: str, holders: list[str], ids: list[int]
) -> None:
    async with ChainReader(CHAIN_ID, url) as reader:
        block = await reader.check()
        started = time.perf_counter()
        moves = await reader.movements([credit, reward, status], 0, block, 10_000)
        logs = time.perf_counter() - started
        started = time.perf_counter()
        balances = await reader.erc20_balances(credit, holders, block)
        erc20 = time.perf_counter() - started
        started = time.perf_counter()
        rewards = await reader.erc1155_balances(reward, [(h, 1) for h in holders], block)
        erc1155 = time.perf_counter() - started
        started = time.perf_counter()
        owners = await reader.erc721_owners(status, ids, block)
        erc721 = time.perf_counter() - started
    assert all(v == 3 for v in balances.values())
    assert all(v == 2 for v in rewards.values())
    assert all(o is not None for o in owners.values())
    n = len(holders)
    print(f"transfer logs: {len(moves)} entries in {logs:.2f} s")
    print(f"ERC-20 balanceOf, {n} holders (deployless reader): {erc20:.2f} s")
    print(f"ERC-1155 balanceOfBatch, {n} holders: {erc1155:.2f} s")
    print(f"ERC-721 ownerOf, {len(ids)} ids (deployless reader): {erc721:.2f} s")


def one_call_each(url: str, credit: str, holders: list[str]) -> None:
    started = time.perf_counter()
    for at in range(0, len(holders), 1000):
        batch = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_call",
                "params": [
                    {"to": credit, "data": "0x" + (BALANCE_OF + bytes(12)).hex() + h[2:]},
                    "latest",
                ],
            }
            for i, h in enumerate(holders[at : at + 1000])
        ]
        answers = httpx.post(url, json=batch, timeout=300).json()
        assert all("result" in a for a in answers)
    print(
        f"for comparison, one eth_call per holder in JSON-RPC batches of 1000: "
        f"{time.perf_counter() - started:.2f} s"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    server = DevChainServer(DevChain(CHAIN_ID, None), "127.0.0.1", 0).start()
    try:
        w3 = Web3(HTTPProvider(server.url, request_kwargs={"timeout": 300}))
        operator: LocalAccount = Account.create()
        w3.provider.make_request(RPCEndpoint("pers_fund"), [operator.address, hex(10**22)])
        credit = deploy(w3, operator, ContractName.CREDIT, "Points", "PTS", 2)
        reward = deploy(w3, operator, ContractName.REWARD, "Rewards", "RW", "")
        status = deploy(w3, operator, ContractName.STATUS, "Status", "ST", "")
        holders = [to_checksum_address("0x" + secrets.token_hex(20)) for _ in range(n)]
        ids = list(range(1, n // 5 + 1))
        started = time.perf_counter()
        for at in range(0, n, PER_TX):
            chunk = holders[at : at + PER_TX]
            send(w3, operator, credit.functions.mintMany(chunk, [3] * len(chunk)))
            send(w3, operator, reward.functions.operatorBatch(
                ["0x" + "00" * 20] * len(chunk), chunk,
                [1] * len(chunk), [2] * len(chunk)))  # fmt: skip
        for at in range(0, len(ids), 200):
            part = ids[at : at + 200]
            send(w3, operator, status.functions.mintMany(holders[: len(part)], part))
        print(f"setup: {n} holders minted in {time.perf_counter() - started:.0f} s")
        asyncio.run(read(server.url, credit.address, reward.address, status.address, holders, ids))
        one_call_each(server.url, credit.address, holders)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
