"""Purchase types, donation types and purchase tokens: fields, validation, permissions and
tenancy."""

from __future__ import annotations

import pytest

from tests.conftest import TenantHandle
from tests.purchases.conftest import PURCHASE, Shop, make_catalog
from tests.transactions.conftest import problem

TOKEN_FIELDS = {"id", "description", "token", "contractTokenId", "purchaseType", "isActive"}


async def test_purchase_type_is_created_with_its_id(shop: Shop) -> None:
    response = await shop.client.post(
        f"{PURCHASE}/admin/type",
        json={"conversionRate": 1.5, "currency": "eur"},
        headers=shop.admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["conversionRate"] == 1.5
    assert body["currency"] == "eur"
    assert isinstance(body["id"], int)


@pytest.mark.parametrize(
    "body",
    [
        {"conversionRate": 0, "currency": "eur"},
        {"conversionRate": -1, "currency": "eur"},
        {"conversionRate": 1, "currency": "usd"},
        {"conversionRate": 1},
        {"conversionRate": True, "currency": "eur"},
        {"conversionRate": 1, "currency": "eur", "extra": 1},
    ],
)
async def test_bad_purchase_types_are_400(shop: Shop, body: dict[str, object]) -> None:
    response = await shop.client.post(f"{PURCHASE}/admin/type", json=body, headers=shop.admin)
    problem(response, 400, "VALIDATION_ERROR")


async def test_donation_types_are_created_listed_and_unique(
    shop: Shop, other_tenant: TenantHandle
) -> None:
    for body in ({"percentage": 5, "id": 2}, {"percentage": 12.5, "id": 1}):
        created = await shop.client.post(
            f"{PURCHASE}/admin/donation/type", json=body, headers=shop.admin
        )
        assert created.status_code == 201, created.text
        assert created.json() == body
    again = await shop.client.post(
        f"{PURCHASE}/admin/donation/type", json={"percentage": 1, "id": 2}, headers=shop.admin
    )
    problem(again, 409, "DONATION_TYPE_EXISTS")
    listed = await shop.client.get(f"{PURCHASE}/donation/type", headers=shop.economy.tenant.public)
    assert listed.status_code == 200
    assert listed.json() == [{"percentage": 12.5, "id": 1}, {"percentage": 5, "id": 2}]
    elsewhere = await shop.client.get(f"{PURCHASE}/donation/type", headers=other_tenant.public)
    assert elsewhere.json() == []
    # The same id is free in another tenant.
    other = await shop.client.post(
        f"{PURCHASE}/admin/donation/type",
        json={"percentage": 1, "id": 2},
        headers=other_tenant.admin,
    )
    assert other.status_code == 201, other.text


@pytest.mark.parametrize(
    "body", [{"percentage": 101, "id": 1}, {"percentage": -1, "id": 1}, {"percentage": 1}]
)
async def test_bad_donation_types_are_400(shop: Shop, body: dict[str, object]) -> None:
    response = await shop.client.post(
        f"{PURCHASE}/admin/donation/type", json=body, headers=shop.admin
    )
    problem(response, 400, "VALIDATION_ERROR")


async def test_purchase_token_has_every_documented_field(shop: Shop) -> None:
    token = shop.purchase_token
    assert set(token) == TOKEN_FIELDS
    assert token["description"] == "Top up"
    assert token["isActive"] is True
    assert token["contractTokenId"] is None
    assert token["token"]["id"] == shop.economy.credit["id"]
    assert token["token"]["type"] == "ERC20"
    assert token["purchaseType"] == shop.purchase_type


async def test_purchase_token_needs_an_erc20_and_a_purchase_type(shop: Shop) -> None:
    reward = await shop.economy.token("ERC1155")
    response = await shop.client.post(
        f"{PURCHASE}/admin/token",
        json={"tokenId": reward["id"], "description": "x",
              "purchaseTypeId": shop.purchase_type["id"]},
        headers=shop.admin,
    )  # fmt: skip
    problem(response, 422, "PURCHASE_TOKEN_NOT_ERC20")
    response = await shop.client.post(
        f"{PURCHASE}/admin/token",
        json={"tokenId": shop.economy.credit["id"], "description": "x",
              "purchaseTypeId": 999999999},
        headers=shop.admin,
    )  # fmt: skip
    problem(response, 404, "PURCHASE_TYPE_NOT_FOUND")
    response = await shop.client.post(
        f"{PURCHASE}/admin/token",
        json={"tokenId": "not-a-uuid", "description": "x", "purchaseTypeId": 1},
        headers=shop.admin,
    )
    problem(response, 400, "VALIDATION_ERROR")


async def test_update_list_and_delete_purchase_tokens(shop: Shop) -> None:
    token_id = shop.purchase_token["id"]
    public = shop.economy.tenant.public
    updated = await shop.client.put(
        f"{PURCHASE}/admin/token/{token_id}",
        json={"description": "Paused", "isActive": False},
        headers=shop.admin,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["description"] == "Paused"
    assert updated.json()["isActive"] is False
    assert (await shop.client.get(f"{PURCHASE}/token", headers=public)).json() == []
    # Non-admins see active ones only, whatever they ask.
    asked = await shop.client.get(f"{PURCHASE}/token?active=false", headers=public)
    assert asked.json() == []
    admin_all = await shop.client.get(f"{PURCHASE}/token", headers=shop.admin)
    assert [t["id"] for t in admin_all.json()] == [token_id]
    inactive = await shop.client.get(f"{PURCHASE}/token?active=false", headers=shop.admin)
    assert [t["id"] for t in inactive.json()] == [token_id]
    active = await shop.client.get(f"{PURCHASE}/token?active=true", headers=shop.admin)
    assert active.json() == []
    reactivated = await shop.client.put(
        f"{PURCHASE}/admin/token/{token_id}", json={"isActive": True}, headers=shop.admin
    )
    assert reactivated.json()["description"] == "Paused"
    listed = await shop.client.get(f"{PURCHASE}/token", headers=public)
    assert [t["id"] for t in listed.json()] == [token_id]
    assert set(listed.json()[0]) == TOKEN_FIELDS
    deleted = await shop.client.delete(f"{PURCHASE}/admin/token/{token_id}", headers=shop.admin)
    assert deleted.status_code == 200
    assert deleted.json() is True
    assert (await shop.client.get(f"{PURCHASE}/token", headers=shop.admin)).json() == []
    again = await shop.client.delete(f"{PURCHASE}/admin/token/{token_id}", headers=shop.admin)
    problem(again, 404, "PURCHASE_TOKEN_NOT_FOUND")
    gone = await shop.client.put(
        f"{PURCHASE}/admin/token/{token_id}", json={"isActive": True}, headers=shop.admin
    )
    problem(gone, 404, "PURCHASE_TOKEN_NOT_FOUND")


async def test_other_tenants_purchase_tokens_are_not_found(
    shop: Shop, other_tenant: TenantHandle
) -> None:
    token_id = shop.purchase_token["id"]
    listed = await shop.client.get(f"{PURCHASE}/token", headers=other_tenant.admin)
    assert listed.json() == []
    update = await shop.client.put(
        f"{PURCHASE}/admin/token/{token_id}", json={"isActive": False}, headers=other_tenant.admin
    )
    problem(update, 404, "PURCHASE_TOKEN_NOT_FOUND")
    delete = await shop.client.delete(
        f"{PURCHASE}/admin/token/{token_id}", headers=other_tenant.admin
    )
    problem(delete, 404, "PURCHASE_TOKEN_NOT_FOUND")
    # Nor can another tenant sell this tenant's token or use its purchase type.
    stolen = await shop.client.post(
        f"{PURCHASE}/admin/token",
        json={"tokenId": shop.economy.credit["id"], "description": "x",
              "purchaseTypeId": shop.purchase_type["id"]},
        headers=other_tenant.admin,
    )  # fmt: skip
    problem(stolen, 404, "TOKEN_NOT_FOUND")
    still = await shop.client.get(f"{PURCHASE}/token", headers=shop.economy.tenant.public)
    assert [t["id"] for t in still.json()] == [token_id]


async def test_admin_operations_are_for_admins(shop: Shop) -> None:
    headers, _ = await shop.economy.user()
    public = shop.economy.tenant.public
    token_id = shop.purchase_token["id"]
    calls = [
        ("POST", f"{PURCHASE}/admin/type", {"conversionRate": 1, "currency": "eur"}),
        ("POST", f"{PURCHASE}/admin/donation/type", {"percentage": 1, "id": 3}),
        ("POST", f"{PURCHASE}/admin/token", {"tokenId": shop.economy.credit["id"],
                                             "description": "x", "purchaseTypeId": 1}),
        ("PUT", f"{PURCHASE}/admin/token/{token_id}", {"isActive": False}),
        ("DELETE", f"{PURCHASE}/admin/token/{token_id}", None),
    ]  # fmt: skip
    for method, path, body in calls:
        as_user = await shop.client.request(method, path, json=body, headers=headers)
        assert as_user.status_code == 403, (path, as_user.text)
        anonymous = await shop.client.request(method, path, json=body, headers=public)
        assert anonymous.status_code == 401, (path, anonymous.text)
    assert (await shop.client.get(f"{PURCHASE}/donation/type")).status_code == 401
    assert (await shop.client.get(f"{PURCHASE}/token")).status_code == 401


async def test_catalog_needs_no_stripe_keys(economy_catalog: None) -> None:
    """Prices and tokens can be set up before payments are configured (make_catalog ran)."""


@pytest.fixture
async def economy_catalog(economy: object) -> None:
    from tests.transactions.conftest import Economy

    assert isinstance(economy, Economy)
    await make_catalog(economy.client, economy.admin, economy.credit["id"])
