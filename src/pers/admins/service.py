"""Tenant admins: listing, create-or-update by e-mail, login lookup."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from pers.admins import repository
from pers.admins.models import Admin, AdminType
from pers.auth.context import RequestContext
from pers.auth.errors import OwnerAdminRequired
from pers.errors import BusinessRuleViolation
from pers.kit.ids import uuid7


class SelfDemotion(BusinessRuleViolation):
    code = "ADMIN_SELF_DEMOTION"
    title = "An admin cannot demote or deactivate themselves"


async def get_active(
    session: AsyncSession, tenant_id: uuid.UUID, admin_id: uuid.UUID
) -> Admin | None:
    admin = await repository.get(session, tenant_id, admin_id)
    return admin if admin is not None and admin.is_active else None


async def find_active_by_email(
    session: AsyncSession, tenant_id: uuid.UUID, email: str
) -> Admin | None:
    admin = await repository.get_by_email(session, tenant_id, email)
    return admin if admin is not None and admin.is_active else None


async def list_admins(session: AsyncSession, ctx: RequestContext) -> list[Admin]:
    return await repository.list_all(session, ctx.tenant)


async def upsert_admin(
    session: AsyncSession,
    ctx: RequestContext,
    *,
    email: str,
    display_name: str | None,
    admin_type: AdminType,
    is_active: bool | None,
) -> Admin:
    """Create the admin with this e-mail, or update the one that exists."""
    if not ctx.is_owner_admin:
        raise OwnerAdminRequired("only a SUPER_ADMIN or the tenant admin JWT may manage admins")
    admin = await repository.get_by_email(session, ctx.tenant, email, for_update=True)
    if admin is None:
        admin = Admin(
            tenant_id=ctx.tenant,
            id=uuid7(),
            email=email,
            display_name=display_name,
            type=admin_type,
            is_active=True if is_active is None else is_active,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        await repository.add(session, admin)
        return admin
    if admin.id == ctx.principal.id and (
        admin_type is not AdminType.SUPER_ADMIN or is_active is False
    ):
        raise SelfDemotion()
    if display_name is not None:
        admin.display_name = display_name
    admin.type = admin_type
    if is_active is not None:
        admin.is_active = is_active
    admin.updated_at = ctx.now
    await session.flush()
    return admin
