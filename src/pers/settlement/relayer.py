"""The relayer: settles ledger intents on their chains, exactly once (docs/settlement.md).

A *lane* is one tenant on one chain: one signer (the tenant's operator wallet) and its nonces.
A worker works a lane only while it holds the lane's PostgreSQL advisory lock (on a connection
of its own, so a dead worker's locks go with its connection): two workers never send with the
same signer at once. Each pass over a lane:

1. follows every open send (signed, broadcasted, mined) in nonce order: broadcasts what is
   stored but maybe not sent, looks for a receipt of any of its attempts, re-sends or replaces
   (fee bump) what has none for too long, re-checks that a mined send's block is still on the
   chain (a reorg sends it back to waiting) and finalizes it at the chain's confirmation depth;
2. takes queued intents in ledger order (``settle_seq``), groups them per token (a batch is
   ``operatorBatch``; one intent alone uses the contract's own function), estimates gas, and
   for each group in one database transaction takes a nonce, signs, stores the signed bytes and
   marks the intents ``processing``; only then broadcasts.

Every step that talks to the chain is recorded after it happened and is safe to repeat, so a
worker killed anywhere leaves a state the next pass completes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from pers.chain import calls
from pers.chain.calls import KIND_OF_TOKEN_TYPE, Move
from pers.chains.registry import Chain, ChainRegistry, registry_of
from pers.contract_deployments import service as deployments
from pers.db import set_tenant
from pers.errors import PersError
from pers.kit.ids import uuid7
from pers.runtime import Runtime
from pers.settlement import repository as repo
from pers.settlement.models import SendKind, SendStatus
from pers.settlement.rpc import (
    ChainClient,
    Fees,
    Receipt,
    Reverted,
    SendResult,
    Sent,
    Unavailable,
)
from pers.wallets.derivation import OwnerType

log = logging.getLogger("pers.settlement")

DEV_CHAIN_FLOAT = 10**21  # wei the dev chain faucet tops an operator up to
DEV_CHAIN_LOW = 10**20


class Crash(BaseException):
    """Raised by a test's checkpoint to stop the worker on the spot, as a kill would."""


Checkpoint = Callable[[str], None]


def _no_checkpoint(name: str) -> None:
    return None


