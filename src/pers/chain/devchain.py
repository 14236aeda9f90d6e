"""The embedded dev chain: py-evm (through eth-tester) behind Ethereum JSON-RPC over HTTP.

With no testnet RPC URL configured, ``pers serve`` runs this chain on loopback, and ``pers
devchain`` runs it alone. Clients (the settlement relayer, web3.py, wallets) reach it exactly as
they would reach a node: JSON-RPC over HTTP, signed raw transactions only.

- **Automine.** Every accepted transaction is mined at once in a block of its own; there is no
  mempool. A nonce below the sender's next nonce answers ``nonce too low``, one above it ``nonce
  too high`` (nothing would ever fill the gap), a transaction already mined ``already known``.
- **Persistence by journal.** Every block is appended to ``<directory>/journal.jsonl`` (and
  fsynced) before the transaction's hash is answered: its timestamp and the raw transaction it
  holds. At start the journal is replayed in order. The chain is deterministic given that input
  (fixed genesis, timestamps from the journal, ``prevrandao`` derived from the parent hash instead
  of eth-tester's random one), so the same transactions land in the same blocks with the same
  hashes, receipts and contract addresses: settled transactions stay settled.
- **Faucet.** ``pers_fund(address, wei)`` sends ``wei`` from a genesis account (eth-tester's
  first dev key) to ``address`` as an ordinary signed transaction, so it is journaled like any
  other. This is how operator accounts get gas; it exists only here, never on a real chain.

The package stays free of the domain, the database and the web framework (import-linter): the
CLI wires it in.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import logging
import os
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from eth_abi import abi as eth_abi
from eth_account import Account
from eth_bloom.bloom import BloomFilter
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_tester.exceptions import BlockNotFound
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError as EvmValidationError

log = logging.getLogger(__name__)

JOURNAL_FORMAT = "pers-devchain-journal/1"
SNAPSHOT_FORMAT = "pers-devchain-snapshot/1"
CLIENT_VERSION = "pers-devchain/1 (py-evm via eth-tester)"
# eth-tester's first dev account (private key 1), funded with 1,000,000 ether at genesis. A
# well-known key: the faucet is a development tool, not a secret.
FAUCET_KEY = (1).to_bytes(32, "big")
FAUCET_ADDRESS: str = Account.from_key(FAUCET_KEY).address
PRIORITY_FEE = 10**9  # 1 gwei: what eth_maxPriorityFeePerGas suggests
MAX_REQUEST_BYTES = 8 * 1024 * 1024
_ZERO_ADDRESS = b"\x00" * 20

# JSON-RPC error codes (JSON-RPC 2.0 and EIP-1474, as geth answers them).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000  # transaction rejected: nonce too low, already known, insufficient funds
EXECUTION_REVERTED = 3
ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)


class RpcError(Exception):
    """A JSON-RPC error answer: ``code``, ``message`` and optional ``data``."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class DevChainError(RuntimeError):
    """The dev chain cannot start: its journal is unreadable, foreign or replays differently."""


class _Backend(PyEVMBackend):  # type: ignore[misc]
    """eth-tester's py-evm backend with pers's chain id and deterministic blocks."""

    def __init__(self, chain_id: int, genesis_timestamp: int) -> None:
        self._chain_id = chain_id
        super().__init__(
            genesis_parameters=PyEVMBackend.generate_genesis_params(
                overrides={"timestamp": genesis_timestamp}
            )
        )

    def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
        super().reset_to_genesis(*args, **kwargs)
        # eth-tester offers no chain id setting (ApeWorX/eth-tester#344): its chain class is built
        # afresh for each chain with the id as a class attribute, so setting it there touches this
        # chain alone. py-evm reads it for every VM (the CHAINID opcode, transaction checks).
        type(self.chain).chain_id = self._chain_id

    def mine_blocks(
        self, num_blocks: int = 1, coinbase: bytes = _ZERO_ADDRESS
    ) -> tuple[bytes, ...]:
        from eth.vm.forks.cancun.state import get_total_blob_gas
        from eth.vm.forks.prague import PragueVM

        hashes = []
        for _ in range(num_blocks):
            pending = self.chain.header
            # eth-tester draws prevrandao from os.urandom; derived from the parent instead, a
            # replayed block gets the hash it had.
            kwargs: dict[str, Any] = {
                "coinbase": coinbase,
                "mix_hash": keccak(b"pers-devchain/prevrandao" + pending.parent_hash),
            }
            if isinstance(self.chain.get_vm(), PragueVM):
                transactions = self.chain.get_block().transactions
                kwargs["blob_gas_used"] = sum(get_total_blob_gas(tx) for tx in transactions)
            hashes.append(self.chain.mine_block(**kwargs).hash)
        return tuple(hashes)


@dataclass(frozen=True)
class _Record:
    number: int
    timestamp: int
    raw: str | None  # 0x-hex signed transaction, None for an empty block
    tx_hash: str | None
    block_hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "n": self.number,
            "t": self.timestamp,
            "tx": self.raw,
            "hash": self.tx_hash,
            "block": self.block_hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Record:
        return cls(
            number=int(data["n"]),
            timestamp=int(data["t"]),
            raw=data.get("tx"),
            tx_hash=data.get("hash"),
            block_hash=str(data["block"]),
        )


