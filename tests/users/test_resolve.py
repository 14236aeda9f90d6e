"""The service other packages call: resolve_user, get_user_view, get_user_by_address."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pers.auth.context import Principal, PrincipalKind, RequestContext
from pers.db import set_tenant
from pers.kit.enums import Environment
from pers.runtime import Runtime
from pers.users import service
from pers.users.errors import InvalidUserIdentifier, UserNotFound
from pers.users.models import User, UserIdentifier
from pers.users.service import UserView
from tests.conftest import TenantHandle
from tests.users.conftest import LoginAs, derived_address
from tests.users.helpers import ADMIN_USERS, create_user, unique_email

EMAIL, EXTERNAL_ID, INSTAGRAM, ID = (
    UserIdentifier.EMAIL,
    UserIdentifier.EXTERNAL_ID,
    UserIdentifier.INSTAGRAM_ACCOUNT_ID,
    UserIdentifier.ID,
)


def system_context(runtime: Runtime, tenant_id: uuid.UUID) -> RequestContext:
    """What a claim or transaction made by the tenant's systems would pass."""
    return RequestContext(
        tenant_id=tenant_id,
        environment=Environment.TESTNET,
        principal=Principal(PrincipalKind.SYSTEM, uuid.uuid4()),
        now=runtime.clock.now(),
        request_id="test",
    )


async def resolve(
    runtime: Runtime, tenant_id: uuid.UUID, identifier: UserIdentifier, value: str, *, create: bool
) -> UserView:
    async with runtime.db.unit_of_work() as session:
        await set_tenant(session, tenant_id)
        return await service.resolve_user(
            session,
            runtime,
            system_context(runtime, tenant_id),
            identifier=identifier,
            value=value,
            create=create,
        )


async def in_tenant(runtime: Runtime, tenant_id: uuid.UUID, call: Any) -> Any:
    async with runtime.db.unit_of_work() as session:
        await set_tenant(session, tenant_id)
        return await call(session, system_context(runtime, tenant_id))


async def count_users(runtime: Runtime, tenant_id: uuid.UUID, **where: str) -> int:
    async with runtime.db.unit_of_work() as session:
        await set_tenant(session, tenant_id)
        stmt = select(func.count()).select_from(User).where(User.tenant_id == tenant_id)
        for column, value in where.items():
            stmt = stmt.where(func.lower(getattr(User, column)) == value.lower())
        return int((await session.execute(stmt)).scalar_one())


