"""/v1.7/user/admin: admins create, read, list, update and (de)activate the tenant's users."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pers.runtime import Runtime
from tests.auth.helpers import admin_access_token
from tests.conftest import TenantHandle
from tests.users.conftest import LoginAs, derived_address
from tests.users.helpers import (
    ADMIN_USERS,
    create_user,
    system_headers,
    unique_email,
)
from tests.web.helpers import assert_problem


async def test_admin_creates_a_user_with_every_field(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    email = unique_email("ann")
    body = await create_user(
        client,
        tenant,
        email=email,
        firstName="Ann",
        lastName="Smith",
        externalId="crm-1",
        instagramAccountId="ig-ann",
        googleAccountName="ann.smith",
        customData={"tier": "gold"},
        publicProfile={"avatar": "https://cdn.example/ann.png"},
    )
    assert body["email"] == email
    assert (body["firstName"], body["lastName"]) == ("Ann", "Smith")
    assert (body["externalId"], body["instagramAccountId"]) == ("crm-1", "ig-ann")
    assert body["googleAccountName"] == "ann.smith"
    assert body["customData"] == {"tier": "gold"}
    assert body["publicProfile"] == {"avatar": "https://cdn.example/ann.png"}
    assert body["isActive"] is True
    assert body["accountAddress"] == derived_address(runtime, tenant.id, body["id"])

    fetched = await client.get(f"{ADMIN_USERS}/{body['id']}", headers=tenant.admin)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == body


async def test_admin_creates_a_bare_user(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    body = await create_user(client, tenant)
    assert body["email"] is None
    assert body["customData"] == {}
    assert body["accountAddress"].startswith("0x")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "nope"},
        {"externalId": ""},
        {"externalId": "x" * 201},
        {"instagramAccountId": ""},
        {"customData": None},
        {"customData": []},
        {"isActive": False},  # not a create field: new users start active
        {"accountAddress": "0x0000000000000000000000000000000000000001"},
        {"unknown": 1},
    ],
)
async def test_create_user_validates_its_body(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, Any]
) -> None:
    response = await client.post(ADMIN_USERS, json=body, headers=tenant.admin)
    assert_problem(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("field", "code", "make"),
    [
        ("email", "USER_EMAIL_TAKEN", lambda v: (v, v.upper())),
        ("externalId", "USER_EXTERNAL_ID_TAKEN", lambda v: (v, v)),
        ("instagramAccountId", "USER_INSTAGRAM_ACCOUNT_ID_TAKEN", lambda v: (v, v)),
    ],
)
async def test_identifiers_are_unique_per_tenant(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
    field: str,
    code: str,
    make: Callable[[str], tuple[str, str]],
) -> None:
    first, again = make(unique_email("dup"))
    await create_user(client, tenant, **{field: first})

    response = await client.post(ADMIN_USERS, json={field: again}, headers=tenant.admin)
    body = assert_problem(response, 409, code)
    assert body["field"] == field

    # Another user cannot take it by update either.
    other = await create_user(client, tenant)
    response = await client.put(
        f"{ADMIN_USERS}/{other['id']}", json={field: again}, headers=tenant.admin
    )
    assert_problem(response, 409, code)

    # Another tenant is another namespace.
    assert (await create_user(client, other_tenant, **{field: again}))[field] == again


async def test_update_changes_only_the_fields_sent_and_null_clears(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    user = await create_user(
        client, tenant, email=unique_email("upd"), firstName="Al", externalId="crm-upd"
    )
    url = f"{ADMIN_USERS}/{user['id']}"
    new_email = unique_email("new")
    response = await client.put(
        url,
        json={"email": new_email, "externalId": None, "customData": {"x": 1}},
        headers=tenant.admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == new_email
    assert body["externalId"] is None
    assert body["firstName"] == "Al"
    assert body["customData"] == {"x": 1}
    assert body["accountAddress"] == user["accountAddress"]
    assert (await client.get(url, headers=tenant.admin)).json() == body


async def test_a_user_keeps_its_own_email_in_another_letter_case(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    email = unique_email("case")
    user = await create_user(client, tenant, email=email)
    response = await client.put(
        f"{ADMIN_USERS}/{user['id']}", json={"email": email.upper()}, headers=tenant.admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["email"] == email.upper()


async def test_admin_update_can_set_the_active_flag(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    user = await create_user(client, tenant)
    url = f"{ADMIN_USERS}/{user['id']}"
    response = await client.put(url, json={"isActive": False}, headers=tenant.admin)
    assert response.json()["isActive"] is False
    assert_problem(
        await client.put(url, json={"isActive": None}, headers=tenant.admin),
        400,
        "VALIDATION_ERROR",
    )


async def test_toggle_active_flips_the_flag_each_time(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    user = await create_user(client, tenant)
    url = f"{ADMIN_USERS}/{user['id']}/toggle-active"
    states = [(await client.put(url, headers=tenant.admin)).json()["isActive"] for _ in range(3)]
    assert states == [False, True, False]


async def test_unknown_or_malformed_user_ids(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    missing = f"{ADMIN_USERS}/{uuid.uuid4()}"
    assert_problem(await client.get(missing, headers=tenant.admin), 404, "USER_NOT_FOUND")
    assert_problem(
        await client.put(missing, json={"firstName": "x"}, headers=tenant.admin),
        404,
        "USER_NOT_FOUND",
    )
    assert_problem(
        await client.put(f"{missing}/toggle-active", headers=tenant.admin), 404, "USER_NOT_FOUND"
    )
    malformed = await client.get(f"{ADMIN_USERS}/not-a-uuid", headers=tenant.admin)
    assert_problem(malformed, 400, "VALIDATION_ERROR")


async def test_other_tenants_users_are_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    user = await create_user(client, tenant, email=unique_email("mine"))
    url = f"{ADMIN_USERS}/{user['id']}"
    theirs = other_tenant.admin
    assert_problem(await client.get(url, headers=theirs), 404, "USER_NOT_FOUND")
    assert_problem(
        await client.put(url, json={"firstName": "x"}, headers=theirs), 404, "USER_NOT_FOUND"
    )
    assert_problem(await client.put(f"{url}/toggle-active", headers=theirs), 404, "USER_NOT_FOUND")
    listed = (await client.get(ADMIN_USERS, headers=theirs, params={"limit": 100})).json()
    assert user["id"] not in {u["id"] for u in listed["data"]}
    # Untouched by the refused calls.
    assert (await client.get(url, headers=tenant.admin)).json() == user


async def test_admin_endpoints_refuse_systems_and_anonymous_callers(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    user = await create_user(client, tenant)
    system = await system_headers(client, tenant)
    url = f"{ADMIN_USERS}/{user['id']}"
    for response in (
        await client.get(ADMIN_USERS, headers=system),
        await client.post(ADMIN_USERS, json={}, headers=system),
        await client.get(url, headers=system),
        await client.put(url, json={"firstName": "x"}, headers=system),
        await client.put(f"{url}/toggle-active", headers=system),
    ):
        assert_problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    assert_problem(await client.get(ADMIN_USERS), 401, "MISSING_CREDENTIALS")
    assert_problem(await client.get(ADMIN_USERS, headers=tenant.public), 401)


async def test_a_tenant_admin_person_manages_users(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: TenantHandle,
    admin_factory: Callable[..., Any],
) -> None:
    admin = await admin_factory(tenant, unique_email("staff"), "TENANT_ADMIN")
    headers = admin_access_token(runtime, tenant, admin["id"])
    created = await client.post(ADMIN_USERS, json={"firstName": "Viv"}, headers=headers)
    assert created.status_code == 201, created.text
    listed = await client.get(ADMIN_USERS, headers=headers, params={"search": created.json()["id"]})
    assert [u["id"] for u in listed.json()["data"]] == [created.json()["id"]]


async def test_admin_created_user_is_joined_by_a_verified_login_with_that_email(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    email = unique_email("prereg")
    user = await create_user(client, trusting_tenant, email=email, externalId="crm-pre")
    session = await login_as(trusting_tenant, email=email.upper())
    assert session.id == user["id"]
    me = (await client.get("/v1.7/user/auth/me", headers=session.headers)).json()
    assert me["accountAddress"] == user["accountAddress"]
    assert me["externalId"] == "crm-pre"


# --- listing ---------------------------------------------------------------------------------


async def _list(client: httpx.AsyncClient, tenant: TenantHandle, **params: Any) -> dict[str, Any]:
    response = await client.get(ADMIN_USERS, headers=tenant.admin, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_list_is_paginated_newest_first(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    made = [(await create_user(client, tenant, firstName=f"P{i}"))["id"] for i in range(5)]
    newest_first = list(reversed(made))

    first = await _list(client, tenant, page=1, limit=2)
    assert [u["id"] for u in first["data"]] == newest_first[:2]
    assert first["pagination"] == {
        "page": 1, "limit": 2, "total": 5, "totalPages": 3, "hasNext": True, "hasPrev": False,
    }  # fmt: skip
    second = await _list(client, tenant, page=2, limit=2)
    assert [u["id"] for u in second["data"]] == newest_first[2:4]
    last = await _list(client, tenant, page=3, limit=2)
    assert [u["id"] for u in last["data"]] == newest_first[4:]
    assert (last["pagination"]["hasNext"], last["pagination"]["hasPrev"]) == (False, True)
    beyond = await _list(client, tenant, page=4, limit=2)
    assert beyond["data"] == []
    assert beyond["pagination"]["total"] == 5

    default = await _list(client, tenant)
    assert default["pagination"]["page"] == 1
    assert default["pagination"]["limit"] == 20
    assert [u["id"] for u in default["data"]] == newest_first


@pytest.mark.parametrize(
    "params",
    [{"page": 0}, {"limit": 0}, {"limit": 101}, {"page": "x"}, {"active": "maybe"},
     {"search": "s" * 201}],
)  # fmt: skip
async def test_list_validates_its_query(
    client: httpx.AsyncClient, tenant: TenantHandle, params: dict[str, Any]
) -> None:
    response = await client.get(ADMIN_USERS, headers=tenant.admin, params=params)
    assert_problem(response, 400, "VALIDATION_ERROR")


async def test_list_searches_email_names_external_id_address_and_id(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    ada = await create_user(
        client, tenant, email="ada.lovelace@math.example", firstName="Ada", lastName="Lovelace"
    )
    bob = await create_user(client, tenant, email="bob@shop.example", externalId="CRM-00042")
    cy = await create_user(client, tenant, firstName="Cy", lastName="Young")

    async def found(term: str) -> set[str]:
        return {u["id"] for u in (await _list(client, tenant, search=term))["data"]}

    assert await found("MATH.EXAMPLE") == {ada["id"]}
    assert await found("ada love") == {ada["id"]}
    assert await found("lovelace") == {ada["id"]}
    assert await found("crm-000") == {bob["id"]}
    assert await found(cy["accountAddress"].lower()) == {cy["id"]}
    assert await found(cy["id"]) == {cy["id"]}
    assert await found(".example") == {ada["id"], bob["id"]}
    assert await found("nobody-has-this") == set()
    assert (await _list(client, tenant, search="example", limit=1))["pagination"]["total"] == 2


async def test_search_treats_like_wildcards_literally(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    literal = await create_user(client, tenant, externalId="50%_off")
    await create_user(client, tenant, externalId="500 off")
    body = await _list(client, tenant, search="0%_")
    assert [u["id"] for u in body["data"]] == [literal["id"]]
    assert (await _list(client, tenant, search="%"))["pagination"]["total"] == 1


async def test_list_filters_on_the_active_flag(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    active = await create_user(client, tenant)
    inactive = await create_user(client, tenant)
    await client.put(f"{ADMIN_USERS}/{inactive['id']}/toggle-active", headers=tenant.admin)

    only_active = await _list(client, tenant, active="true")
    only_inactive = await _list(client, tenant, active="false")
    everyone = await _list(client, tenant)
    assert [u["id"] for u in only_active["data"]] == [active["id"]]
    assert [u["id"] for u in only_inactive["data"]] == [inactive["id"]]
    assert {u["id"] for u in everyone["data"]} == {active["id"], inactive["id"]}


async def test_concurrent_creations_with_one_email_make_one_user_and_clear_conflicts(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    email = unique_email("burst")
    responses = await asyncio.gather(
        *(client.post(ADMIN_USERS, json={"email": email}, headers=tenant.admin) for _ in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "USER_EMAIL_TAKEN")
    assert (await _list(client, tenant))["pagination"]["total"] == 1
