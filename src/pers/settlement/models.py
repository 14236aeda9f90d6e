"""What the relayer remembers about the chain: its nonces and every transaction it signed.

Intents are the ``transactions`` rows themselves (status ``created``): nothing else is written
by a request. A *send* is one chain transaction (one nonce of one signer) carrying one or more
intents; an *attempt* is one signed version of it (the first, or a fee bump with the same
nonce). Every attempt is stored before it is broadcast.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, ForeignKeyConstraint, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pers.db import Base
from pers.kit.models import BaseUnits, TenantOwned, WithId


class SendStatus(StrEnum):
    SIGNED = "signed"  # stored, maybe not yet broadcast
    BROADCASTED = "broadcasted"  # sent at least once, no receipt yet
    MINED = "mined"  # a receipt, not yet at the confirmation depth
    CONFIRMED = "confirmed"  # final, status 1
    REVERTED = "reverted"  # final, status 0: its intents are queued again or failed
    DROPPED = "dropped"  # the nonce went to something else: its intents are queued again


class SendKind(StrEnum):
    INTENTS = "intents"
    DEPLOY = "deploy"


def _enum(e: type[StrEnum], name: str) -> Enum:
    return Enum(
        e, name=name, native_enum=False, length=16, values_callable=lambda x: [m.value for m in x]
    )


class SettlementSigner(Base):
    """The next nonce of a tenant's operator on a chain. Only the worker holding the signer's
    lock (an advisory lock, see relayer.py) reads or moves it."""

    __tablename__ = "settlement_signers"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    address: Mapped[str] = mapped_column(String(42))
    next_nonce: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class SettlementSend(TenantOwned, WithId, Base):
    __tablename__ = "settlement_sends"
    __table_args__ = (
        Index(
            "ix_settlement_sends_tenant_id_open",
            "tenant_id",
            "chain_id",
            "nonce",
            postgresql_where=text("status IN ('signed', 'broadcasted', 'mined')"),
        ),
        Index(
            "uq_settlement_sends_tenant_id_open_nonce",
            "tenant_id",
            "chain_id",
            "signer",
            "nonce",
            unique=True,
            postgresql_where=text("status <> 'dropped'"),
        ),
    )

    chain_id: Mapped[int] = mapped_column(BigInteger)
    signer: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[SendKind] = mapped_column(_enum(SendKind, "settlement_send_kind"))
    status: Mapped[SendStatus] = mapped_column(_enum(SendStatus, "settlement_send_status"))
    to_address: Mapped[str | None] = mapped_column(String(42))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    gas_limit: Mapped[int] = mapped_column(BigInteger)
    intent_count: Mapped[int]
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    mined_hash: Mapped[str | None] = mapped_column(String(66))
    receipt_status: Mapped[int | None]
    contract_address: Mapped[str | None] = mapped_column(String(42))
    # A DEPLOY send: the contract deployment it creates (contract_deployments).
    deployment_id: Mapped[uuid.UUID | None]
    last_error: Mapped[str | None]
    broadcast_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class SettlementAttempt(Base):
    """One signed version of a send: the raw bytes exactly as broadcast, and its hash."""

    __tablename__ = "settlement_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "send_id"],
            ["settlement_sends.tenant_id", "settlement_sends.id"],
            name="fk_settlement_attempts_tenant_id_send_id_settlement_sends",
        ),
        Index("ix_settlement_attempts_tenant_id_tx_hash", "tenant_id", "tx_hash"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    send_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    tx_hash: Mapped[str] = mapped_column(String(66))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    max_fee_per_gas: Mapped[int] = mapped_column(BaseUnits)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(BaseUnits)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
