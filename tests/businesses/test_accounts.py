"""Business accounts: creation, activation, profile updates, lists, lookups by id and by
account address, and tenant isolation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from pers.runtime import Runtime
from pers.wallets.derivation import OwnerType
from tests.businesses.conftest import (
    ABILITIES,
    BUSINESS,
    BUSINESS_FIELDS,
    Callers,
    activate,
    assert_problem,
    assert_validation_error,
    create_active_business,
    create_business,
    create_type,
    make_admin,
)
from tests.conftest import TenantHandle

FULL_PROFILE: dict[str, Any] = {
    "email": "hello@cafe.example",
    "businessLegalName": "Corner Cafe S.L.",
    "displayName": "Corner Cafe",
    "description": "Coffee, cakes and a loyalty stamp card.",
    "shortDescription": "Coffee and cakes",
    "websiteUrl": "https://cafe.example",
    "imageUrl": "https://cafe.example/logo.png",
    "streetAddress": "Carrer de Mallorca 1",
    "city": "Barcelona",
    "postalCode": "08013",
    "coordsLatitude": 41.4036,
    "coordsLongitude": 2.1744,
}
CLEARABLE = [
    "email",
    "businessLegalName",
    "description",
    "shortDescription",
    "websiteUrl",
    "imageUrl",
    "streetAddress",
    "city",
    "postalCode",
]


async def update(
    client: httpx.AsyncClient, tenant: TenantHandle, business_id: str, body: Any
) -> httpx.Response:
    return await client.put(f"{BUSINESS}/admin/{business_id}", json=body, headers=tenant.admin)


async def get_as(client: httpx.AsyncClient, headers: dict[str, str], business_id: str) -> Any:
    response = await client.get(f"{BUSINESS}/{business_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def admin_list(
    client: httpx.AsyncClient, tenant: TenantHandle, **params: str
) -> httpx.Response:
    return await client.get(f"{BUSINESS}/admin", params=params, headers=tenant.admin)


# --- POST /business/admin -----------------------------------------------------------------


async def test_admin_creates_an_inactive_business_with_every_documented_field(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    response = await client.post(
        f"{BUSINESS}/admin", json={"displayName": "Corner Cafe"}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == BUSINESS_FIELDS | {"apiPrivateKey"}
    business_id = uuid.UUID(body["id"])
    assert body["displayName"] == "Corner Cafe"
    assert body["isActive"] is False
    assert all(body[a] is False for a in ABILITIES)
    assert body["businessType"] is None
    assert body["email"] is None
    assert body["coordsLatitude"] is None
    assert body["apiPrivateKey"].startswith("pers_biz_")
    assert body["accountAddress"] == runtime.wallets.address(
        tenant.id, OwnerType.BUSINESS, business_id
    )


async def test_account_addresses_are_deterministic_and_distinct(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle, runtime: Runtime
) -> None:
    first = await create_business(client, tenant, "One")
    second = await create_business(client, tenant, "Two")
    theirs = await create_business(client, other_tenant, "Three")
    addresses = {first["accountAddress"], second["accountAddress"], theirs["accountAddress"]}
    assert len(addresses) == 3
    for created, owner in ((first, tenant), (second, tenant), (theirs, other_tenant)):
        derived = runtime.wallets.address(owner.id, OwnerType.BUSINESS, uuid.UUID(created["id"]))
        assert created["accountAddress"] == derived
        assert derived.startswith("0x")
        assert len(derived) == 42
    # The stored address does not move: later reads answer the same one.
    assert (await get_as(client, tenant.admin, first["id"]))["accountAddress"] == first[
        "accountAddress"
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "displayName"),
        ({"displayName": ""}, "displayName"),
        ({"displayName": "x" * 201}, "displayName"),
        ({"displayName": "Cafe", "isActive": True}, "isActive"),
    ],
)
async def test_create_business_rejects_invalid_bodies(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict, field: str
) -> None:
    response = await client.post(f"{BUSINESS}/admin", json=body, headers=tenant.admin)
    assert_validation_error(response, field)
    assert (await admin_list(client, tenant)).json() == []


async def test_create_business_replays_for_the_same_idempotency_key(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    headers = {**tenant.admin, "Idempotency-Key": f"biz-{uuid.uuid4().hex}"}
    first = await client.post(f"{BUSINESS}/admin", json={"displayName": "Once"}, headers=headers)
    again = await client.post(f"{BUSINESS}/admin", json={"displayName": "Once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len((await admin_list(client, tenant)).json()) == 1


# --- PUT /business/admin/activate/{id} ------------------------------------------------------


async def test_activation_sets_active_and_the_abilities_sent(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_business(client, tenant)
    body = await activate(
        client, tenant, created["id"], canMintToken=True, canChargeToken=True, canManageUsers=False
    )
    assert set(body) == BUSINESS_FIELDS
    assert body["isActive"] is True
    assert (body["canMintToken"], body["canChargeToken"]) == (True, True)
    assert (body["canManageUsers"], body["canReceiveDonation"]) == (False, False)


async def test_abilities_left_out_keep_their_value_and_deactivation_keeps_them(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_business(client, tenant)
    await activate(client, tenant, created["id"], canReceiveDonation=True, canManageUsers=True)
    again = await activate(client, tenant, created["id"], canManageUsers=False)
    assert (again["canReceiveDonation"], again["canManageUsers"]) == (True, False)
    off = await client.put(
        f"{BUSINESS}/admin/activate/{created['id']}", json={"isActive": False}, headers=tenant.admin
    )
    assert off.status_code == 200, off.text
    assert off.json()["isActive"] is False
    assert off.json()["canReceiveDonation"] is True
    assert (await get_as(client, tenant.admin, created["id"]))["isActive"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "isActive"),
        ({"isActive": "sometimes"}, "isActive"),
        ({"isActive": True, "canMintToken": None}, "canMintToken"),
        ({"isActive": True, "canFly": True}, "canFly"),
    ],
)
async def test_activation_rejects_invalid_bodies(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict, field: str
) -> None:
    created = await create_business(client, tenant)
    response = await client.put(
        f"{BUSINESS}/admin/activate/{created['id']}", json=body, headers=tenant.admin
    )
    assert_validation_error(response, field)
    assert (await get_as(client, tenant.admin, created["id"]))["isActive"] is False


async def test_activating_another_tenants_business_is_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = await create_business(client, other_tenant)
    response = await client.put(
        f"{BUSINESS}/admin/activate/{theirs['id']}", json={"isActive": True}, headers=tenant.admin
    )
    assert_problem(response, 404, "BUSINESS_NOT_FOUND")
    assert (await get_as(client, other_tenant.admin, theirs["id"]))["isActive"] is False


# --- PUT /business/admin/{id} ---------------------------------------------------------------


async def test_update_sets_the_whole_profile_with_type_and_coordinates(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_business(client, tenant, "Draft name")
    kind = await create_type(client, tenant, name="Cafe", code="CAFE")
    response = await update(
        client, tenant, created["id"], {**FULL_PROFILE, "businessTypeId": kind["id"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == BUSINESS_FIELDS | {"tokenBalances"}
    assert {k: body[k] for k in FULL_PROFILE} == FULL_PROFILE
    assert body["businessType"] == kind
    assert body["tokenBalances"] == []
    assert body["accountAddress"] == created["accountAddress"]
    stored = await get_as(client, tenant.admin, created["id"])
    assert {k: stored[k] for k in FULL_PROFILE} == FULL_PROFILE


async def test_update_changes_only_the_fields_sent(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_business(client, tenant)
    await update(client, tenant, created["id"], FULL_PROFILE)
    response = await update(client, tenant, created["id"], {"city": "Girona"})
    assert response.status_code == 200, response.text
    assert response.json() == {**response.json(), **FULL_PROFILE, "city": "Girona"}


async def test_update_with_null_clears_optional_fields_type_and_coordinates(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_business(client, tenant)
    kind = await create_type(client, tenant)
    await update(client, tenant, created["id"], {**FULL_PROFILE, "businessTypeId": kind["id"]})
    cleared = dict.fromkeys([*CLEARABLE, "coordsLatitude", "coordsLongitude", "businessTypeId"])
    response = await update(client, tenant, created["id"], cleared)
    assert response.status_code == 200, response.text
    body = response.json()
    assert all(body[k] is None for k in [*CLEARABLE, "coordsLatitude", "coordsLongitude"])
    assert body["businessType"] is None
    assert body["displayName"] == FULL_PROFILE["displayName"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"coordsLatitude": 90.5, "coordsLongitude": 0}, "coordsLatitude"),
        ({"coordsLatitude": -91, "coordsLongitude": 0}, "coordsLatitude"),
        ({"coordsLatitude": 0, "coordsLongitude": 180.01}, "coordsLongitude"),
        ({"coordsLatitude": 0, "coordsLongitude": -181}, "coordsLongitude"),
        ({"coordsLatitude": "north", "coordsLongitude": 0}, "coordsLatitude"),
        ({"coordsLatitude": 10}, "coordsLongitude"),
        ({"coordsLatitude": 10, "coordsLongitude": None}, "coordsLongitude"),
        ({"displayName": None}, "displayName"),
        ({"displayName": ""}, "displayName"),
        ({"email": "not-an-email"}, "email"),
        ({"businessTypeId": 0}, "businessTypeId"),
        ({"accountAddress": "0x" + "0" * 40}, "accountAddress"),
        ({"isActive": True}, "isActive"),
    ],
)
async def test_update_rejects_invalid_bodies_and_changes_nothing(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict, field: str
) -> None:
    created = await create_business(client, tenant, "Unchanged")
    response = await update(client, tenant, created["id"], body)
    assert_validation_error(response, field)
    stored = await get_as(client, tenant.admin, created["id"])
    assert stored == {k: v for k, v in created.items() if k != "apiPrivateKey"}


async def test_coordinates_on_the_range_limits_are_accepted(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_business(client, tenant)
    for lat, lon in ((90, 180), (-90, -180)):
        response = await update(
            client, tenant, created["id"], {"coordsLatitude": lat, "coordsLongitude": lon}
        )
        assert response.status_code == 200, response.text
        assert (response.json()["coordsLatitude"], response.json()["coordsLongitude"]) == (lat, lon)


async def test_update_with_an_unknown_or_foreign_type_is_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    created = await create_business(client, tenant)
    theirs = await create_type(client, other_tenant)
    for type_id in (theirs["id"], 999999999):
        response = await update(client, tenant, created["id"], {"businessTypeId": type_id})
        assert_problem(response, 404, "BUSINESS_TYPE_NOT_FOUND")
    assert (await get_as(client, tenant.admin, created["id"]))["businessType"] is None


async def test_business_email_is_unique_per_tenant_ignoring_case(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    first = await create_business(client, tenant, "First")
    second = await create_business(client, tenant, "Second")
    assert (await update(client, tenant, first["id"], {"email": "shop@x.example"})).is_success
    taken = await update(client, tenant, second["id"], {"email": "SHOP@x.example"})
    assert_problem(taken, 409, "BUSINESS_EMAIL_TAKEN")
    assert (await get_as(client, tenant.admin, second["id"]))["email"] is None
    # Its own e-mail again, and the same e-mail in another tenant, are fine.
    assert (await update(client, tenant, first["id"], {"email": "shop@x.example"})).is_success
    theirs = await create_business(client, other_tenant)
    assert (
        await update(client, other_tenant, theirs["id"], {"email": "shop@x.example"})
    ).is_success


async def test_update_of_another_tenants_business_is_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = await create_business(client, other_tenant, "Theirs")
    response = await update(client, tenant, theirs["id"], {"displayName": "Hijacked"})
    assert_problem(response, 404, "BUSINESS_NOT_FOUND")
    assert (await get_as(client, other_tenant.admin, theirs["id"]))["displayName"] == "Theirs"


# --- GET /business, GET /business/admin -----------------------------------------------------


async def test_public_list_has_only_the_tenants_active_businesses(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    active = await create_active_business(client, tenant, "Open")
    await create_business(client, tenant, "Not yet")
    await create_active_business(client, other_tenant, "Elsewhere")
    response = await client.get(BUSINESS, headers=tenant.public)
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [b["id"] for b in listed] == [active["id"]]
    assert set(listed[0]) == BUSINESS_FIELDS
    assert listed[0]["isActive"] is True


async def test_admin_list_filters_by_active(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    on = await create_active_business(client, tenant, "On")
    off = await create_business(client, tenant, "Off")
    await create_business(client, other_tenant, "Other")
    every = await admin_list(client, tenant)
    assert every.status_code == 200, every.text
    assert [b["id"] for b in every.json()] == [on["id"], off["id"]]
    assert set(every.json()[0]) == BUSINESS_FIELDS
    assert [b["id"] for b in (await admin_list(client, tenant, active="true")).json()] == [on["id"]]
    assert [b["id"] for b in (await admin_list(client, tenant, active="false")).json()] == [
        off["id"]
    ]
    assert "x-sanitize-checked" not in every.headers


async def test_admin_list_rejects_an_active_filter_that_is_not_a_boolean(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert_validation_error(await admin_list(client, tenant, active="maybe"), "active")


# --- GET /business/{id}, GET /business/account/{accountAddress} -----------------------------


async def test_get_by_id_and_by_address_answer_the_business(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_active_business(client, tenant, "Found")
    by_id = await get_as(client, tenant.public, created["id"])
    assert set(by_id) == BUSINESS_FIELDS
    assert (by_id["id"], by_id["displayName"]) == (created["id"], "Found")
    address = created["accountAddress"]
    for form in (address, address.lower(), "0x" + address[2:].upper()):
        response = await client.get(f"{BUSINESS}/account/{form}", headers=tenant.public)
        assert response.status_code == 200, response.text
        assert response.json() == by_id


async def test_another_tenants_business_is_not_found_by_id_or_address(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = await create_active_business(client, other_tenant, "Theirs")
    for headers in (tenant.public, tenant.admin):
        by_id = await client.get(f"{BUSINESS}/{theirs['id']}", headers=headers)
        assert_problem(by_id, 404, "BUSINESS_NOT_FOUND")
        by_address = await client.get(
            f"{BUSINESS}/account/{theirs['accountAddress']}", headers=headers
        )
        assert_problem(by_address, 404, "BUSINESS_NOT_FOUND")
    assert (await get_as(client, other_tenant.public, theirs["id"]))["id"] == theirs["id"]


async def test_inactive_business_is_visible_to_admins_and_systems_only(
    client: httpx.AsyncClient, callers: Callers
) -> None:
    hidden = await create_business(client, callers.tenant, "Hidden")
    for headers in (callers.admin, callers.system):
        assert (await get_as(client, headers, hidden["id"]))["isActive"] is False
        at = await client.get(f"{BUSINESS}/account/{hidden['accountAddress']}", headers=headers)
        assert at.status_code == 200, at.text
    for headers in (callers.public, callers.user):
        by_id = await client.get(f"{BUSINESS}/{hidden['id']}", headers=headers)
        assert_problem(by_id, 404, "BUSINESS_NOT_FOUND")
        at = await client.get(f"{BUSINESS}/account/{hidden['accountAddress']}", headers=headers)
        assert_problem(at, 404, "BUSINESS_NOT_FOUND")


async def test_unknown_business_id_and_address_are_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    by_id = await client.get(f"{BUSINESS}/{uuid.uuid4()}", headers=tenant.admin)
    assert_problem(by_id, 404, "BUSINESS_NOT_FOUND")
    at = await client.get(f"{BUSINESS}/account/0x{'ab' * 20}", headers=tenant.admin)
    assert_problem(at, 404, "BUSINESS_NOT_FOUND")


@pytest.mark.parametrize("path", ["/not-a-uuid", "/account/0x1234", "/account/cafe"])
async def test_malformed_id_or_address_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle, path: str
) -> None:
    response = await client.get(f"{BUSINESS}{path}", headers=tenant.public)
    assert_validation_error(response, "accountAddress" if "account" in path else "id")


async def test_reading_businesses_needs_a_project_key(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(BUSINESS), 401, "MISSING_CREDENTIALS")
    assert_problem(await client.get(f"{BUSINESS}/{uuid.uuid4()}"), 401, "MISSING_CREDENTIALS")


# --- permissions ----------------------------------------------------------------------------


def _admin_operations(business_id: str) -> list[tuple[str, str, Any]]:
    return [
        ("GET", f"{BUSINESS}/admin", None),
        ("POST", f"{BUSINESS}/admin", {"displayName": "Intruder"}),
        ("PUT", f"{BUSINESS}/admin/{business_id}", {"displayName": "Intruder"}),
        ("PUT", f"{BUSINESS}/admin/activate/{business_id}", {"isActive": True}),
        ("PUT", f"{BUSINESS}/admin/{business_id}/api-key", None),
    ]


@pytest.mark.parametrize("caller", ["user", "system", "business"])
async def test_admin_operations_refuse_other_principals(
    client: httpx.AsyncClient, callers: Callers, caller: str
) -> None:
    tenant = callers.tenant
    target = await create_business(client, tenant, "Target")
    if caller == "business":
        own = await create_active_business(client, tenant, "Caller")
        headers = {"x-api-key": own["apiPrivateKey"], "x-project-key": tenant.testnet_key}
    else:
        headers = getattr(callers, caller)
    for method, path, body in _admin_operations(target["id"]):
        response = await client.request(method, path, json=body, headers=headers)
        assert_problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    stored = await get_as(client, tenant.admin, target["id"])
    assert (stored["displayName"], stored["isActive"]) == ("Target", False)


async def test_admin_operations_without_credentials_are_unauthorized(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    target = await create_business(client, tenant, "Target")
    for method, path, body in _admin_operations(target["id"]):
        response = await client.request(method, path, json=body, headers=tenant.public)
        assert_problem(response, 401, "MISSING_CREDENTIALS")


async def test_tenant_admin_person_manages_businesses(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime
) -> None:
    headers = await make_admin(client, runtime, tenant, "TENANT_ADMIN")
    response = await client.post(
        f"{BUSINESS}/admin", json={"displayName": "By Ops"}, headers=headers
    )
    assert response.status_code == 201, response.text
    business_id = response.json()["id"]
    activated = await client.put(
        f"{BUSINESS}/admin/activate/{business_id}", json={"isActive": True}, headers=headers
    )
    assert activated.json()["isActive"] is True
