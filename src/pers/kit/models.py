"""Column helpers for tenant-owned tables (Citus-ready: ``tenant_id`` leads every key)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from pers.kit.ids import uuid7


class TenantOwned:
    """Adds ``tenant_id`` as the first primary-key column and an ``id`` after it."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(primary_key=True, sort_order=-100)


class WithId:
    @declared_attr
    def id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(primary_key=True, default=uuid7, sort_order=-90)


class Timestamps:
    @declared_attr
    def created_at(cls) -> Mapped[datetime]:
        return mapped_column(server_default=func.now(), sort_order=900)

    @declared_attr
    def updated_at(cls) -> Mapped[datetime]:
        return mapped_column(server_default=func.now(), onupdate=func.now(), sort_order=901)
