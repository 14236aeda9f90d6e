"""The embedded dev chain over HTTP, as production code reaches a chain: web3.py's HTTPProvider,
EIP-1559 transactions signed with eth-account by a tenant's operator key, and a restart that
keeps every settled transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import RPCEndpoint, TxParams, TxReceipt

from pers.chain.compile import CompiledContract
from pers.chain.contracts import ContractName
from pers.chain.devchain import (
    FAUCET_ADDRESS,
    DevChain,
    DevChainError,
    DevChainServer,
    open_devchain,
)
from pers.config import Settings
from pers.wallets.derivation import OwnerType, WalletDeriver

# Not eth-tester's own id (131277322940537, pers's default): the setting must reach py-evm.
CHAIN_ID = 4_242_001
ETHER = 10**18
TENANT = uuid.UUID("0190a2b4-0000-7000-8000-00000000d0c5")
DERIVER = WalletDeriver(b"devchain-test-master-secret-32b!")


def operator_of(tenant: uuid.UUID) -> LocalAccount:
    """The tenant's operator: its own TENANT wallet, derived like settlement derives it."""
    account: LocalAccount = Account.from_key(DERIVER.private_key(tenant, OwnerType.TENANT, tenant))
    return account


def serve(directory: Path | None) -> DevChainServer:
    if directory is None:
        return DevChainServer(DevChain(CHAIN_ID), "127.0.0.1", 0).start()
    return open_devchain(CHAIN_ID, directory, "127.0.0.1", 0).start()


def connect(server: DevChainServer) -> Web3:
    return Web3(HTTPProvider(server.url, request_kwargs={"timeout": 30}))


def fund(w3: Web3, address: str, wei: int = ETHER) -> TxReceipt:
    answer = w3.provider.make_request(RPCEndpoint("pers_fund"), [address, hex(wei)])
    receipt = w3.eth.wait_for_transaction_receipt(answer["result"])
    assert receipt["status"] == 1
    return receipt


def signed(w3: Web3, account: LocalAccount, call: ContractFunction | ContractConstructor) -> bytes:
    """``call`` as an EIP-1559 transaction signed by ``account``; web3 fills gas and fees."""
    params: TxParams = {
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
    }
    transaction = call.build_transaction(params)
    assert "maxFeePerGas" in transaction  # EIP-1559 (eth-account signs it as type 2)
    assert transaction["chainId"] == CHAIN_ID
    return bytes(account.sign_transaction(dict(transaction)).raw_transaction)


def transact(
    w3: Web3, account: LocalAccount, call: ContractFunction | ContractConstructor
) -> TxReceipt:
    tx_hash = w3.eth.send_raw_transaction(signed(w3, account, call))
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)
    assert receipt["status"] == 1
    return receipt


def deploy_credit(w3: Web3, operator: LocalAccount, compiled: CompiledContract) -> Contract:
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    receipt = transact(w3, operator, factory.constructor("Dev Points", "DEV", 2))
    address = receipt["contractAddress"]
    assert address is not None
    return w3.eth.contract(address=address, abi=compiled.abi)


