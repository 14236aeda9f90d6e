from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, text
from sqlalchemy.orm import Mapped, mapped_column

from pers.db import Base
from pers.kit.ids import uuid7
from pers.kit.models import Timestamps


class Tenant(Timestamps, Base):
    """The one platform-level table: its ``id`` *is* the tenant id (the Citus distribution key).

    It has no Row Level Security because a project key must be resolved to a tenant before any
    tenant context exists; the repository always filters by id or by key.
    """

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    project_name: Mapped[str]
    project_description: Mapped[str | None]
    project_website: Mapped[str | None]
    project_email: Mapped[str | None]
    project_image_url: Mapped[str | None]
    project_api_key: Mapped[str] = mapped_column(unique=True)
    testnet_project_api_key: Mapped[str] = mapped_column(unique=True)
    stripe_api_key_sealed: Mapped[str | None]
    stripe_webhook_secret_sealed: Mapped[str | None]
    stripe_publishable_key: Mapped[str | None]
    login_token: Mapped[str | None]
    allow_jwt_for_unauthenticated_users: Mapped[bool] = mapped_column(
        default=False, server_default=text("false")
    )
    firebase_tenant_id: Mapped[str | None]
    infura_api_key: Mapped[str | None]
    poly_scan_api_key: Mapped[str | None]
    auth_providers: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    # Moved by database triggers whenever the tenant's catalog (campaigns, tokens, businesses
    # and what hangs off them) changes: revalidates cached campaign details (revision 0017).
    catalog_version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
