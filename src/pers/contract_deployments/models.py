"""A contract deployment is a durable intent: the request records it, the settlement relayer
signs and sends the creation transaction with the tenant's operator key, and on confirmation the
token is registered (``service.complete_deployment``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKeyConstraint,
    Index,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from pers.auth.models import ENVIRONMENT_TYPE
from pers.db import Base
from pers.kit.enums import Environment
from pers.kit.models import TenantOwned, Timestamps, WithId


class DeploymentKind(StrEnum):
    """Which of pers's contracts (``pers.chain.contracts``): the token kinds."""

    CREDIT = "credit"  # ERC20
    STATUS = "status"  # ERC721
    REWARD = "reward"  # ERC1155


class DeploymentStatus(StrEnum):
    """The settlement statuses: ``created`` (recorded), ``processing`` (claimed by the relayer),
    ``broadcasted`` (sent), ``succeeded`` (mined, token registered) or ``failed``."""

    CREATED = "created"
    PROCESSING = "processing"
    BROADCASTED = "broadcasted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


PENDING = (DeploymentStatus.CREATED, DeploymentStatus.PROCESSING, DeploymentStatus.BROADCASTED)
KIND_TYPE = Enum(
    DeploymentKind,
    name="deployment_kind",
    native_enum=False,
    length=16,
    values_callable=lambda e: [m.value for m in e],
)
STATUS_TYPE = Enum(
    DeploymentStatus,
    name="deployment_status",
    native_enum=False,
    length=16,
    values_callable=lambda e: [m.value for m in e],
)
ADDRESS_CHECK = "~ '^0x[0-9a-fA-F]{40}$'"


class ContractDeployment(TenantOwned, WithId, Timestamps, Base):
    __tablename__ = "contract_deployments"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "token_id"], ["tokens.tenant_id", "tokens.id"]),
        Index("ix_contract_deployments_tenant_id_created_at", "tenant_id", "created_at"),
        # The relayer's queue: what is still to be sent or confirmed.
        Index(
            "ix_contract_deployments_tenant_id_pending",
            "tenant_id",
            "created_at",
            postgresql_where=text("status IN ('created', 'processing', 'broadcasted')"),
        ),
        CheckConstraint("chain_id > 0", name="chain_id_positive"),
        CheckConstraint("decimals BETWEEN 0 AND 36", name="decimals_range"),
        CheckConstraint("kind = 'credit' OR decimals = 0", name="nft_without_decimals"),
        CheckConstraint(
            "contract_address IS NULL OR contract_address " + ADDRESS_CHECK,
            name="contract_address_format",
        ),
        CheckConstraint(
            "status <> 'succeeded' OR (token_id IS NOT NULL AND contract_address IS NOT NULL "
            "AND transaction_hash IS NOT NULL)",
            name="succeeded_has_token",
        ),
        CheckConstraint(
            "status <> 'failed' OR failure_reason IS NOT NULL", name="failed_has_reason"
        ),
    )

    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[DeploymentKind] = mapped_column(KIND_TYPE)
    name: Mapped[str]
    symbol: Mapped[str]
    decimals: Mapped[int]
    base_uri: Mapped[str | None]
    status: Mapped[DeploymentStatus] = mapped_column(STATUS_TYPE)
    contract_address: Mapped[str | None] = mapped_column(String(42))
    token_id: Mapped[uuid.UUID | None]
    transaction_hash: Mapped[str | None] = mapped_column(String(66))
    failure_reason: Mapped[str | None]
    # The relayer's record of the signed transaction (its own table), once it claims the row.
    chain_send_id: Mapped[uuid.UUID | None]
    completed_at: Mapped[datetime | None]