@pytest.fixture(scope="module")
def credit_build(compiled: dict[ContractName, CompiledContract]) -> CompiledContract:
    return compiled[ContractName.CREDIT]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChainServer]:
    running = serve(tmp_path_factory.mktemp("devchain"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def w3(server: DevChainServer) -> Web3:
    return connect(server)


@pytest.fixture(scope="module")
def operator(w3: Web3) -> LocalAccount:
    account = operator_of(TENANT)
    fund(w3, account.address, 10 * ETHER)
    return account


@pytest.fixture(scope="module")
def credit(w3: Web3, operator: LocalAccount, credit_build: CompiledContract) -> Contract:
    return deploy_credit(w3, operator, credit_build)


def rpc(server: DevChainServer, payload: Any) -> Any:
    return httpx.post(server.url, json=payload, timeout=10).json()


# --- the node ------------------------------------------------------------------------------


def test_dev_chain_answers_with_the_configured_chain_id(w3: Web3) -> None:
    assert w3.is_connected()
    assert w3.eth.chain_id == CHAIN_ID
    assert w3.net.version == str(CHAIN_ID)
    assert "py-evm" in w3.client_version
    latest = w3.eth.get_block("latest")
    assert latest["number"] == w3.eth.block_number
    assert latest["baseFeePerGas"] is not None


def test_contracts_see_the_configured_chain_id(w3: Web3) -> None:
    # Init code run by eth_call: CHAINID PUSH0 MSTORE PUSH1 32 PUSH0 RETURN.
    assert int.from_bytes(w3.eth.call({"data": "0x465f5260205ff3"}), "big") == CHAIN_ID


def test_a_transaction_signed_for_another_chain_is_refused(w3: Web3) -> None:
    account = operator_of(uuid.uuid4())
    fund(w3, account.address)
    foreign = account.sign_transaction(
        {
            "type": 2,
            "chainId": 1,
            "nonce": 0,
            "to": FAUCET_ADDRESS,
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    with pytest.raises(Web3RPCError, match="invalid chain id"):
        w3.eth.send_raw_transaction(foreign.raw_transaction)


def test_faucet_funds_a_tenant_operator(w3: Web3) -> None:
    account = operator_of(uuid.uuid4())
    assert w3.eth.get_balance(account.address) == 0
    receipt = fund(w3, account.address, 3 * ETHER)
    assert w3.eth.get_balance(account.address) == 3 * ETHER
    transaction = w3.eth.get_transaction(receipt["transactionHash"])
    assert transaction["from"] == FAUCET_ADDRESS
    assert transaction["to"] == account.address
    assert transaction["value"] == 3 * ETHER


# --- contracts, receipts, logs ----------------------------------------------------------------


def test_operator_deploys_the_credit_contract_and_mints(
    w3: Web3, operator: LocalAccount, credit: Contract
) -> None:
    assert w3.eth.get_code(credit.address) != b""
    assert credit.functions.owner().call() == operator.address
    assert credit.functions.decimals().call() == 2
    slots = [w3.eth.get_storage_at(credit.address, slot) for slot in range(8)]
    assert all(len(word) == 32 for word in slots)
    assert any(int.from_bytes(word, "big") for word in slots)  # the contract's state is there

    holder = DERIVER.address(TENANT, OwnerType.USER, uuid.uuid4())
    receipt = transact(w3, operator, credit.functions.mint(holder, 12_345))
    assert credit.functions.balanceOf(holder).call() == 12_345

    assert receipt["from"] == operator.address
    assert receipt["to"] == credit.address
    assert receipt["gasUsed"] > 21_000
    assert receipt["effectiveGasPrice"] > 0
    block = w3.eth.get_block(receipt["blockNumber"], full_transactions=False)
    assert block["hash"] == receipt["blockHash"]
    assert list(block["transactions"]) == [receipt["transactionHash"]]

    (transfer,) = credit.events.Transfer().process_receipt(receipt)
    assert transfer["args"]["receiver"] == holder
    assert transfer["args"]["value"] == 12_345

    transaction = w3.eth.get_transaction(receipt["transactionHash"])
    assert transaction["type"] == 2
    assert transaction["blockNumber"] == receipt["blockNumber"]
    assert transaction["input"] == HexBytes(credit.encode_abi("mint", args=[holder, 12_345]))


def test_logs_are_found_by_address_topic_and_range(
    w3: Web3, operator: LocalAccount, credit: Contract
) -> None:
    holder = DERIVER.address(TENANT, OwnerType.USER, uuid.uuid4())
    receipt = transact(w3, operator, credit.functions.mint(holder, 7))
    topic = w3.keccak(text="Transfer(address,address,uint256)").to_0x_hex()
    holder_topic = "0x" + "00" * 12 + holder[2:].lower()
    logs = w3.eth.get_logs(
        {
            "address": credit.address,
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [topic, None, holder_topic],
        }
    )
    assert [entry["transactionHash"] for entry in logs] == [receipt["transactionHash"]]
    assert logs[0]["blockNumber"] == receipt["blockNumber"]
    assert logs[0]["logIndex"] == receipt["logs"][0]["logIndex"]
    nothing = w3.eth.get_logs(
        {"address": credit.address, "fromBlock": receipt["blockNumber"] + 1, "toBlock": "latest"}
    )
    assert nothing == []


def test_calls_of_anyone_but_the_operator_revert_with_the_reason(
    w3: Web3, credit: Contract
) -> None:
    stranger = operator_of(uuid.uuid4())
    with pytest.raises(ContractLogicError, match="caller is not the operator"):
        credit.functions.mint(stranger.address, 1).call({"from": stranger.address})
    with pytest.raises(ContractLogicError, match="caller is not the operator"):
        credit.functions.mint(stranger.address, 1).estimate_gas({"from": stranger.address})


def test_a_reverting_transaction_is_mined_with_status_zero(w3: Web3, credit: Contract) -> None:
    stranger = operator_of(uuid.uuid4())
    fund(w3, stranger.address)
    transaction = credit.functions.mint(stranger.address, 1).build_transaction(
        {"from": stranger.address, "nonce": 0, "gas": 100_000}
    )
    tx_hash = w3.eth.send_raw_transaction(stranger.sign_transaction(transaction).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 0
    assert w3.eth.get_transaction_count(stranger.address) == 1


def test_fees_follow_eip_1559(w3: Web3, credit: Contract) -> None:
    history = w3.eth.fee_history(4, "latest", [50.0])
    assert len(history["baseFeePerGas"]) == 5
    assert len(history["reward"]) == 4
    assert history["oldestBlock"] == w3.eth.block_number - 3
    assert w3.eth.max_priority_fee == 10**9
    assert w3.eth.gas_price >= 10**9


# --- rejections ------------------------------------------------------------------------------


def test_a_resent_transaction_is_already_known_and_a_reused_nonce_too_low(
    w3: Web3, operator: LocalAccount, credit: Contract
) -> None:
    holder = DERIVER.address(TENANT, OwnerType.USER, uuid.uuid4())
    raw = signed(w3, operator, credit.functions.mint(holder, 1))
    nonce = w3.eth.get_transaction_count(operator.address)
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))

    with pytest.raises(Web3RPCError, match="already known"):
        w3.eth.send_raw_transaction(raw)

    other = credit.functions.mint(holder, 2).build_transaction(
        {"from": operator.address, "nonce": nonce}
    )
    with pytest.raises(Web3RPCError, match="nonce too low") as raised:
        w3.eth.send_raw_transaction(operator.sign_transaction(other).raw_transaction)
    assert raised.value.rpc_response is not None
    assert raised.value.rpc_response["error"]["code"] == -32000

    ahead = credit.functions.mint(holder, 3).build_transaction(
        {"from": operator.address, "nonce": nonce + 5, "gas": 100_000}
    )
    with pytest.raises(Web3RPCError, match="nonce too high"):
        w3.eth.send_raw_transaction(operator.sign_transaction(ahead).raw_transaction)
    assert credit.functions.balanceOf(holder).call() == 1


def test_an_unfunded_sender_has_insufficient_funds(w3: Web3, credit: Contract) -> None:
    broke = operator_of(uuid.uuid4())
    transaction = credit.functions.mint(broke.address, 1).build_transaction(
        {"from": broke.address, "nonce": 0, "gas": 100_000}
    )
    with pytest.raises(Web3RPCError, match="insufficient funds"):
        w3.eth.send_raw_transaction(broke.sign_transaction(transaction).raw_transaction)


def test_json_rpc_errors_and_batches(server: DevChainServer) -> None:
    answer = rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "eth_nothing", "params": []})
    assert answer["error"]["code"] == -32601
    answer = rpc(
        server, {"jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction", "params": ["0x01"]}
    )
    assert answer["error"]["code"] == -32602
    batch = rpc(
        server,
        [
            {"jsonrpc": "2.0", "id": 3, "method": "eth_chainId", "params": []},
            {
                "jsonrpc": "2.0",
                "id": 4,
                "method": "eth_getTransactionReceipt",
                "params": ["0x" + "ab" * 32],
            },
        ],
    )
    assert batch == [
        {"jsonrpc": "2.0", "id": 3, "result": hex(CHAIN_ID)},
        {"jsonrpc": "2.0", "id": 4, "result": None},
    ]
    garbage = httpx.post(server.url, content=b"{not json", timeout=10).json()
    assert garbage["error"]["code"] == -32700


# --- persistence ----------------------------------------------------------------------------


def test_settled_transactions_survive_a_restart(
    tmp_path: Path, credit_build: CompiledContract
) -> None:
    operator = operator_of(TENANT)
    holder = DERIVER.address(TENANT, OwnerType.USER, uuid.uuid4())
    with serve(tmp_path) as first:
        w3 = connect(first)
        fund(w3, operator.address, 5 * ETHER)
        credit = deploy_credit(w3, operator, credit_build)
        minted = transact(w3, operator, credit.functions.mint(holder, 500))
        w3.provider.make_request(RPCEndpoint("evm_mine"), ["0x3"])
        head = w3.eth.get_block("latest")
        before = {
            "receipt": dict(w3.eth.get_transaction_receipt(minted["transactionHash"])),
            "transaction": dict(w3.eth.get_transaction(minted["transactionHash"])),
            "operator balance": w3.eth.get_balance(operator.address),
        }

    with serve(tmp_path) as second:
        w3 = connect(second)
        assert w3.eth.get_block("latest") == head
        assert dict(w3.eth.get_transaction_receipt(minted["transactionHash"])) == before["receipt"]
        assert dict(w3.eth.get_transaction(minted["transactionHash"])) == before["transaction"]
        assert w3.eth.get_balance(operator.address) == before["operator balance"]
        credit = w3.eth.contract(address=credit.address, abi=credit_build.abi)
        assert credit.functions.balanceOf(holder).call() == 500
        # The chain goes on from there: the operator's next nonce, the next block.
        again = transact(w3, operator, credit.functions.mint(holder, 1))
        assert again["blockNumber"] == head["number"] + 1
        assert credit.functions.balanceOf(holder).call() == 501


def test_set_head_rewinds_the_chain_like_a_reorg_and_the_journal_with_it(
    tmp_path: Path, credit_build: CompiledContract
) -> None:
    operator = operator_of(TENANT)
    holder = DERIVER.address(TENANT, OwnerType.USER, uuid.uuid4())
    with serve(tmp_path) as first:
        w3 = connect(first)
        fund(w3, operator.address)
        credit = deploy_credit(w3, operator, credit_build)
        kept = transact(w3, operator, credit.functions.mint(holder, 10))
        raw = signed(w3, operator, credit.functions.mint(holder, 5))
        dropped = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))
        assert credit.functions.balanceOf(holder).call() == 15
        dropped_nonce = w3.eth.get_transaction(dropped["transactionHash"])["nonce"]

        fork_point = kept["blockNumber"]
        w3.provider.make_request(RPCEndpoint("debug_setHead"), [hex(fork_point)])
        assert w3.eth.block_number == fork_point
        assert credit.functions.balanceOf(holder).call() == 10
        assert w3.eth.get_transaction_count(operator.address) == dropped_nonce
        with pytest.raises(TransactionNotFound):
            w3.eth.get_transaction_receipt(dropped["transactionHash"])

        # Another block takes the height; the dropped transaction, sent again, lands after it.
        w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        assert w3.eth.get_block(fork_point + 1)["hash"] != dropped["blockHash"]
        again = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))
        assert again["transactionHash"] == dropped["transactionHash"]
        assert again["blockNumber"] == fork_point + 2
        head = w3.eth.get_block("latest")

    with serve(tmp_path) as second:
        w3 = connect(second)
        assert w3.eth.get_block("latest") == head
        credit = w3.eth.contract(address=credit.address, abi=credit_build.abi)
        assert credit.functions.balanceOf(holder).call() == 15


