"""Admin (v1.7): list the tenant's admins, create or update one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from pers.admins import service
from pers.admins.models import Admin, AdminType
from pers.auth.context import PrincipalKind, RequestContext
from pers.kit.schemas import Email, WireInput, WireModel
from pers.tenants import service as tenants_service
from pers.tenants.http_v1 import TenantPublic, public_read
from pers.web import Access, PersRoute, get_session

router = APIRouter(prefix="/admin", route_class=PersRoute, tags=["Admin"])
ADMIN = Access(PrincipalKind.ADMIN)
Session = Annotated[AsyncSession, Depends(get_session)]


class AdminRead(WireModel):
    id: uuid.UUID
    email: str
    display_name: str | None
    type: AdminType
    is_active: bool
    tenants: list[TenantPublic] = Field(description="The tenants this admin manages.")


class AdminUpsert(WireInput):
    email: Email
    display_name: str | None = Field(default=None, max_length=200)
    type: AdminType
    is_active: bool | None = Field(default=None, description="Deactivate or reactivate (pers).")


async def admin_read(session: AsyncSession, admin: Admin) -> AdminRead:
    tenant = await tenants_service.get_by_id(session, admin.tenant_id)
    return AdminRead(
        id=admin.id,
        email=admin.email,
        display_name=admin.display_name,
        type=admin.type,
        is_active=admin.is_active,
        tenants=[public_read(tenant)],
    )


@router.get("/admin", summary="ADMIN: Get all admins", response_model=list[AdminRead])
async def list_admins(session: Session, ctx: RequestContext = Depends(ADMIN)) -> list[AdminRead]:
    """Every admin of the current tenant."""
    return [await admin_read(session, a) for a in await service.list_admins(session, ctx)]


@router.post("/admin", summary="ADMIN: Create or update an admin", response_model=AdminRead)
async def upsert_admin(
    body: AdminUpsert, session: Session, ctx: RequestContext = Depends(ADMIN)
) -> AdminRead:
    """Create the admin with this e-mail in the tenant, or update the existing one. Only a
    SUPER_ADMIN or the tenant admin JWT may manage admins. The admin logs in with
    `POST /auth/admin/login` and an ID token for this e-mail."""
    admin = await service.upsert_admin(
        session,
        ctx,
        email=body.email,
        display_name=body.display_name,
        admin_type=body.type,
        is_active=body.is_active,
    )
    return await admin_read(session, admin)
