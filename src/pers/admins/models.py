from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum, Index, func, text
from sqlalchemy.orm import Mapped, mapped_column

from pers.db import Base
from pers.kit.models import TenantOwned, Timestamps, WithId


class AdminType(StrEnum):
    SUPER_ADMIN = "SUPER_ADMIN"
    TENANT_ADMIN = "TENANT_ADMIN"


class Admin(TenantOwned, WithId, Timestamps, Base):
    __tablename__ = "admins"
    __table_args__ = (
        Index("uq_admins_tenant_id_email", "tenant_id", func.lower(text("email")), unique=True),
    )

    email: Mapped[str]
    display_name: Mapped[str | None]
    type: Mapped[AdminType] = mapped_column(
        Enum(AdminType, name="admin_type", native_enum=False, length=32)
    )
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
