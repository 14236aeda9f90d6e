"""Is the contract at an address one settlement can drive? Asked over JSON-RPC, read-only.

Settlement signs every token movement with the tenant's operator key and calls pers's operator
interface (docs/contracts.md): ``operatorBatch``, the single mint, burn and operator transfer,
``owner()``. So a token contract is accepted when:

1. the endpoint answers for the expected chain (``eth_chainId``), and code exists at the
   address (``eth_getCode``);
2. ``owner()`` answers the operator, and ERC-20 ``decimals()`` the registered decimals, and the
   NFT kinds claim their standard through ERC-165 ``supportsInterface``;
3. the operator functions run when the operator calls them (``eth_call`` from the operator,
   with arguments that change nothing: empty batches, zero amounts, an id the ledger never
   uses). A missing function, or a caller the contract does not accept, reverts.

ERC-721 ``burnFrom`` and ``operatorTransfer`` need an existing token to run, so they are not
called; the batch that settlement prefers covers both moves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from aiohttp import ClientError
from eth_utils.address import to_checksum_address
from web3 import AsyncWeb3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, Web3Exception

from pers.chain.contracts import Abi, ContractName, abi
from pers.chain.rpc import ChainUnavailable

ERC721_INTERFACE = bytes.fromhex("80ac58cd")
ERC1155_INTERFACE = bytes.fromhex("d9b67a26")
# An id no ledger mint ever uses (ERC-721 ids are 128-bit entry ids): minting it in a simulated
# call cannot collide with a real token.
PROBE_ID = 2**256 - 1


class Rejection(StrEnum):
    NOT_DEPLOYED = "not_deployed"
    INTERFACE_MISSING = "interface_missing"
    OPERATOR_MISMATCH = "operator_mismatch"
    DECIMALS_MISMATCH = "decimals_mismatch"


class ContractRejected(Exception):
    """The contract is not one settlement can drive; ``reason`` says why. ``owner`` is the
    contract's ``owner()`` (operator mismatch), ``decimals`` its ``decimals()`` (decimals
    mismatch), ``function`` the missing or failing function (interface missing)."""

    def __init__(
        self,
        reason: Rejection,
        detail: str,
        *,
        owner: str | None = None,
        decimals: int | None = None,
        function: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.owner = owner
        self.decimals = decimals
        self.function = function


@dataclass(frozen=True)
class _Call:
    """One ``eth_call`` of the check: its name in messages and its awaitable."""

    name: str
    result: Awaitable[Any]


@cache
def _abi(kind: ContractName) -> Abi:
    return abi(kind)


# Transport failures and RPC errors that are no revert: the chain, not the contract, failed.
_UNAVAILABLE = (ClientError, TimeoutError, OSError, ValueError, Web3Exception)
# What a call of a missing or refusing function looks like.
_REFUSED = (ContractLogicError, BadFunctionCallOutput)


async def _gather(calls: list[_Call]) -> list[Any]:
    """Every call's result, or the exception it raised (a refusal); a transport failure of any
    of them is ChainUnavailable."""
    results = await asyncio.gather(*(c.result for c in calls), return_exceptions=True)
    for call, result in zip(calls, results, strict=True):
        if isinstance(result, _REFUSED):
            continue
        if isinstance(result, _UNAVAILABLE):
            raise ChainUnavailable(f"{call.name}: {type(result).__name__}") from result
        if isinstance(result, BaseException):
            raise result
    return results


def _missing(kind: ContractName, function: str, why: str) -> ContractRejected:
    return ContractRejected(
        Rejection.INTERFACE_MISSING,
        f"the contract does not offer what settlement calls on a {kind} token: {function} {why}",
        function=function,
    )


async def check_token_contract(
    w3: AsyncWeb3[Any],
    *,
    chain_id: int,
    address: str,
    kind: ContractName,
    operator: str,
    decimals: int | None = None,
) -> None:
    """Raise :class:`ContractRejected` unless the contract at ``address`` on the chain of ``w3``
    is a ``kind`` token whose ``owner()`` is ``operator`` (and, for credits, whose
    ``decimals()`` is ``decimals``); :class:`ChainUnavailable` when the chain cannot say."""
    address = to_checksum_address(address)
    operator = to_checksum_address(operator)
    contract = w3.eth.contract(address=address, abi=_abi(kind))
    fns = contract.functions
    first = [
        _Call("eth_chainId", w3.eth.chain_id),
        _Call("eth_getCode", w3.eth.get_code(address)),
        _Call("owner()", fns.owner().call()),
    ]
    if kind is ContractName.CREDIT:
        first.append(_Call("decimals()", fns.decimals().call()))
    else:
        interface = ERC721_INTERFACE if kind is ContractName.STATUS else ERC1155_INTERFACE
        first.append(
            _Call(
                f"supportsInterface(0x{interface.hex()})", fns.supportsInterface(interface).call()
            )
        )
    sent = {"from": operator}
    operator_calls = [
        _Call(label, call.call(sent)) for label, call in _operator_calls(fns, kind, operator)
    ]
    # One round trip: the operator calls only count once the owner is known to be the operator.
    results = await _gather(first + operator_calls)
    answered_chain, code, owner, extra = results[: len(first)]
    if isinstance(answered_chain, BaseException) or answered_chain != chain_id:
        raise ChainUnavailable(f"the RPC endpoint of chain {chain_id} answers another chain")
    if isinstance(code, BaseException) or not code:
        raise ContractRejected(
            Rejection.NOT_DEPLOYED, f"no contract code at {address} on chain {chain_id}"
        )
    if isinstance(owner, BaseException):
        raise _missing(kind, "owner()", "is missing")
    if to_checksum_address(owner) != operator:
        raise ContractRejected(
            Rejection.OPERATOR_MISMATCH,
            f"the contract's owner() is {to_checksum_address(owner)}, not the tenant's operator "
            f"{operator}: settlement signs with the operator, so transfer the ownership to it "
            f"(transferOwnership({operator})) and register again",
            owner=to_checksum_address(owner),
        )
    name = first[3].name
    if kind is ContractName.CREDIT:
        if isinstance(extra, BaseException):
            raise _missing(kind, name, "is missing")
        if extra != decimals:
            raise ContractRejected(
                Rejection.DECIMALS_MISMATCH,
                f"the contract's decimals() is {extra}, the token is registered with {decimals}",
                decimals=int(extra),
            )
    elif extra is not True:
        raise _missing(kind, name, "is not true")
    for call, result in zip(operator_calls, results[len(first) :], strict=True):
        if isinstance(result, BaseException):
            raise _missing(kind, call.name, f"reverts when the operator calls it ({result})")


def _operator_calls(fns: Any, kind: ContractName, op: str) -> list[tuple[str, Any]]:
    """Operator calls that change nothing on a pers contract, by kind."""
    if kind is ContractName.CREDIT:
        return [
            ("operatorBatch", fns.operatorBatch([], [], [])),
            ("mint", fns.mint(op, 0)),
            ("burnFrom", fns.burnFrom(op, 0)),
            ("operatorTransfer", fns.operatorTransfer(op, op, 0)),
        ]
    if kind is ContractName.STATUS:
        return [
            ("operatorBatch", fns.operatorBatch([], [], [])),
            ("safeMint", fns.safeMint(op, PROBE_ID, "")),
            ("mintMany", fns.mintMany([op], [PROBE_ID])),
        ]
    return [
        ("operatorBatch", fns.operatorBatch([], [], [], [])),
        ("mint", fns.mint(op, PROBE_ID, 0, b"")),
        ("burn", fns.burn(op, PROBE_ID, 0)),
        ("operatorTransfer", fns.operatorTransfer(op, op, PROBE_ID, 0)),
    ]