def test_a_snapshot_speeds_the_start_and_a_stale_one_is_ignored(tmp_path: Path) -> None:
    receiver = operator_of(uuid.uuid4()).address
    chain = DevChain(CHAIN_ID, tmp_path)
    first = chain.fund(receiver, 1)
    chain.mine(2)
    chain.close()  # writes the snapshot at block 3
    snapshot = tmp_path / "snapshot.bin"
    assert json.loads(snapshot.read_bytes().split(b"\n", 1)[0])["block"] == 3
    stale = snapshot.read_bytes()

    chain = DevChain(CHAIN_ID, tmp_path)  # from the snapshot, nothing to replay
    try:
        assert chain.request("eth_blockNumber", []) == "0x3"
        assert chain.request("eth_getTransactionReceipt", [first])["blockNumber"] == "0x1"
        chain.request("debug_setHead", ["0x1"])
        second = chain.fund(receiver, 2)
        chain.mine(1)
    finally:
        chain.close(snapshot=False)  # as after a crash: the old snapshot stays
    snapshot.write_bytes(stale)

    # Block 3 of the stale snapshot is not the journal's block 3 any more: replayed instead.
    chain = DevChain(CHAIN_ID, tmp_path)
    try:
        assert chain.request("eth_getBalance", [receiver, "latest"]) == hex(3)
        assert chain.request("eth_getTransactionReceipt", [second])["blockNumber"] == "0x2"
        assert chain.request("eth_blockNumber", []) == "0x3"
    finally:
        chain.close()
    snapshot.write_bytes(b"garbage")
    chain = DevChain(CHAIN_ID, tmp_path)
    try:
        assert chain.request("eth_getBalance", [receiver, "latest"]) == hex(3)
    finally:
        chain.close()


