"""Business types: POST/PUT /business/admin/type, DELETE /business/admin/type/{id},
GET /business/type."""

from __future__ import annotations

import httpx
import pytest

from tests.businesses.conftest import (
    BUSINESS,
    TYPE_FIELDS,
    Callers,
    assert_problem,
    assert_validation_error,
    create_business,
    create_type,
)
from tests.conftest import TenantHandle

TYPES = f"{BUSINESS}/type"
ADMIN_TYPE = f"{BUSINESS}/admin/type"


async def list_types(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict]:
    response = await client.get(TYPES, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_admin_creates_a_type_with_every_documented_field(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_type(
        client,
        tenant,
        name="Museum",
        description="Art and history",
        code="MUSEUM",
        iconUrl="https://cdn.example/museum.svg",
    )
    assert set(created) == TYPE_FIELDS
    assert isinstance(created["id"], int)
    assert created["name"] == "Museum"
    assert created["description"] == "Art and history"
    assert created["code"] == "MUSEUM"
    assert created["iconUrl"] == "https://cdn.example/museum.svg"


async def test_type_without_code_and_icon_answers_them_as_null(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_type(client, tenant, name="Bakery", description="Bread")
    assert (created["code"], created["iconUrl"]) == (None, None)


async def test_types_are_listed_for_the_project_key_in_creation_order(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    first = await create_type(client, tenant, name="Cafe")
    second = await create_type(client, tenant, name="Shop")
    listed = await list_types(client, tenant.public)
    assert [t["id"] for t in listed] == [first["id"], second["id"]]
    assert listed[1] == second


async def test_another_tenant_does_not_see_the_types(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    ours = await create_type(client, tenant, name="Gym")
    theirs = await list_types(client, other_tenant.public)
    assert ours["id"] not in {t["id"] for t in theirs}


async def test_update_replaces_name_and_description_and_keeps_unsent_fields(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_type(client, tenant, code="BAR", iconUrl="https://i.example/bar.png")
    response = await client.put(
        ADMIN_TYPE,
        json={"id": created["id"], "name": "Pub", "description": "Beer", "code": None},
        headers=tenant.admin,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == {
        "id": created["id"],
        "name": "Pub",
        "description": "Beer",
        "code": None,
        "iconUrl": "https://i.example/bar.png",
    }
    assert updated in await list_types(client, tenant.public)


async def test_update_of_another_tenants_type_is_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = await create_type(client, other_tenant, name="Theirs")
    response = await client.put(
        ADMIN_TYPE,
        json={"id": theirs["id"], "name": "Mine now", "description": "x"},
        headers=tenant.admin,
    )
    assert_problem(response, 404, "BUSINESS_TYPE_NOT_FOUND")
    assert theirs in await list_types(client, other_tenant.public)


async def test_type_code_is_unique_per_tenant(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    first = await create_type(client, tenant, code="HOTEL")
    again = await client.post(
        ADMIN_TYPE,
        json={"name": "Hotel 2", "description": "d", "code": "HOTEL"},
        headers=tenant.admin,
    )
    assert_problem(again, 409, "BUSINESS_TYPE_CODE_TAKEN")
    other = await create_type(client, tenant, code="HOSTEL")
    taken = await client.put(
        ADMIN_TYPE,
        json={"id": other["id"], "name": "n", "description": "d", "code": "HOTEL"},
        headers=tenant.admin,
    )
    assert_problem(taken, 409, "BUSINESS_TYPE_CODE_TAKEN")
    # The same code in another tenant is that tenant's own business.
    assert (await create_type(client, other_tenant, code="HOTEL"))["code"] == "HOTEL"
    # Re-sending a type's own code is no conflict.
    same = await client.put(
        ADMIN_TYPE,
        json={"id": first["id"], "name": "Hotel", "description": "d", "code": "HOTEL"},
        headers=tenant.admin,
    )
    assert same.status_code == 200, same.text


async def test_delete_answers_true_and_keeps_the_businesses_without_a_type(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    doomed = await create_type(client, tenant, name="Kiosk")
    business = await create_business(client, tenant, "News kiosk")
    typed = await client.put(
        f"{BUSINESS}/admin/{business['id']}",
        json={"businessTypeId": doomed["id"]},
        headers=tenant.admin,
    )
    assert typed.json()["businessType"] == doomed

    response = await client.delete(f"{ADMIN_TYPE}/{doomed['id']}", headers=tenant.admin)

    assert response.status_code == 200, response.text
    assert response.json() is True
    assert doomed["id"] not in {t["id"] for t in await list_types(client, tenant.public)}
    kept = await client.get(f"{BUSINESS}/{business['id']}", headers=tenant.admin)
    assert kept.status_code == 200, kept.text
    assert kept.json()["businessType"] is None
    assert kept.json()["displayName"] == "News kiosk"


async def test_delete_of_a_missing_or_foreign_type_is_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = await create_type(client, other_tenant)
    foreign = await client.delete(f"{ADMIN_TYPE}/{theirs['id']}", headers=tenant.admin)
    assert_problem(foreign, 404, "BUSINESS_TYPE_NOT_FOUND")
    missing = await client.delete(f"{ADMIN_TYPE}/999999999", headers=tenant.admin)
    assert_problem(missing, 404, "BUSINESS_TYPE_NOT_FOUND")
    assert theirs in await list_types(client, other_tenant.public)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "no name"}, "name"),
        ({"name": "no description"}, "description"),
        ({"name": "", "description": "d"}, "name"),
        ({"name": "n", "description": "d", "code": ""}, "code"),
        ({"name": "n", "description": "d", "colour": "red"}, "colour"),
        ({"name": "n", "description": "d", "iconUrl": "x" * 3000}, "iconUrl"),
    ],
)
async def test_create_type_rejects_invalid_bodies(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict, field: str
) -> None:
    response = await client.post(ADMIN_TYPE, json=body, headers=tenant.admin)
    assert_validation_error(response, field)
    assert await list_types(client, tenant.public) == []


async def test_update_type_needs_the_id_in_the_body(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.put(
        ADMIN_TYPE, json={"name": "n", "description": "d"}, headers=tenant.admin
    )
    assert_validation_error(response, "id")


async def test_delete_type_with_a_non_numeric_id_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.delete(f"{ADMIN_TYPE}/not-a-number", headers=tenant.admin)
    assert_validation_error(response, "id")


@pytest.mark.parametrize("caller", ["user", "system", "public"])
async def test_type_administration_is_refused_to_non_admins(
    client: httpx.AsyncClient, callers: Callers, caller: str
) -> None:
    headers = getattr(callers, caller)
    existing = await create_type(client, callers.tenant, name="Existing")
    expected = (
        (401, "MISSING_CREDENTIALS") if caller == "public" else (403, "PRINCIPAL_NOT_ALLOWED")
    )
    attempts = [
        await client.post(ADMIN_TYPE, json={"name": "n", "description": "d"}, headers=headers),
        await client.put(
            ADMIN_TYPE,
            json={"id": existing["id"], "name": "n", "description": "d"},
            headers=headers,
        ),
        await client.delete(f"{ADMIN_TYPE}/{existing['id']}", headers=headers),
    ]
    for response in attempts:
        assert_problem(response, *expected)
    assert await list_types(client, callers.public) == [existing]


@pytest.mark.parametrize("caller", ["user", "system", "admin", "public"])
async def test_every_principal_of_the_tenant_can_list_types(
    client: httpx.AsyncClient, callers: Callers, caller: str
) -> None:
    created = await create_type(client, callers.tenant, name="Listed")
    assert await list_types(client, getattr(callers, caller)) == [created]


async def test_listing_types_needs_a_project_key(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(TYPES), 401, "MISSING_CREDENTIALS")
