"""POST /v1.7/user/info: look a user up by one identifier."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import TenantHandle
from tests.users.conftest import LoginAs
from tests.users.helpers import INFO, create_user, system_headers, unique_email
from tests.web.helpers import assert_problem


@pytest.fixture
async def known(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, Any]:
    return await create_user(
        client,
        tenant,
        email=unique_email("known"),
        externalId=f"crm-{uuid.uuid4().hex[:8]}",
        instagramAccountId=f"ig-{uuid.uuid4().hex[:8]}",
        firstName="Kim",
    )


def _lookups(user: dict[str, Any]) -> list[dict[str, Any]]:
    """Every way of naming ``user``: with userIdentifier, and by a single field."""
    return [
        {"userIdentifier": "id", "id": user["id"]},
        {"userIdentifier": "email", "email": user["email"].upper()},
        {"userIdentifier": "externalId", "externalId": user["externalId"]},
        {"userIdentifier": "instagramAccountId", "instagramAccountId": user["instagramAccountId"]},
        {"email": user["email"]},
        {"externalId": user["externalId"]},
        {"accountAddress": user["accountAddress"].lower()},
        # userIdentifier picks the field; the others are ignored.
        {"userIdentifier": "externalId", "externalId": user["externalId"], "email": "x@y.z"},
    ]


async def test_admin_finds_a_user_by_each_identifier(
    client: httpx.AsyncClient, tenant: TenantHandle, known: dict[str, Any]
) -> None:
    for body in _lookups(known):
        response = await client.post(INFO, json=body, headers=tenant.admin)
        assert response.status_code == 200, (body, response.text)
        assert response.json() == known


async def test_unknown_identifiers_are_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    for body in (
        {"userIdentifier": "id", "id": str(uuid.uuid4())},
        {"id": "not-a-uuid"},
        {"email": "nobody@example.com"},
        {"externalId": "nobody"},
        {"instagramAccountId": "nobody"},
        {"accountAddress": "0x0000000000000000000000000000000000000001"},
        {"accountAddress": "0x123"},
    ):
        response = await client.post(INFO, json=body, headers=tenant.admin)
        assert_problem(response, 404, "USER_NOT_FOUND")


async def test_lookup_never_creates_a_user(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    email = unique_email("ghost")
    assert_problem(await client.post(INFO, json={"email": email}, headers=tenant.admin), 404)
    assert_problem(await client.post(INFO, json={"email": email}, headers=tenant.admin), 404)
    listed = await client.get("/v1.7/user/admin", headers=tenant.admin)
    assert listed.json()["pagination"]["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"userIdentifier": "email"},
        {"userIdentifier": "email", "externalId": "crm-1"},
        {"email": "a@example.com", "externalId": "crm-1"},
        {"userIdentifier": "phone", "phone": "123"},
        {"userIdentifier": "email", "email": ""},
    ],
)
async def test_lookup_body_must_name_exactly_one_identifier(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, Any]
) -> None:
    response = await client.post(INFO, json=body, headers=tenant.admin)
    assert_problem(response, 400, "VALIDATION_ERROR")


async def test_another_tenants_user_is_not_found(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
    known: dict[str, Any],
) -> None:
    for body in _lookups(known):
        response = await client.post(INFO, json=body, headers=other_tenant.admin)
        assert_problem(response, 404, "USER_NOT_FOUND")


async def test_lookup_is_refused_to_users_and_systems(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    session = await login_as(trusting_tenant)
    body = {"id": session.id}
    user_call = await client.post(INFO, json=body, headers=session.headers)
    assert_problem(user_call, 403, "PRINCIPAL_NOT_ALLOWED")
    system = await system_headers(client, trusting_tenant)
    assert_problem(await client.post(INFO, json=body, headers=system), 403)
    assert_problem(
        await client.post(INFO, json=body, headers=trusting_tenant.public),
        401,
        "MISSING_CREDENTIALS",
    )
