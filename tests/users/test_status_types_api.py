"""User status types: admins create and update them, everyone in the tenant reads them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import TenantHandle
from tests.users.conftest import LoginAs
from tests.users.helpers import ADMIN_STATUS_TYPES, STATUS_TYPES, system_headers
from tests.web.helpers import assert_problem

CREDIT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
STAMP = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


async def create_status(
    client: httpx.AsyncClient, tenant: TenantHandle, **body: Any
) -> dict[str, Any]:
    body = {"name": "Silver", "minTokenBalance": 100, **body}
    response = await client.post(ADMIN_STATUS_TYPES, json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_admin_creates_a_status_type_with_every_field(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    body = await create_status(
        client,
        tenant,
        name="Gold",
        description="Our best customers",
        minTokenBalance=1000.5,
        discountPercentage=12.5,
        imageUrl="https://cdn.example/gold.png",
        eligibleTokenAddresses=[CREDIT.lower(), STAMP, CREDIT],
    )
    assert isinstance(body["id"], int)
    assert body == {
        "id": body["id"],
        "name": "Gold",
        "description": "Our best customers",
        "minTokenBalance": 1000.5,
        "discountPercentage": 12.5,
        "imageUrl": "https://cdn.example/gold.png",
        # Normalised to EIP-55 and listed once each, in the order given.
        "eligibleTokenAddresses": [CREDIT, STAMP],
    }


async def test_optional_fields_have_defaults_and_whole_numbers_stay_integers(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    body = await create_status(client, tenant, name="Basic", minTokenBalance=0)
    assert body["minTokenBalance"] == 0
    assert isinstance(body["minTokenBalance"], int)
    assert body["discountPercentage"] == 0
    assert body["description"] is None
    assert body["imageUrl"] is None
    assert body["eligibleTokenAddresses"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"minTokenBalance": 1},  # no name
        {"name": "", "minTokenBalance": 1},
        {"name": "X"},  # no threshold
        {"name": "X", "minTokenBalance": -1},
        {"name": "X", "minTokenBalance": "lots"},
        {"name": "X", "minTokenBalance": True},
        {"name": "X", "minTokenBalance": 1, "discountPercentage": 100.01},
        {"name": "X", "minTokenBalance": 1, "discountPercentage": -1},
        {"name": "X", "minTokenBalance": 1, "discountPercentage": 10.125},
        {"name": "X", "minTokenBalance": 1, "eligibleTokenAddresses": ["0x123"]},
        {"name": "X", "minTokenBalance": 1, "eligibleTokenAddresses": [CREDIT[:-1] + "D"]},
        {"name": "X", "minTokenBalance": 1, "eligibleTokenAddresses": CREDIT},
        {"name": "X", "minTokenBalance": 1, "id": 7},
    ],
)
async def test_create_validates_its_body(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, Any]
) -> None:
    response = await client.post(ADMIN_STATUS_TYPES, json=body, headers=tenant.admin)
    assert_problem(response, 400, "VALIDATION_ERROR")


async def test_discount_accepts_the_bounds(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    free = await create_status(client, tenant, name="Free", discountPercentage=100)
    none = await create_status(client, tenant, name="None", discountPercentage=0)
    assert (free["discountPercentage"], none["discountPercentage"]) == (100, 0)


async def test_names_are_unique_per_tenant_in_any_case(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    await create_status(client, tenant, name="Platinum")
    response = await client.post(
        ADMIN_STATUS_TYPES, json={"name": "PLATINUM", "minTokenBalance": 5}, headers=tenant.admin
    )
    assert_problem(response, 409, "USER_STATUS_TYPE_NAME_TAKEN")
    assert (await create_status(client, other_tenant, name="Platinum"))["name"] == "Platinum"


async def test_everyone_in_the_tenant_lists_status_types_lowest_threshold_first(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    gold = await create_status(client, trusting_tenant, name="Gold", minTokenBalance=500)
    bronze = await create_status(client, trusting_tenant, name="Bronze", minTokenBalance=0)
    silver = await create_status(client, trusting_tenant, name="Silver", minTokenBalance=100)
    session = await login_as(trusting_tenant)
    system = await system_headers(client, trusting_tenant)

    for headers in (trusting_tenant.public, trusting_tenant.admin, session.headers, system):
        response = await client.get(STATUS_TYPES, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == [bronze, silver, gold]


async def test_listing_needs_a_tenant_and_shows_only_its_own(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    await create_status(client, tenant, name="Mine")
    assert_problem(await client.get(STATUS_TYPES), 401, "MISSING_CREDENTIALS")
    theirs = await client.get(STATUS_TYPES, headers=other_tenant.public)
    assert theirs.status_code == 200, theirs.text
    assert theirs.json() == []


async def test_update_changes_only_the_fields_sent(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    status = await create_status(
        client, tenant, description="old", imageUrl="https://cdn.example/a.png",
        eligibleTokenAddresses=[CREDIT],
    )  # fmt: skip
    url = f"{ADMIN_STATUS_TYPES}/{status['id']}"
    response = await client.put(
        url,
        json={"minTokenBalance": "250.25", "description": None, "eligibleTokenAddresses": [STAMP]},
        headers=tenant.admin,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        **status,
        "minTokenBalance": 250.25,
        "description": None,
        "eligibleTokenAddresses": [STAMP],
    }
    listed = (await client.get(STATUS_TYPES, headers=tenant.public)).json()
    assert listed == [response.json()]


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"minTokenBalance": None},
        {"discountPercentage": None},
        {"eligibleTokenAddresses": None},
        {"discountPercentage": 101},
        {"colour": "gold"},
    ],
)
async def test_update_validates_its_body(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, Any]
) -> None:
    status = await create_status(client, tenant)
    response = await client.put(
        f"{ADMIN_STATUS_TYPES}/{status['id']}", json=body, headers=tenant.admin
    )
    assert_problem(response, 400, "VALIDATION_ERROR")


async def test_renaming_onto_another_types_name_conflicts(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    await create_status(client, tenant, name="Gold")
    silver = await create_status(client, tenant, name="Silver")
    url = f"{ADMIN_STATUS_TYPES}/{silver['id']}"
    assert_problem(
        await client.put(url, json={"name": "gold"}, headers=tenant.admin),
        409,
        "USER_STATUS_TYPE_NAME_TAKEN",
    )
    renamed = await client.put(url, json={"name": "SILVER"}, headers=tenant.admin)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "SILVER"


async def test_unknown_and_other_tenants_status_types_are_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    status = await create_status(client, tenant)
    url = f"{ADMIN_STATUS_TYPES}/{status['id']}"
    assert_problem(
        await client.put(url, json={"name": "Mine now"}, headers=other_tenant.admin),
        404,
        "USER_STATUS_TYPE_NOT_FOUND",
    )
    assert_problem(
        await client.put(f"{ADMIN_STATUS_TYPES}/999999999", json={}, headers=tenant.admin),
        404,
        "USER_STATUS_TYPE_NOT_FOUND",
    )
    assert_problem(
        await client.put(f"{ADMIN_STATUS_TYPES}/abc", json={}, headers=tenant.admin),
        400,
        "VALIDATION_ERROR",
    )
    assert (await client.get(STATUS_TYPES, headers=tenant.public)).json() == [status]


async def test_only_admins_create_or_update_status_types(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, login_as: LoginAs
) -> None:
    status = await create_status(client, trusting_tenant)
    url = f"{ADMIN_STATUS_TYPES}/{status['id']}"
    session = await login_as(trusting_tenant)
    system = await system_headers(client, trusting_tenant)
    body = {"name": "Hacked", "minTokenBalance": 0}
    for headers in (session.headers, system):
        assert_problem(await client.post(ADMIN_STATUS_TYPES, json=body, headers=headers), 403)
        assert_problem(await client.put(url, json=body, headers=headers), 403)
    assert_problem(
        await client.post(ADMIN_STATUS_TYPES, json=body, headers=trusting_tenant.public), 401
    )
    assert (await client.get(STATUS_TYPES, headers=trusting_tenant.public)).json() == [status]
