"""``pers.chain.reads`` against real contracts on a dev chain over HTTP: reads that span more
than one reader call, ids without an owner, and reads that must fail rather than say zero."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from pers.chain.compile import CompiledContract
from pers.chain.contracts import ContractName
from pers.chain.devchain import DevChain, DevChainServer
from pers.chain.reads import READS_PER_CALL, ZERO_ADDRESS, ChainReader, ChainReadError
from tests.chain.test_devchain import CHAIN_ID, connect, fund, transact


@pytest.fixture(scope="module")
def server() -> Iterator[DevChainServer]:
    running = DevChainServer(DevChain(CHAIN_ID, None), "127.0.0.1", 0).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def operator(server: DevChainServer) -> LocalAccount:
    account: LocalAccount = Account.create()
    fund(connect(server), account.address, 10**20)
    return account


def deploy(w3: Web3, operator: LocalAccount, build: CompiledContract, *args: object) -> Contract:
    factory = w3.eth.contract(abi=build.abi, bytecode=build.bytecode)
    address = transact(w3, operator, factory.constructor(*args))["contractAddress"]
    assert address is not None
    return w3.eth.contract(address=address, abi=build.abi)


async def test_balances_and_owners_past_one_reader_call(
    server: DevChainServer,
    operator: LocalAccount,
    compiled: dict[ContractName, CompiledContract],
) -> None:
    w3 = connect(server)
    credit = deploy(w3, operator, compiled[ContractName.CREDIT], "P", "P", 2)
    status = deploy(w3, operator, compiled[ContractName.STATUS], "S", "S", "")
    reward = deploy(w3, operator, compiled[ContractName.REWARD], "R", "R", "")
    count = READS_PER_CALL + 44
    holders = [to_checksum_address("0x" + secrets.token_hex(20)) for _ in range(count)]
    transact(w3, operator, credit.functions.mintMany(holders, list(range(1, count + 1))))
    transact(w3, operator, status.functions.mintMany(holders[:3], [10, 11, 12]))
    transact(w3, operator, status.functions.burnFrom(holders[1], 11))
    transact(w3, operator, reward.functions.mintBatch(holders[0], [1, 2], [5, 6], b""))
    lower = [h.lower() for h in holders]
    async with ChainReader(CHAIN_ID, server.url, concurrency=2) as reader:
        block = await reader.check()
        assert block == w3.eth.block_number
        balances = await reader.erc20_balances(credit.address.lower(), lower, block)
        assert balances == {h: n for n, h in enumerate(lower, start=1)}
        owners = await reader.erc721_owners(status.address.lower(), [10, 11, 12, 13], block)
        assert owners == {10: lower[0], 11: None, 12: lower[2], 13: None}
        pairs = [(lower[0], 1), (lower[0], 2), (lower[1], 1)]
        assert await reader.erc1155_balances(reward.address.lower(), pairs, block) == {
            (lower[0], 1): 5, (lower[0], 2): 6, (lower[1], 1): 0,
        }  # fmt: skip
        tokens = [credit.address.lower(), status.address.lower(), reward.address.lower()]
        moves = await reader.movements(tokens, 0, block, 3)
        assert len([m for m in moves if m.erc20]) == count
        assert {(m.token_key, m.receiver) for m in moves if m.token == tokens[1]} == {
            (10, lower[0]), (11, lower[1]), (12, lower[2]), (11, ZERO_ADDRESS),
        }  # fmt: skip
        assert {(m.token_key, m.receiver) for m in moves if m.token == tokens[2]} == {
            (1, lower[0]), (2, lower[0]),
        }  # fmt: skip
        # An address without code does not read as holding zero.
        with pytest.raises(ChainReadError, match=r"balanceOf\(.*\) failed"):
            await reader.erc20_balances(lower[5], lower[:2], block)
        assert await reader.has_code([tokens[0], lower[5]], block) == {
            tokens[0]: True, lower[5]: False,
        }  # fmt: skip


async def test_an_endpoint_serving_another_chain_is_refused(server: DevChainServer) -> None:
    async with ChainReader(CHAIN_ID + 1, server.url) as reader:
        with pytest.raises(ChainReadError, match=f"serves chain {CHAIN_ID}"):
            await reader.check()
