"""Redemptions: what a user gets for credits, the stock of each, and every redeem.

Nothing a redeem refers to is ever deleted: redemptions are soft deleted (``deleted_at``) and
token units soft removed (``removed_at``), so ``redemption_redeems`` keeps foreign keys to both
forever.

The stock of a limited redemption is split over a few ``redemption_supply_shards`` rows whose
``remaining`` add up to what is left; a redeem takes one unit from one shard with a conditional
update, so concurrent redeems of one redemption do not all queue on one row (docs/redemptions.md
proves the count exact). ``redemption_user_counters`` holds each user's redeems of a redemption,
for ``maxPerUser``, as the claim counters do.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Identity,
    Index,
    Numeric,
    String,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from pers.auth.models import ENVIRONMENT_TYPE
from pers.db import Base
from pers.kit.enums import Environment
from pers.kit.models import BaseUnits, TenantOwned, Timestamps, WithId


class RedemptionType(TenantOwned, Timestamps, Base):
    """A category of redemptions (a voucher, a product, a donation). Integer ids: the v1.7
    contract types ``redemptionTypeId`` as a number."""

    __tablename__ = "redemption_types"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, sort_order=-90)
    name: Mapped[str]
    description: Mapped[str | None]
    image_url: Mapped[str | None]


class Redemption(TenantOwned, WithId, Timestamps, Base):
    """An offer: ``credit_token_amount`` credits (token units of the tenant's credit token) for
    the token units below. Lives in one environment, like a campaign."""

    __tablename__ = "redemptions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "redemption_type_id"],
            ["redemption_types.tenant_id", "redemption_types.id"],
            name="fk_redemptions_type",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "min_user_status_type_id"],
            ["user_status_types.tenant_id", "user_status_types.id"],
            name="fk_redemptions_min_user_status_type",
        ),
        CheckConstraint("credit_token_amount >= 0", name="credit_token_amount_not_negative"),
        CheckConstraint("max_total_supply IS NULL OR max_total_supply >= 0", name="max_supply"),
        CheckConstraint("max_per_user IS NULL OR max_per_user >= 1", name="max_per_user"),
        CheckConstraint("supply_shards >= 0", name="supply_shards"),
        Index(
            "ix_redemptions_tenant_id_environment",
            "tenant_id",
            "environment",
            "is_active",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_redemptions_tenant_id_redemption_type_id", "tenant_id", "redemption_type_id"),
        Index(
            "ix_redemptions_tenant_id_min_user_status_type_id",
            "tenant_id",
            "min_user_status_type_id",
        ),
    )

    name: Mapped[str | None]
    description: Mapped[str | None]
    image_url: Mapped[str | None]
    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    is_active: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Token units (exact), converted with the credit token's decimals when redeemed.
    credit_token_amount: Mapped[Decimal] = mapped_column(Numeric())
    redemption_type_id: Mapped[int | None] = mapped_column(BigInteger)
    min_user_status_type_id: Mapped[int | None] = mapped_column(BigInteger)
    max_total_supply: Mapped[int | None]
    max_per_user: Mapped[int | None]
    # How many supply shard rows hold the stock (0: unlimited, no shard rows).
    supply_shards: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # v2 fields (seed 004), kept now so the v2 surface only maps them.
    # ``order`` on the wire; not a column name SQL has to quote.
    order: Mapped[int] = mapped_column("display_order", default=0, server_default=text("0"))
    country_code_restrictions: Mapped[list[str]] = mapped_column(
        ARRAY(String(6)), default=list, server_default=text("'{}'")
    )
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), default=list, server_default=text("'{}'")
    )
    deleted_at: Mapped[datetime | None]


class RedemptionTokenUnit(TenantOwned, WithId, Timestamps, Base):
    """What a redeem mints to the user: ``amount`` base units of a token (of its item
    ``token_metadata_incremental_id`` for NFTs)."""

    __tablename__ = "redemption_token_units"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "redemption_id"],
            ["redemptions.tenant_id", "redemptions.id"],
            name="fk_redemption_token_units_redemption",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "token_id"],
            ["tokens.tenant_id", "tokens.id"],
            name="fk_redemption_token_units_token",
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("max_amount IS NULL OR max_amount >= amount", name="max_amount"),
        CheckConstraint(
            "token_metadata_incremental_id IS NULL OR token_metadata_incremental_id > 0",
            name="metadata_incremental_id_positive",
        ),
        Index(
            "uq_redemption_token_units_tenant_id_token",
            "tenant_id",
            "redemption_id",
            "token_id",
            func.coalesce(text("token_metadata_incremental_id"), 0),
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
        Index("ix_redemption_token_units_tenant_id_token_id", "tenant_id", "token_id"),
    )

    redemption_id: Mapped[uuid.UUID]
    token_id: Mapped[uuid.UUID]
    token_metadata_incremental_id: Mapped[int | None]
    amount: Mapped[int] = mapped_column(BaseUnits)
    max_amount: Mapped[int | None] = mapped_column(BaseUnits)
    removed_at: Mapped[datetime | None]


class RedemptionSupplyShard(TenantOwned, Base):
    """Part of a limited redemption's remaining stock; the shards add up to what is left."""

    __tablename__ = "redemption_supply_shards"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "redemption_id"],
            ["redemptions.tenant_id", "redemptions.id"],
            name="fk_redemption_supply_shards_redemption",
        ),
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
    )

    redemption_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True)
    remaining: Mapped[int]


class RedemptionUserCounter(TenantOwned, Base):
    """A user's redeems of a redemption (``maxPerUser`` is checked on this row alone)."""

    __tablename__ = "redemption_user_counters"

    redemption_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    total: Mapped[int]
    last_redeem_at: Mapped[datetime]


class RedemptionRedeem(TenantOwned, WithId, Base):
    """One redeem: recorded once, never changed."""

    __tablename__ = "redemption_redeems"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "redemption_id"],
            ["redemptions.tenant_id", "redemptions.id"],
            name="fk_redemption_redeems_redemption",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name="fk_redemption_redeems_user",
        ),
        Index("ix_redemption_redeems_tenant_id_user", "tenant_id", "user_id", "created_at"),
        Index(
            "ix_redemption_redeems_tenant_id_redemption", "tenant_id", "redemption_id", "created_at"
        ),
    )

    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    redemption_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    credit_token_amount: Mapped[Decimal] = mapped_column(Numeric())
    # The credits spent in base units (0: a free redemption, no spend transaction).
    credit_base_units: Mapped[int] = mapped_column(BaseUnits)
    user_country_code: Mapped[str | None] = mapped_column(String(2))
    transaction_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
