"""Business API keys: issue, rotation, authentication as x-api-key with x-project-key, and
GET /business/business/me."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from pers.businesses import service
from pers.businesses.service import TokenBalance
from tests.businesses.conftest import (
    BUSINESS,
    BUSINESS_FIELDS,
    Callers,
    activate,
    assert_problem,
    business_key,
    create_active_business,
    create_business,
)
from tests.conftest import TenantHandle

ME = f"{BUSINESS}/business/me"


async def rotate(client: httpx.AsyncClient, tenant: TenantHandle, business_id: str) -> str:
    response = await client.put(f"{BUSINESS}/admin/{business_id}/api-key", headers=tenant.admin)
    assert response.status_code == 200, response.text
    key = response.json()
    assert isinstance(key, str)
    return key


async def test_active_business_reads_itself_with_token_balances(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_business(client, tenant, "Me Cafe")
    await activate(client, tenant, created["id"], canChargeToken=True)
    response = await client.get(ME, headers=business_key(tenant, created["apiPrivateKey"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == BUSINESS_FIELDS | {"tokenBalances"}
    assert (body["id"], body["displayName"]) == (created["id"], "Me Cafe")
    assert body["accountAddress"] == created["accountAddress"]
    assert (body["isActive"], body["canChargeToken"]) == (True, True)
    # The ledger is not wired in yet (see docs/businesses.md): no holdings to show.
    assert body["tokenBalances"] == []


async def test_business_key_works_with_either_project_key_of_its_tenant(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_active_business(client, tenant)
    key = created["apiPrivateKey"]
    for mainnet in (False, True):
        response = await client.get(ME, headers=business_key(tenant, key, mainnet=mainnet))
        assert response.status_code == 200, response.text
        assert response.json()["id"] == created["id"]


async def test_key_of_a_new_inactive_business_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_business(client, tenant)
    response = await client.get(ME, headers=business_key(tenant, created["apiPrivateKey"]))
    body = assert_problem(response, 401, "INVALID_API_KEY")
    assert "not active" in body["detail"]


async def test_key_of_a_deactivated_business_is_refused_until_reactivated(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_active_business(client, tenant)
    headers = business_key(tenant, created["apiPrivateKey"])
    await client.put(
        f"{BUSINESS}/admin/activate/{created['id']}", json={"isActive": False}, headers=tenant.admin
    )
    assert_problem(await client.get(ME, headers=headers), 401, "INVALID_API_KEY")
    await activate(client, tenant, created["id"])
    assert (await client.get(ME, headers=headers)).status_code == 200


async def test_rotation_revokes_the_old_key_and_the_new_one_works(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_active_business(client, tenant)
    old = created["apiPrivateKey"]
    new = await rotate(client, tenant, created["id"])
    assert new.startswith("pers_biz_")
    assert new != old
    assert_problem(await client.get(ME, headers=business_key(tenant, old)), 401, "INVALID_API_KEY")
    fresh = await client.get(ME, headers=business_key(tenant, new))
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["id"] == created["id"]


async def test_concurrent_rotations_leave_exactly_one_working_key(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_active_business(client, tenant)
    keys = await asyncio.gather(*(rotate(client, tenant, created["id"]) for _ in range(4)))
    assert len(set(keys)) == 4
    statuses = [
        (await client.get(ME, headers=business_key(tenant, k))).status_code
        for k in [*keys, created["apiPrivateKey"]]
    ]
    assert sorted(statuses) == [200, 401, 401, 401, 401]


async def test_business_key_with_another_tenants_project_key_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = await create_active_business(client, other_tenant)
    response = await client.get(ME, headers=business_key(tenant, theirs["apiPrivateKey"]))
    assert_problem(response, 401, "INVALID_API_KEY")
    listed = await client.get(BUSINESS, headers=business_key(tenant, theirs["apiPrivateKey"]))
    assert_problem(listed, 401, "INVALID_API_KEY")


async def test_business_key_without_a_project_key_is_missing_credentials(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await create_active_business(client, tenant)
    response = await client.get(ME, headers={"x-api-key": created["apiPrivateKey"]})
    body = assert_problem(response, 401, "MISSING_CREDENTIALS")
    assert "x-project-key" in body["detail"]


async def test_unknown_business_key_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    forged = "pers_biz_" + "0" * 64
    assert_problem(
        await client.get(ME, headers=business_key(tenant, forged)), 401, "INVALID_API_KEY"
    )


async def test_me_is_only_for_businesses(client: httpx.AsyncClient, callers: Callers) -> None:
    for headers in (callers.admin, callers.user, callers.system):
        assert_problem(await client.get(ME, headers=headers), 403, "PRINCIPAL_NOT_ALLOWED")
    assert_problem(await client.get(ME, headers=callers.public), 401, "MISSING_CREDENTIALS")


async def test_business_can_read_the_public_business_operations(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    me = await create_active_business(client, tenant, "Reader")
    headers = business_key(tenant, me["apiPrivateKey"])
    listed = await client.get(BUSINESS, headers=headers)
    assert [b["id"] for b in listed.json()] == [me["id"]]
    one = await client.get(f"{BUSINESS}/{me['id']}", headers=headers)
    assert one.json()["displayName"] == "Reader"
    assert (await client.get(f"{BUSINESS}/type", headers=headers)).json() == []


async def test_rotating_another_tenants_business_key_is_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = await create_active_business(client, other_tenant)
    response = await client.put(f"{BUSINESS}/admin/{theirs['id']}/api-key", headers=tenant.admin)
    assert_problem(response, 404, "BUSINESS_NOT_FOUND")
    still = await client.get(ME, headers=business_key(other_tenant, theirs["apiPrivateKey"]))
    assert still.status_code == 200, still.text


async def test_rotating_an_unknown_business_is_not_found(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.put(f"{BUSINESS}/admin/{uuid.uuid4()}/api-key", headers=tenant.admin)
    assert_problem(response, 404, "BUSINESS_NOT_FOUND")


async def test_only_a_sha256_of_the_key_is_stored(
    client: httpx.AsyncClient, tenant: TenantHandle, owner_engine: AsyncEngine
) -> None:
    created = await create_business(client, tenant)
    key = created["apiPrivateKey"]
    async with owner_engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT b::text AS whole, api_key_hash FROM businesses b WHERE id = :id"),
                {"id": created["id"]},
            )
        ).one()
    assert row.api_key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in row.whole
    assert key[len("pers_biz_") :] not in row.whole


async def test_me_shows_whatever_the_balance_seam_answers_as_token_balance_dtos(
    client: httpx.AsyncClient, tenant: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``service.token_balances`` is where the ledger plugs in; its answers reach the wire in
    the documented TokenBalanceDTO shape."""
    created = await create_active_business(client, tenant)
    seen: list[str] = []

    async def balances(session: object, ctx: object, account_address: str) -> list[TokenBalance]:
        seen.append(account_address)
        return [
            TokenBalance("0x" + "a" * 40, 31337, Decimal(150), "ERC20", None, None, "Credit", "CR"),
            TokenBalance("0x" + "b" * 40, 31337, Decimal("2.5"), "ERC20", None, None),
            TokenBalance("0x" + "c" * 40, 31337, Decimal(1), "ERC1155", "7", "ipfs://m/7"),
        ]

    monkeypatch.setattr(service, "token_balances", balances)
    response = await client.get(ME, headers=business_key(tenant, created["apiPrivateKey"]))

    assert response.status_code == 200, response.text
    assert seen == [created["accountAddress"]]
    credit, fractional, stamp = response.json()["tokenBalances"]
    assert credit == {
        "contractAddress": "0x" + "a" * 40,
        "chainId": 31337,
        "balance": 150,
        "tokenName": "Credit",
        "tokenSymbol": "CR",
        "tokenType": "ERC20",
        "tokenId": None,
        "metadataUri": None,
        "tokenMetadataIncrementalId": None,
    }
    assert fractional["balance"] == 2.5
    assert (stamp["tokenType"], stamp["tokenId"], stamp["metadataUri"]) == (
        "ERC1155",
        "7",
        "ipfs://m/7",
    )
