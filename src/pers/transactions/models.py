from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pers.auth.models import ENVIRONMENT_TYPE
from pers.db import Base
from pers.kit.enums import Environment
from pers.kit.models import BaseUnits, TenantOwned, WithId


class TransactionType(StrEnum):
    MINT = "MINT"
    TRANSFER = "TRANSFER"
    BURN = "BURN"
    CLAIM = "CLAIM"


class TriggerProcessType(StrEnum):
    PURCHASE = "PURCHASE"
    SPEND = "SPEND"
    TRANSFER = "TRANSFER"
    EARN = "EARN"
    CAMPAIGN_USER_CLAIM = "CAMPAIGN_USER_CLAIM"
    CAMPAIGN_SYSTEM_CLAIM = "CAMPAIGN_SYSTEM_CLAIM"
    CAMPAIGN_BUSINESS_CLAIM = "CAMPAIGN_BUSINESS_CLAIM"
    REDEMPTION_SPEND = "REDEMPTION_SPEND"
    REDEMPTION_RECEIVE = "REDEMPTION_RECEIVE"
    MIGRATION = "MIGRATION"
    ADMIN_TRIGGERED = "ADMIN_TRIGGERED"


class TransactionStatus(StrEnum):
    CREATED = "created"
    PROCESSING = "processing"
    PENDING_SIGNATURE = "pending_signature"
    BROADCASTED = "broadcasted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class OwnerType(StrEnum):
    USER = "user"
    BUSINESS = "business"
    TENANT = "tenant"
    EXTERNAL = "external"


def _enum(e: type[StrEnum], name: str) -> Enum:
    return Enum(
        e, name=name, native_enum=False, length=32, values_callable=lambda x: [m.value for m in x]
    )


class Transaction(TenantOwned, WithId, Base):
    """One movement of value, as the API shows it; its ledger entry has the same id."""

    __tablename__ = "transactions"
    __table_args__ = (
        Index(
            "ix_transactions_tenant_id_sender",
            "tenant_id",
            "environment",
            "sender_address",
            "created_at",
        ),
        Index(
            "ix_transactions_tenant_id_recipient",
            "tenant_id",
            "environment",
            "recipient_address",
            "created_at",
        ),
        Index("ix_transactions_tenant_id_created_at", "tenant_id", "environment", "created_at"),
        # The settlement queue: intents not yet taken by the relayer, in ledger order.
        Index(
            "ix_transactions_tenant_id_settlement_queue",
            "tenant_id",
            "chain_id",
            "settle_seq",
            postgresql_where=text("status = 'created'"),
        ),
        Index(
            "ix_transactions_tenant_id_settlement_send_id",
            "tenant_id",
            "settlement_send_id",
            postgresql_where=text("settlement_send_id IS NOT NULL"),
        ),
    )

    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    type: Mapped[TransactionType] = mapped_column(_enum(TransactionType, "transaction_type"))
    trigger_process_type: Mapped[TriggerProcessType] = mapped_column(
        _enum(TriggerProcessType, "trigger_process_type")
    )
    trigger_process_id: Mapped[str | None]
    token_id: Mapped[uuid.UUID]
    token_address: Mapped[str] = mapped_column(String(42))
    token_type: Mapped[str] = mapped_column(String(16))
    token_decimals: Mapped[int]
    chain_id: Mapped[int | None] = mapped_column(BigInteger)
    contract_token_id: Mapped[int | None] = mapped_column(BaseUnits)
    token_metadata_incremental_id: Mapped[int | None]
    amount: Mapped[int] = mapped_column(BaseUnits)
    sender_address: Mapped[str] = mapped_column(String(42))
    sender_owner_type: Mapped[OwnerType] = mapped_column(_enum(OwnerType, "owner_type"))
    sender_id: Mapped[uuid.UUID | None]
    recipient_address: Mapped[str] = mapped_column(String(42))
    recipient_owner_type: Mapped[OwnerType] = mapped_column(_enum(OwnerType, "owner_type"))
    recipient_id: Mapped[uuid.UUID | None]
    engaged_business_id: Mapped[uuid.UUID | None]
    status: Mapped[TransactionStatus] = mapped_column(
        _enum(TransactionStatus, "transaction_status"),
        server_default=text("'created'"),
    )
    transaction_hash: Mapped[str | None]
    failure_reason: Mapped[str | None]
    # Settlement order: taken from a sequence when the row is inserted, i.e. after the ledger
    # entry locked its balance rows, so two entries touching the same holding are numbered in
    # the order they were applied (docs/settlement.md).
    settle_seq: Mapped[int] = mapped_column(
        BigInteger, server_default=text("nextval('transactions_settle_seq')")
    )
    settlement_send_id: Mapped[uuid.UUID | None]
    # Set when a batch carrying this intent reverted: it is then sent on its own.
    settle_solo: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
