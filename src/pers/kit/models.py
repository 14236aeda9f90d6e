"""Column helpers for tenant-owned tables (Citus-ready: ``tenant_id`` leads every key)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, func
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

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


class BaseUnits(TypeDecorator[int]):
    """NUMERIC(78,0): any uint256, exact; ``int`` in Python."""

    impl = Numeric(78, 0)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)
