"""End users of a tenant and the external identities they log in with."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from pers.db import Base
from pers.kit.models import TenantOwned, Timestamps, WithId


class User(TenantOwned, WithId, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index(
            "uq_users_tenant_id_email",
            "tenant_id",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text("email IS NOT NULL"),
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
