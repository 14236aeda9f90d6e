"""The contract calls settlement sends: one ledger movement, or an ordered batch of them.

A move names its holders as on chain: ``None`` for the zero address, which is how the tenant's
issuer appears there (a move from it mints, a move to it burns). Pure encoding, no chain access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from pers.chain.contracts import ContractName

ZERO_ADDRESS = "0x" + "00" * 20
BATCH_MAX = 512  # the contracts' bound on operatorBatch (docs/contracts.md)


@dataclass(frozen=True)
class Move:
    sender: str | None  # None: a mint
    receiver: str | None  # None: a burn
    token_id: int  # 0 for ERC-20
    amount: int  # 1 for ERC-721

    def __post_init__(self) -> None:
        if self.sender is None and self.receiver is None:
            raise ValueError("a move needs a sender or a receiver")
        if self.amount <= 0:
            raise ValueError("a move moves a positive amount")


class _Function:
    def __init__(self, signature: str) -> None:
        self.signature = signature
        self.selector = keccak(signature.encode())[:4]
        self.types = signature[signature.index("(") + 1 : -1].split(",")

    def __call__(self, *args: Any) -> bytes:
        return self.selector + encode(self.types, list(args))


_CREDIT_MINT = _Function("mint(address,uint256)")
_CREDIT_BURN = _Function("burnFrom(address,uint256)")
_CREDIT_MOVE = _Function("operatorTransfer(address,address,uint256)")
_CREDIT_BATCH = _Function("operatorBatch(address[],address[],uint256[])")
_STATUS_MINT = _Function("safeMint(address,uint256,string)")
_STATUS_BURN = _Function("burnFrom(address,uint256)")
_STATUS_MOVE = _Function("operatorTransfer(address,address,uint256)")
_STATUS_BATCH = _Function("operatorBatch(address[],address[],uint256[])")
_REWARD_MINT = _Function("mint(address,uint256,uint256,bytes)")
_REWARD_BURN = _Function("burn(address,uint256,uint256)")
_REWARD_MOVE = _Function("operatorTransfer(address,address,uint256,uint256)")
_REWARD_BATCH = _Function("operatorBatch(address[],address[],uint256[],uint256[])")


def single(kind: ContractName, move: Move) -> bytes:
    """The call that settles one move with the contract's own mint, burn or operator move."""
    s, r = move.sender, move.receiver
    if kind is ContractName.CREDIT:
        if s is None:
            return _CREDIT_MINT(r, move.amount)
        if r is None:
            return _CREDIT_BURN(s, move.amount)
        return _CREDIT_MOVE(s, r, move.amount)
    if kind is ContractName.STATUS:
        if move.amount != 1:
            raise ValueError("an ERC-721 id moves one at a time")
        if s is None:
            return _STATUS_MINT(r, move.token_id, "")
        if r is None:
            return _STATUS_BURN(s, move.token_id)
        return _STATUS_MOVE(s, r, move.token_id)
    if s is None:
        return _REWARD_MINT(r, move.token_id, move.amount, b"")
    if r is None:
        return _REWARD_BURN(s, move.token_id, move.amount)
    return _REWARD_MOVE(s, r, move.token_id, move.amount)


def batch(kind: ContractName, moves: Sequence[Move]) -> bytes:
    """``operatorBatch``: the moves in order, all or none (the zero address mints or burns)."""
    if not moves:
        raise ValueError("an empty batch")
    if len(moves) > BATCH_MAX:
        raise ValueError(f"a batch holds at most {BATCH_MAX} moves")
    senders = [m.sender or ZERO_ADDRESS for m in moves]
    receivers = [m.receiver or ZERO_ADDRESS for m in moves]
    if kind is ContractName.CREDIT:
        return _CREDIT_BATCH(senders, receivers, [m.amount for m in moves])
    if kind is ContractName.STATUS:
        if any(m.amount != 1 for m in moves):
            raise ValueError("an ERC-721 id moves one at a time")
        return _STATUS_BATCH(senders, receivers, [m.token_id for m in moves])
    return _REWARD_BATCH(senders, receivers, [m.token_id for m in moves], [m.amount for m in moves])


def call(kind: ContractName, moves: Sequence[Move]) -> bytes:
    """One move alone with the contract's own function (cheaper), several as a batch."""
    return single(kind, moves[0]) if len(moves) == 1 else batch(kind, moves)


KIND_OF_TOKEN_TYPE = {
    "ERC20": ContractName.CREDIT,
    "ERC721": ContractName.STATUS,
    "ERC1155": ContractName.REWARD,
}
