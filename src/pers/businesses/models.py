from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Identity,
    Index,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pers.db import Base
from pers.kit.models import TenantOwned, Timestamps, WithId


class BusinessType(TenantOwned, Timestamps, Base):
    """A category of partner (restaurant, museum, ...). The spec gives types numeric ids; one
    identity sequence serves every tenant, and ``tenant_id`` still leads the key."""

    __tablename__ = "business_types"
    __table_args__ = (
        Index(
            "uq_business_types_tenant_id_code",
            "tenant_id",
            "code",
            unique=True,
            postgresql_where=text("code IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger, Identity(), primary_key=True, autoincrement=True, sort_order=-90
    )
    name: Mapped[str]
    description: Mapped[str]
    code: Mapped[str | None]
    icon_url: Mapped[str | None]


class Business(TenantOwned, WithId, Timestamps, Base):
    """A partner account. Created inactive; an admin activates it and grants its abilities.

    ``account_address`` is the business's deterministic custodial wallet (derived from the
    tenant and the business id), stored so it can be looked up and indexed. The API key is kept
    only as a SHA-256: it is shown once, when issued.
    """

    __tablename__ = "businesses"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_address"),
        UniqueConstraint("tenant_id", "api_key_hash"),
        Index(
            "uq_businesses_tenant_id_email",
            "tenant_id",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text("email IS NOT NULL"),
        ),
        Index("ix_businesses_tenant_id_business_type_id", "tenant_id", "business_type_id"),
        ForeignKeyConstraint(
            ["tenant_id", "business_type_id"],
            ["business_types.tenant_id", "business_types.id"],
        ),
        CheckConstraint(
            "coords_latitude IS NULL OR coords_latitude BETWEEN -90 AND 90", name="latitude"
        ),
        CheckConstraint(
            "coords_longitude IS NULL OR coords_longitude BETWEEN -180 AND 180", name="longitude"
        ),
    )

    email: Mapped[str | None]
    account_address: Mapped[str]
    business_legal_name: Mapped[str | None]
    display_name: Mapped[str]
    description: Mapped[str | None]
    short_description: Mapped[str | None]
    website_url: Mapped[str | None]
    image_url: Mapped[str | None]
    street_address: Mapped[str | None]
    city: Mapped[str | None]
    postal_code: Mapped[str | None]
    coords_latitude: Mapped[float | None]
    coords_longitude: Mapped[float | None]
    business_type_id: Mapped[int | None] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    can_mint_token: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    can_charge_token: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    can_manage_users: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    can_receive_donation: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    api_key_hash: Mapped[str]
    api_key_issued_at: Mapped[datetime]

    business_type: Mapped[BusinessType | None] = relationship(
        lazy="raise",
        primaryjoin="and_(Business.tenant_id == BusinessType.tenant_id, "
        "Business.business_type_id == BusinessType.id)",
        foreign_keys="[Business.tenant_id, Business.business_type_id]",
        viewonly=True,
    )
