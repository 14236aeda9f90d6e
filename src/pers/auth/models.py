from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from pers.db import Base
from pers.kit.enums import Environment
from pers.kit.models import TenantOwned, WithId


class ApiKeyType(StrEnum):
    """The token families PERS issues (the spec's ApiKey ``type`` enum)."""

    TENANT_SYSTEM_JWT = "TENANT_SYSTEM_JWT"
    ADMIN_JWT_ACCESS_TOKEN = "ADMIN_JWT_ACCESS_TOKEN"
    ADMIN_JWT_REFRESH_TOKEN = "ADMIN_JWT_REFRESH_TOKEN"
    USER_JWT_ACCESS_TOKEN = "USER_JWT_ACCESS_TOKEN"
    USER_JWT_REFRESH_TOKEN = "USER_JWT_REFRESH_TOKEN"
    BLOCKCHAIN_WRITER_JWT = "BLOCKCHAIN_WRITER_JWT"
    BLOCKCHAIN_READER_JWT = "BLOCKCHAIN_READER_JWT"
    TENANT_ADMIN_JWT = "TENANT_ADMIN_JWT"


ENVIRONMENT_TYPE = Enum(
    Environment,
    name="environment",
    native_enum=False,
    length=16,
    values_callable=lambda e: [m.value for m in e],
)
API_KEY_TYPE = Enum(ApiKeyType, name="api_key_type", native_enum=False, length=32)


class ApiKey(TenantOwned, WithId, Base):
    """A long-lived credential (system key or tenant admin JWT). ``id`` is the JWT's ``jti``.

    Only a SHA-256 of the token is kept: it is shown once and cannot be recovered.
    """

    __tablename__ = "api_keys"

    type: Mapped[ApiKeyType] = mapped_column(API_KEY_TYPE)
    name: Mapped[str]
    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    token_hash: Mapped[str]
    shortened_private_key: Mapped[str]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class RefreshToken(TenantOwned, WithId, Base):
    """One issued refresh token (``id`` = ``jti``). Tokens of one login form a family: using a
    token twice revokes the whole family (theft detection)."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_tenant_id_family_id", "tenant_id", "family_id"),)

    family_id: Mapped[uuid.UUID]
    subject_kind: Mapped[str] = mapped_column()
    subject_id: Mapped[uuid.UUID]
    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    token_hash: Mapped[str]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


__all__ = ["ENVIRONMENT_TYPE", "ApiKey", "ApiKeyType", "RefreshToken"]
