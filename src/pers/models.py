"""Imports every model module so Base.metadata knows every table (migrations, checks)."""

from pers.admins.models import Admin
from pers.auth.models import ApiKey, RefreshToken
from pers.idempotency.models import IdempotencyRecord
from pers.tenants.models import Tenant
from pers.users.models import User, UserIdentity, UserStatusType

__all__ = [
    "Admin",
    "ApiKey",
    "IdempotencyRecord",
    "RefreshToken",
    "Tenant",
    "User",
    "UserIdentity",
    "UserStatusType",
]
