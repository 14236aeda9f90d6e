"""Reading token holdings from a chain in bulk, over JSON-RPC (web3.py's ``AsyncHTTPProvider``).

Every read is pinned to one block, so balances and logs describe the same state.

ERC-20 ``balanceOf`` and ERC-721 ``ownerOf`` have no batch form, and one ``eth_call`` per
holder costs a round trip plus the node's per-call setup (about 1.3 ms on the dev chain). So
they go through a *deployless* reader: an ``eth_call`` with no ``to`` whose data is init code
(:data:`READER_CODE`) followed by the token, a selector and up to :data:`READS_PER_CALL`
arguments. The init code makes one ``STATICCALL`` per argument and returns every answer, so a
chain reads a few hundred holders per call without anything being deployed. It works on any
node that runs creation code in ``eth_call`` (geth, Erigon, Nethermind, Besu, anvil, py-evm).
ERC-1155 has ``balanceOfBatch``. Calls run with bounded concurrency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.exceptions import Web3Exception
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import FilterParams, LogReceipt, TxParams

ZERO_ADDRESS = "0x" + "00" * 20

TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
TRANSFER_SINGLE_TOPIC = (
    "0x" + keccak(text="TransferSingle(address,address,address,uint256,uint256)").hex()
)
TRANSFER_BATCH_TOPIC = (
    "0x" + keccak(text="TransferBatch(address,address,address,uint256[],uint256[])").hex()
)

BALANCE_OF = keccak(text="balanceOf(address)")[:4]
OWNER_OF = keccak(text="ownerOf(uint256)")[:4]
BALANCE_OF_BATCH = keccak(text="balanceOfBatch(address[],uint256[])")[:4]

# The reader's answer becomes "deployed code" of the throwaway creation, so it is bounded by
# EIP-170 (24,576 bytes; nodes enforce it in eth_call too): 64 bytes per read gives at most
# 384. 256 leaves room and keeps the code deposit (200 gas a byte) near 3.3M gas.
READS_PER_CALL = 256
# balanceOfBatch answers through plain return data, but snekmate's erc1155 (our reward
# contract) takes at most 128 pairs (its _BATCH_SIZE); more reverts.
BATCH_PAIRS_PER_CALL = 128


def _assemble(program: Sequence[str | tuple[str, int | str]]) -> bytes:
    """A tiny assembler: opcodes by name, ``("PUSH1"|"PUSH2", value or label)``, ``("LABEL",
    name)`` for a JUMPDEST. ``CODE_END`` is the length of the code (where arguments start)."""
    opcodes = {
        "ADD": 0x01, "SUB": 0x03, "LT": 0x10, "GT": 0x11, "ISZERO": 0x15, "AND": 0x16,
        "CODESIZE": 0x38, "CODECOPY": 0x39, "RETURNDATASIZE": 0x3D, "POP": 0x50,
        "MLOAD": 0x51, "MSTORE": 0x52, "JUMP": 0x56, "JUMPI": 0x57, "GAS": 0x5A,
        "JUMPDEST": 0x5B, "DUP1": 0x80, "DUP2": 0x81, "DUP4": 0x83, "SWAP1": 0x90,
        "SWAP2": 0x91, "RETURN": 0xF3, "STATICCALL": 0xFA,
    }  # fmt: skip
    code = bytearray()
    labels: dict[str, int] = {}
    patches: list[tuple[int, int, str]] = []
    for item in program:
        if isinstance(item, str):
            code.append(opcodes[item])
            continue
        op, value = item
        if op == "LABEL":
            assert isinstance(value, str)
            labels[value] = len(code)
            code.append(opcodes["JUMPDEST"])
            continue
        width = {"PUSH1": 1, "PUSH2": 2}[op]
        code.append(0x5F + width)
        if isinstance(value, str):
            patches.append((len(code), width, value))
            code.extend(bytes(width))
        else:
            code.extend(value.to_bytes(width, "big"))
    labels["CODE_END"] = len(code)
    for at, width, label in patches:
        code[at : at + width] = labels[label].to_bytes(width, "big")
    return bytes(code)


# Arguments appended to the code: [target (word)][selector (word, left-aligned)][arg 0]...
# Memory: 0x00..0x24 the call's input, 0x40 its answer, 0x100.. the arguments, then for each
# argument i the pair (ok, answer) at 0x140 + A + 64 i, A being the arguments' byte length.
# ok is 1 when the call succeeded and answered at least a word (a call to an address without
# code "succeeds" with no data: that must not read as a zero balance).
# Stack comments: bottom ... top.
READER_CODE = _assemble(
    [
        ("PUSH2", "CODE_END"), "CODESIZE", "SUB",               # size of the appended data
        "DUP1", ("PUSH2", "CODE_END"), ("PUSH2", 0x100), "CODECOPY",
        ("PUSH1", 64), "SWAP1", "SUB",                          # [A]
        ("PUSH1", 0),                                           # [A, j]
        ("LABEL", "LOOP"),
        "DUP2", "DUP2", "LT", "ISZERO", ("PUSH2", "END"), "JUMPI",
        ("PUSH2", 0x120), "MLOAD", ("PUSH1", 0), "MSTORE",      # selector
        "DUP1", ("PUSH2", 0x140), "ADD", "MLOAD", ("PUSH1", 4), "MSTORE",  # argument j
        ("PUSH1", 0), ("PUSH1", 0x40), "MSTORE",                # no stale answer
        ("PUSH1", 0x20), ("PUSH1", 0x40), ("PUSH1", 0x24), ("PUSH1", 0),
        ("PUSH2", 0x100), "MLOAD", "GAS", "STATICCALL",         # [A, j, success]
        ("PUSH1", 31), "RETURNDATASIZE", "GT", "AND",           # [A, j, ok]
        "DUP2", "DUP1", "ADD", "DUP4", "ADD", ("PUSH2", 0x140), "ADD",  # [A, j, ok, p]
        "DUP1", "SWAP2", "SWAP1", "MSTORE",                     # [A, j, p]
        ("PUSH1", 0x40), "MLOAD", "SWAP1", ("PUSH1", 32), "ADD", "MSTORE",
        ("PUSH1", 32), "ADD", ("PUSH2", "LOOP"), "JUMP",
        ("LABEL", "END"),
        "POP", "DUP1", "DUP1", "ADD", "SWAP1", ("PUSH2", 0x140), "ADD", "RETURN",
    ]
)  # fmt: skip


class ChainReadError(Exception):
    """The chain could not be reached or answered something unusable. Messages never carry the
    RPC URL (providers put their key in it)."""


@dataclass(frozen=True, slots=True)
class Movement:
    """One token movement seen in the logs: ``token_key`` 0 for ERC-20 (its ``Transfer`` has
    three topics), the id for ERC-721 and ERC-1155."""

    token: str  # lower-case address
    sender: str  # lower-case; the zero address for a mint
    receiver: str
    token_key: int
    erc20: bool


def endpoint_label(rpc_url: str) -> str:
    """Scheme, host and port of ``rpc_url``: enough to say where, never a key in a path."""
    parts = urlsplit(rpc_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def gather_all(calls: Iterable[Awaitable[T]]) -> list[T]:
    """``asyncio.gather``, except that the first failure cancels the calls still running
    (and waits for them) before it propagates: nothing is left talking to a closed session."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


