"""The relayer's view of one chain: web3.py over JSON-RPC HTTP, and what its answers mean.

Every call goes through ``AsyncWeb3(AsyncHTTPProvider)``, the production path on any chain
(the dev chain included). web3.py's own retries are off: the relayer decides what to retry.
Node errors are recognised by the messages geth (and the dev chain) answer with.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

import aiohttp
from eth_account import Account
from hexbytes import HexBytes
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError


class Unavailable(Exception):
    """The node did not answer usably (connection refused, timeout, HTTP error)."""


class Reverted(Exception):
    """The call reverts (at estimation): ``reason`` as the node said it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sent(Enum):
    ACCEPTED = "accepted"  # the node has it (or says it already had it)
    NONCE_TOO_LOW = "nonce too low"  # something with this nonce is mined already
    UNDERPRICED = "underpriced"  # a replacement did not raise fees enough, or fee below base
    NO_FUNDS = "insufficient funds"  # the signer cannot pay for gas
    UNKNOWN = "unknown"  # no answer: it may or may not have reached the node
    REJECTED = "rejected"  # any other refusal


@dataclass(frozen=True)
class SendResult:
    outcome: Sent
    message: str = ""


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    block_hash: str
    status: int
    contract_address: str | None


@dataclass(frozen=True)
class Fees:
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


@dataclass(frozen=True)
class Signed:
    raw: bytes
    tx_hash: str


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if not isinstance(value, str) else value


class ChainClient:
    def __init__(self, url: str, chain_id: int, timeout_seconds: float) -> None:
        self.url = url
        self.chain_id = chain_id
        provider = AsyncHTTPProvider(
            url,
            request_kwargs={"timeout": aiohttp.ClientTimeout(total=timeout_seconds)},
            exception_retry_configuration=None,
        )
        self.w3 = AsyncWeb3(provider)

    async def close(self) -> None:
        await self.w3.provider.disconnect()

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise Unavailable(f"{self.url}: {type(exc).__name__}: {exc}") from exc

    async def head(self) -> int:
        return int(await self._call(self.w3.eth.block_number))

    async def nonce(self, address: str) -> int:
        checksum = AsyncWeb3.to_checksum_address(address)
        return int(await self._call(self.w3.eth.get_transaction_count(checksum, "latest")))

    async def balance(self, address: str) -> int:
        checksum = AsyncWeb3.to_checksum_address(address)
        return int(await self._call(self.w3.eth.get_balance(checksum)))

    async def fees(self) -> Fees:
        block = await self._call(self.w3.eth.get_block("latest"))
        base = int(block.get("baseFeePerGas") or 0)
        try:
            tip = int(await self._call(self.w3.eth.max_priority_fee))
        except Web3RPCError:
            tip = 10**9
        return Fees(max_fee_per_gas=2 * base + tip, max_priority_fee_per_gas=tip)

    async def estimate_gas(self, sender: str, to: str | None, data: bytes) -> int:
        tx: dict[str, Any] = {"from": AsyncWeb3.to_checksum_address(sender), "data": data}
        if to is not None:
            tx["to"] = AsyncWeb3.to_checksum_address(to)
        try:
            return int(await self._call(self.w3.eth.estimate_gas(cast(Any, tx), "pending")))
        except ContractLogicError as exc:
            raise Reverted(str(exc.message or exc)) from exc
        except Web3RPCError as exc:
            message = str(exc.message or exc)
            if "revert" in message or "gas required exceeds" in message:
                raise Reverted(message) from exc
            raise Unavailable(f"{self.url}: eth_estimateGas: {message}") from exc

    def sign(
        self, key: bytes, *, nonce: int, to: str | None, data: bytes, gas: int, fees: Fees
    ) -> Signed:
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "data": data,
            "gas": gas,
            "value": 0,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        }
        if to is not None:
            tx["to"] = AsyncWeb3.to_checksum_address(to)
        signed = Account.sign_transaction(tx, key)
        return Signed(raw=bytes(signed.raw_transaction), tx_hash=_hex(signed.hash))

    async def send_raw(self, raw: bytes) -> SendResult:
        try:
            await self.w3.eth.send_raw_transaction(HexBytes(raw))
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult(Sent.UNKNOWN, f"{type(exc).__name__}: {exc}")
        except Web3RPCError as exc:
            message = str(exc.message or exc)
            lowered = message.lower()
            if "already known" in lowered or "known transaction" in lowered:
                return SendResult(Sent.ACCEPTED, message)
            if "nonce too low" in lowered:
                return SendResult(Sent.NONCE_TOO_LOW, message)
            if "underpriced" in lowered or "less than block base fee" in lowered:
                return SendResult(Sent.UNDERPRICED, message)
            if "insufficient funds" in lowered:
                return SendResult(Sent.NO_FUNDS, message)
            return SendResult(Sent.REJECTED, message)
        return SendResult(Sent.ACCEPTED)

    async def receipt(self, tx_hash: str) -> Receipt | None:
        try:
            found = await self._call(self.w3.eth.get_transaction_receipt(HexBytes(tx_hash)))
        except TransactionNotFound:
            return None
        if found is None or found.get("blockNumber") is None:
            return None
        contract = found.get("contractAddress")
        return Receipt(
            tx_hash=tx_hash,
            block_number=int(found["blockNumber"]),
            block_hash=_hex(found["blockHash"]),
            status=int(found["status"]),
            contract_address=str(contract) if contract else None,
        )

    async def block_hash(self, number: int) -> str | None:
        try:
            block = await self._call(self.w3.eth.get_block(number))
        except Web3RPCError:
            return None
        except Exception as exc:  # web3 raises BlockNotFound for a missing block
            if type(exc).__name__ == "BlockNotFound":
                return None
            raise
        return _hex(block["hash"])

    async def fund(self, address: str, wei: int) -> None:
        """Dev chain only: the faucet pays ``address`` (docs/devchain.md, ``pers_fund``)."""
        response = await self._call(
            self.w3.provider.make_request(cast(Any, "pers_fund"), [address, hex(wei)])
        )
        if "error" in response:
            raise Unavailable(f"{self.url}: pers_fund: {response['error']}")
