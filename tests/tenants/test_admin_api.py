"""GET/POST /v1.7/admin/admin: listing and create-or-update of a tenant's admins.

The admin access tokens used below are minted with the deployment's signer (what a login would
return), so the principal rules can be tested without an identity provider.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from pers.runtime import Runtime
from tests.auth.helpers import admin_access_token
from tests.conftest import TenantHandle

PROBLEM = "application/problem+json"


async def upsert(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/v1.7/admin/admin", json=body, headers=headers)


async def create(
    client: httpx.AsyncClient, tenant: TenantHandle, email: str, type_: str = "TENANT_ADMIN"
) -> dict[str, Any]:
    response = await upsert(client, tenant.admin, email=email, type=type_)
    assert response.status_code == 200, response.text
    return response.json()


async def list_admins(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/v1.7/admin/admin", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    if code is not None:
        assert response.json()["code"] == code, response.text


async def test_tenant_admin_jwt_creates_an_admin(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await upsert(
        client, tenant.admin, email="ann@a.example", type="TENANT_ADMIN", displayName="Ann"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body["email"] == "ann@a.example"
    assert body["displayName"] == "Ann"
    assert body["type"] == "TENANT_ADMIN"
    assert body["isActive"] is True
    assert [t["id"] for t in body["tenants"]] == [str(tenant.id)]
    assert body["tenants"][0]["projectName"] == "Tenant A"
    assert "projectApiKey" not in body["tenants"][0]


async def test_new_tenant_has_no_admins(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    assert await list_admins(client, tenant.admin) == []


async def test_posting_the_same_email_in_another_case_updates_the_admin(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    first = await create(client, tenant, "Ann@A.example")
    response = await upsert(
        client, tenant.admin, email="ann@a.EXAMPLE", type="SUPER_ADMIN", displayName="Boss"
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["id"] == first["id"]
    assert updated["type"] == "SUPER_ADMIN"
    assert updated["displayName"] == "Boss"
    assert updated["email"].lower() == "ann@a.example"
    admins = await list_admins(client, tenant.admin)
    matching = [a for a in admins if a["email"].lower() == "ann@a.example"]
    assert len(matching) == 1
    assert matching[0]["type"] == "SUPER_ADMIN"


async def test_update_without_display_name_keeps_it(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    await upsert(
        client, tenant.admin, email="kim@a.example", type="TENANT_ADMIN", displayName="Kim"
    )
    response = await upsert(client, tenant.admin, email="kim@a.example", type="TENANT_ADMIN")
    assert response.status_code == 200, response.text
    assert response.json()["displayName"] == "Kim"


async def test_admin_can_be_deactivated_and_reactivated(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    admin = await create(client, tenant, "eve@a.example")
    off = await upsert(
        client, tenant.admin, email="eve@a.example", type="TENANT_ADMIN", isActive=False
    )
    assert off.status_code == 200, off.text
    assert (off.json()["id"], off.json()["isActive"]) == (admin["id"], False)
    on = await upsert(
        client, tenant.admin, email="eve@a.example", type="TENANT_ADMIN", isActive=True
    )
    assert on.json()["isActive"] is True


async def test_list_contains_every_created_admin(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    ann = await create(client, tenant, "ann@a.example")
    bob = await create(client, tenant, "bob@a.example", "SUPER_ADMIN")
    admins = await list_admins(client, tenant.admin)
    by_id = {a["id"]: a for a in admins}
    assert set(by_id) == {ann["id"], bob["id"]}
    assert by_id[ann["id"]]["type"] == "TENANT_ADMIN"
    assert by_id[bob["id"]]["type"] == "SUPER_ADMIN"
    assert all(a["tenants"][0]["id"] == str(tenant.id) for a in admins)


async def test_another_tenants_list_does_not_contain_them(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    ann = await create(client, tenant, "ann@a.example")
    bob = await create(client, tenant, "bob@a.example")
    theirs = await list_admins(client, other_tenant.admin)
    assert {ann["id"], bob["id"]}.isdisjoint({a["id"] for a in theirs})
    assert not any(a["email"].endswith("@a.example") for a in theirs)


async def test_same_email_in_another_tenant_is_a_separate_admin(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    ours = await create(client, tenant, "shared@example.com")
    theirs = await create(client, other_tenant, "SHARED@example.com", "SUPER_ADMIN")
    assert theirs["id"] != ours["id"]
    assert [t["id"] for t in theirs["tenants"]] == [str(other_tenant.id)]
    (mine,) = [a for a in await list_admins(client, tenant.admin) if a["id"] == ours["id"]]
    assert mine["type"] == "TENANT_ADMIN"


async def test_admin_jwt_with_another_tenants_project_key_is_rejected(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    response = await upsert(
        client,
        {**tenant.admin, **other_tenant.public},
        email="sneaky@example.com",
        type="SUPER_ADMIN",
    )
    assert_problem(response, 401, "TENANT_MISMATCH")
    assert await list_admins(client, other_tenant.admin) == []


async def test_tenant_admin_principal_cannot_create_admins_but_can_list(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    plain = await create(client, tenant, "plain@a.example", "TENANT_ADMIN")
    headers = admin_access_token(runtime, tenant, plain["id"])
    response = await upsert(client, headers, email="new@a.example", type="TENANT_ADMIN")
    assert_problem(response, 403, "OWNER_ADMIN_REQUIRED")
    promote = await upsert(client, headers, email="plain@a.example", type="SUPER_ADMIN")
    assert_problem(promote, 403, "OWNER_ADMIN_REQUIRED")
    admins = await list_admins(client, headers)
    assert [a["email"] for a in admins] == ["plain@a.example"]
    assert admins[0]["type"] == "TENANT_ADMIN"


async def test_super_admin_principal_can_create_admins(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    boss = await create(client, tenant, "boss@a.example", "SUPER_ADMIN")
    response = await upsert(
        client,
        admin_access_token(runtime, tenant, boss["id"]),
        email="hire@a.example",
        type="TENANT_ADMIN",
    )
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "hire@a.example"


async def test_super_admin_cannot_demote_themselves(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    boss = await create(client, tenant, "boss@a.example", "SUPER_ADMIN")
    response = await upsert(
        client,
        admin_access_token(runtime, tenant, boss["id"]),
        email="boss@a.example",
        type="TENANT_ADMIN",
    )
    assert_problem(response, 422, "ADMIN_SELF_DEMOTION")
    (stored,) = await list_admins(client, tenant.admin)
    assert stored["type"] == "SUPER_ADMIN"


async def test_deactivated_admin_token_is_rejected(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    boss = await create(client, tenant, "gone@a.example", "SUPER_ADMIN")
    headers = admin_access_token(runtime, tenant, boss["id"])
    assert (await client.get("/v1.7/admin/admin", headers=headers)).status_code == 200
    off = await upsert(
        client, tenant.admin, email="gone@a.example", type="SUPER_ADMIN", isActive=False
    )
    assert off.status_code == 200, off.text
    assert_problem(await client.get("/v1.7/admin/admin", headers=headers), 401, "INVALID_TOKEN")


async def test_admin_token_for_another_tenants_admin_id_is_rejected(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle, runtime: Runtime
) -> None:
    theirs = await create(client, other_tenant, "boss@b.example", "SUPER_ADMIN")
    # A token claiming tenant A for tenant B's admin: the admin is not found under tenant A.
    headers = admin_access_token(runtime, tenant, theirs["id"])
    assert_problem(await client.get("/v1.7/admin/admin", headers=headers), 401)


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@c.example", "@c.example", "ab"])
async def test_bad_email_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle, email: str
) -> None:
    response = await upsert(client, tenant.admin, email=email, type="TENANT_ADMIN")
    assert_problem(response, 400, "VALIDATION_ERROR")
    assert any("email" in e["field"] for e in response.json()["errors"])
    assert await list_admins(client, tenant.admin) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@a.example"}, "type"),
        ({"email": "x@a.example", "type": "ROOT"}, "type"),
        ({"type": "TENANT_ADMIN"}, "email"),
        ({"email": "x@a.example", "type": "TENANT_ADMIN", "role": "x"}, "role"),
    ],
    ids=["missing-type", "unknown-type", "missing-email", "unknown-field"],
)
async def test_invalid_upsert_body_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1.7/admin/admin", json=body, headers=tenant.admin)
    assert_problem(response, 400, "VALIDATION_ERROR")
    assert any(field in e["field"] for e in response.json()["errors"]), response.text


async def test_admin_operations_need_admin_credentials(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert_problem(await client.get("/v1.7/admin/admin"), 401)
    public = await client.get("/v1.7/admin/admin", headers=tenant.public)
    assert public.status_code in (401, 403), public.text
    anonymous = await client.post(
        "/v1.7/admin/admin", json={"email": "x@a.example", "type": "SUPER_ADMIN"}
    )
    assert_problem(anonymous, 401)
    assert await list_admins(client, tenant.admin) == []


async def test_a_tenant_admin_cannot_revoke_keys_but_the_owner_can(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    issued = await client.post(
        "/v1.7/tenant/admin/api-key", json={"keyName": "k"}, headers=tenant.admin
    )
    assert issued.status_code == 201, issued.text
    listed = await client.get("/v1.7/tenant/admin/api-key", headers=tenant.admin)
    key_id = next(k["id"] for k in listed.json() if k["name"] == "k")
    created = await client.post(
        "/v1.7/admin/admin",
        json={"email": f"{uuid.uuid4().hex}@a.example", "type": "TENANT_ADMIN"},
        headers=tenant.admin,
    )
    plain = admin_access_token(runtime, tenant, created.json()["id"])
    refused = await client.delete(f"/v1.7/tenant/admin/api-key/{key_id}", headers=plain)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "OWNER_ADMIN_REQUIRED"
    revoked = await client.delete(f"/v1.7/tenant/admin/api-key/{key_id}", headers=tenant.admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["isRevoked"] is True
