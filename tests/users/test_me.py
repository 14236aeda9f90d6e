"""GET and PUT /v1.7/user/auth/me: the logged-in user's own account."""

from __future__ import annotations

import httpx

from pers.runtime import Runtime
from tests.auth.helpers import bearer
from tests.conftest import TenantHandle
from tests.users.conftest import LoginAs, derived_address
from tests.users.helpers import ADMIN_USERS, ME, create_user, system_headers, unique_email
from tests.web.helpers import assert_problem

USER_FIELDS = {
    "id", "email", "firstName", "lastName", "externalId", "accountAddress",
    "instagramAccountId", "googleAccountName", "customData", "publicProfile", "isActive",
    "createdAt", "updatedAt",
}  # fmt: skip


async def test_me_returns_the_logged_in_users_account_without_balances(
    client: httpx.AsyncClient, runtime: Runtime, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    email = unique_email("me")
    session = await login_as(trusting_tenant, email=email)

    response = await client.get(ME, headers=session.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["id"] == session.id
    assert body["email"] == email
    assert body["accountAddress"] == derived_address(runtime, trusting_tenant.id, session.id)
    assert body["isActive"] is True
    assert body["customData"] == {}
    assert body["publicProfile"] == {}
    assert body["firstName"] is None
    assert body["externalId"] is None
    assert body["createdAt"]
    assert body["updatedAt"]


async def test_me_needs_no_project_key_since_the_token_names_its_tenant(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    session = await login_as(trusting_tenant)
    response = await client.get(ME, headers=bearer(session.access_token))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == session.id


async def test_me_without_credentials_is_401_and_with_a_project_key_alone_too(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert_problem(await client.get(ME), 401, "MISSING_CREDENTIALS")
    assert_problem(await client.get(ME, headers=tenant.public), 401, "MISSING_CREDENTIALS")


async def test_me_is_refused_to_admins_and_systems(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert_problem(await client.get(ME, headers=tenant.admin), 403, "PRINCIPAL_NOT_ALLOWED")
    system = await system_headers(client, tenant)
    assert_problem(await client.get(ME, headers=system), 403, "PRINCIPAL_NOT_ALLOWED")
    assert_problem(
        await client.put(ME, json={"firstName": "X"}, headers=system), 403, "PRINCIPAL_NOT_ALLOWED"
    )


async def test_update_me_changes_only_the_profile_fields_sent(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    session = await login_as(trusting_tenant)
    first = await client.put(
        ME,
        json={
            "firstName": "Ada",
            "lastName": "Lovelace",
            "googleAccountName": "ada.l",
            "customData": {"shoeSize": 38, "tags": ["vip"]},
            "publicProfile": {"nickname": "countess"},
        },
        headers=session.headers,
    )
    assert first.status_code == 200, first.text
    second = await client.put(ME, json={"lastName": "King"}, headers=session.headers)
    assert second.status_code == 200, second.text

    body = (await client.get(ME, headers=session.headers)).json()
    assert body["firstName"] == "Ada"
    assert body["lastName"] == "King"
    assert body["googleAccountName"] == "ada.l"
    assert body["customData"] == {"shoeSize": 38, "tags": ["vip"]}
    assert body["publicProfile"] == {"nickname": "countess"}
    assert body == second.json()
    assert body["updatedAt"] >= body["createdAt"]


async def test_update_me_replaces_custom_data_whole_and_null_clears_a_name(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    session = await login_as(trusting_tenant)
    await client.put(
        ME, json={"firstName": "Bo", "customData": {"a": 1, "b": 2}}, headers=session.headers
    )
    response = await client.put(
        ME, json={"firstName": None, "customData": {"c": 3}}, headers=session.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["firstName"] is None
    assert response.json()["customData"] == {"c": 3}


async def test_user_cannot_change_identifiers_or_active_flag(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    email = unique_email("own")
    session = await login_as(trusting_tenant, email=email)
    attempts = {
        "email": unique_email("other"),
        "externalId": "crm-123",
        "instagramAccountId": "ig-123",
        "isActive": False,
    }
    for field, value in attempts.items():
        response = await client.put(
            ME, json={field: value, "firstName": "Sneaky"}, headers=session.headers
        )
        body = assert_problem(response, 403, "USER_FIELD_NOT_EDITABLE")
        assert body["field"] == field

    after = (await client.get(ME, headers=session.headers)).json()
    assert after["email"] == email
    assert after["externalId"] is None
    assert after["instagramAccountId"] is None
    assert after["isActive"] is True
    assert after["firstName"] is None  # the refused request changed nothing


async def test_user_cannot_take_another_users_email(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    taken = unique_email("taken")
    await create_user(client, trusting_tenant, email=taken)
    session = await login_as(trusting_tenant)
    response = await client.put(ME, json={"email": taken}, headers=session.headers)
    assert_problem(response, 403, "USER_FIELD_NOT_EDITABLE")


async def test_update_me_accepts_admin_managed_fields_sent_unchanged(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    email = unique_email("same")
    session = await login_as(trusting_tenant, email=email)
    response = await client.put(
        ME,
        json={"email": email, "externalId": None, "isActive": True, "firstName": "Cy"},
        headers=session.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["firstName"] == "Cy"


async def test_update_me_validates_its_body(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    session = await login_as(trusting_tenant)
    bad_bodies = [
        {"firstName": "x" * 201},
        {"customData": None},
        {"publicProfile": None},
        {"customData": "not an object"},
        {"customData": {"blob": "x" * 20_000}},
        {"accountAddress": "0x0000000000000000000000000000000000000001"},
        {"id": session.id},
        {"email": "not-an-email"},
    ]
    for body in bad_bodies:
        response = await client.put(ME, json=body, headers=session.headers)
        problem = assert_problem(response, 400, "VALIDATION_ERROR")
        assert problem["errors"][0]["field"] == f"body.{next(iter(body))}", problem


async def test_deactivated_user_is_refused_and_reactivated_user_admitted(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    session = await login_as(trusting_tenant)
    toggle = f"{ADMIN_USERS}/{session.id}/toggle-active"

    off = await client.put(toggle, headers=trusting_tenant.admin)
    assert off.status_code == 200, off.text
    assert off.json()["isActive"] is False
    assert_problem(await client.get(ME, headers=session.headers), 401, "USER_INACTIVE")

    on = await client.put(toggle, headers=trusting_tenant.admin)
    assert on.json()["isActive"] is True
    assert (await client.get(ME, headers=session.headers)).status_code == 200


async def test_users_cannot_use_the_admin_endpoints(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    session = await login_as(trusting_tenant)
    h = session.headers
    for response in (
        await client.get(ADMIN_USERS, headers=h),
        await client.get(f"{ADMIN_USERS}/{session.id}", headers=h),
        await client.post(ADMIN_USERS, json={}, headers=h),
        await client.put(f"{ADMIN_USERS}/{session.id}", json={}, headers=h),
        await client.put(f"{ADMIN_USERS}/{session.id}/toggle-active", headers=h),
    ):
        assert_problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    # Still active: the refused toggle did nothing.
    assert (await client.get(ME, headers=h)).json()["isActive"] is True
