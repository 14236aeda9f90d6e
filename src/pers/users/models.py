"""End users of a tenant, the external identities they log in with, and user status types."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    ForeignKeyConstraint,
    Identity,
    Index,
    Numeric,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from pers.db import Base
from pers.kit.models import TenantOwned, Timestamps, WithId


class UserIdentifier(StrEnum):
    """How other systems name a user (seed 001 ``userIdentifier``)."""

    ID = "id"
    EMAIL = "email"
    INSTAGRAM_ACCOUNT_ID = "instagramAccountId"
    EXTERNAL_ID = "externalId"


class User(TenantOwned, WithId, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index(
            "uq_users_tenant_id_email_key",
            "tenant_id",
            "email_key",
            unique=True,
            postgresql_where=text("email_key IS NOT NULL"),
        ),
        Index(
            "uq_users_tenant_id_external_id",
            "tenant_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index(
            "uq_users_tenant_id_instagram_account_id",
            "tenant_id",
            "instagram_account_id",
            unique=True,
            postgresql_where=text("instagram_account_id IS NOT NULL"),
        ),
        Index("uq_users_tenant_id_account_address", "tenant_id", "account_address", unique=True),
    )

    # The user's custodial wallet, derived from (tenant, user id) by pers.wallets and stored at
    # creation so that lookups by address are one index probe. EIP-55 checksum form.
    account_address: Mapped[str] = mapped_column(String(42))
    email: Mapped[str | None]
    # What e-mails are matched on (case-insensitively), as a column of its own: under Row Level
    # Security an index on lower(email) serves no query, because lower() is not leakproof and
    # so is never evaluated before the policy (revision 0019).
    email_key: Mapped[str | None] = mapped_column(Computed("lower(email)", persisted=True))
    first_name: Mapped[str | None]
    last_name: Mapped[str | None]
    external_id: Mapped[str | None]
    instagram_account_id: Mapped[str | None]
    google_account_name: Mapped[str | None]
    custom_data: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    public_profile: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=text("'{}'")
    )
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


GUEST_ISSUER = "pers:guest"


class UserIdentity(TenantOwned, Base):
    """An external login (OIDC ``iss`` + ``sub``) bound to one user. Guest sessions use the
    reserved issuer ``pers:guest`` and keep the ``rawLoginData`` they were opened with."""

    __tablename__ = "user_identities"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        Index("ix_user_identities_tenant_id_user_id", "tenant_id", "user_id"),
    )

    issuer: Mapped[str] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID]
    email: Mapped[str | None]
    raw_login_data: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    last_login_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class UserStatusType(TenantOwned, Timestamps, Base):
    """A tier (e.g. Silver, Gold) a user reaches by holding enough of the eligible tokens.

    Ids are integers because the v1.7 contract says so (``minUserStatusTypeId: number`` on
    redemptions); the identity sequence is global, and ``tenant_id`` still leads the key.
    """

    __tablename__ = "user_status_types"
    __table_args__ = (
        Index(
            "uq_user_status_types_tenant_id_name",
            "tenant_id",
            func.lower(text("name")),
            unique=True,
        ),
        CheckConstraint("min_token_balance >= 0", name="min_token_balance_not_negative"),
        CheckConstraint(
            "discount_percentage >= 0 AND discount_percentage <= 100",
            name="discount_percentage_range",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, sort_order=-90)
    name: Mapped[str]
    description: Mapped[str | None]
    # Token units (not base units): the threshold compares with summed token-unit balances.
    min_token_balance: Mapped[Decimal] = mapped_column(Numeric())
    discount_percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    image_url: Mapped[str | None]
    eligible_token_addresses: Mapped[list[str]] = mapped_column(
        ARRAY(String(42)), default=list, server_default=text("'{}'")
    )