class ChainReader:
    """One chain's JSON-RPC endpoint. Use as ``async with ChainReader(...) as reader``."""

    def __init__(
        self,
        chain_id: int,
        rpc_url: str,
        *,
        timeout: float = 30.0,
        concurrency: int = 8,
        retries: int = 3,
    ) -> None:
        self.chain_id = chain_id
        self.where = f"chain {chain_id} at {endpoint_label(rpc_url)}"
        retry = ExceptionRetryConfiguration(
            errors=(aiohttp.ClientError, TimeoutError), retries=retries, backoff_factor=0.1
        )
        self._provider = AsyncHTTPProvider(
            rpc_url,
            request_kwargs={"timeout": aiohttp.ClientTimeout(total=timeout)},
            exception_retry_configuration=retry if retries > 0 else None,
        )
        self.w3 = AsyncWeb3(self._provider)
        self._limit = asyncio.Semaphore(concurrency)

    async def __aenter__(self) -> ChainReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._provider.disconnect()

    async def _rpc(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        async with self._limit:
            try:
                return await call()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                reason = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
                raise ChainReadError(f"{self.where}: {what}: cannot reach it ({reason})") from None
            except (Web3Exception, ValueError) as exc:
                raise ChainReadError(f"{self.where}: {what}: {exc}") from None

    async def check(self) -> int:
        """The chain's head, after checking that the endpoint serves ``chain_id``."""
        served = await self._rpc("eth_chainId", lambda: self.w3.eth.chain_id)
        if served != self.chain_id:
            raise ChainReadError(f"{self.where}: the endpoint serves chain {served}")
        return await self._rpc("eth_blockNumber", lambda: self.w3.eth.block_number)

    async def has_code(self, tokens: Sequence[str], block: int) -> dict[str, bool]:
        async def one(token: str) -> tuple[str, bool]:
            code = await self._rpc(
                f"eth_getCode {token}",
                lambda: self.w3.eth.get_code(to_checksum_address(token), block),
            )
            return token, len(code) > 0

        return dict(await gather_all(one(t) for t in tokens))

    async def movements(
        self, tokens: Sequence[str], first: int, last: int, step: int
    ) -> list[Movement]:
        """Every ``Transfer``, ``TransferSingle`` and ``TransferBatch`` of ``tokens`` in blocks
        ``first..last``, asked ``step`` blocks at a time (a range the node refuses as too
        large is halved)."""
        if not tokens or last < first:
            return []
        ranges = [(lo, min(lo + step - 1, last)) for lo in range(first, last + 1, step)]
        found = await gather_all(self._logs(list(tokens), lo, hi) for lo, hi in ranges)
        return [movement for chunk in found for movement in chunk]

    async def _logs(self, tokens: list[str], lo: int, hi: int) -> list[Movement]:
        query: FilterParams = {
            "address": [to_checksum_address(t) for t in tokens],
            "fromBlock": lo,
            "toBlock": hi,
            "topics": [[TRANSFER_TOPIC, TRANSFER_SINGLE_TOPIC, TRANSFER_BATCH_TOPIC]],
        }
        try:
            logs = await self._rpc(f"eth_getLogs {lo}..{hi}", lambda: self.w3.eth.get_logs(query))
        except ChainReadError:
            if hi == lo:
                raise
            middle = (lo + hi) // 2
            halves = await gather_all(
                [self._logs(tokens, lo, middle), self._logs(tokens, middle + 1, hi)]
            )
            return halves[0] + halves[1]
        return [movement for entry in logs for movement in _parse(entry)]

    async def _reader(
        self, token: str, selector: bytes, args: Sequence[int], block: int
    ) -> list[tuple[bool, int]]:
        data = (
            READER_CODE
            + _word(int(token, 16))
            + selector.ljust(32, b"\0")
            + b"".join(_word(a) for a in args)
        )
        params: TxParams = {"data": data}
        out = await self._rpc(f"reading {token}", lambda: self.w3.eth.call(params, block))
        if len(out) != 64 * len(args):
            raise ChainReadError(
                f"{self.where}: reading {token}: {len(out)} bytes for {len(args)} reads"
            )
        return [
            (int.from_bytes(out[at : at + 32]) == 1, int.from_bytes(out[at + 32 : at + 64]))
            for at in range(0, len(out), 64)
        ]

    async def _read_all(
        self, token: str, selector: bytes, args: Sequence[int], block: int
    ) -> list[tuple[bool, int]]:
        parts = await gather_all(
            self._reader(token, selector, chunk, block) for chunk in _chunks(args, READS_PER_CALL)
        )
        return [answer for part in parts for answer in part]

    async def erc20_balances(
        self, token: str, holders: Sequence[str], block: int
    ) -> dict[str, int]:
        answers = await self._read_all(token, BALANCE_OF, [int(h, 16) for h in holders], block)
        balances: dict[str, int] = {}
        for holder, (ok, value) in zip(holders, answers, strict=True):
            if not ok:
                raise ChainReadError(f"{self.where}: {token}.balanceOf({holder}) failed")
            balances[holder] = value
        return balances

    async def erc721_owners(
        self, token: str, token_ids: Sequence[int], block: int
    ) -> dict[int, str | None]:
        """Each id's owner (lower case); None for an id that does not exist (never minted, or
        burned: ``ownerOf`` reverts for both)."""
        answers = await self._read_all(token, OWNER_OF, token_ids, block)
        return {
            token_id: ("0x" + _word(value)[12:].hex()) if ok else None
            for token_id, (ok, value) in zip(token_ids, answers, strict=True)
        }

    async def erc1155_balances(
        self, token: str, pairs: Sequence[tuple[str, int]], block: int
    ) -> dict[tuple[str, int], int]:
        async def batch(chunk: Sequence[tuple[str, int]]) -> list[int]:
            data = BALANCE_OF_BATCH + encode(
                ["address[]", "uint256[]"], [[h for h, _ in chunk], [i for _, i in chunk]]
            )
            params: TxParams = {"to": to_checksum_address(token), "data": data}
            out = await self._rpc(
                f"{token}.balanceOfBatch", lambda: self.w3.eth.call(params, block)
            )
            try:
                (values,) = decode(["uint256[]"], out)
            except Exception as exc:
                raise ChainReadError(
                    f"{self.where}: {token}.balanceOfBatch answered something else ({exc})"
                ) from None
            if len(values) != len(chunk):
                raise ChainReadError(f"{self.where}: {token}.balanceOfBatch: wrong length")
            return list(values)

        parts = await gather_all(batch(c) for c in _chunks(pairs, BATCH_PAIRS_PER_CALL))
        values = [value for part in parts for value in part]
        return dict(zip(pairs, values, strict=True))


def _topic_address(topic: Any) -> str:
    return "0x" + bytes(topic)[-20:].hex()


def _parse(entry: LogReceipt) -> list[Movement]:
    topics = entry["topics"]
    token = str(entry["address"]).lower()
    data = bytes(entry["data"])
    signature = "0x" + bytes(topics[0]).hex()
    if signature == TRANSFER_TOPIC:
        sender, receiver = _topic_address(topics[1]), _topic_address(topics[2])
        if len(topics) == 4:  # ERC-721: the id is indexed
            return [Movement(token, sender, receiver, int.from_bytes(bytes(topics[3])), False)]
        return [Movement(token, sender, receiver, 0, True)]
    sender, receiver = _topic_address(topics[2]), _topic_address(topics[3])
    if signature == TRANSFER_SINGLE_TOPIC:
        token_id, _value = decode(["uint256", "uint256"], data)
        return [Movement(token, sender, receiver, int(token_id), False)]
    ids, _values = decode(["uint256[]", "uint256[]"], data)
    return [Movement(token, sender, receiver, int(i), False) for i in ids]