def lane_lock_key(tenant_id: uuid.UUID, chain_id: int) -> int:
    digest = hashlib.sha256(f"pers/settlement/{tenant_id}/{chain_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass
class Lane:
    tenant_id: uuid.UUID
    chain: Chain
    client: ChainClient
    signer: str
    key: bytes
    prepared: bool = False
    resent_at: dict[uuid.UUID, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Group:
    token_address: str
    kind: Any
    intents: list[repo.Intent]


class Relayer:
    def __init__(
        self,
        rt: Runtime,
        *,
        registry: ChainRegistry | None = None,
        checkpoint: Checkpoint = _no_checkpoint,
        tenants: frozenset[uuid.UUID] | None = None,
        name: str = "worker",
    ) -> None:
        self.rt = rt
        self.settings = rt.settings
        self.registry = registry or registry_of(rt.settings)
        self.checkpoint = checkpoint
        self.name = name
        self.tenants = tenants  # None: every tenant
        self._lanes: dict[tuple[uuid.UUID, int], Lane] = {}
        self._lock_conn: AsyncConnection | None = None
        self._clients: dict[int, ChainClient] = {}

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; a failing lane is logged and retried, never fatal."""
        try:
            while not stop.is_set():
                try:
                    busy = await self.run_once()
                except Unavailable as exc:
                    log.warning("settlement: %s", exc)
                    busy = False
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.settlement_poll_seconds)
        finally:
            await self.close()

    async def close(self) -> None:
        """Let go of the lanes (their advisory locks) and the chain clients."""
        await self._release(kill=False)

    async def abandon(self) -> None:
        """What a killed worker leaves behind: nothing finished, and its connection gone (with
        it, PostgreSQL releases its locks)."""
        await self._release(kill=True)

    async def _release(self, *, kill: bool) -> None:
        self._lanes.clear()
        if self._lock_conn is not None:
            conn, self._lock_conn = self._lock_conn, None
            try:
                if kill:
                    await conn.invalidate()
                else:
                    # The connection goes back to the pool: its session locks must not.
                    await conn.execute(text("SELECT pg_advisory_unlock_all()"))
                    await conn.close()
            except Exception:
                log.debug("settlement: releasing the lock connection failed", exc_info=True)
                await conn.invalidate()
        for client in self._clients.values():
            try:
                await client.close()
            except Exception:
                log.debug("settlement: closing a chain client failed", exc_info=True)
        self._clients.clear()

    # -- one pass --------------------------------------------------------------------------

    async def run_once(self) -> bool:
        """One pass over every lane with work; True when something moved."""
        busy = False
        for tenant_id, chain_id in await self._lanes_with_work():
            lane = await self._lane(tenant_id, chain_id)
            if lane is None:
                continue
            try:
                busy = await self._work(lane) or busy
            except Unavailable as exc:
                log.warning("settlement: tenant %s chain %s: %s", tenant_id, chain_id, exc)
        return busy

    async def drain(self, seconds: float = 60.0) -> None:
        """Passes until no lane has work left (tests, benchmarks, ``pers settle``)."""
        deadline = time.monotonic() + seconds
        while True:
            busy = await self.run_once()
            if not await self._lanes_with_work():
                return
            if time.monotonic() > deadline:
                raise TimeoutError("settlement did not drain in time")
            if not busy:
                await asyncio.sleep(min(0.05, self.settings.settlement_poll_seconds))

    async def _lanes_with_work(self) -> list[tuple[uuid.UUID, int]]:
        chain_ids = [c.chain_id for c in self.registry.all()]
        if not chain_ids:
            return []
        async with self.rt.db.unit_of_work() as session:
            found = await repo.lanes(session, chain_ids)
        if self.tenants is not None:
            found = [(t, c) for t, c in found if t in self.tenants]
        return found

    async def _lane(self, tenant_id: uuid.UUID, chain_id: int) -> Lane | None:
        known = self._lanes.get((tenant_id, chain_id))
        if known is not None:
            return known
        chain = self.registry.get(chain_id)
        if chain is None:
            return None
        if self._lock_conn is None:
            self._lock_conn = await self.rt.db.engine.connect()
            await self._lock_conn.execution_options(isolation_level="AUTOCOMMIT")
        held = await self._lock_conn.scalar(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": lane_lock_key(tenant_id, chain_id)}
        )
        if not held:
            return None  # another worker has this signer
        key = self.rt.wallets.private_key(tenant_id, OwnerType.TENANT, tenant_id)
        signer = self.rt.wallets.address(tenant_id, OwnerType.TENANT, tenant_id)
        lane = Lane(tenant_id, chain, self._client(chain), signer, key)
        self._lanes[(tenant_id, chain_id)] = lane
        return lane

    def _client(self, chain: Chain) -> ChainClient:
        client = self._clients.get(chain.chain_id)
        if client is None:
            client = self._clients[chain.chain_id] = ChainClient(
                chain.rpc_url, chain.chain_id, self.settings.settlement_rpc_timeout_seconds
            )
        return client

    async def _work(self, lane: Lane) -> bool:
        if not lane.prepared:
            await self._prepare(lane)
        busy = await self._follow_open(lane)
        return await self._send_queued(lane) or busy

    async def _prepare(self, lane: Lane) -> None:
        """Agree with the chain on the signer's next nonce; on the dev chain, fund the signer."""
        if lane.chain.is_dev_chain:
            await self._top_up(lane)
        on_chain = await lane.client.nonce(lane.signer)
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            stored = await repo.signer_next_nonce(session, lane.tenant_id, lane.chain.chain_id)
            if stored is None or stored < on_chain:
                # Nonces used outside pers (or a fresh signer): the chain is right.
                await repo.set_signer(
                    session, lane.tenant_id, lane.chain.chain_id, lane.signer, on_chain
                )
        lane.prepared = True

    async def _top_up(self, lane: Lane) -> None:
        if await lane.client.balance(lane.signer) < DEV_CHAIN_LOW:
            await lane.client.fund(lane.signer, DEV_CHAIN_FLOAT)

    # -- open sends ------------------------------------------------------------------------

    async def _follow_open(self, lane: Lane) -> bool:
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            sends = await repo.open_sends(session, lane.tenant_id, lane.chain.chain_id)
            tried = await repo.attempts_of(session, lane.tenant_id, [s.id for s in sends])
        if not sends:
            return False
        head = await lane.client.head()
        busy = False
        for send in sends:
            busy = await self._follow(lane, send, tried.get(send.id, []), head) or busy
        return busy

    async def _follow(
        self, lane: Lane, send: repo.OpenSend, attempts: list[repo.Attempt], head: int
    ) -> bool:
        if not attempts:  # cannot happen: a send and its first attempt are one transaction
            raise RuntimeError(f"send {send.id} has no signed attempt")
        if send.status is SendStatus.SIGNED:
            await self._broadcast(lane, send.id, attempts[-1], send.deployment_id)
            return True
        if send.status is SendStatus.MINED:
            return await self._check_mined(lane, send, attempts, head)
        receipt = await self._receipt(lane, attempts)
        if receipt is not None:
            self.checkpoint("receipt")
            await self._record_mined(lane, send, receipt, head)
            return True
        return await self._unanswered(lane, send, attempts)

    async def _receipt(self, lane: Lane, attempts: list[repo.Attempt]) -> Receipt | None:
        for attempt in reversed(attempts):
            receipt = await lane.client.receipt(attempt.tx_hash)
            if receipt is not None:
                return receipt
        return None

    async def _broadcast(
        self,
        lane: Lane,
        send_id: uuid.UUID,
        attempt: repo.Attempt,
        deployment_id: uuid.UUID | None = None,
    ) -> None:
        result = await lane.client.send_raw(attempt.raw)
        self.checkpoint("broadcast")
        lane.resent_at[send_id] = time.monotonic()
        await self._after_send(
            lane, send_id, result, first=True, deployment=(deployment_id, attempt.tx_hash)
        )

    async def _after_send(
        self,
        lane: Lane,
        send_id: uuid.UUID,
        result: SendResult,
        *,
        first: bool,
        deployment: tuple[uuid.UUID | None, str] | None = None,
    ) -> None:
        error = (
            None if result.outcome is Sent.ACCEPTED else f"{result.outcome.value}: {result.message}"
        )
        if result.outcome is Sent.NO_FUNDS and lane.chain.is_dev_chain:
            await self._top_up(lane)
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            if first:
                # Whatever the answer, it may have reached the node: from now on only a receipt
                # (or the chain's nonce moving past it) tells what happened.
                await repo.mark_broadcast(
                    session, lane.tenant_id, send_id, self.rt.clock.now(), error
                )
                if deployment is not None and deployment[0] is not None:
                    await deployments.mark_broadcasted(
                        session, lane.tenant_id, deployment[0], transaction_hash=deployment[1],
                        chain_send_id=send_id,
                    )  # fmt: skip
            elif error is not None:
                await repo.note_error(session, lane.tenant_id, send_id, error)
        if result.outcome is Sent.NONCE_TOO_LOW:
            log.info("settlement: send %s: %s", send_id, result.message)

    async def _record_mined(
        self, lane: Lane, send: repo.OpenSend, receipt: Receipt, head: int
    ) -> None:
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            await repo.mark_mined(
                session, lane.tenant_id, send.id, block_number=receipt.block_number,
                block_hash=receipt.block_hash, mined_hash=receipt.tx_hash,
                receipt_status=receipt.status, contract_address=receipt.contract_address,
            )  # fmt: skip
            if self._confirmed(lane, receipt.block_number, head):
                await self._finalize(session, lane, send, receipt)

    def _confirmed(self, lane: Lane, block_number: int, head: int) -> bool:
        return head - block_number + 1 >= max(1, lane.chain.confirmations)

    async def _check_mined(
        self, lane: Lane, send: repo.OpenSend, attempts: list[repo.Attempt], head: int
    ) -> bool:
        assert send.block_number is not None
        assert send.mined_hash is not None
        receipt = await lane.client.receipt(send.mined_hash)
        canonical = await lane.client.block_hash(send.block_number)
        if receipt is None or receipt.block_hash != send.block_hash or canonical != send.block_hash:
            # A reorg: the block is gone (or replaced). Wait for a receipt again, and give the
            # node the signed bytes once more (a reorged-out transaction may not come back alone).
            log.warning(
                "settlement: send %s left the chain at block %s", send.id, send.block_number
            )
            async with self.rt.db.unit_of_work() as session:
                await set_tenant(session, lane.tenant_id)
                await repo.unmine(session, lane.tenant_id, send.id, self.rt.clock.now())
            mined = next((a for a in attempts if a.tx_hash == send.mined_hash), attempts[-1])
            result = await lane.client.send_raw(mined.raw)
            lane.resent_at[send.id] = time.monotonic()
            await self._after_send(lane, send.id, result, first=False)
            return True
        if not self._confirmed(lane, send.block_number, head):
            return False
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            await self._finalize(session, lane, send, receipt)
        return True

    async def _finalize(
        self, session: AsyncSession, lane: Lane, send: repo.OpenSend, receipt: Receipt
    ) -> None:
        tenant = lane.tenant_id
        if send.kind is SendKind.DEPLOY:
            await self._finish_deployment(session, lane, send, receipt)
            return
        if receipt.status == 1:
            await repo.finish_send(session, tenant, send.id, SendStatus.CONFIRMED)
            await repo.settle_intents(session, tenant, send.id, receipt.tx_hash)
            return
        await repo.finish_send(session, tenant, send.id, SendStatus.REVERTED)
        if send.intent_count > 1:
            # All or none: find the culprit by sending each intent on its own.
            await repo.requeue_intents(session, tenant, send.id, solo=True)
        else:
            reason = (
                f"reverted on chain (transaction {receipt.tx_hash}, block {receipt.block_number})"
            )
            await repo.fail_intents_of_send(session, tenant, send.id, receipt.tx_hash, reason)

    async def _finish_deployment(
        self, session: AsyncSession, lane: Lane, send: repo.OpenSend, receipt: Receipt
    ) -> None:
        tenant = lane.tenant_id
        assert send.deployment_id is not None
        if receipt.status == 1 and receipt.contract_address:
            await repo.finish_send(session, tenant, send.id, SendStatus.CONFIRMED)
            try:
                async with session.begin_nested():
                    await deployments.complete_deployment(
                        session, tenant, send.deployment_id, receipt.contract_address,
                        receipt.tx_hash,
                    )  # fmt: skip
            except PersError as exc:  # e.g. an admin registered the address meanwhile
                await deployments.fail_deployment(
                    session, tenant, send.deployment_id, f"{exc.code}: {exc.detail}"
                )
            return
        await repo.finish_send(session, tenant, send.id, SendStatus.REVERTED)
        await deployments.fail_deployment(
            session, tenant, send.deployment_id,
            f"the deployment reverted ({receipt.tx_hash}, block {receipt.block_number})",
        )  # fmt: skip

    async def _unanswered(
        self, lane: Lane, send: repo.OpenSend, attempts: list[repo.Attempt]
    ) -> bool:
        """Broadcast, no receipt: check the nonce, then re-send or replace when due."""
        on_chain = await lane.client.nonce(lane.signer)
        if on_chain > send.nonce:
            # The nonce is spent, yet none of our attempts has a receipt: something else took
            # it (another holder of the key). Look once more, then queue the intents again.
            receipt = await self._receipt(lane, attempts)
            if receipt is not None:
                await self._record_mined(lane, send, receipt, await lane.client.head())
                return True
            async with self.rt.db.unit_of_work() as session:
                await set_tenant(session, lane.tenant_id)
                await repo.finish_send(session, lane.tenant_id, send.id, SendStatus.DROPPED)
                await repo.requeue_intents(session, lane.tenant_id, send.id, solo=False)
            log.warning("settlement: nonce %s of %s went elsewhere", send.nonce, lane.signer)
            lane.prepared = False  # take the chain's nonce again
            return True
        now = time.monotonic()
        waited = (
            (self.rt.clock.now() - send.broadcast_at).total_seconds() if send.broadcast_at else 0.0
        )
        if waited >= self.settings.settlement_stuck_seconds:
            await self._replace(lane, send, attempts[-1])
            return True
        if now - lane.resent_at.get(send.id, 0.0) >= self.settings.settlement_rebroadcast_seconds:
            result = await lane.client.send_raw(attempts[-1].raw)
            lane.resent_at[send.id] = now
            await self._after_send(lane, send.id, result, first=False)
            return True
        return False

    async def _replace(self, lane: Lane, send: repo.OpenSend, last: repo.Attempt) -> None:
        """Fee bump: the same call and nonce, both fee caps raised, stored before it is sent."""
        current = await lane.client.fees()
        bump = 1 + self.settings.settlement_fee_bump_percent / 100
        tip = max(math.ceil(last.max_priority_fee_per_gas * bump), current.max_priority_fee_per_gas)
        fee = max(math.ceil(last.max_fee_per_gas * bump), current.max_fee_per_gas, tip)
        fees = Fees(max_fee_per_gas=fee, max_priority_fee_per_gas=tip)
        signed = lane.client.sign(
            lane.key, nonce=send.nonce, to=send.to_address, data=send.data, gas=send.gas_limit,
            fees=fees,
        )  # fmt: skip
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            await repo.add_attempt(
                session, lane.tenant_id, send.id, last.number + 1, signed.tx_hash, signed.raw,
                fees.max_fee_per_gas, fees.max_priority_fee_per_gas,
            )  # fmt: skip
            await repo.restart_timer(session, lane.tenant_id, send.id, self.rt.clock.now())
        log.info("settlement: send %s nonce %s replaced with higher fees", send.id, send.nonce)
        result = await lane.client.send_raw(signed.raw)
        lane.resent_at[send.id] = time.monotonic()
        await self._after_send(lane, send.id, result, first=False)

    # -- new sends -------------------------------------------------------------------------

    async def _send_queued(self, lane: Lane) -> bool:
        settings = self.settings
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            in_flight = len(await repo.open_sends(session, lane.tenant_id, lane.chain.chain_id))
        deployed = 0
        while in_flight + deployed < settings.settlement_in_flight_max:
            if not await self._send_deployment(lane):
                break
            deployed += 1
        in_flight += deployed
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            room = settings.settlement_in_flight_max - in_flight
            if room <= 0:
                return deployed > 0
            window = min(settings.settlement_batch_max * room, 5_000)
            intents = await repo.queued(session, lane.tenant_id, lane.chain.chain_id, window)
        if not intents:
            return deployed > 0
        fees = await lane.client.fees()
        busy = deployed > 0
        held: set[str] = set()  # tokens whose next group must wait (order within a token)
        for group in _groups(intents, settings.settlement_batch_max):
            if in_flight >= settings.settlement_in_flight_max:
                break
            if group.token_address in held:
                continue
            outcome = await self._send_group(lane, group, fees, in_flight)
            if outcome is True:
                in_flight += 1
                busy = True
            else:
                held.add(group.token_address)
                busy = busy or outcome is False
        return busy

    async def _send_deployment(self, lane: Lane) -> bool:
        """Claim, sign and store one contract deployment of the lane's tenant and chain, then
        broadcast it. The contract's address follows from the signer and the nonce; it is
        registered as a token once the creation is confirmed."""
        send_id = uuid7()
        async with self.rt.db.unit_of_work() as session:
            claimed = await deployments.claim_deployments(
                session, lane.tenant_id, limit=1, chain_id=lane.chain.chain_id
            )
            if not claimed:
                return False
            deployment = claimed[0]
            data = deployments.deployment_init_code(deployment)
            try:
                estimate = await lane.client.estimate_gas(lane.signer, None, data)
            except Reverted as exc:
                await deployments.fail_deployment(
                    session, lane.tenant_id, deployment.id, f"the deployment reverts: {exc.reason}"
                )
                return True
            fees = await lane.client.fees()
            gas = estimate + estimate // 5 + 10_000
            await set_tenant(session, lane.tenant_id)
            nonce = await repo.take_nonce(session, lane.tenant_id, lane.chain.chain_id)
            signed = lane.client.sign(lane.key, nonce=nonce, to=None, data=data, gas=gas, fees=fees)
            self.checkpoint("signed")
            await repo.add_send(
                session, lane.tenant_id, send_id=send_id, chain_id=lane.chain.chain_id,
                signer=lane.signer, nonce=nonce, kind=SendKind.DEPLOY, to_address=None,
                data=data, gas_limit=gas, intent_count=0, deployment_id=deployment.id,
            )  # fmt: skip
            await repo.add_attempt(
                session, lane.tenant_id, send_id, 1, signed.tx_hash, signed.raw,
                fees.max_fee_per_gas, fees.max_priority_fee_per_gas,
            )  # fmt: skip
        self.checkpoint("stored")
        attempt = repo.Attempt(
            1, signed.tx_hash, signed.raw, fees.max_fee_per_gas, fees.max_priority_fee_per_gas
        )
        await self._broadcast(lane, send_id, attempt, deployment.id)
        return True

    async def _send_group(
        self, lane: Lane, group: _Group, fees: Fees, in_flight: int
    ) -> bool | None:
        """Sign, store and broadcast one group. True: sent; False: nothing sent but the queue
        changed (a batch split, an intent failed); None: wait."""
        moves = [_move(lane, intent) for intent in group.intents]
        data = calls.call(group.kind, moves)
        ids = [intent.id for intent in group.intents]
        try:
            estimate = await lane.client.estimate_gas(lane.signer, group.token_address, data)
        except Reverted as exc:
            return await self._refused(lane, group, ids, exc.reason, in_flight)
        gas = estimate + estimate // 5 + 10_000
        send_id = uuid7()
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            if await repo.claim(session, lane.tenant_id, ids) != len(ids):
                return None  # someone else moved them: look again next pass
            nonce = await repo.take_nonce(session, lane.tenant_id, lane.chain.chain_id)
            signed = lane.client.sign(
                lane.key, nonce=nonce, to=group.token_address, data=data, gas=gas, fees=fees
            )
            self.checkpoint("signed")
            await repo.add_send(
                session, lane.tenant_id, send_id=send_id, chain_id=lane.chain.chain_id,
                signer=lane.signer, nonce=nonce, kind=SendKind.INTENTS,
                to_address=group.token_address, data=data, gas_limit=gas, intent_count=len(ids),
            )  # fmt: skip
            await repo.add_attempt(
                session, lane.tenant_id, send_id, 1, signed.tx_hash, signed.raw,
                fees.max_fee_per_gas, fees.max_priority_fee_per_gas,
            )  # fmt: skip
            await repo.assign(session, lane.tenant_id, ids, send_id)
        self.checkpoint("stored")
        attempt = repo.Attempt(
            1, signed.tx_hash, signed.raw, fees.max_fee_per_gas, fees.max_priority_fee_per_gas
        )
        await self._broadcast(lane, send_id, attempt)
        return True

    async def _refused(
        self, lane: Lane, group: _Group, ids: list[uuid.UUID], reason: str, in_flight: int
    ) -> bool | None:
        if len(ids) > 1:
            async with self.rt.db.unit_of_work() as session:
                await set_tenant(session, lane.tenant_id)
                await repo.mark_solo(session, lane.tenant_id, ids)
            return False
        if in_flight > 0:
            return None  # it may depend on something not yet mined
        async with self.rt.db.unit_of_work() as session:
            await set_tenant(session, lane.tenant_id)
            await repo.fail_intent(session, lane.tenant_id, ids[0], f"the call reverts: {reason}")
        log.warning("settlement: intent %s failed: %s", ids[0], reason)
        return False


def _groups(intents: Sequence[repo.Intent], batch_max: int) -> list[_Group]:
    """Consecutive chunks of each token's intents in ledger order, at most ``batch_max`` each;
    an intent that must go alone is a group of its own. Groups come in the order of their
    first intent, so a token's groups keep their order."""
    groups: list[_Group] = []
    open_chunk: dict[str, _Group] = {}
    for intent in intents:
        token = intent.token_address
        chunk = open_chunk.get(token)
        if intent.solo or chunk is None or len(chunk.intents) >= batch_max:
            kind = KIND_OF_TOKEN_TYPE[intent.token_type]
            chunk = _Group(token, kind, [intent])
            groups.append(chunk)
            if intent.solo:
                open_chunk.pop(token, None)
            else:
                open_chunk[token] = chunk
        else:
            chunk.intents.append(intent)
    return groups


def _move(lane: Lane, intent: repo.Intent) -> Move:
    """The intent as the chain sees it: the tenant's issuer is the zero address."""
    sender = None if intent.sender_owner_type == "tenant" else intent.sender_address
    receiver = None if intent.recipient_owner_type == "tenant" else intent.recipient_address
    token_id = intent.contract_token_id or 0
    return Move(sender, receiver, token_id, intent.amount)
