"""SQL of the relayer: the queue on ``transactions``, signers, sends and attempts. Every call runs
inside a unit of work bound to the tenant (Row Level Security)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pers.settlement.models import SendKind, SendStatus


@dataclass(frozen=True)
class Intent:
    id: uuid.UUID
    settle_seq: int
    token_address: str
    token_type: str
    contract_token_id: int | None
    amount: int
    sender_address: str
    sender_owner_type: str
    recipient_address: str
    recipient_owner_type: str
    solo: bool


@dataclass(frozen=True)
class OpenSend:
    id: uuid.UUID
    nonce: int
    kind: SendKind
    status: SendStatus
    to_address: str | None
    data: bytes
    gas_limit: int
    intent_count: int
    block_number: int | None
    block_hash: str | None
    mined_hash: str | None
    receipt_status: int | None
    contract_address: str | None
    broadcast_at: datetime | None
    deployment_id: uuid.UUID | None


@dataclass(frozen=True)
class Attempt:
    number: int
    tx_hash: str
    raw: bytes
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


async def lanes(session: AsyncSession, chain_ids: Sequence[int]) -> list[tuple[uuid.UUID, int]]:
    """Every (tenant, chain) with queued intents, open sends or queued contract deployments,
    in one round trip (``pers_settlement_lanes``, revision 0016)."""
    rows = await session.execute(
        text("SELECT tenant_id, chain_id FROM pers_settlement_lanes(CAST(:c AS bigint[]))"),
        {"c": list(chain_ids)},
    )
    return [(r[0], int(r[1])) for r in rows]


async def signer_next_nonce(
    session: AsyncSession, tenant_id: uuid.UUID, chain_id: int
) -> int | None:
    row = await session.execute(
        text(
            "SELECT next_nonce FROM settlement_signers WHERE tenant_id = :t AND chain_id = :c "
            "FOR UPDATE"
        ),
        {"t": tenant_id, "c": chain_id},
    )
    found = row.first()
    return None if found is None else int(found[0])


async def set_signer(
    session: AsyncSession, tenant_id: uuid.UUID, chain_id: int, address: str, next_nonce: int
) -> None:
    await session.execute(
        text(
            "INSERT INTO settlement_signers (tenant_id, chain_id, address, next_nonce) "
            "VALUES (:t, :c, :a, :n) ON CONFLICT (tenant_id, chain_id) DO UPDATE "
            "SET next_nonce = excluded.next_nonce, address = excluded.address, updated_at = now()"
        ),
        {"t": tenant_id, "c": chain_id, "a": address, "n": next_nonce},
    )


async def take_nonce(session: AsyncSession, tenant_id: uuid.UUID, chain_id: int) -> int:
    row = await session.execute(
        text(
            "UPDATE settlement_signers SET next_nonce = next_nonce + 1, updated_at = now() "
            "WHERE tenant_id = :t AND chain_id = :c RETURNING next_nonce - 1"
        ),
        {"t": tenant_id, "c": chain_id},
    )
    return int(row.scalar_one())


async def queued(
    session: AsyncSession, tenant_id: uuid.UUID, chain_id: int, limit: int
) -> list[Intent]:
    rows = await session.execute(
        text(
            "SELECT id, settle_seq, token_address, token_type, contract_token_id, amount, "
            "sender_address, sender_owner_type, recipient_address, recipient_owner_type, "
            "settle_solo FROM transactions WHERE tenant_id = :t AND chain_id = :c "
            "AND status = 'created' ORDER BY settle_seq LIMIT :n"
        ),
        {"t": tenant_id, "c": chain_id, "n": limit},
    )
    return [
        Intent(
            id=r[0],
            settle_seq=int(r[1]),
            token_address=r[2],
            token_type=r[3],
            contract_token_id=None if r[4] is None else int(r[4]),
            amount=int(r[5]),
            sender_address=r[6],
            sender_owner_type=r[7],
            recipient_address=r[8],
            recipient_owner_type=r[9],
            solo=bool(r[10]),
        )
        for r in rows
    ]


async def claim(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> int:
    """Lock the intents still queued among ``ids`` (skipping any another transaction holds);
    how many were locked."""
    rows = await session.execute(
        text(
            "SELECT id FROM transactions WHERE tenant_id = :t AND id = ANY(:ids) "
            "AND status = 'created' FOR UPDATE SKIP LOCKED"
        ),
        {"t": tenant_id, "ids": list(ids)},
    )
    return len(rows.all())


async def add_send(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    send_id: uuid.UUID,
    chain_id: int,
    signer: str,
    nonce: int,
    kind: SendKind,
    to_address: str | None,
    data: bytes,
    gas_limit: int,
    intent_count: int,
    deployment_id: uuid.UUID | None = None,
) -> None:
    await session.execute(
        text(
            "INSERT INTO settlement_sends (tenant_id, id, chain_id, signer, nonce, kind, status, "
            "to_address, data, gas_limit, intent_count, deployment_id) VALUES (:t, :id, :c, :s, "
            ":n, :k, 'signed', :to, :d, :g, :ic, :dep)"
        ),
        {
            "t": tenant_id,
            "id": send_id,
            "c": chain_id,
            "s": signer,
            "n": nonce,
            "k": kind.value,
            "to": to_address,
            "d": data,
            "g": gas_limit,
            "ic": intent_count,
            "dep": deployment_id,
        },
    )


async def add_attempt(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    send_id: uuid.UUID,
    number: int,
    tx_hash: str,
    raw: bytes,
    max_fee_per_gas: int,
    max_priority_fee_per_gas: int,
) -> None:
    await session.execute(
        text(
            "INSERT INTO settlement_attempts (tenant_id, send_id, number, tx_hash, raw, "
            "max_fee_per_gas, max_priority_fee_per_gas) VALUES (:t, :s, :n, :h, :r, :f, :p)"
        ),
        {
            "t": tenant_id,
            "s": send_id,
            "n": number,
            "h": tx_hash,
            "r": raw,
            "f": max_fee_per_gas,
            "p": max_priority_fee_per_gas,
        },
    )


async def assign(
    session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID], send_id: uuid.UUID
) -> None:
    await session.execute(
        text(
            "UPDATE transactions SET status = 'processing', settlement_send_id = :s, "
            "updated_at = now() WHERE tenant_id = :t AND id = ANY(:ids) AND status = 'created'"
        ),
        {"t": tenant_id, "ids": list(ids), "s": send_id},
    )


async def open_sends(session: AsyncSession, tenant_id: uuid.UUID, chain_id: int) -> list[OpenSend]:
    rows = await session.execute(
        text(
            "SELECT id, nonce, kind, status, to_address, data, gas_limit, intent_count, "
            "block_number, block_hash, mined_hash, receipt_status, contract_address, broadcast_at, "
            "deployment_id FROM settlement_sends WHERE tenant_id = :t AND chain_id = :c "
            "AND status IN ('signed', 'broadcasted', 'mined') ORDER BY nonce"
        ),
        {"t": tenant_id, "c": chain_id},
    )
    return [
        OpenSend(
            id=r[0],
            nonce=int(r[1]),
            kind=SendKind(r[2]),
            status=SendStatus(r[3]),
            to_address=r[4],
            data=bytes(r[5]),
            gas_limit=int(r[6]),
            intent_count=int(r[7]),
            block_number=r[8],
            block_hash=r[9],
            mined_hash=r[10],
            receipt_status=r[11],
            contract_address=r[12],
            broadcast_at=r[13],
            deployment_id=r[14],
        )
        for r in rows
    ]


async def attempts_of(
    session: AsyncSession, tenant_id: uuid.UUID, send_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Attempt]]:
    rows = await session.execute(
        text(
            "SELECT send_id, number, tx_hash, raw, max_fee_per_gas, max_priority_fee_per_gas "
            "FROM settlement_attempts WHERE tenant_id = :t AND send_id = ANY(:s) "
            "ORDER BY send_id, number"
        ),
        {"t": tenant_id, "s": list(send_ids)},
    )
    found: dict[uuid.UUID, list[Attempt]] = {}
    for r in rows:
        found.setdefault(r[0], []).append(
            Attempt(int(r[1]), r[2], bytes(r[3]), int(r[4]), int(r[5]))
        )
    return found


async def mark_broadcast(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    send_id: uuid.UUID,
    now: datetime,
    error: str | None,
) -> None:
    await session.execute(
        text(
            "UPDATE settlement_sends SET status = 'broadcasted', "
            "broadcast_at = COALESCE(broadcast_at, :now), last_error = :e, updated_at = now() "
            "WHERE tenant_id = :t AND id = :s AND status = 'signed'"
        ),
        {"t": tenant_id, "s": send_id, "now": now, "e": error},
    )
    await session.execute(
        text(
            "UPDATE transactions SET status = 'broadcasted', updated_at = now() "
            "WHERE tenant_id = :t AND settlement_send_id = :s AND status = 'processing'"
        ),
        {"t": tenant_id, "s": send_id},
    )


async def note_error(
    session: AsyncSession, tenant_id: uuid.UUID, send_id: uuid.UUID, error: str
) -> None:
    await session.execute(
        text(
            "UPDATE settlement_sends SET last_error = :e, updated_at = now() "
            "WHERE tenant_id = :t AND id = :s"
        ),
        {"t": tenant_id, "s": send_id, "e": error[:2000]},
    )


async def restart_timer(
    session: AsyncSession, tenant_id: uuid.UUID, send_id: uuid.UUID, now: datetime
) -> None:
    await session.execute(
        text(
            "UPDATE settlement_sends SET broadcast_at = :now, updated_at = now() "
            "WHERE tenant_id = :t AND id = :s"
        ),
        {"t": tenant_id, "s": send_id, "now": now},
    )


async def mark_mined(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    send_id: uuid.UUID,
    *,
    block_number: int,
    block_hash: str,
    mined_hash: str,
    receipt_status: int,
    contract_address: str | None,
) -> None:
    await session.execute(
        text(
            "UPDATE settlement_sends SET status = 'mined', block_number = :n, block_hash = :b, "
            "mined_hash = :h, receipt_status = :rs, contract_address = :ca, updated_at = now() "
            "WHERE tenant_id = :t AND id = :s"
        ),
        {
            "t": tenant_id,
            "s": send_id,
            "n": block_number,
            "b": block_hash,
            "h": mined_hash,
            "rs": receipt_status,
            "ca": contract_address,
        },
    )
    # A receipt means it was broadcast, whatever the worker managed to record before.
    await session.execute(
        text(
            "UPDATE transactions SET status = 'broadcasted', updated_at = now() "
            "WHERE tenant_id = :t AND settlement_send_id = :s AND status = 'processing'"
        ),
        {"t": tenant_id, "s": send_id},
    )


async def unmine(
    session: AsyncSession, tenant_id: uuid.UUID, send_id: uuid.UUID, now: datetime
) -> None:
    """A reorg took the block away: back to waiting for a receipt."""
    await session.execute(
        text(
            "UPDATE settlement_sends SET status = 'broadcasted', block_number = NULL, "
            "block_hash = NULL, mined_hash = NULL, receipt_status = NULL, contract_address = NULL, "
            "broadcast_at = :now, last_error = 'reorg: the block that held it is gone', "
            "updated_at = now() WHERE tenant_id = :t AND id = :s"
        ),
        {"t": tenant_id, "s": send_id, "now": now},
    )


async def finish_send(
    session: AsyncSession, tenant_id: uuid.UUID, send_id: uuid.UUID, status: SendStatus
) -> None:
    await session.execute(
        text(
            "UPDATE settlement_sends SET status = :st, updated_at = now() "
            "WHERE tenant_id = :t AND id = :s"
        ),
        {"t": tenant_id, "s": send_id, "st": status.value},
    )


async def settle_intents(
    session: AsyncSession, tenant_id: uuid.UUID, send_id: uuid.UUID, tx_hash: str
) -> int:
    result: Any = await session.execute(
        text(
            "UPDATE transactions SET status = 'succeeded', transaction_hash = :h, "
            "failure_reason = NULL, updated_at = now() "
            "WHERE tenant_id = :t AND settlement_send_id = :s"
        ),
        {"t": tenant_id, "s": send_id, "h": tx_hash},
    )
    return int(result.rowcount)


async def requeue_intents(
    session: AsyncSession, tenant_id: uuid.UUID, send_id: uuid.UUID, *, solo: bool
) -> None:
    await session.execute(
        text(
            "UPDATE transactions SET status = 'created', settlement_send_id = NULL, "
            "settle_solo = settle_solo OR :solo, updated_at = now() "
            "WHERE tenant_id = :t AND settlement_send_id = :s"
        ),
        {"t": tenant_id, "s": send_id, "solo": solo},
    )


async def fail_intents_of_send(
    session: AsyncSession, tenant_id: uuid.UUID, send_id: uuid.UUID, tx_hash: str, reason: str
) -> None:
    await session.execute(
        text(
            "UPDATE transactions SET status = 'failed', transaction_hash = :h, "
            "failure_reason = :r, updated_at = now() "
            "WHERE tenant_id = :t AND settlement_send_id = :s"
        ),
        {"t": tenant_id, "s": send_id, "h": tx_hash, "r": reason[:2000]},
    )


async def fail_intent(
    session: AsyncSession, tenant_id: uuid.UUID, intent_id: uuid.UUID, reason: str
) -> None:
    await session.execute(
        text(
            "UPDATE transactions SET status = 'failed', failure_reason = :r, updated_at = now() "
            "WHERE tenant_id = :t AND id = :i AND status = 'created'"
        ),
        {"t": tenant_id, "i": intent_id, "r": reason[:2000]},
    )


async def mark_solo(session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    await session.execute(
        text(
            "UPDATE transactions SET settle_solo = true, updated_at = now() "
            "WHERE tenant_id = :t AND id = ANY(:ids) AND status = 'created'"
        ),
        {"t": tenant_id, "ids": list(ids)},
    )


# -- what operators see ---------------------------------------------------------------------

_INTENT_COLUMNS = (
    "id, environment, type, trigger_process_type, token_address, token_type, chain_id, "
    "contract_token_id, amount, sender_address, recipient_address, status, transaction_hash, "
    "failure_reason, settle_seq, created_at, updated_at"
)


async def failed(
    session: AsyncSession, tenant_id: uuid.UUID, environment: str, limit: int, offset: int
) -> list[Any]:
    rows = await session.execute(
        text(
            f"SELECT {_INTENT_COLUMNS} FROM transactions WHERE tenant_id = :t "  # noqa: S608
            "AND environment = :e AND status = 'failed' ORDER BY settle_seq LIMIT :l OFFSET :o"
        ),
        {"t": tenant_id, "e": environment, "l": limit, "o": offset},
    )
    return list(rows.all())


async def intent(
    session: AsyncSession, tenant_id: uuid.UUID, environment: str, intent_id: uuid.UUID
) -> Any:
    rows = await session.execute(
        text(
            f"SELECT {_INTENT_COLUMNS} FROM transactions WHERE tenant_id = :t "  # noqa: S608
            "AND environment = :e AND id = :i FOR UPDATE"
        ),
        {"t": tenant_id, "e": environment, "i": intent_id},
    )
    return rows.first()


async def requeue_failed(session: AsyncSession, tenant_id: uuid.UUID, intent_id: uuid.UUID) -> None:
    """Back in the queue at its own place in ledger order, to be sent on its own."""
    await session.execute(
        text(
            "UPDATE transactions SET status = 'created', settlement_send_id = NULL, "
            "settle_solo = true, failure_reason = NULL, transaction_hash = NULL, "
            "updated_at = now() WHERE tenant_id = :t AND id = :i AND status = 'failed'"
        ),
        {"t": tenant_id, "i": intent_id},
    )


async def status_counts(
    session: AsyncSession, tenant_id: uuid.UUID, environment: str
) -> dict[str, int]:
    rows = await session.execute(
        text(
            "SELECT status, count(*) FROM transactions WHERE tenant_id = :t AND environment = :e "
            "GROUP BY status"
        ),
        {"t": tenant_id, "e": environment},
    )
    return {r[0]: int(r[1]) for r in rows}
