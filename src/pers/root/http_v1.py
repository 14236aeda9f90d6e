"""Root (seed 000): ``/``, ``/healthcheck``, ``/system``, ``/admin``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pers import __version__
from pers.auth.context import PrincipalKind, RequestContext
from pers.kit.schemas import WireModel
from pers.web import Access, PersRoute, get_session

router = APIRouter(route_class=PersRoute, tags=["Root"])


class Welcome(WireModel):
    name: str
    version: str
    api_version: str
    docs: str


class Health(WireModel):
    status: str
    current_time: datetime
    database: str


@router.get("/", summary="Welcome", response_model=Welcome, response_model_by_alias=True)
async def root() -> Welcome:
    """Name and version of the service; open to everyone."""
    return Welcome(name="pers", version=__version__, api_version="1.7.2", docs="/docs")


@router.get("/healthcheck", summary="Health check and current time", response_model=Health)
async def healthcheck(
    ctx: RequestContext = Depends(
        Access(PrincipalKind.PUBLIC, PrincipalKind.SYSTEM, PrincipalKind.ADMIN)
    ),
    session: AsyncSession = Depends(get_session),
) -> Health:
    """The server's current time once the database answered (needs the project key)."""
    await session.execute(text("SELECT 1"))
    return Health(status="ok", current_time=ctx.now, database="ok")


@router.get("/system", summary="Check if tenant system api key is valid", response_model=bool)
async def system(ctx: RequestContext = Depends(Access(PrincipalKind.SYSTEM))) -> bool:
    """``true`` when ``x-api-key`` is a valid, unrevoked system key of the tenant."""
    return True


@router.get("/admin", summary="ADMIN: Check if admin", response_model=bool)
async def admin(ctx: RequestContext = Depends(Access(PrincipalKind.ADMIN))) -> bool:
    """``true`` when the bearer token is a valid tenant admin credential."""
    return True
