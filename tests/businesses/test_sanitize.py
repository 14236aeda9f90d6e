"""GET /business/admin?sanitize=soft|hard: checking (and repairing) stored wallet addresses."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from pers.runtime import Runtime
from tests.businesses.conftest import (
    BUSINESS,
    assert_problem,
    assert_validation_error,
    create_active_business,
    create_business,
    make_admin,
)
from tests.conftest import TenantHandle

STALE = "0x000000000000000000000000000000000000dEaD"


async def corrupt_address(owner_engine: AsyncEngine, business_id: str) -> None:
    """What a restore under another master secret, or a hand edit, would leave behind."""
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("UPDATE businesses SET account_address = :a WHERE id = :id"),
            {"a": STALE, "id": business_id},
        )


async def sanitize(
    client: httpx.AsyncClient, headers: dict[str, str], mode: str, **params: str
) -> httpx.Response:
    return await client.get(
        f"{BUSINESS}/admin", params={"sanitize": mode, **params}, headers=headers
    )


async def test_sanitize_of_sound_addresses_reports_no_mismatch(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    one = await create_business(client, tenant, "One")
    two = await create_business(client, tenant, "Two")
    for mode in ("soft", "hard"):
        response = await sanitize(client, tenant.admin, mode)
        assert response.status_code == 200, response.text
        assert [b["accountAddress"] for b in response.json()] == [
            one["accountAddress"],
            two["accountAddress"],
        ]
        assert response.headers["x-sanitize-checked"] == "2"
        assert response.headers["x-sanitize-mismatched"] == "0"
        assert response.headers["x-sanitize-repaired"] == "0"


async def test_soft_sanitize_reports_a_stale_address_and_changes_nothing(
    client: httpx.AsyncClient, tenant: TenantHandle, owner_engine: AsyncEngine
) -> None:
    sound = await create_business(client, tenant, "Sound")
    stale = await create_business(client, tenant, "Stale")
    await corrupt_address(owner_engine, stale["id"])

    response = await sanitize(client, tenant.admin, "soft")

    assert response.status_code == 200, response.text
    assert (response.headers["x-sanitize-mismatched"], response.headers["x-sanitize-repaired"]) == (
        "1",
        "0",
    )
    by_id = {b["id"]: b["accountAddress"] for b in response.json()}
    assert by_id == {sound["id"]: sound["accountAddress"], stale["id"]: STALE}
    again = await client.get(f"{BUSINESS}/{stale['id']}", headers=tenant.admin)
    assert again.json()["accountAddress"] == STALE


async def test_hard_sanitize_overwrites_a_stale_address_with_the_derived_one(
    client: httpx.AsyncClient, tenant: TenantHandle, owner_engine: AsyncEngine
) -> None:
    stale = await create_active_business(client, tenant, "Stale")
    await corrupt_address(owner_engine, stale["id"])

    response = await sanitize(client, tenant.admin, "hard")

    assert response.status_code == 200, response.text
    assert (response.headers["x-sanitize-mismatched"], response.headers["x-sanitize-repaired"]) == (
        "1",
        "1",
    )
    assert [b["accountAddress"] for b in response.json()] == [stale["accountAddress"]]
    found = await client.get(f"{BUSINESS}/account/{stale['accountAddress']}", headers=tenant.public)
    assert found.status_code == 200, found.text
    assert found.json()["id"] == stale["id"]


async def test_sanitize_applies_to_the_filtered_businesses_only(
    client: httpx.AsyncClient, tenant: TenantHandle, owner_engine: AsyncEngine
) -> None:
    inactive = await create_business(client, tenant, "Inactive")
    await create_active_business(client, tenant, "Active")
    await corrupt_address(owner_engine, inactive["id"])

    response = await sanitize(client, tenant.admin, "hard", active="true")

    assert response.headers["x-sanitize-checked"] == "1"
    assert response.headers["x-sanitize-repaired"] == "0"
    kept = await client.get(f"{BUSINESS}/{inactive['id']}", headers=tenant.admin)
    assert kept.json()["accountAddress"] == STALE


async def test_hard_sanitize_needs_an_owner_level_admin(
    client: httpx.AsyncClient, tenant: TenantHandle, runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    stale = await create_business(client, tenant)
    await corrupt_address(owner_engine, stale["id"])
    person = await make_admin(client, runtime, tenant, "TENANT_ADMIN")

    refused = await sanitize(client, person, "hard")
    assert_problem(refused, 403, "OWNER_ADMIN_REQUIRED")
    soft = await sanitize(client, person, "soft")
    assert soft.headers["x-sanitize-mismatched"] == "1"
    boss = await make_admin(client, runtime, tenant, "SUPER_ADMIN")
    assert (await sanitize(client, boss, "hard")).headers["x-sanitize-repaired"] == "1"


async def test_unknown_sanitize_mode_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert_validation_error(await sanitize(client, tenant.admin, "true"), "sanitize")