def test_a_journal_serves_one_process_and_one_chain_id(tmp_path: Path) -> None:
    chain = DevChain(CHAIN_ID, tmp_path)
    try:
        with pytest.raises(DevChainError, match="in use"):
            DevChain(CHAIN_ID, tmp_path)
    finally:
        chain.close()
    with pytest.raises(DevChainError, match="not 1337"):
        DevChain(1337, tmp_path)


def test_a_torn_last_journal_line_is_dropped(tmp_path: Path) -> None:
    chain = DevChain(CHAIN_ID, tmp_path)
    receiver = operator_of(uuid.uuid4()).address
    tx_hash = chain.fund(receiver, 42)
    chain.close()
    journal = tmp_path / "journal.jsonl"
    lines = journal.read_text().splitlines()
    assert json.loads(lines[0])["chainId"] == CHAIN_ID
    assert json.loads(lines[-1])["hash"] == tx_hash
    with journal.open("a") as handle:
        handle.write('{"n": 2, "t": 1')  # a crash in the middle of the next append

    chain = DevChain(CHAIN_ID, tmp_path)
    try:
        assert chain.request("eth_getBalance", [receiver, "latest"]) == hex(42)
        assert chain.request("eth_getTransactionReceipt", [tx_hash])["status"] == "0x1"
        chain.fund(receiver, 1)  # appends after the last whole line
    finally:
        chain.close()
    chain = DevChain(CHAIN_ID, tmp_path)
    try:
        assert chain.request("eth_getBalance", [receiver, "latest"]) == hex(43)
    finally:
        chain.close()