class _Journal:
    """An append-only JSON-lines file: a header, then one line per block after genesis.

    Locked for the life of the chain (``flock``): two processes appending to one journal would
    fork the chain. A torn last line (a crash mid-write) is dropped at open; its transaction
    was never answered."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "journal.jsonl"
        self._file: IO[str] = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise DevChainError(
                f"the dev chain journal {self.path} is in use by another process"
            ) from None
        self._ends: list[int] = []  # file size after the header (0) and after each block

    def read(self) -> tuple[dict[str, Any] | None, list[_Record]]:
        self._file.seek(0)
        text = self._file.read()
        lines = text.split("\n")
        complete = lines[:-1]  # the part after the last newline is empty or torn
        if lines[-1]:
            log.warning("dev chain journal: dropping a torn last line (%d bytes)", len(lines[-1]))
            self._file.truncate(len(text) - len(lines[-1]))
        self._file.seek(0, os.SEEK_END)
        if not complete:
            return None, []
        size = 0
        for line in complete:
            size += len(line) + 1  # ASCII: json.dumps escapes everything else
            self._ends.append(size)
        try:
            header = json.loads(complete[0])
            records = [_Record.from_json(json.loads(line)) for line in complete[1:] if line]
        except (ValueError, KeyError, TypeError) as exc:
            raise DevChainError(f"the dev chain journal {self.path} is damaged: {exc}") from exc
        return header, records

    def write_header(self, header: dict[str, Any]) -> None:
        self._append(header)

    def append(self, record: _Record) -> None:
        self._append(record.as_json())

    def _append(self, data: dict[str, Any]) -> None:
        self._file.write(json.dumps(data, separators=(",", ":")) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._ends.append(os.fstat(self._file.fileno()).st_size)

    def truncate_after(self, number: int) -> None:
        """Forget the blocks after ``number``."""
        self._file.truncate(self._ends[number])
        self._file.flush()
        os.fsync(self._file.fileno())
        del self._ends[number + 1 :]

    def close(self) -> None:
        with suppress(OSError):
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()


class DevChain:
    """A py-evm chain answering JSON-RPC calls (:meth:`request`), journaled in ``directory``.

    ``directory=None`` keeps it in memory only (tests). Thread-safe: one call at a time."""

    def __init__(
        self,
        chain_id: int,
        directory: Path | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.chain_id = chain_id
        self._clock = clock
        self._lock = threading.RLock()
        self._tx_blocks: dict[str, int] = {}  # tx hash -> block number: receipts without scans
        self._broken: str | None = None
        self._ready = False  # replayed: the state is worth a snapshot
        self._journal = _Journal(directory) if directory is not None else None
        header: dict[str, Any] | None = None
        records: list[_Record] = []
        if self._journal is not None:
            try:
                header, records = self._journal.read()
            except BaseException:
                self._journal.close()
                raise
        try:
            if header is None:
                header = {
                    "format": JOURNAL_FORMAT,
                    "chainId": chain_id,
                    "genesisTimestamp": int(clock()),
                }
                if self._journal is not None:
                    self._journal.write_header(header)
            self._check_header(header)
            self._genesis_timestamp = int(header["genesisTimestamp"])
            self._backend = _Backend(chain_id, self._genesis_timestamp)
            self._tester = EthereumTester(self._backend, auto_mine_transactions=True)
            self._replay(self._restore(records))
            self._ready = True
        except BaseException:
            self.close()
            raise

    def _check_header(self, header: dict[str, Any]) -> None:
        where = self._journal.path if self._journal is not None else "memory"
        if header.get("format") != JOURNAL_FORMAT:
            raise DevChainError(f"{where} is not a pers dev chain journal ({JOURNAL_FORMAT})")
        if header.get("chainId") != self.chain_id:
            raise DevChainError(
                f"{where} holds the dev chain {header.get('chainId')}, not {self.chain_id}: "
                "use another data directory, or the chain id it was made with"
            )

    def _replay(self, records: list[_Record]) -> None:
        started = time.monotonic()
        for record in records:
            if record.number != self._pending_number():
                raise DevChainError(
                    f"journal record for block {record.number} comes when block "
                    f"{self._pending_number()} is next"
                )
            try:
                tx_hash, block_hash = self._mine(record.raw, record.timestamp)
            except (EvmValidationError, TesterValidationError) as exc:
                raise DevChainError(
                    f"journal block {record.number} no longer applies ({exc}); the py-evm or "
                    "eth-tester version changed the chain's rules"
                ) from exc
            if tx_hash != record.tx_hash:
                raise DevChainError(f"journal block {record.number}: transaction hash differs")
            if block_hash != record.block_hash:
                log.warning(
                    "dev chain replay: block %d has hash %s, journaled %s (a py-evm upgrade?)",
                    record.number,
                    block_hash,
                    record.block_hash,
                )
        if records:
            log.info(
                "dev chain: replayed %d blocks in %.1f s",
                len(records),
                time.monotonic() - started,
            )

    # --- chain primitives (under the lock) -------------------------------------------------

    @property
    def _chain(self) -> Any:
        return self._backend.chain

    def _pending_number(self) -> int:
        return int(self._chain.header.block_number)

    def _next_timestamp(self) -> int:
        parent = self._chain.get_canonical_head()
        return max(int(self._clock()), int(parent.timestamp) + 1)

    def _mine(self, raw: str | None, timestamp: int) -> tuple[str | None, str]:
        """One block at ``timestamp`` holding ``raw`` (or nothing); its hashes."""
        self._chain.set_header_timestamp(timestamp)
        number = self._pending_number()
        tx_hash: str | None = None
        if raw is None:
            self._tester.mine_blocks(1)
        else:
            tx_hash = str(self._tester.send_raw_transaction(raw))
            self._tx_blocks[tx_hash] = number
        head = self._chain.get_canonical_head()
        return tx_hash, "0x" + bytes(head.hash).hex()

    def _commit(self, raw: str | None) -> str | None:
        if self._broken is not None:
            raise RpcError(INTERNAL_ERROR, self._broken)
        number = self._pending_number()
        timestamp = self._next_timestamp()
        tx_hash, block_hash = self._mine(raw, timestamp)
        if self._journal is not None:
            try:
                self._journal.append(_Record(number, timestamp, raw, tx_hash, block_hash))
            except OSError as exc:
                # The block is mined but not journaled: a restart would lose it, and any later
                # block would not replay. Stop accepting blocks until the chain is restarted.
                self._broken = f"the dev chain journal could not be written ({exc}); restart it"
                raise RpcError(INTERNAL_ERROR, self._broken) from exc
        return tx_hash

    # --- public API --------------------------------------------------------------------------

    def request(self, method: str, params: Any) -> Any:
        """The result of one JSON-RPC call, or :class:`RpcError`."""
        handler = _METHODS.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        if params is None:
            params = []
        if not isinstance(params, list):
            raise RpcError(INVALID_PARAMS, "params must be an array")
        with self._lock:
            try:
                return handler(self, params)
            except RpcError:
                raise
            except (BlockNotFound, LookupError, TypeError, ValueError) as exc:
                raise RpcError(INVALID_PARAMS, f"invalid params for {method}: {exc}") from exc

    def send_raw_transaction(self, raw: str) -> str:
        return str(self.request("eth_sendRawTransaction", [raw]))

    def fund(self, address: str, wei: int) -> str:
        """Send ``wei`` from the faucet to ``address``; the transaction hash."""
        return str(self.request("pers_fund", [address, hex(wei)]))

    def mine(self, blocks: int = 1) -> None:
        self.request("evm_mine", [hex(blocks)])

    def close(self, *, snapshot: bool = True) -> None:
        """Release the journal, leaving a snapshot of the state next to it for a quick start."""
        with self._lock:
            if self._journal is None:
                return
            try:
                if snapshot and self._ready and self._broken is None and self._pending_number() > 1:
                    self._write_snapshot()
            except Exception:
                log.exception("dev chain: the snapshot could not be written (replay will do)")
            finally:
                self._journal.close()
                self._journal = None

    # --- snapshot: a cache of the journal's end state ----------------------------------------

    @property
    def _snapshot_path(self) -> Path:
        assert self._journal is not None
        return self._journal.path.with_name("snapshot.bin")

    def _write_snapshot(self) -> None:
        """py-evm's whole key-value store at the head, with the head it belongs to.

        Only a cache: the journal stays the record. A snapshot that does not match the journal
        (a crash after a rewind, another py-evm) is ignored and the journal replayed."""
        head = self._chain.get_canonical_head()
        meta = {
            "format": SNAPSHOT_FORMAT,
            "chainId": self.chain_id,
            "genesisTimestamp": self._genesis_timestamp,
            "block": int(head.block_number),
            "blockHash": "0x" + bytes(head.hash).hex(),
            "transactions": self._tx_blocks,
        }
        store: dict[bytes, bytes] = self._chain.chaindb.db.wrapped_db.kv_store
        target = self._snapshot_path
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".snapshot.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(meta).encode() + b"\n")
                for key, value in store.items():
                    handle.write(struct.pack(">II", len(key), len(value)) + key + value)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _restore(self, records: list[_Record]) -> list[_Record]:
        """The journal records still to replay after loading the snapshot, if one fits."""
        if self._journal is None or not records:
            return records
        path = self._snapshot_path
        try:
            with path.open("rb") as handle:
                meta = json.loads(handle.readline())
                data = handle.read()
        except FileNotFoundError:
            return records
        except (OSError, ValueError) as exc:
            log.warning("dev chain: ignoring the unreadable snapshot %s (%s)", path, exc)
            return records
        if not isinstance(meta, dict):
            log.warning("dev chain: ignoring the unreadable snapshot %s", path)
            return records
        number = meta.get("block")
        fits = (
            meta.get("format") == SNAPSHOT_FORMAT
            and meta.get("chainId") == self.chain_id
            and meta.get("genesisTimestamp") == self._genesis_timestamp
            and isinstance(number, int)
            and 1 <= number <= len(records)
            and records[number - 1].number == number
            and records[number - 1].block_hash == meta.get("blockHash")
        )
        if not fits:
            log.info("dev chain: the snapshot does not match the journal; replaying it all")
            return records
        store: dict[bytes, bytes] = {}
        offset = 0
        try:
            while offset < len(data):
                key_size, value_size = struct.unpack_from(">II", data, offset)
                offset += 8
                key = data[offset : offset + key_size]
                value = data[offset + key_size : offset + key_size + value_size]
                offset += key_size + value_size
                if len(key) != key_size or len(value) != value_size:
                    raise ValueError("truncated")
                store[key] = value
            db = self._chain.chaindb.db
            db.wrapped_db.kv_store = store
            self._backend.chain = type(self._chain)(db)
            head = self._chain.get_canonical_head()
            if (
                int(head.block_number) != number
                or "0x" + bytes(head.hash).hex() != meta["blockHash"]
            ):
                raise ValueError("its head is not the block it names")
        except Exception as exc:
            log.warning("dev chain: ignoring the damaged snapshot %s (%s)", path, exc)
            self._backend = _Backend(self.chain_id, self._genesis_timestamp)
            self._tester = EthereumTester(self._backend, auto_mine_transactions=True)
            return records
        self._tx_blocks = {str(h): int(n) for h, n in meta["transactions"].items()}
        log.info("dev chain: loaded the snapshot at block %d", number)
        return records[number:]

    # --- JSON-RPC methods -------------------------------------------------------------------

    def _latest(self) -> int:
        return self._pending_number() - 1

    def _block_param(self, value: Any) -> int | str:
        """A block parameter as eth-tester takes it (EIP-1898 objects included)."""
        if value is None:
            return "latest"
        if isinstance(value, dict):
            if "blockNumber" in value:
                return self._block_param(value["blockNumber"])
            if "blockHash" in value:
                block = self._tester.get_block_by_hash(value["blockHash"])
                return int(block["number"])
            raise RpcError(INVALID_PARAMS, "block parameter: blockNumber or blockHash expected")
        if value in ("latest", "pending", "earliest", "safe", "finalized"):
            # With automine, pending state is the latest block's state.
            return "latest" if value == "pending" else str(value)
        number = _quantity(value)
        if number > self._latest():
            raise RpcError(SERVER_ERROR, f"header not found: block {number} is in the future")
        return number

    def _rpc_block(self, params: list[Any]) -> dict[str, Any] | None:
        full = bool(params[1]) if len(params) > 1 else False
        selector = params[0] if params else "latest"
        if selector == "pending":
            selector = "latest"
        try:
            if isinstance(selector, str) and len(selector) == 66:
                block = self._tester.get_block_by_hash(selector, full)
            else:
                block = self._tester.get_block_by_number(self._block_param(selector), full)
        except (BlockNotFound, RpcError):
            return None
        return _format_block(block)

    def _located(self, tx_hash: str) -> tuple[Any, Any, int] | None:
        number = self._tx_blocks.get(tx_hash.lower())
        if number is None:
            return None
        block = self._chain.get_canonical_block_by_number(number)
        for index, transaction in enumerate(block.transactions):
            if "0x" + bytes(transaction.hash).hex() == tx_hash.lower():
                return block, transaction, index
        return None

    def _rpc_transaction(self, params: list[Any]) -> dict[str, Any] | None:
        located = self._located(_hash32(params[0]))
        if located is None:
            return None
        raw = serialize_transaction(*located, False)
        return _format_transaction(self._tester.normalizer.normalize_outbound_transaction(raw))

    def _rpc_receipt(self, params: list[Any]) -> dict[str, Any] | None:
        located = self._located(_hash32(params[0]))
        if located is None:
            return None
        block, transaction, index = located
        receipts = block.get_receipts(self._chain.chaindb)
        raw = serialize_transaction_receipt(
            block, receipts, transaction, index, False, self._chain.get_vm()
        )
        return _format_receipt(self._tester.normalizer.normalize_outbound_receipt(raw))

    def _rpc_send_raw(self, params: list[Any]) -> str:
        raw = _data(params[0])
        try:
            decoded = self._chain.get_vm().get_transaction_builder().decode(bytes.fromhex(raw[2:]))
            sender = decoded.sender
        except Exception as exc:  # rlp, signature or field errors from a malformed payload
            raise RpcError(INVALID_PARAMS, f"invalid raw transaction: {exc}") from exc
        tx_hash = "0x" + bytes(decoded.hash).hex()
        if tx_hash in self._tx_blocks:
            raise RpcError(SERVER_ERROR, "already known")
        chain_id = getattr(decoded, "chain_id", None)
        if chain_id is not None and chain_id != self.chain_id:
            raise RpcError(
                SERVER_ERROR, f"invalid chain id for signer: have {chain_id} want {self.chain_id}"
            )
        state_nonce = int(self._chain.get_vm().state.get_nonce(sender))
        where = f"address {to_checksum_address(sender)}, tx: {decoded.nonce} state: {state_nonce}"
        if decoded.nonce < state_nonce:
            raise RpcError(SERVER_ERROR, f"nonce too low: {where}")
        if decoded.nonce > state_nonce:
            # No mempool: a gap would never fill, so say so now rather than hold the transaction.
            raise RpcError(SERVER_ERROR, f"nonce too high: {where}")
        try:
            tx_hash_sent = self._commit(raw)
        except (EvmValidationError, TesterValidationError) as exc:
            raise RpcError(SERVER_ERROR, _geth_message(str(exc))) from exc
        assert tx_hash_sent == tx_hash
        return tx_hash

    def _rpc_fund(self, params: list[Any]) -> str:
        if len(params) != 2:
            raise RpcError(INVALID_PARAMS, "pers_fund takes (address, wei)")
        to = to_checksum_address(params[0])
        wei = _quantity(params[1])
        gas = 21_000
        if self._tester.get_code(to) not in ("0x", ""):
            call = {"from": FAUCET_ADDRESS, "to": to, "value": hex(wei)}
            gas = int(self._simulate([call], estimate=True), 16)
        base_fee = int(self._chain.header.base_fee_per_gas)
        signed = Account.sign_transaction(
            {
                "type": 2,
                "chainId": self.chain_id,
                "nonce": int(self._tester.get_nonce(FAUCET_ADDRESS)),
                "to": to,
                "value": wei,
                "gas": gas,
                "maxPriorityFeePerGas": PRIORITY_FEE,
                "maxFeePerGas": 2 * base_fee + PRIORITY_FEE,
            },
            FAUCET_KEY,
        )
        return self._rpc_send_raw(["0x" + bytes(signed.raw_transaction).hex()])

    def _rpc_mine(self, params: list[Any]) -> str:
        blocks = _quantity(params[0]) if params else 1
        if not 1 <= blocks <= 10_000:
            raise RpcError(INVALID_PARAMS, "evm_mine: between 1 and 10000 blocks")
        for _ in range(blocks):
            self._commit(None)
        return "0x0"

    def _rpc_set_head(self, params: list[Any]) -> None:
        """geth's ``debug_setHead``: rewind the chain to block ``number``, as a reorg would.

        The later blocks, their transactions and their journal lines are gone; the transactions
        may be sent again (their nonces are free again) and land in new blocks."""
        number = _quantity(params[0]) if params else -1
        latest = self._latest()
        if not 0 <= number <= latest:
            raise RpcError(INVALID_PARAMS, f"debug_setHead: a block from 0 to {latest}")
        if self._broken is not None:
            raise RpcError(INTERNAL_ERROR, self._broken)
        if number == latest:
            return None
        head = self._chain.get_canonical_block_by_number(number)
        self._backend.revert_to_snapshot(head.hash)
        self._tx_blocks = {h: n for h, n in self._tx_blocks.items() if n <= number}
        if self._journal is not None:
            try:
                self._journal.truncate_after(number)
            except OSError as exc:
                self._broken = f"the dev chain journal could not be written ({exc}); restart it"
                raise RpcError(INTERNAL_ERROR, self._broken) from exc
        log.info("dev chain: head set back from block %d to %d", latest, number)
        return None

    def _simulate(self, params: list[Any], *, estimate: bool) -> str:
        """``eth_call`` or ``eth_estimateGas``: run a call object on a throwaway state.

        As geth does, a call that names no fee pays none (the base fee is set aside), so any
        ``from`` may call, funded or not; one that names a fee is checked against its balance."""
        from eth.exceptions import VMError
        from eth.vm.spoof import SpoofTransaction

        if not params or not isinstance(params[0], dict):
            raise RpcError(INVALID_PARAMS, "a transaction object is expected")
        request: dict[str, Any] = params[0]
        block = self._block_param(params[1] if len(params) > 1 else None)
        if block == "earliest":
            block = 0
        number = block if isinstance(block, int) else self._latest()
        header = self._chain.get_canonical_block_header_by_number(number)
        sender = to_canonical_address(request.get("from") or _ZERO_ADDRESS)
        max_fee = request.get("maxFeePerGas") or request.get("gasPrice")
        tip = request.get("maxPriorityFeePerGas") or request.get("gasPrice")
        if max_fee is None and tip is None:
            max_fee = tip = 0
            header = header.copy(base_fee_per_gas=0)
        elif max_fee is None:
            max_fee = _quantity(tip) + 2 * int(header.base_fee_per_gas)
        vm = self._chain.get_vm(at_header=header)
        state = vm.state
        to = request.get("to")
        data = request.get("input") or request.get("data") or "0x"
        unsigned = vm.get_transaction_builder().new_unsigned_dynamic_fee_transaction(
            chain_id=self.chain_id,
            nonce=state.get_nonce(sender),
            max_priority_fee_per_gas=_quantity(tip if tip is not None else 0),
            max_fee_per_gas=_quantity(max_fee),
            gas=_quantity(request["gas"]) if request.get("gas") else int(header.gas_limit),
            to=to_canonical_address(to) if to else b"",
            value=_quantity(request.get("value") or 0),
            data=bytes.fromhex(_data(data)[2:]),
            access_list=(),
        )
        transaction = SpoofTransaction(unsigned, from_=sender)
        try:
            if estimate:
                return hex(self._estimate(state, transaction))
            snapshot = state.snapshot()
            try:
                computation = state.apply_transaction(transaction)
            finally:
                state.revert(snapshot)
            if computation.is_error:
                raise computation.error
            return "0x" + bytes(computation.output).hex()
        except VMError as exc:
            raise _vm_error(exc) from exc
        except EvmValidationError as exc:
            raise RpcError(SERVER_ERROR, _geth_message(str(exc))) from exc

    def _estimate(self, state: Any, transaction: Any) -> int:
        from eth.vm.spoof import SpoofTransaction

        """Gas for ``transaction``, as geth estimates it: one run at the cap tells what it uses
        (and whether it reverts, raised as ``eth_call`` would); a limit a little above that
        (the gas used before refunds, plus a call stipend, times 64/63 for the gas a call
        must leave behind) is checked with a second run. Only when that fails does py-evm's
        binary search run (some twenty executions: the slow part of the dev chain)."""
        snapshot = state.snapshot()
        try:
            computation = state.apply_transaction(transaction)
        finally:
            state.revert(snapshot)
        if computation.is_error:
            raise computation.error
        used = int(transaction.gas) - int(computation.get_gas_remaining())
        guess = min((used + 2_300) * 64 // 63, int(transaction.gas))
        trial = SpoofTransaction(transaction, gas=guess)
        snapshot = state.snapshot()
        try:
            fits = not bool(state.apply_transaction(trial).is_error)
        finally:
            state.revert(snapshot)
        if fits:
            return guess
        return int(self._chain.gas_estimator(state, transaction))

    def _rpc_call(self, params: list[Any]) -> str:
        return self._simulate(params, estimate=False)

    def _rpc_estimate_gas(self, params: list[Any]) -> str:
        return self._simulate(params, estimate=True)

    def _rpc_fee_history(self, params: list[Any]) -> dict[str, Any]:
        count = _quantity(params[0])
        newest = self._block_param(params[1] if len(params) > 1 else "latest")
        percentiles = [float(p) for p in params[2]] if len(params) > 2 and params[2] else []
        newest_number = newest if isinstance(newest, int) else self._latest()
        if newest == "earliest":
            newest_number = 0
        count = max(1, min(count, 1024, newest_number + 1))
        oldest = newest_number - count + 1
        base_fees: list[str] = []
        ratios: list[float] = []
        rewards: list[list[str]] = []
        for number in range(oldest, newest_number + 1):
            block = self._chain.get_canonical_block_by_number(number)
            header = block.header
            base_fees.append(hex(header.base_fee_per_gas))
            ratios.append(header.gas_used / header.gas_limit)
            # py-evm gives every transaction of a London+ block both fee fields (legacy ones
            # report their gas price in each).
            tips = sorted(
                min(
                    tx.max_priority_fee_per_gas,
                    tx.max_fee_per_gas - header.base_fee_per_gas,
                )
                for tx in block.transactions
            )
            rewards.append([hex(_percentile(tips, p)) for p in percentiles])
        base_fees.append(hex(self._chain.header.base_fee_per_gas))
        answer: dict[str, Any] = {
            "oldestBlock": hex(oldest),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
        }
        if percentiles:
            answer["reward"] = rewards
        return answer

    def _rpc_get_logs(self, params: list[Any]) -> list[dict[str, Any]]:
        query = params[0] if params and isinstance(params[0], dict) else {}
        latest = self._latest()
        if "blockHash" in query:
            block = self._tester.get_block_by_hash(query["blockHash"])
            first = last = int(block["number"])
        else:
            first = _log_bound(query.get("fromBlock"), latest)
            last = _log_bound(query.get("toBlock"), latest)
        last = min(last, latest)
        addresses = query.get("address")
        if isinstance(addresses, str):
            addresses = [addresses]
        wanted = {a.lower() for a in addresses} if addresses else None
        topics = query.get("topics") or []
        found: list[dict[str, Any]] = []
        for number in range(first, last + 1):
            block = self._chain.get_canonical_block_by_number(number)
            if not block.transactions:
                continue
            for tx_hash in self._block_tx_hashes(block):
                receipt = self._rpc_receipt([tx_hash])
                assert receipt is not None
                for entry in receipt["logs"]:
                    if wanted is not None and entry["address"].lower() not in wanted:
                        continue
                    if _topics_match(entry["topics"], topics):
                        found.append(entry)
        return found

    @staticmethod
    def _block_tx_hashes(block: Any) -> Iterator[str]:
        for transaction in block.transactions:
            yield "0x" + bytes(transaction.hash).hex()


def _quantity(value: Any) -> int:
    if isinstance(value, bool):
        raise RpcError(INVALID_PARAMS, f"a hex quantity is expected, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise RpcError(INVALID_PARAMS, f"a hex quantity is expected, got {value!r}")


def _data(value: Any) -> str:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            bytes.fromhex(value[2:])
        except ValueError:
            pass
        else:
            return value.lower()
    raise RpcError(INVALID_PARAMS, f"0x-prefixed hex data is expected, got {value!r}")


def _log_bound(value: Any, latest: int) -> int:
    if value is None or value in ("latest", "pending", "safe", "finalized"):
        return latest
    if value == "earliest":
        return 0
    return _quantity(value)


def _hash32(value: Any) -> str:
    data = _data(value)
    if len(data) != 66:
        raise RpcError(INVALID_PARAMS, f"a 32-byte hash is expected, got {value!r}")
    return data


def _vm_error(exc: Exception) -> RpcError:
    """An EVM failure as geth reports it: a revert with its data (web3.py decodes the reason
    into ``ContractLogicError``), anything else by name."""
    from eth.exceptions import Revert

    if not isinstance(exc, Revert):
        return RpcError(SERVER_ERROR, f"execution failed: {type(exc).__name__} {exc}".strip())
    data = exc.args[0] if exc.args and isinstance(exc.args[0], bytes) else b""
    message = "execution reverted"
    if data[:4] == ERROR_SELECTOR:
        with suppress(Exception):
            (reason,) = eth_abi.decode(["string"], data[4:])
            message = f"execution reverted: {reason}"
    return RpcError(EXECUTION_REVERTED, message, "0x" + data.hex())


def _geth_message(message: str) -> str:
    """py-evm's rejection, with geth's wording in front so clients recognise it."""
    if "cannot afford" in message or "enough balance" in message:
        return f"insufficient funds for gas * price + value: {message}"
    if "lower than block's base fee" in message:
        return f"max fee per gas less than block base fee: {message}"
    if "Transaction.gas" in message or "intrinsic" in message:
        return f"intrinsic gas too low: {message}"
    if "exceeds gas limit" in message:
        return f"exceeds block gas limit: {message}"
    return message


def _percentile(values: list[int], percentile: float) -> int:
    if not values:
        return 0
    index = min(len(values) - 1, int(len(values) * percentile / 100))
    return values[index]


def _topics_match(have: list[str], want: list[Any]) -> bool:
    if len(want) > len(have):
        return False
    for position, option in enumerate(want):
        if option is None:
            continue
        options = option if isinstance(option, list) else [option]
        if have[position].lower() not in {str(o).lower() for o in options}:
            return False
    return True


# --- answers: eth-tester's snake-case Python values to JSON-RPC ------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _rpc_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | str | float):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_rpc_value(item) for item in value]
    if isinstance(value, dict):
        return {_camel(key): _rpc_value(item) for key, item in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__} as JSON-RPC")


def _bloom(value: int) -> str:
    return "0x" + value.to_bytes(256, "big").hex()


def _format_block(block: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = _rpc_value(
        {key: value for key, value in block.items() if key not in ("transactions", "logs_bloom")}
    )
    answer["miner"] = answer.pop("coinbase")
    answer["logsBloom"] = _bloom(int(block["logs_bloom"]))
    answer["transactions"] = [
        _format_transaction(tx) if isinstance(tx, dict) else tx for tx in block["transactions"]
    ]
    return answer


def _format_transaction(transaction: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = _rpc_value(transaction)
    answer["input"] = answer.pop("data")
    if answer.get("to") == "":
        answer["to"] = None
    return answer


def _format_log(entry: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = _rpc_value({k: v for k, v in entry.items() if k != "type"})
    answer["removed"] = False
    return answer


def _format_receipt(receipt: dict[str, Any]) -> dict[str, Any]:
    logs = [_format_log(entry) for entry in receipt["logs"]]
    answer: dict[str, Any] = _rpc_value(
        {k: v for k, v in receipt.items() if k not in ("logs", "state_root")}
    )
    if answer.get("to") == "":
        answer["to"] = None
    answer["logs"] = logs
    bloom = BloomFilter()
    for entry in receipt["logs"]:
        bloom.add(to_canonical_address(entry["address"]))
        for topic in entry["topics"]:
            bloom.add(bytes.fromhex(topic[2:]))
    answer["logsBloom"] = _bloom(int(bloom))
    return answer


def _state_query(name: str) -> Callable[[DevChain, list[Any]], str]:
    def query(chain: DevChain, params: list[Any]) -> str:
        address = to_checksum_address(params[0])
        block = chain._block_param(params[1] if len(params) > 1 else None)
        value = getattr(chain._tester, name)(address, block)
        return value if isinstance(value, str) else hex(value)

    return query


def _get_storage(chain: DevChain, params: list[Any]) -> str:
    address = to_checksum_address(params[0])
    slot = hex(_quantity(params[1]))
    block = chain._block_param(params[2] if len(params) > 2 else None)
    value = chain._tester.get_storage_at(address, slot, block)
    word = int.from_bytes(value, "big") if isinstance(value, bytes) else int(value or "0x0", 16)
    return "0x" + word.to_bytes(32, "big").hex()


def _gas_price(chain: DevChain, params: list[Any]) -> str:
    return hex(int(chain._chain.header.base_fee_per_gas) + PRIORITY_FEE)


_METHODS: dict[str, Callable[[DevChain, list[Any]], Any]] = {
    "web3_clientVersion": lambda chain, params: CLIENT_VERSION,
    "web3_sha3": lambda chain, params: "0x" + keccak(hexstr=_data(params[0])).hex(),
    "net_version": lambda chain, params: str(chain.chain_id),
    "net_listening": lambda chain, params: True,
    "net_peerCount": lambda chain, params: "0x0",
    "eth_chainId": lambda chain, params: hex(chain.chain_id),
    "eth_syncing": lambda chain, params: False,
    "eth_mining": lambda chain, params: False,
    "eth_accounts": lambda chain, params: [],
    "eth_blockNumber": lambda chain, params: hex(chain._latest()),
    "eth_gasPrice": _gas_price,
    "eth_maxPriorityFeePerGas": lambda chain, params: hex(PRIORITY_FEE),
    "eth_feeHistory": DevChain._rpc_fee_history,
    "eth_getBalance": _state_query("get_balance"),
    "eth_getTransactionCount": _state_query("get_nonce"),
    "eth_getCode": _state_query("get_code"),
    "eth_getStorageAt": _get_storage,
    "eth_call": DevChain._rpc_call,
    "eth_estimateGas": DevChain._rpc_estimate_gas,
    "eth_sendRawTransaction": DevChain._rpc_send_raw,
    "eth_getTransactionByHash": DevChain._rpc_transaction,
    "eth_getTransactionReceipt": DevChain._rpc_receipt,
    "eth_getBlockByNumber": DevChain._rpc_block,
    "eth_getBlockByHash": DevChain._rpc_block,
    "eth_getLogs": DevChain._rpc_get_logs,
    "evm_mine": DevChain._rpc_mine,
    "debug_setHead": DevChain._rpc_set_head,
    "pers_fund": DevChain._rpc_fund,
}


# --- HTTP ----------------------------------------------------------------------------------


def _answer(chain: DevChain, call: Any) -> dict[str, Any]:
    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return {
            "jsonrpc": "2.0",
            "id": call.get("id") if isinstance(call, dict) else None,
            "error": {"code": INVALID_REQUEST, "message": "invalid request"},
        }
    answer: dict[str, Any] = {"jsonrpc": "2.0", "id": call.get("id")}
    try:
        answer["result"] = chain.request(call["method"], call.get("params"))
    except RpcError as exc:
        answer["error"] = exc.as_json()
    except Exception as exc:
        log.exception("dev chain: %s failed", call["method"])
        answer["error"] = {"code": INTERNAL_ERROR, "message": f"internal error: {exc}"}
    return answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: web3.py reuses its connection
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (40 ms a request on Linux).
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
            self.close_connection = True
            return
        body = self.rfile.read(length)
        try:
            call = json.loads(body)
        except ValueError:
            error = {"code": PARSE_ERROR, "message": "parse error"}
            self._send(HTTPStatus.OK, {"jsonrpc": "2.0", "id": None, "error": error})
            return
        chain = self.server.chain
        if isinstance(call, list):
            answer: Any = [_answer(chain, item) for item in call]
        else:
            answer = _answer(chain, call)
        self._send(HTTPStatus.OK, answer)

    def do_GET(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "JSON-RPC over POST"})

    def _send(self, status: HTTPStatus, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("dev chain http: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], chain: DevChain) -> None:
        self.chain = chain
        super().__init__(address, _Handler)


class DevChainServer:
    """``chain`` served as JSON-RPC over HTTP on ``host:port`` (port 0: any free one)."""

    def __init__(self, chain: DevChain, host: str = "127.0.0.1", port: int = 8545) -> None:
        self.chain = chain
        self._server = _Server((host, port), chain)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def start(self) -> DevChainServer:
        """Serve in a background (daemon) thread; once, however often it is called."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="pers-devchain", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and release the journal."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self.chain.close()

    def __enter__(self) -> DevChainServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def open_devchain(chain_id: int, data_dir: Path, host: str, port: int) -> DevChainServer:
    """The dev chain journaled in ``data_dir/devchain``, ready to serve on ``host:port``."""
    if not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
        log.warning("the dev chain listens on %s, not loopback: its faucet serves anyone", host)
    chain = DevChain(chain_id, data_dir / "devchain")
    try:
        return DevChainServer(chain, host, port)
    except BaseException:
        chain.close()  # the port is taken: release the journal for the next attempt
        raise
