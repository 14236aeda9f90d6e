"""Purchases of credits by card (Stripe): what can be bought at what price, and each purchase.

A purchase moves through ``PENDING -> SUCCEEDED | FAILED | CANCELED`` by conditional updates
(``UPDATE ... WHERE status IN (...)``), so a purchase is completed (and its credits minted) at
most once whatever the order and number of Stripe's deliveries. ``FAILED`` is not final: Stripe
lets the customer retry a failed payment on the same intent, and money taken later must still
buy the credits; ``SUCCEEDED`` and ``CANCELED`` are final.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKeyConstraint,
    Identity,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from pers.auth.models import ENVIRONMENT_TYPE
from pers.db import Base
from pers.kit.enums import Environment
from pers.kit.models import BaseUnits, TenantOwned, WithId


class Currency(StrEnum):
    EUR = "eur"


class PurchaseStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


CURRENCY_TYPE = Enum(
    Currency, name="currency", native_enum=False, length=8,
    values_callable=lambda e: [m.value for m in e],
)  # fmt: skip
PURCHASE_STATUS_TYPE = Enum(PurchaseStatus, name="purchase_status", native_enum=False, length=16)


class PurchaseType(TenantOwned, Base):
    """A price: ``conversion_rate`` is what one token unit costs, in the currency's minor unit
    (cents). Numeric ids, as the spec gives them; one identity sequence serves every tenant."""

    __tablename__ = "purchase_types"
    __table_args__ = (CheckConstraint("conversion_rate > 0", name="conversion_rate_positive"),)

    id: Mapped[int] = mapped_column(
        BigInteger, Identity(), primary_key=True, autoincrement=True, sort_order=-90
    )
    conversion_rate: Mapped[Decimal] = mapped_column(Numeric())
    currency: Mapped[Currency] = mapped_column(CURRENCY_TYPE)
    created_at: Mapped[datetime]


class DonationType(TenantOwned, Base):
    """A share of a purchase given to a business; the admin chooses the id (spec)."""

    __tablename__ = "donation_types"
    __table_args__ = (
        CheckConstraint("percentage >= 0 AND percentage <= 100", name="percentage_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    percentage: Mapped[Decimal] = mapped_column(Numeric())
    created_at: Mapped[datetime]


class PurchaseToken(TenantOwned, WithId, Base):
    """A token on sale at a purchase type's price. Deleting one hides it (``deleted_at``):
    past purchases keep pointing at it."""

    __tablename__ = "purchase_tokens"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "token_id"], ["tokens.tenant_id", "tokens.id"],
            name="fk_purchase_tokens_token",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "purchase_type_id"], ["purchase_types.tenant_id", "purchase_types.id"],
            name="fk_purchase_tokens_purchase_type",
        ),
        Index("ix_purchase_tokens_tenant_id_created_at", "tenant_id", "created_at"),
    )  # fmt: skip

    token_id: Mapped[uuid.UUID]
    purchase_type_id: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str]
    is_active: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Purchase(TenantOwned, WithId, Base):
    """One purchase paid through one Stripe payment intent (at most one purchase per intent).

    ``units`` is the whole purchase in the token's base units; ``donation_units`` of them go to
    the donation business, the rest to the user. Price, token and donation share are copied at
    creation, so later changes to the purchase token or the types do not change a purchase.
    """

    __tablename__ = "purchases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "stripe_payment_intent_id"),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"],
            name="fk_purchases_user",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "purchase_token_id"], ["purchase_tokens.tenant_id", "purchase_tokens.id"],
            name="fk_purchases_purchase_token",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "donation_type_id"], ["donation_types.tenant_id", "donation_types.id"],
            name="fk_purchases_donation_type",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "donation_business_id"], ["businesses.tenant_id", "businesses.id"],
            name="fk_purchases_donation_business",
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("donation_units >= 0 AND donation_units <= units", name="donation_share"),
        Index("ix_purchases_tenant_id_user", "tenant_id", "user_id", "created_at"),
    )  # fmt: skip

    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    user_id: Mapped[uuid.UUID]
    purchase_token_id: Mapped[uuid.UUID]
    token_id: Mapped[uuid.UUID]
    stripe_payment_intent_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[PurchaseStatus] = mapped_column(PURCHASE_STATUS_TYPE)
    amount: Mapped[int] = mapped_column(BigInteger)  # in cents
    currency: Mapped[Currency] = mapped_column(CURRENCY_TYPE)
    quantity: Mapped[Decimal] = mapped_column(Numeric())
    conversion_rate: Mapped[Decimal] = mapped_column(Numeric())
    units: Mapped[int] = mapped_column(BaseUnits())
    donation_type_id: Mapped[int | None] = mapped_column(BigInteger)
    donation_percentage: Mapped[Decimal | None] = mapped_column(Numeric())
    donation_account_address: Mapped[str | None]
    donation_business_id: Mapped[uuid.UUID | None]
    donation_units: Mapped[int] = mapped_column(BaseUnits())
    transaction_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    failure_reason: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StripeEvent(TenantOwned, Base):
    """A Stripe event already handled: a redelivery of the same event id changes nothing."""

    __tablename__ = "purchase_stripe_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(255))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
