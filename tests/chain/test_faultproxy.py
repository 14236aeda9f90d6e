"""The fault proxy in front of a dev chain, driven by web3.py's HTTPProvider as the relayer
will be: each planned fault does what it says, once, in order, and is recorded."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import HTTPProvider, Web3
from web3.exceptions import TransactionNotFound, Web3RPCError
from web3.types import RPCEndpoint

from pers.chain.devchain import DevChain, DevChainServer
from tests.chain.faultproxy import (
    ANY,
    AlreadyKnown,
    Drop,
    FaultProxy,
    Forward,
    Hang,
    HttpError,
    NonceTooLow,
    RpcFailure,
    Timeout,
    raw_transaction_facts,
)

CHAIN_ID = 4_242_003


@pytest.fixture(scope="module")
def upstream() -> Iterator[DevChainServer]:
    server = DevChainServer(DevChain(CHAIN_ID, None), "127.0.0.1", 0).start()
    yield server
    server.stop()


@pytest.fixture
def proxy(upstream: DevChainServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.url) as running:
        yield running


def connect(url: str, timeout: float = 10) -> Web3:
    # No retries: a retried call would meet the next planned fault behind the test's back.
    provider = HTTPProvider(url, request_kwargs={"timeout": timeout})
    provider.exception_retry_configuration = None
    return Web3(provider)


@pytest.fixture
def account(upstream: DevChainServer) -> LocalAccount:
    sender: LocalAccount = Account.create(str(uuid.uuid4()))
    direct = connect(upstream.url)
    funded = direct.provider.make_request(RPCEndpoint("pers_fund"), [sender.address, hex(10**18)])
    direct.eth.wait_for_transaction_receipt(funded["result"])
    return sender


def transfer(w3: Web3, sender: LocalAccount, nonce: int) -> bytes:
    """A signed EIP-1559 transfer of 1 wei (fees filled against the upstream)."""
    tx = {
        "chainId": CHAIN_ID, "nonce": nonce, "to": "0x" + "11" * 20, "value": 1, "gas": 21_000,
        "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
    }  # fmt: skip
    return bytes(sender.sign_transaction(tx).raw_transaction)


def mined(upstream: DevChainServer, tx_hash: str) -> bool:
    try:
        connect(upstream.url).eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return False
    return True


def test_calls_without_a_plan_go_through_and_are_recorded(proxy: FaultProxy) -> None:
    w3 = connect(proxy.url)
    assert w3.eth.chain_id == CHAIN_ID
    [event] = proxy.events
    assert (event.method, event.fault, event.forwarded) == ("eth_chainId", None, True)
    assert event.answer is not None
    assert event.answer["result"] == hex(CHAIN_ID)


def test_raw_transaction_facts_are_hash_sender_and_nonce(account: LocalAccount) -> None:
    raw = transfer(connect("http://127.0.0.1:1"), account, 7)
    assert raw_transaction_facts("0x" + raw.hex()) == ("0x" + keccak(raw).hex(), account.address, 7)


def test_a_dropped_transaction_answers_its_hash_and_never_lands(
    proxy: FaultProxy, upstream: DevChainServer, account: LocalAccount
) -> None:
    w3 = connect(proxy.url)
    proxy.plan("eth_sendRawTransaction", Drop(), Forward())
    raw = transfer(w3, account, 0)
    answered = w3.eth.send_raw_transaction(raw)
    assert bytes(answered) == keccak(raw)
    assert not mined(upstream, "0x" + keccak(raw).hex())
    assert w3.eth.get_transaction_count(account.address) == 0
    # Sent again (Forward): it lands, with the same hash.
    assert w3.eth.send_raw_transaction(raw) == answered
    assert w3.eth.wait_for_transaction_receipt(answered, timeout=5)["status"] == 1
    sends = proxy.calls("eth_sendRawTransaction")
    assert [(e.fault, e.forwarded) for e in sends] == [(Drop(), False), (Forward(), True)]
    assert sends[0].params == ["0x" + raw.hex()]
    assert proxy.pending() == 0


def test_nonce_too_low_before_or_after_forwarding(
    proxy: FaultProxy, upstream: DevChainServer, account: LocalAccount
) -> None:
    w3 = connect(proxy.url)
    proxy.plan("eth_sendRawTransaction", NonceTooLow(), NonceTooLow(after_forward=True))
    raw = transfer(w3, account, 0)
    with pytest.raises(Web3RPCError) as refused:
        w3.eth.send_raw_transaction(raw)
    assert refused.value.rpc_response is not None
    assert refused.value.rpc_response["error"] == {
        "code": -32000, "message": f"nonce too low: address {account.address}, tx: 0 state: 0",
    }  # fmt: skip
    assert not mined(upstream, "0x" + keccak(raw).hex())
    # After forwarding: the node took it, then the client heard "nonce too low".
    with pytest.raises(Web3RPCError, match=f"address {account.address}, tx: 0 state: 1"):
        w3.eth.send_raw_transaction(raw)
    assert mined(upstream, "0x" + keccak(raw).hex())
    assert [e.forwarded for e in proxy.calls("eth_sendRawTransaction")] == [False, True]


def test_already_known_after_forwarding(
    proxy: FaultProxy, upstream: DevChainServer, account: LocalAccount
) -> None:
    w3 = connect(proxy.url)
    proxy.plan("eth_sendRawTransaction", AlreadyKnown())
    raw = transfer(w3, account, 0)
    with pytest.raises(Web3RPCError, match="already known"):
        w3.eth.send_raw_transaction(raw)
    assert mined(upstream, "0x" + keccak(raw).hex())


def test_a_hang_outlasts_the_client_then_forwards_or_not(
    proxy: FaultProxy, upstream: DevChainServer, account: LocalAccount
) -> None:
    w3 = connect(proxy.url, timeout=0.3)
    proxy.plan("eth_sendRawTransaction", Hang(0.8, forward=True), Hang(0.8, forward=False))
    first = transfer(w3, account, 0)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        w3.eth.send_raw_transaction(first)
    assert time.monotonic() - started < 0.8
    assert not mined(upstream, "0x" + keccak(first).hex())  # not yet
    deadline = time.monotonic() + 5
    while not mined(upstream, "0x" + keccak(first).hex()):
        assert time.monotonic() < deadline, "the hung call was never forwarded"
        time.sleep(0.05)
    second = transfer(w3, account, 1)
    with pytest.raises(requests.exceptions.Timeout):
        w3.eth.send_raw_transaction(second)
    time.sleep(1.0)
    assert not mined(upstream, "0x" + keccak(second).hex())


def test_any_method_fails_the_next_calls_with_502_or_a_timeout(proxy: FaultProxy) -> None:
    w3 = connect(proxy.url, timeout=0.3)
    proxy.fail_next(2, HttpError(502))
    for _ in range(2):
        with pytest.raises(requests.exceptions.HTTPError, match="502"):
            w3.eth.block_number  # noqa: B018
    assert w3.eth.chain_id == CHAIN_ID
    proxy.plan("eth_getBalance", Timeout(0.6))
    with pytest.raises(requests.exceptions.Timeout):
        w3.eth.get_balance("0x" + "22" * 20)
    assert w3.eth.get_balance("0x" + "22" * 20) == 0
    assert [(e.method, e.http_status) for e in proxy.events[:3]] == [
        ("eth_blockNumber", 502), ("eth_blockNumber", 502), ("eth_chainId", 200),
    ]  # fmt: skip


def test_a_method_plan_comes_before_the_any_plan(proxy: FaultProxy) -> None:
    w3 = connect(proxy.url)
    proxy.plan(ANY, RpcFailure(-32005, "limit exceeded"))
    proxy.plan("eth_chainId", Forward())
    assert w3.eth.chain_id == CHAIN_ID
    with pytest.raises(Web3RPCError, match="limit exceeded"):
        w3.eth.chain_id  # noqa: B018
    assert proxy.pending() == 0


def test_a_batch_takes_one_fault_per_element(
    proxy: FaultProxy, upstream: DevChainServer, account: LocalAccount
) -> None:
    w3 = connect(proxy.url)
    raw = transfer(w3, account, 0)
    proxy.plan("eth_sendRawTransaction", Drop())
    # web3 refuses eth_sendRawTransaction in batch_requests(); the provider sends any batch.
    number, sent = w3.provider.make_batch_request(
        [
            (RPCEndpoint("eth_blockNumber"), []),
            (RPCEndpoint("eth_sendRawTransaction"), ["0x" + raw.hex()]),
        ]
    )
    assert int(number["result"], 16) >= 1
    assert sent["result"] == "0x" + keccak(raw).hex()
    assert not mined(upstream, "0x" + keccak(raw).hex())
    assert [(e.method, e.forwarded) for e in proxy.events] == [
        ("eth_blockNumber", True), ("eth_sendRawTransaction", False),
    ]  # fmt: skip
    # One element's HTTP fault is the whole exchange's.
    proxy.plan("eth_chainId", HttpError(502))
    calls = [(RPCEndpoint("eth_blockNumber"), []), (RPCEndpoint("eth_chainId"), [])]
    with pytest.raises(requests.exceptions.HTTPError, match="502"):
        w3.provider.make_batch_request(calls)
    assert [(e.method, e.http_status) for e in proxy.events[-2:]] == [
        ("eth_blockNumber", 200), ("eth_chainId", 502),
    ]  # fmt: skip


def test_plans_are_consumed_exactly_once_under_concurrency(proxy: FaultProxy) -> None:
    proxy.fail_next(25, RpcFailure(-32000, "planned"), method="eth_chainId")
    failures = 0
    lock = threading.Lock()

    def caller() -> None:
        nonlocal failures
        w3 = connect(proxy.url)
        for _ in range(10):
            try:
                w3.eth.chain_id  # noqa: B018
            except Web3RPCError:
                with lock:
                    failures += 1

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == 25
    assert len(proxy.events) == 80
    assert proxy.pending() == 0
