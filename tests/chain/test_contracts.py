"""The token contracts on a real EVM (py-evm through eth-tester): every operator power, the
batches settlement relies on, and the refusals of everyone else."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from pers.chain import compile as chain_compile
from pers.chain.compile import CompiledContract, compile_contract
from pers.chain.contracts import ContractName, abi

ZERO = "0x0000000000000000000000000000000000000000"
NOT_OPERATOR = "caller is not the operator"
# Longer than snekmate's own bounds (25-byte names, 5-byte symbols), and not ASCII.
LONG_NAME = "Café Loyalty Points of the Grand Hotel ☕"
LONG_SYMBOL = "CAFÉPTS"
BASE_URI = "https://pers.example/metadata/"
# ERC721 ids are the ledger's 128-bit entry ids.
BIG_ID = 0x0190_5D3B_7C2A_7F00_8000_1234_5678_9ABC
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Accounts:
    operator: str
    alice: str
    bob: str
    carol: str
    stranger: str


@pytest.fixture(scope="module")
def accounts(w3: Web3) -> Accounts:
    operator, alice, bob, carol, stranger = w3.eth.accounts[:5]
    return Accounts(operator, alice, bob, carol, stranger)


def send(fn: ContractFunction, sender: str) -> TxReceipt:
    receipt = fn.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
    assert receipt["status"] == 1
    return receipt


def deploy(
    w3: Web3, compiled: CompiledContract, operator: str, *args: Any
) -> tuple[Contract, TxReceipt]:
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(*args).transact({"from": operator})
    )
    assert receipt["status"] == 1
    return w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi), receipt


def events(contract: Contract, event: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    found = contract.events[event]().process_receipt(receipt, errors=DISCARD)
    return [dict(log["args"]) for log in found]


@pytest.fixture
def credit(
    w3: Web3, compiled: dict[ContractName, CompiledContract], accounts: Accounts
) -> Contract:
    contract, _ = deploy(
        w3, compiled[ContractName.CREDIT], accounts.operator, LONG_NAME, LONG_SYMBOL, 2
    )
    return contract


@pytest.fixture
def status(
    w3: Web3, compiled: dict[ContractName, CompiledContract], accounts: Accounts
) -> Contract:
    contract, _ = deploy(
        w3, compiled[ContractName.STATUS], accounts.operator, LONG_NAME, LONG_SYMBOL, BASE_URI
    )
    return contract


@pytest.fixture
def reward(
    w3: Web3, compiled: dict[ContractName, CompiledContract], accounts: Accounts
) -> Contract:
    contract, _ = deploy(
        w3, compiled[ContractName.REWARD], accounts.operator, LONG_NAME, LONG_SYMBOL, BASE_URI
    )
    return contract


# --- compilation ---------------------------------------------------------------------------


def test_committed_abis_are_the_compiler_output(
    compiled: dict[ContractName, CompiledContract],
) -> None:
    for name in ContractName:
        assert abi(name) == compiled[name].abi, f"regenerate: python -m pers.chain.compile ({name})"


def test_a_second_compilation_is_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[ContractName, str]] = []

    def fake_compile(name: ContractName, evm_version: str) -> dict[str, Any]:
        calls.append((name, evm_version))
        return {
            "abi": [{"type": "function", "name": f"n{len(calls)}"}],
            "bytecode": "0x01",
            "bytecode_runtime": "0x02",
        }

    monkeypatch.setattr(chain_compile, "_compile", fake_compile)
    first = compile_contract(ContractName.CREDIT, tmp_path)
    again = compile_contract(ContractName.CREDIT, tmp_path)
    assert calls == [(ContractName.CREDIT, "cancun")]
    assert again == first
    assert (first.bytecode, first.runtime_bytecode) == ("0x01", "0x02")

    # Other settings are another build; a damaged entry is rebuilt, not trusted.
    compile_contract(ContractName.CREDIT, tmp_path, evm_version="shanghai")
    assert len(calls) == 2
    entries = sorted(tmp_path.glob("credit-*.json"))
    assert len(entries) == 2
    for entry in entries:
        entry.write_text("{not json")
    rebuilt = compile_contract(ContractName.CREDIT, tmp_path)
    assert len(calls) == 3
    assert rebuilt.abi == [{"type": "function", "name": "n3"}]
    assert compile_contract(ContractName.CREDIT, tmp_path) == rebuilt
    assert len(calls) == 3


def test_the_cache_key_follows_the_source_and_the_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    key = chain_compile.cache_key(ContractName.CREDIT)
    assert chain_compile.cache_key(ContractName.STATUS) != key
    assert chain_compile.cache_key(ContractName.CREDIT, "shanghai") != key
    monkeypatch.setattr(chain_compile.vyper, "__version__", "0.4.99")
    assert chain_compile.cache_key(ContractName.CREDIT) != key
    monkeypatch.undo()
    monkeypatch.setattr(chain_compile, "source", lambda name: "# edited\n")
    assert chain_compile.cache_key(ContractName.CREDIT) != key


def test_sources_and_abis_ship_as_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["pers"]
    package = ROOT / "src" / "pers"
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    for name in ContractName:
        assert package / "chain" / "contracts" / f"{name.value}.vy" in shipped
        assert package / "chain" / "contracts" / "abi" / f"{name.value}.json" in shipped


# --- operator only -------------------------------------------------------------------------

OPERATOR_ONLY: list[tuple[str, str, Callable[[Accounts], list[Any]]]] = [
    ("credit", "mint", lambda a: [a.stranger, 1]),
    ("credit", "mintMany", lambda a: [[a.stranger], [1]]),
    ("credit", "burnFrom", lambda a: [a.alice, 1]),
    ("credit", "operatorTransfer", lambda a: [a.alice, a.stranger, 1]),
    ("credit", "operatorBatch", lambda a: [[a.alice], [a.stranger], [1]]),
    ("credit", "transferOwnership", lambda a: [a.stranger]),
    ("status", "safeMint", lambda a: [a.stranger, 99, ""]),
    ("status", "mintMany", lambda a: [[a.stranger], [99]]),
    ("status", "burnFrom", lambda a: [a.alice, 1]),
    ("status", "operatorTransfer", lambda a: [a.alice, a.stranger, 1]),
    ("status", "operatorBatch", lambda a: [[a.alice], [a.stranger], [1]]),
    ("status", "setBaseURI", lambda a: ["https://evil.example/"]),
    ("status", "transferOwnership", lambda a: [a.stranger]),
    ("reward", "mint", lambda a: [a.stranger, 1, 1, b""]),
    ("reward", "mintBatch", lambda a: [a.stranger, [1], [1], b""]),
    ("reward", "operatorTransfer", lambda a: [a.alice, a.stranger, 1, 1]),
    ("reward", "operatorTransferBatch", lambda a: [a.alice, a.stranger, [1], [1]]),
    ("reward", "operatorBatch", lambda a: [[a.alice], [a.stranger], [1], [1]]),
    ("reward", "setURI", lambda a: [1, "https://evil.example/1"]),
    ("reward", "setBaseURI", lambda a: ["https://evil.example/"]),
    ("reward", "transferOwnership", lambda a: [a.stranger]),
]


def _seed(kind: str, contract: Contract, a: Accounts) -> None:
    """alice holds something for the refused calls to aim at."""
    if kind == "credit":
        send(contract.functions.mint(a.alice, 5), a.operator)
    elif kind == "status":
        send(contract.functions.safeMint(a.alice, 1, ""), a.operator)
    else:
        send(contract.functions.mint(a.alice, 1, 5, b""), a.operator)


def _holdings(kind: str, contract: Contract, a: Accounts) -> tuple[Any, ...]:
    if kind == "credit":
        f = contract.functions
        return (f.balanceOf(a.alice).call(), f.balanceOf(a.stranger).call(), f.totalSupply().call())
    if kind == "status":
        return (contract.functions.ownerOf(1).call(), contract.functions.totalSupply().call())
    f = contract.functions
    return (f.balanceOf(a.alice, 1).call(), f.balanceOf(a.stranger, 1).call(), f.uri(1).call())


@pytest.mark.parametrize(
    ("kind", "function", "args"), OPERATOR_ONLY, ids=[f"{k}.{f}" for k, f, _ in OPERATOR_ONLY]
)
def test_operator_functions_refuse_everyone_else(
    request: pytest.FixtureRequest,
    accounts: Accounts,
    kind: str,
    function: str,
    args: Callable[[Accounts], list[Any]],
) -> None:
    contract: Contract = request.getfixturevalue(kind)
    _seed(kind, contract, accounts)
    before = _holdings(kind, contract, accounts)

    with pytest.raises(TransactionFailed, match=NOT_OPERATOR):
        contract.functions[function](*args(accounts)).transact({"from": accounts.stranger})

    assert _holdings(kind, contract, accounts) == before
    assert contract.functions.owner().call() == accounts.operator


# --- credit (ERC20) ------------------------------------------------------------------------


def test_credit_deployer_is_operator_and_metadata_is_untruncated(
    w3: Web3, compiled: dict[ContractName, CompiledContract], accounts: Accounts
) -> None:
    contract, receipt = deploy(
        w3, compiled[ContractName.CREDIT], accounts.operator, LONG_NAME, LONG_SYMBOL, 18
    )
    assert contract.functions.name().call() == LONG_NAME
    assert contract.functions.symbol().call() == LONG_SYMBOL
    assert contract.functions.decimals().call() == 18
    assert contract.functions.totalSupply().call() == 0
    assert contract.functions.owner().call() == accounts.operator
    # Deployed code is the runtime code followed by the immutables (here: decimals).
    code = w3.eth.get_code(contract.address)
    assert code.startswith(bytes.fromhex(compiled[ContractName.CREDIT].runtime_bytecode[2:]))
    assert events(contract, "OwnershipTransferred", receipt) == [
        {"previous_owner": ZERO, "new_owner": accounts.operator}
    ]


def test_credit_operator_mints_burns_and_moves_any_holder(
    credit: Contract, accounts: Accounts
) -> None:
    a = accounts
    minted = send(credit.functions.mint(a.alice, 1_000), a.operator)
    assert events(credit, "Transfer", minted) == [
        {"sender": ZERO, "receiver": a.alice, "value": 1_000}
    ]

    # No allowance from alice: custodial wallets are moved by the operator alone.
    assert credit.functions.allowance(a.alice, a.operator).call() == 0
    moved = send(credit.functions.operatorTransfer(a.alice, a.bob, 300), a.operator)
    assert events(credit, "Transfer", moved) == [
        {"sender": a.alice, "receiver": a.bob, "value": 300}
    ]

    burned = send(credit.functions.burnFrom(a.bob, 100), a.operator)
    assert events(credit, "Transfer", burned) == [{"sender": a.bob, "receiver": ZERO, "value": 100}]

    assert credit.functions.balanceOf(a.alice).call() == 700
    assert credit.functions.balanceOf(a.bob).call() == 200
    assert credit.functions.totalSupply().call() == 900


def test_credit_operator_cannot_overdraw_a_holder(credit: Contract, accounts: Accounts) -> None:
    a = accounts
    send(credit.functions.mint(a.alice, 10), a.operator)
    with pytest.raises(TransactionFailed, match="transfer amount exceeds balance"):
        credit.functions.operatorTransfer(a.alice, a.bob, 11).transact({"from": a.operator})
    with pytest.raises(TransactionFailed, match="burn amount exceeds balance"):
        credit.functions.burnFrom(a.alice, 11).transact({"from": a.operator})
    with pytest.raises(TransactionFailed, match="mint to the zero address"):
        credit.functions.mint(ZERO, 1).transact({"from": a.operator})
    assert credit.functions.balanceOf(a.alice).call() == 10
    assert credit.functions.balanceOf(a.bob).call() == 0
    assert credit.functions.totalSupply().call() == 10


def test_credit_mint_many_mints_to_each_holder_in_one_transaction(
    w3: Web3, credit: Contract, accounts: Accounts
) -> None:
    holders = [w3.to_checksum_address(f"0x{i:040x}") for i in range(1, 101)]
    amounts = [i * 10 for i in range(1, 101)]
    receipt = send(credit.functions.mintMany(holders, amounts), accounts.operator)
    logged = events(credit, "Transfer", receipt)
    assert [(e["receiver"], e["value"]) for e in logged] == list(zip(holders, amounts, strict=True))
    assert [credit.functions.balanceOf(h).call() for h in holders] == amounts
    assert credit.functions.totalSupply().call() == sum(amounts)

    with pytest.raises(TransactionFailed, match="length mismatch"):
        credit.functions.mintMany([accounts.alice], [1, 2]).transact({"from": accounts.operator})


def test_credit_batch_applies_mints_transfers_and_burns_in_order(
    credit: Contract, accounts: Accounts
) -> None:
    a = accounts
    # alice holds nothing yet: the transfer only works because the mint before it ran first.
    receipt = send(
        credit.functions.operatorBatch(
            [ZERO, a.alice, a.bob, a.alice], [a.alice, a.bob, ZERO, a.carol], [100, 60, 10, 40]
        ),
        a.operator,
    )
    assert [
        (e["sender"], e["receiver"], e["value"]) for e in events(credit, "Transfer", receipt)
    ] == [
        (ZERO, a.alice, 100),
        (a.alice, a.bob, 60),
        (a.bob, ZERO, 10),
        (a.alice, a.carol, 40),
    ]
    assert [credit.functions.balanceOf(x).call() for x in (a.alice, a.bob, a.carol)] == [0, 50, 40]
    assert credit.functions.totalSupply().call() == 90


def test_credit_batch_is_all_or_nothing(w3: Web3, credit: Contract, accounts: Accounts) -> None:
    a = accounts
    # Sent with a fixed gas limit, so it is mined and fails on chain rather than at estimation.
    tx = credit.functions.operatorBatch([ZERO, a.alice], [a.alice, a.bob], [100, 101]).transact(
        {"from": a.operator, "gas": 500_000}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 0
    assert credit.functions.balanceOf(a.alice).call() == 0
    assert credit.functions.totalSupply().call() == 0


def test_credit_holders_keep_the_standard_erc20_calls(credit: Contract, accounts: Accounts) -> None:
    a = accounts
    send(credit.functions.mint(a.alice, 50), a.operator)
    send(credit.functions.transfer(a.bob, 20), a.alice)
    send(credit.functions.approve(a.carol, 5), a.bob)
    send(credit.functions.transferFrom(a.bob, a.carol, 5), a.carol)
    send(credit.functions.burn(10), a.alice)
    assert [credit.functions.balanceOf(x).call() for x in (a.alice, a.bob, a.carol)] == [20, 15, 5]
    assert credit.functions.totalSupply().call() == 40
    # A holder moves only its own balance.
    with pytest.raises(TransactionFailed, match="insufficient allowance"):
        credit.functions.transferFrom(a.alice, a.stranger, 1).transact({"from": a.stranger})


def test_operator_role_moves_with_transfer_ownership(credit: Contract, accounts: Accounts) -> None:
    a = accounts
    receipt = send(credit.functions.transferOwnership(a.carol), a.operator)
    assert events(credit, "OwnershipTransferred", receipt) == [
        {"previous_owner": a.operator, "new_owner": a.carol}
    ]
    send(credit.functions.mint(a.alice, 3), a.carol)
    with pytest.raises(TransactionFailed, match=NOT_OPERATOR):
        credit.functions.mint(a.alice, 3).transact({"from": a.operator})
    with pytest.raises(TransactionFailed, match="new operator is the zero address"):
        credit.functions.transferOwnership(ZERO).transact({"from": a.carol})
    assert credit.functions.balanceOf(a.alice).call() == 3
    assert credit.functions.owner().call() == a.carol


# --- status (ERC721) -----------------------------------------------------------------------


def test_status_metadata_and_interfaces(status: Contract, accounts: Accounts) -> None:
    assert status.functions.name().call() == LONG_NAME
    assert status.functions.symbol().call() == LONG_SYMBOL
    assert status.functions.baseURI().call() == BASE_URI
    assert status.functions.owner().call() == accounts.operator
    supported = ["01ffc9a7", "80ac58cd", "5b5e139f", "780e9d63", "49064906"]
    for interface_id in supported:
        assert status.functions.supportsInterface(bytes.fromhex(interface_id)).call()
    # Not the permit extension (not exposed), not the ERC-165 invalid id.
    for interface_id in ["589c5ce2", "ffffffff", "d9b67a26"]:
        assert not status.functions.supportsInterface(bytes.fromhex(interface_id)).call()


def test_status_operator_mints_the_ledgers_ids_once(status: Contract, accounts: Accounts) -> None:
    a = accounts
    receipt = send(status.functions.safeMint(a.alice, BIG_ID, "ipfs://gold"), a.operator)
    assert events(status, "Transfer", receipt) == [
        {"sender": ZERO, "receiver": a.alice, "token_id": BIG_ID}
    ]
    assert status.functions.ownerOf(BIG_ID).call() == a.alice
    assert status.functions.balanceOf(a.alice).call() == 1
    assert status.functions.totalSupply().call() == 1
    assert status.functions.tokenURI(BIG_ID).call() == "ipfs://gold"

    # A replayed mint (same id) reverts: each ledger mint has one on-chain effect.
    with pytest.raises(TransactionFailed, match="token already minted"):
        status.functions.safeMint(a.bob, BIG_ID, "").transact({"from": a.operator})
    with pytest.raises(TransactionFailed, match="token already minted"):
        status.functions.mintMany([a.bob, a.carol], [7, 7]).transact({"from": a.operator})
    assert status.functions.ownerOf(BIG_ID).call() == a.alice
    assert status.functions.totalSupply().call() == 1
    assert status.functions.balanceOf(a.bob).call() == 0


def test_status_safe_mint_refuses_a_contract_that_takes_no_erc721(
    status: Contract, credit: Contract, accounts: Accounts
) -> None:
    with pytest.raises(TransactionFailed):
        status.functions.safeMint(credit.address, 1, "").transact({"from": accounts.operator})
    assert status.functions.totalSupply().call() == 0


def test_status_mint_many_and_enumeration(status: Contract, accounts: Accounts) -> None:
    a = accounts
    receipt = send(status.functions.mintMany([a.alice, a.bob, a.alice], [10, 20, 30]), a.operator)
    assert [e["token_id"] for e in events(status, "Transfer", receipt)] == [10, 20, 30]
    assert status.functions.totalSupply().call() == 3
    assert status.functions.balanceOf(a.alice).call() == 2
    assert [status.functions.tokenOfOwnerByIndex(a.alice, i).call() for i in range(2)] == [10, 30]
    assert [status.functions.tokenByIndex(i).call() for i in range(3)] == [10, 20, 30]


def test_status_token_uri_falls_back_to_the_settable_base(
    status: Contract, accounts: Accounts
) -> None:
    a = accounts
    send(status.functions.safeMint(a.alice, BIG_ID, ""), a.operator)
    assert status.functions.tokenURI(BIG_ID).call() == f"{BASE_URI}{BIG_ID}"
    receipt = send(status.functions.setBaseURI("https://cdn.example/s/"), a.operator)
    assert events(status, "BatchMetadataUpdate", receipt) == [
        {"_fromTokenId": 0, "_toTokenId": 2**256 - 1}
    ]
    assert status.functions.tokenURI(BIG_ID).call() == f"https://cdn.example/s/{BIG_ID}"
    with pytest.raises(TransactionFailed, match="invalid token ID"):
        status.functions.tokenURI(BIG_ID + 1).call()


def test_status_operator_moves_and_burns_only_from_the_named_holder(
    status: Contract, accounts: Accounts
) -> None:
    a = accounts
    send(status.functions.mintMany([a.alice, a.alice], [1, 2]), a.operator)

    with pytest.raises(TransactionFailed, match="transfer from incorrect owner"):
        status.functions.operatorTransfer(a.bob, a.carol, 1).transact({"from": a.operator})
    with pytest.raises(TransactionFailed, match="burn from incorrect owner"):
        status.functions.burnFrom(a.bob, 2).transact({"from": a.operator})

    moved = send(status.functions.operatorTransfer(a.alice, a.bob, 1), a.operator)
    assert events(status, "Transfer", moved) == [
        {"sender": a.alice, "receiver": a.bob, "token_id": 1}
    ]
    burned = send(status.functions.burnFrom(a.alice, 2), a.operator)
    assert events(status, "Transfer", burned) == [
        {"sender": a.alice, "receiver": ZERO, "token_id": 2}
    ]

    assert status.functions.ownerOf(1).call() == a.bob
    assert status.functions.balanceOf(a.alice).call() == 0
    assert status.functions.totalSupply().call() == 1
    with pytest.raises(TransactionFailed, match="invalid token ID"):
        status.functions.ownerOf(2).call()


def test_status_batch_applies_moves_in_order(status: Contract, accounts: Accounts) -> None:
    a = accounts
    receipt = send(
        status.functions.operatorBatch(
            [ZERO, ZERO, a.alice, a.bob], [a.alice, a.bob, a.carol, ZERO], [5, 6, 5, 6]
        ),
        a.operator,
    )
    assert [
        (e["sender"], e["receiver"], e["token_id"]) for e in events(status, "Transfer", receipt)
    ] == [(ZERO, a.alice, 5), (ZERO, a.bob, 6), (a.alice, a.carol, 5), (a.bob, ZERO, 6)]
    assert status.functions.ownerOf(5).call() == a.carol
    assert status.functions.totalSupply().call() == 1
    assert [status.functions.balanceOf(x).call() for x in (a.alice, a.bob, a.carol)] == [0, 0, 1]


def test_status_holders_keep_the_standard_erc721_calls(
    status: Contract, accounts: Accounts
) -> None:
    a = accounts
    send(status.functions.mintMany([a.alice, a.alice], [1, 2]), a.operator)
    send(status.functions.transferFrom(a.alice, a.bob, 1), a.alice)
    send(status.functions.burn(2), a.alice)
    assert status.functions.ownerOf(1).call() == a.bob
    assert status.functions.totalSupply().call() == 1
    with pytest.raises(TransactionFailed, match="caller is not token owner or approved"):
        status.functions.transferFrom(a.bob, a.stranger, 1).transact({"from": a.stranger})


# --- reward (ERC1155) ----------------------------------------------------------------------


def test_reward_operator_mints_single_and_batch(reward: Contract, accounts: Accounts) -> None:
    a = accounts
    assert reward.functions.name().call() == LONG_NAME
    assert reward.functions.owner().call() == a.operator
    for interface_id in ["01ffc9a7", "d9b67a26", "0e89341c"]:
        assert reward.functions.supportsInterface(bytes.fromhex(interface_id)).call()

    single = send(reward.functions.mint(a.alice, 1, 5, b""), a.operator)
    assert events(reward, "TransferSingle", single) == [
        {"_operator": a.operator, "_from": ZERO, "_to": a.alice, "_id": 1, "_value": 5}
    ]

    batch = send(reward.functions.mintBatch(a.bob, [1, 2, 3], [10, 20, 30], b""), a.operator)
    assert events(reward, "TransferSingle", batch) == []
    assert events(reward, "TransferBatch", batch) == [
        {
            "_operator": a.operator,
            "_from": ZERO,
            "_to": a.bob,
            "_ids": [1, 2, 3],
            "_values": [10, 20, 30],
        }
    ]
    assert reward.functions.balanceOfBatch([a.alice, a.bob, a.bob, a.bob], [1, 1, 2, 3]).call() == [
        5,
        10,
        20,
        30,
    ]
    assert [reward.functions.totalSupply(i).call() for i in (1, 2, 3, 4)] == [15, 20, 30, 0]
    assert reward.functions.exists(3).call()
    assert not reward.functions.exists(4).call()
    with pytest.raises(TransactionFailed, match="length mismatch"):
        reward.functions.mintBatch(a.bob, [1, 2], [1], b"").transact({"from": a.operator})


def test_reward_operator_moves_and_burns_any_holder(reward: Contract, accounts: Accounts) -> None:
    a = accounts
    send(reward.functions.mintBatch(a.alice, [1, 2], [10, 10], b""), a.operator)
    assert not reward.functions.isApprovedForAll(a.alice, a.operator).call()

    send(reward.functions.operatorTransfer(a.alice, a.bob, 1, 4), a.operator)
    moved = send(reward.functions.operatorTransferBatch(a.alice, a.bob, [1, 2], [1, 2]), a.operator)
    assert events(reward, "TransferBatch", moved)[0]["_from"] == a.alice
    send(reward.functions.burn(a.bob, 1, 5), a.operator)
    send(reward.functions.burnBatch(a.alice, [1, 2], [5, 8]), a.operator)

    balances = reward.functions.balanceOfBatch(
        [a.alice, a.alice, a.bob, a.bob], [1, 2, 1, 2]
    ).call()
    assert balances == [0, 0, 0, 2]
    assert [reward.functions.totalSupply(i).call() for i in (1, 2)] == [0, 2]
    with pytest.raises(TransactionFailed, match="insufficient balance for transfer"):
        reward.functions.operatorTransfer(a.bob, a.alice, 2, 3).transact({"from": a.operator})


def test_reward_burn_is_for_holder_approved_or_operator(
    reward: Contract, accounts: Accounts
) -> None:
    a = accounts
    send(reward.functions.mint(a.alice, 1, 10, b""), a.operator)
    with pytest.raises(TransactionFailed, match="caller is not holder, approved or operator"):
        reward.functions.burn(a.alice, 1, 1).transact({"from": a.stranger})
    with pytest.raises(TransactionFailed, match="caller is not holder, approved or operator"):
        reward.functions.burnBatch(a.alice, [1], [1]).transact({"from": a.stranger})
    send(reward.functions.burn(a.alice, 1, 1), a.alice)
    send(reward.functions.setApprovalForAll(a.stranger, True), a.alice)
    send(reward.functions.burn(a.alice, 1, 2), a.stranger)
    assert reward.functions.balanceOf(a.alice, 1).call() == 7
    assert reward.functions.totalSupply(1).call() == 7


def test_reward_batch_applies_moves_across_holders_in_order(
    reward: Contract, accounts: Accounts
) -> None:
    a = accounts
    receipt = send(
        reward.functions.operatorBatch(
            [ZERO, ZERO, a.alice, a.bob],
            [a.alice, a.bob, a.carol, ZERO],
            [1, 2, 1, 2],
            [3, 4, 2, 4],
        ),
        a.operator,
    )
    logged = events(reward, "TransferSingle", receipt)
    assert [(e["_from"], e["_to"], e["_id"], e["_value"]) for e in logged] == [
        (ZERO, a.alice, 1, 3),
        (ZERO, a.bob, 2, 4),
        (a.alice, a.carol, 1, 2),
        (a.bob, ZERO, 2, 4),
    ]
    assert {e["_operator"] for e in logged} == {a.operator}
    balances = reward.functions.balanceOfBatch([a.alice, a.carol, a.bob], [1, 1, 2]).call()
    assert balances == [1, 2, 0]
    assert [reward.functions.totalSupply(i).call() for i in (1, 2)] == [3, 0]


def test_reward_uri_per_id_or_base(reward: Contract, accounts: Accounts) -> None:
    a = accounts
    assert reward.functions.uri(7).call() == f"{BASE_URI}7"
    receipt = send(reward.functions.setURI(7, "ipfs://seven"), a.operator)
    assert events(reward, "URI", receipt) == [{"_value": "ipfs://seven", "_id": 7}]
    assert reward.functions.uri(7).call() == "ipfs://seven"
    assert reward.functions.uri(8).call() == f"{BASE_URI}8"

    cleared = send(reward.functions.setURI(7, ""), a.operator)
    assert events(reward, "URI", cleared) == [{"_value": f"{BASE_URI}7", "_id": 7}]
    send(reward.functions.setBaseURI(""), a.operator)
    assert reward.functions.uri(7).call() == ""