async def test_create_makes_a_user_holding_the_identifier_with_its_address(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    email = unique_email("new")
    view = await resolve(runtime, tenant.id, EMAIL, email, create=True)

    assert view.email == email
    assert view.is_active is True
    assert (view.external_id, view.instagram_account_id) == (None, None)
    assert view.account_address == derived_address(runtime, tenant.id, str(view.id))
    again = await resolve(runtime, tenant.id, EMAIL, email, create=True)
    assert again == view
    assert await count_users(runtime, tenant.id) == 1


async def test_emails_match_case_insensitively(runtime: Runtime, tenant: TenantHandle) -> None:
    email = unique_email("Case")
    created = await resolve(runtime, tenant.id, EMAIL, email, create=True)
    assert await resolve(runtime, tenant.id, EMAIL, email.upper(), create=True) == created
    assert await resolve(runtime, tenant.id, EMAIL, email.lower(), create=False) == created
    assert created.email == email  # stored as first given


async def test_external_and_instagram_ids_create_and_match_exactly(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    by_crm = await resolve(runtime, tenant.id, EXTERNAL_ID, "CRM-7", create=True)
    by_ig = await resolve(runtime, tenant.id, INSTAGRAM, "ig_7", create=True)
    assert by_crm.external_id == "CRM-7"
    assert by_ig.instagram_account_id == "ig_7"
    assert by_crm.id != by_ig.id
    assert await resolve(runtime, tenant.id, EXTERNAL_ID, "CRM-7", create=False) == by_crm
    with pytest.raises(UserNotFound):
        await resolve(runtime, tenant.id, EXTERNAL_ID, "crm-7", create=False)


async def test_lookup_without_create_never_creates(runtime: Runtime, tenant: TenantHandle) -> None:
    with pytest.raises(UserNotFound) as caught:
        await resolve(runtime, tenant.id, EMAIL, unique_email("ghost"), create=False)
    assert caught.value.code == "USER_NOT_FOUND"
    assert caught.value.status == 404
    assert await count_users(runtime, tenant.id) == 0


async def test_ids_are_looked_up_and_never_created(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    user = await create_user(client, tenant, email=unique_email("byid"))
    found = await resolve(runtime, tenant.id, ID, user["id"], create=True)
    assert str(found.id) == user["id"]
    assert found.account_address == user["accountAddress"]
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(UserNotFound):
            await resolve(runtime, tenant.id, ID, unknown, create=True)
    assert await count_users(runtime, tenant.id) == 1


@pytest.mark.parametrize(
    ("identifier", "value"),
    [(EMAIL, ""), (EMAIL, "not-an-email"), (EMAIL, " padded@example.com"),
     (EXTERNAL_ID, ""), (EXTERNAL_ID, "x" * 201), (INSTAGRAM, "")],
)  # fmt: skip
async def test_invalid_values_to_create_with_are_400(
    runtime: Runtime, tenant: TenantHandle, identifier: UserIdentifier, value: str
) -> None:
    with pytest.raises(InvalidUserIdentifier) as caught:
        await resolve(runtime, tenant.id, identifier, value, create=True)
    assert caught.value.status == 400
    assert await count_users(runtime, tenant.id) == 0


async def test_deactivated_users_are_resolved_and_say_so(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    email = unique_email("off")
    user = await create_user(client, tenant, email=email)
    await client.put(f"{ADMIN_USERS}/{user['id']}/toggle-active", headers=tenant.admin)
    view = await resolve(runtime, tenant.id, EMAIL, email, create=True)
    assert str(view.id) == user["id"]
    assert view.is_active is False


async def test_tenants_do_not_share_users(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    email = unique_email("both")
    mine = await resolve(runtime, tenant.id, EMAIL, email, create=True)
    with pytest.raises(UserNotFound):
        await resolve(runtime, other_tenant.id, ID, str(mine.id), create=False)
    with pytest.raises(UserNotFound):
        await resolve(runtime, other_tenant.id, EMAIL, email, create=False)
    theirs = await resolve(runtime, other_tenant.id, EMAIL, email, create=True)
    assert theirs.id != mine.id
    assert theirs.account_address != mine.account_address


async def test_concurrent_creations_of_one_new_email_make_one_user(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    email = unique_email("race")
    spellings = [email if i % 2 else email.upper() for i in range(10)]

    views = await asyncio.gather(
        *(resolve(runtime, tenant.id, EMAIL, value, create=True) for value in spellings)
    )

    assert len({v.id for v in views}) == 1
    assert len({v.account_address for v in views}) == 1
    assert await count_users(runtime, tenant.id, email=email) == 1
    assert await count_users(runtime, tenant.id) == 1


async def test_concurrent_creations_of_one_new_external_id_make_one_user(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    views = await asyncio.gather(
        *(resolve(runtime, tenant.id, EXTERNAL_ID, "crm-race", create=True) for _ in range(10))
    )
    assert len({v.id for v in views}) == 1
    assert await count_users(runtime, tenant.id) == 1


async def test_a_user_resolved_by_email_is_joined_by_a_verified_login(
    runtime: Runtime, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    email = unique_email("rewarded")
    rewarded = await resolve(runtime, trusting_tenant.id, EMAIL, email, create=True)
    session = await login_as(trusting_tenant, email=email)
    assert session.id == str(rewarded.id)


async def test_get_user_view_by_id(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    user = await create_user(client, tenant, externalId="crm-view", instagramAccountId="ig-v")
    user_id = uuid.UUID(user["id"])
    view = await in_tenant(runtime, tenant.id, lambda s, c: service.get_user_view(s, c, user_id))
    assert view == UserView(
        id=user_id,
        account_address=user["accountAddress"],
        email=None,
        external_id="crm-view",
        instagram_account_id="ig-v",
        is_active=True,
    )
    with pytest.raises(UserNotFound):
        await in_tenant(runtime, other_tenant.id, lambda s, c: service.get_user_view(s, c, user_id))


async def test_get_user_by_address_in_any_letter_case(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    user = await create_user(client, tenant)
    address = user["accountAddress"]
    for spelling in (address, address.lower(), "0x" + address[2:].upper()):
        view = await in_tenant(
            runtime, tenant.id, lambda s, c, a=spelling: service.get_user_by_address(s, c, a)
        )
        assert str(view.id) == user["id"]
    for unknown in ("0x0000000000000000000000000000000000000001", "0x123", "", address[:-1]):
        with pytest.raises(UserNotFound):
            await in_tenant(
                runtime, tenant.id, lambda s, c, a=unknown: service.get_user_by_address(s, c, a)
            )
    with pytest.raises(UserNotFound):
        await in_tenant(
            runtime, other_tenant.id, lambda s, c: service.get_user_by_address(s, c, address)
        )
