from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Row,
    Text,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from pers.db import driver
from pers.kit.pagination import Page, PageRequest
from pers.users.models import User, UserIdentity, UserStatusType


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, *, for_update: bool = False
) -> User | None:
    stmt = select(User).where(User.tenant_id == tenant_id, User.id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def get_many(
    session: AsyncSession, tenant_id: uuid.UUID, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, User]:
    if not user_ids:
        return {}
    result = await session.execute(
        select(User).where(User.tenant_id == tenant_id, User.id.in_(user_ids))
    )
    return {u.id: u for u in result.scalars()}


async def get_by_email(session: AsyncSession, tenant_id: uuid.UUID, email: str) -> User | None:
    result = await session.execute(
        select(User).where(User.tenant_id == tenant_id, User.email_key == email.lower())
    )
    return result.scalar_one_or_none()


async def get_by_external_id(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str
) -> User | None:
    result = await session.execute(
        select(User).where(User.tenant_id == tenant_id, User.external_id == external_id)
    )
    return result.scalar_one_or_none()


async def get_by_instagram_account_id(
    session: AsyncSession, tenant_id: uuid.UUID, instagram_account_id: str
) -> User | None:
    result = await session.execute(
        select(User).where(
            User.tenant_id == tenant_id, User.instagram_account_id == instagram_account_id
        )
    )
    return result.scalar_one_or_none()


async def get_by_address(
    session: AsyncSession, tenant_id: uuid.UUID, account_address: str
) -> User | None:
    result = await session.execute(
        select(User).where(User.tenant_id == tenant_id, User.account_address == account_address)
    )
    return result.scalar_one_or_none()


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(
    tenant_id: uuid.UUID, search: str | None, active: bool | None, search_id: uuid.UUID | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [User.tenant_id == tenant_id]
    if active is not None:
        conditions.append(User.is_active.is_(active))
    if search:
        pattern = f"%{_escape_like(search)}%"
        matches: list[ColumnElement[bool]] = [
            column.ilike(pattern, escape="\\")
            for column in (User.email, User.external_id, User.account_address)
        ]
        matches.append(
            func.concat_ws(" ", User.first_name, User.last_name).ilike(pattern, escape="\\")
        )
        if search_id is not None:
            matches.append(User.id == search_id)
        conditions.append(or_(*matches))
    return conditions


async def list_page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    request: PageRequest,
    *,
    search: str | None,
    active: bool | None,
    search_id: uuid.UUID | None,
) -> Page[User]:
    """Newest first. ``search`` matches e-mail, first and last name, externalId and account
    address as case-insensitive substrings, and ``search_id`` the id exactly."""
    conditions = _conditions(tenant_id, search, active, search_id)
    total = await session.scalar(select(func.count()).select_from(User).where(*conditions))
    result = await session.execute(
        select(User)
        .where(*conditions)
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(request.limit)
        .offset(request.offset)
    )
    return Page(list(result.scalars()), int(total or 0), request)


async def get_identity(
    session: AsyncSession, tenant_id: uuid.UUID, issuer: str, subject: str
) -> UserIdentity | None:
    result = await session.execute(
        select(UserIdentity).where(
            UserIdentity.tenant_id == tenant_id,
            UserIdentity.issuer == issuer,
            UserIdentity.subject == subject,
        )
    )
    return result.scalar_one_or_none()


async def has_identity_from(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, issuer: str
) -> bool:
    result = await session.execute(
        select(UserIdentity.subject).where(
            UserIdentity.tenant_id == tenant_id,
            UserIdentity.user_id == user_id,
            UserIdentity.issuer == issuer,
        )
    )
    return result.first() is not None


async def lock_key(session: AsyncSession, tenant_id: uuid.UUID, key: str) -> None:
    """Serialize creation of rows that do not exist yet (first login of an identity, first use
    of an e-mail or externalId). Keys: ``identity:<iss>:<sub>``, ``email:<lower-case>``,
    ``externalId:<value>``, ``instagramAccountId:<value>``."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"user:{tenant_id}:{key}"},
    )


async def add(session: AsyncSession, row: User | UserIdentity | UserStatusType) -> None:
    session.add(row)
    await session.flush()


async def touch_identity(session: AsyncSession, identity: UserIdentity) -> None:
    await session.execute(
        update(UserIdentity)
        .where(
            UserIdentity.tenant_id == identity.tenant_id,
            UserIdentity.issuer == identity.issuer,
            UserIdentity.subject == identity.subject,
        )
        .values(last_login_at=func.now())
    )


# --- status types ---------------------------------------------------------------------------


async def list_status_types(
    session: AsyncSession, tenant_id: uuid.UUID
) -> Sequence[UserStatusType]:
    result = await session.execute(
        select(UserStatusType)
        .where(UserStatusType.tenant_id == tenant_id)
        .order_by(UserStatusType.min_token_balance, UserStatusType.id)
    )
    return result.scalars().all()


async def get_status_type(
    session: AsyncSession, tenant_id: uuid.UUID, status_type_id: int, *, for_update: bool = False
) -> UserStatusType | None:
    stmt = select(UserStatusType).where(
        UserStatusType.tenant_id == tenant_id, UserStatusType.id == status_type_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def get_status_type_by_name(
    session: AsyncSession, tenant_id: uuid.UUID, name: str
) -> UserStatusType | None:
    result = await session.execute(
        select(UserStatusType).where(
            UserStatusType.tenant_id == tenant_id,
            func.lower(UserStatusType.name) == name.lower(),
        )
    )
    return result.scalar_one_or_none()


# --- bulk (mint from URL) -----------------------------------------------------------------------
# Plain rows, never ORM objects: a file of 100,000 recipients must not fill the session's
# identity map.

_VIEW_COLUMNS = (
    User.id,
    User.account_address,
    User.email,
    User.external_id,
    User.instagram_account_id,
    User.is_active,
)


UserRow = Row[uuid.UUID, str, str | None, str | None, str | None, bool]


async def rows_where_in(
    session: AsyncSession, tenant_id: uuid.UUID, column: str, values: Sequence[object]
) -> Sequence[UserRow]:
    """Users whose ``column`` is one of ``values`` (``email`` compares lower-cased values
    with ``email_key``, through the unique index)."""
    if not values:
        return []
    target = User.email_key if column == "email" else getattr(User, column)
    # One array parameter (= ANY), not an IN list of 1,000 parameters: one statement text
    # whatever the count, and an index condition in every plan.
    element = Uuid() if column == "id" else Text()
    array = cast(bindparam("values", list(values), type_=ARRAY(element)), ARRAY(element))
    result = await session.execute(
        select(*_VIEW_COLUMNS).where(User.tenant_id == tenant_id, target == any_(array))
    )
    return result.all()


_VIEW_SELECT = (
    "SELECT id, account_address, email, external_id, instagram_account_id, is_active"
    " FROM users WHERE tenant_id = $1 AND "
)
_VIEW_BY = {
    "id": _VIEW_SELECT + "id = $2",
    "email": _VIEW_SELECT + "email_key = $2",
    "external_id": _VIEW_SELECT + "external_id = $2",
    "instagram_account_id": _VIEW_SELECT + "instagram_account_id = $2",
}


async def view_row(
    session: AsyncSession, tenant_id: uuid.UUID, column: str, value: object
) -> tuple[uuid.UUID, str, str | None, str | None, str | None, bool] | None:
    """The user whose ``column`` is ``value`` (an e-mail given lower-cased), as the columns of
    ``_VIEW_COLUMNS``: one plain statement on the driver connection, for the lookups that
    name a user on every mint, charge and claim."""
    conn = await driver(session)
    row = await conn.fetchrow(_VIEW_BY[column], tenant_id, value)
    return None if row is None else tuple(row)


_INSERT_USERS = text(
    "INSERT INTO users (tenant_id, id, account_address, email, external_id,"
    " instagram_account_id, created_at, updated_at)"
    " SELECT CAST(:tenant_id AS uuid), r.id, r.account_address, r.email, r.external_id,"
    " r.instagram_account_id, CAST(:now AS timestamptz), CAST(:now AS timestamptz)"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:addresses AS varchar[]), CAST(:emails AS varchar[]),"
    " CAST(:external_ids AS varchar[]), CAST(:instagram_ids AS varchar[]))"
    " AS r(id, account_address, email, external_id, instagram_account_id)"
    " ON CONFLICT DO NOTHING RETURNING id"
)


async def insert_many(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    now: datetime,
    *,
    ids: list[uuid.UUID],
    addresses: list[str],
    emails: list[str | None],
    external_ids: list[str | None],
    instagram_ids: list[str | None],
) -> set[uuid.UUID]:
    """Create users in one statement; one whose identifier another user already holds (or
    takes concurrently: the insert waits for that transaction) is skipped. Returns the ids
    created."""
    result = await session.execute(
        _INSERT_USERS,
        {
            "tenant_id": tenant_id, "now": now, "ids": ids, "addresses": addresses,
            "emails": emails, "external_ids": external_ids, "instagram_ids": instagram_ids,
        },
    )  # fmt: skip
    return {row[0] for row in result.all()}
