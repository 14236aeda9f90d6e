"""Row Level Security as the API's database role (``pers_app``) sees it.

Every session here comes from the runtime's engine (or one built like it), so statements run as
``pers_app`` and the policies apply; the owner engine is used only to prove the rows exist.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from pers.bootstrap import DatabaseUrls
from pers.config import Settings
from pers.db import Database, make_engine, set_tenant
from pers.runtime import Runtime
from tests.conftest import TenantHandle, create_tenant

APP_ROLE = "pers_app"
RLS_TABLES = (
    "admins", "api_keys", "idempotency_keys", "refresh_tokens", "users", "user_identities",
)  # fmt: skip


@dataclass
class TwoTenants:
    a: TenantHandle
    b: TenantHandle
    a_emails: set[str]
    b_emails: set[str]


async def _add_admins(client: httpx.AsyncClient, tenant: TenantHandle, *emails: str) -> set[str]:
    for email in emails:
        response = await client.post(
            "/v1.7/admin/admin",
            json={"email": email, "type": "TENANT_ADMIN"},
            headers=tenant.admin,
        )
        assert response.status_code == 200, response.text
    return set(emails)


@pytest.fixture
async def two_tenants(client: httpx.AsyncClient) -> TwoTenants:
    a = await create_tenant(client, "RLS A")
    b = await create_tenant(client, "RLS B")
    a_emails = await _add_admins(client, a, "ann@a.example", "al@a.example")
    b_emails = await _add_admins(client, b, "bob@b.example")
    return TwoTenants(a, b, a_emails, b_emails)


@pytest.fixture
async def app_session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    session = runtime.db.sessionmaker()
    try:
        yield session
    finally:
        await session.rollback()
        await session.close()


@pytest.fixture
async def single_connection_db(
    database_urls: DatabaseUrls, settings: Settings
) -> AsyncIterator[Database]:
    """Built exactly like the runtime's database, with a pool of one connection."""
    tiny = settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0})
    role = None if database_urls.dedicated_app_login else APP_ROLE
    db = Database(make_engine(database_urls.app, tiny, role=role))
    yield db
    await db.dispose()


