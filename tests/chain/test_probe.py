"""``pers.chain.probe`` and ``pers.chain.rpc`` against a dev chain over HTTP, and
``pers.chain.deploy`` (the init code a deployment sends)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import vyper
from eth_abi import abi as eth_abi
from eth_account import Account

from pers.chain.compile import CompiledContract
from pers.chain.contracts import ContractName
from pers.chain.deploy import constructor_args, init_code
from pers.chain.devchain import DevChain, DevChainServer
from pers.chain.probe import ContractRejected, Rejection, check_token_contract
from pers.chain.rpc import ChainUnavailable, RpcClients
from tests.chain.conftest import CACHE_DIR

CHAIN_ID = 4_242_002
# Looks like a credit token from the outside (owner, decimals) but has no operator functions.
IMPOSTOR = """
# pragma version ~=0.4.3
owner: public(address)
decimals: public(uint8)

@deploy
def __init__():
    self.owner = msg.sender
    self.decimals = 18
"""


@pytest.fixture(scope="module")
def server() -> Iterator[DevChainServer]:
    running = DevChainServer(DevChain(CHAIN_ID), "127.0.0.1", 0).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def operator(server: DevChainServer) -> Any:
    account = Account.create()
    server.chain.fund(account.address, 10**19)
    return account


def deploy(server: DevChainServer, account: Any, data: bytes) -> str:
    chain = server.chain
    nonce = int(chain.request("eth_getTransactionCount", [account.address, "latest"]), 16)
    transaction = {
        "type": 2, "chainId": CHAIN_ID, "nonce": nonce, "to": b"", "value": 0, "gas": 6_000_000,
        "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 10**11, "data": data,
    }  # fmt: skip
    raw = "0x" + bytes(account.sign_transaction(transaction).raw_transaction).hex()
    receipt = chain.request("eth_getTransactionReceipt", [chain.send_raw_transaction(raw)])
    assert receipt["status"] == "0x1"
    return str(receipt["contractAddress"])


@pytest.fixture
async def rpc() -> AsyncIterator[RpcClients]:
    clients = RpcClients(5.0)
    yield clients
    await clients.close()


def test_init_code_is_the_bytecode_and_the_constructor_arguments(
    compiled: dict[ContractName, CompiledContract],
) -> None:
    code = init_code(ContractName.CREDIT, "Points", "PTS", 2, "", cache_dir=CACHE_DIR)
    bytecode = bytes.fromhex(compiled[ContractName.CREDIT].bytecode.removeprefix("0x"))
    assert code == bytecode + eth_abi.encode(["string", "string", "uint8"], ["Points", "PTS", 2])
    status = init_code(ContractName.STATUS, "Club", "CLB", 0, "ipfs://x/", cache_dir=CACHE_DIR)
    assert status.endswith(eth_abi.encode(["string"] * 3, ["Club", "CLB", "ipfs://x/"]))


@pytest.mark.parametrize(
    ("kind", "name", "symbol", "decimals", "base_uri"),
    [
        (ContractName.CREDIT, "x" * 801, "S", 18, ""),  # longer than the contract's 800 bytes
        (ContractName.CREDIT, "N", "é" * 65, 18, ""),  # 130 bytes of UTF-8 > 128
        (ContractName.CREDIT, "N", "S", 256, ""),  # uint8
        (ContractName.CREDIT, "N", "S", 18, "https://x/"),  # credits have no base URI
        (ContractName.REWARD, "N", "S", 2, ""),  # NFTs have no decimals
        (ContractName.STATUS, "N", "S", 0, "u" * 433),
    ],
)
def test_arguments_the_contract_would_refuse_are_refused_before_sending(
    kind: ContractName, name: str, symbol: str, decimals: int, base_uri: str
) -> None:
    with pytest.raises(ValueError):
        constructor_args(kind, name, symbol, decimals, base_uri)


async def test_a_contract_missing_the_operator_functions_is_refused(
    server: DevChainServer, operator: Any, rpc: RpcClients
) -> None:
    bytecode = vyper.compile_code(IMPOSTOR, output_formats=["bytecode"])["bytecode"]
    address = deploy(server, operator, bytes.fromhex(bytecode.removeprefix("0x")))
    with pytest.raises(ContractRejected) as rejected:
        await check_token_contract(
            await rpc.client(server.url),
            chain_id=CHAIN_ID,
            address=address,
            kind=ContractName.CREDIT,
            operator=operator.address,
            decimals=18,
        )
    assert rejected.value.reason is Rejection.INTERFACE_MISSING
    assert rejected.value.function == "operatorBatch"
    assert "reverts when the operator calls it" in rejected.value.detail


@pytest.mark.parametrize("kind", list(ContractName))
async def test_pers_contracts_pass_for_their_deployer_only(
    server: DevChainServer, operator: Any, rpc: RpcClients, kind: ContractName
) -> None:
    decimals = 6 if kind is ContractName.CREDIT else 0
    base_uri = "" if kind is ContractName.CREDIT else "https://x/"
    data = init_code(kind, "Name", "SYM", decimals, base_uri, cache_dir=CACHE_DIR)
    address = deploy(server, operator, data)
    w3 = await rpc.client(server.url)
    expected = decimals if kind is ContractName.CREDIT else None
    await check_token_contract(
        w3, chain_id=CHAIN_ID, address=address, kind=kind, operator=operator.address,
        decimals=expected,
    )  # fmt: skip
    stranger = Account.create().address
    with pytest.raises(ContractRejected) as rejected:
        await check_token_contract(
            w3, chain_id=CHAIN_ID, address=address, kind=kind, operator=stranger,
            decimals=expected,
        )  # fmt: skip
    assert (rejected.value.reason, rejected.value.owner) == (
        Rejection.OPERATOR_MISMATCH,
        operator.address,
    )


async def test_clients_are_kept_per_url_and_websocket_urls_are_unavailable(
    server: DevChainServer, rpc: RpcClients
) -> None:
    assert await rpc.client(server.url) is await rpc.client(server.url)
    with pytest.raises(ChainUnavailable):
        await rpc.client("wss://node.example/ws")