def test_settings_default_to_the_dev_chain() -> None:
    settings = Settings(chains=[], devchain_host="127.0.0.1", devchain_port=8545)
    assert settings.devchain
    assert Settings.model_fields["testnet_chain_id"].default == 131277322940537
    assert settings.testnet_rpc == "http://127.0.0.1:8545"
    testnet = {
        "chainId": settings.testnet_chain_id,
        "name": "Testnet",
        "rpcUrl": "https://rpc.example/testnet",
        "isTestnet": True,
    }
    configured = Settings(chains=[testnet])
    assert not configured.devchain
    assert configured.testnet_rpc == "https://rpc.example/testnet"


def test_gas_estimates_are_enough_and_close_to_what_is_used(
    credit_build: CompiledContract,
) -> None:
    """The dev chain estimates as geth does (one run, one check): the estimate always lets the
    transaction through, and is not far above the gas it uses."""
    server = serve(None)
    try:
        w3 = connect(server)
        operator = operator_of(TENANT)
        fund(w3, operator.address)
        credit = deploy_credit(w3, operator, credit_build)
        holders = [Account.create().address for _ in range(40)]
        batch = credit.functions.mintMany(holders, list(range(1, 41)))
        for call in (credit.functions.mint(holders[0], 5), batch):
            estimate = call.estimate_gas({"from": operator.address})
            receipt = transact(w3, operator, call)
            assert receipt["status"] == 1
            assert receipt["gasUsed"] <= estimate <= receipt["gasUsed"] * 1.1 + 5_000
    finally:
        server.stop()