async def _admin_rows(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    rows = await session.execute(text("SELECT tenant_id, email FROM admins"))
    return [(r[0], r[1]) for r in rows]


async def _tenant_ids(session: AsyncSession, table: str) -> set[uuid.UUID]:
    rows = await session.execute(text(f"SELECT DISTINCT tenant_id FROM {table}"))
    return {r[0] for r in rows}


async def test_app_session_runs_as_the_app_role(app_session: AsyncSession) -> None:
    assert await app_session.scalar(text("SELECT current_user")) == APP_ROLE


async def test_without_tenant_context_no_tenant_rows_are_visible(
    two_tenants: TwoTenants, app_session: AsyncSession, owner_engine: AsyncEngine
) -> None:
    async with owner_engine.connect() as owner:
        for table in ("admins", "api_keys"):
            seen = await owner.scalar(
                text(f"SELECT count(*) FROM {table} WHERE tenant_id IN (:a, :b)"),
                {"a": two_tenants.a.id, "b": two_tenants.b.id},
            )
            assert seen > 0, f"{table}: the fixture wrote no rows, the check would be vacuous"
    for table in RLS_TABLES:
        count = await app_session.scalar(text(f"SELECT count(*) FROM {table}"))
        assert count == 0, f"{table}: {count} rows visible without a tenant context"


async def test_set_tenant_shows_only_that_tenants_rows(
    two_tenants: TwoTenants, app_session: AsyncSession
) -> None:
    await set_tenant(app_session, two_tenants.a.id)
    rows = await _admin_rows(app_session)
    assert {tenant for tenant, _ in rows} == {two_tenants.a.id}
    assert {email for _, email in rows} == two_tenants.a_emails
    assert await _tenant_ids(app_session, "api_keys") == {two_tenants.a.id}
    # Even an explicit filter on the other tenant finds nothing.
    other = await app_session.scalar(
        text("SELECT count(*) FROM admins WHERE tenant_id = :b"), {"b": two_tenants.b.id}
    )
    assert other == 0


async def test_update_and_delete_cannot_touch_another_tenants_rows(
    two_tenants: TwoTenants, app_session: AsyncSession, owner_engine: AsyncEngine
) -> None:
    await set_tenant(app_session, two_tenants.a.id)
    b = {"b": two_tenants.b.id}
    updated = await app_session.execute(
        text("UPDATE admins SET display_name = 'pwned' WHERE tenant_id = :b"), b
    )
    deleted = await app_session.execute(text("DELETE FROM api_keys WHERE tenant_id = :b"), b)
    assert updated.rowcount == 0
    assert deleted.rowcount == 0
    await app_session.commit()
    async with owner_engine.connect() as owner:
        names = (
            await owner.execute(text("SELECT display_name FROM admins WHERE tenant_id = :b"), b)
        ).scalars()
        assert "pwned" not in list(names)
        assert await owner.scalar(text("SELECT count(*) FROM api_keys WHERE tenant_id = :b"), b)


async def test_tenant_context_ends_with_the_transaction(
    two_tenants: TwoTenants, app_session: AsyncSession
) -> None:
    await set_tenant(app_session, two_tenants.a.id)
    assert await _admin_rows(app_session)
    await app_session.commit()
    setting = await app_session.scalar(text("SELECT current_setting('pers.tenant_id', true)"))
    assert setting in (None, "")
    assert await _admin_rows(app_session) == []


async def test_reused_pooled_connection_sees_only_the_tenant_of_each_transaction(
    two_tenants: TwoTenants, single_connection_db: Database
) -> None:
    pids = []
    async with single_connection_db.unit_of_work() as session:
        await set_tenant(session, two_tenants.a.id)
        pids.append(await session.scalar(text("SELECT pg_backend_pid()")))
        assert await _tenant_ids(session, "admins") == {two_tenants.a.id}
    async with single_connection_db.unit_of_work() as session:
        await set_tenant(session, two_tenants.b.id)
        pids.append(await session.scalar(text("SELECT pg_backend_pid()")))
        rows = await _admin_rows(session)
        assert {tenant for tenant, _ in rows} == {two_tenants.b.id}
        assert {email for _, email in rows} == two_tenants.b_emails
        assert await _tenant_ids(session, "api_keys") == {two_tenants.b.id}
    async with single_connection_db.unit_of_work() as session:
        pids.append(await session.scalar(text("SELECT pg_backend_pid()")))
        assert await _admin_rows(session) == [], "tenant B leaked into a context-free transaction"
    assert len(set(pids)) == 1, f"the pool did not reuse its one connection: {pids}"


async def test_rolled_back_context_does_not_leak_into_the_next_transaction(
    two_tenants: TwoTenants, single_connection_db: Database
) -> None:
    async def read_then_fail() -> None:
        async with single_connection_db.unit_of_work() as session:
            await set_tenant(session, two_tenants.a.id)
            assert await _admin_rows(session)
            raise RuntimeError("abort the unit of work")

    with pytest.raises(RuntimeError, match="abort the unit of work"):
        await read_then_fail()
    async with single_connection_db.unit_of_work() as session:
        assert await _admin_rows(session) == []


def _insert_admin(tenant_id: uuid.UUID, email: str) -> tuple[object, dict[str, object]]:
    return (
        text(
            "INSERT INTO admins (tenant_id, id, email, type) "
            "VALUES (:tenant, :id, :email, 'TENANT_ADMIN')"
        ),
        {"tenant": tenant_id, "id": uuid.uuid4(), "email": email},
    )


async def test_inserting_a_row_for_another_tenant_is_rejected(
    two_tenants: TwoTenants, app_session: AsyncSession, owner_engine: AsyncEngine
) -> None:
    await set_tenant(app_session, two_tenants.a.id)
    own_stmt, own_params = _insert_admin(two_tenants.a.id, "own@a.example")
    await app_session.execute(own_stmt, own_params)  # control: the own tenant is writable
    stmt, params = _insert_admin(two_tenants.b.id, "intruder@b.example")
    with pytest.raises(DBAPIError) as info:
        await app_session.execute(stmt, params)
    assert "row-level security" in str(info.value)
    await app_session.rollback()
    async with owner_engine.connect() as owner:
        leaked = await owner.scalar(
            text("SELECT count(*) FROM admins WHERE email = 'intruder@b.example'")
        )
    assert leaked == 0


async def test_moving_a_row_to_another_tenant_is_rejected(
    two_tenants: TwoTenants, app_session: AsyncSession
) -> None:
    await set_tenant(app_session, two_tenants.a.id)
    with pytest.raises(DBAPIError) as info:
        await app_session.execute(
            text("UPDATE admins SET tenant_id = :b WHERE email = 'ann@a.example'"),
            {"b": two_tenants.b.id},
        )
    assert "row-level security" in str(info.value)


async def test_inserting_without_tenant_context_is_rejected(
    two_tenants: TwoTenants, app_session: AsyncSession
) -> None:
    stmt, params = _insert_admin(two_tenants.a.id, "nocontext@a.example")
    with pytest.raises(DBAPIError) as info:
        await app_session.execute(stmt, params)
    assert "row-level security" in str(info.value)


async def test_reset_role_does_not_escape_the_app_role(
    two_tenants: TwoTenants, single_connection_db: Database
) -> None:
    async with single_connection_db.sessionmaker() as session:
        await session.execute(text("RESET ROLE"))
        assert await session.scalar(text("SELECT current_user")) == APP_ROLE
        assert await _admin_rows(session) == []
        await set_tenant(session, two_tenants.a.id)
        assert await _tenant_ids(session, "admins") == {two_tenants.a.id}
        await session.rollback()


async def test_set_role_to_the_owner_is_refused(
    owner_url: str, single_connection_db: Database
) -> None:
    owner = make_url(owner_url).username
    assert owner
    async with single_connection_db.sessionmaker() as session:
        try:
            with pytest.raises(DBAPIError):
                await session.execute(text(f'SET ROLE "{owner}"'))
            await session.rollback()
        finally:
            await session.rollback()
        assert await session.scalar(text("SELECT current_user")) == APP_ROLE
