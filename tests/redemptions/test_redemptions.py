"""Redemption types, redemptions and their token units: every operation with its documented
fields, validation, permissions and tenancy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pers.runtime import Runtime
from tests.businesses.conftest import make_system_key
from tests.conftest import TenantHandle
from tests.redemptions.conftest import (
    ADMIN,
    REDEMPTION,
    REDEMPTION_FIELDS,
    TOKEN_UNIT_FIELDS,
    TYPE_FIELDS,
    Shop,
    ok,
    problem,
    some_id,
)
from tests.tokens.conftest import create_token


def validation_error(response: httpx.Response, field: str) -> None:
    body = problem(response, 400, "VALIDATION_ERROR")
    reported = [f"{e['field']}: {e['message']}" for e in body["errors"]]
    assert any(field in r for r in reported), reported


# --- types -------------------------------------------------------------------------------------


async def test_redemption_types_are_created_by_admins_and_listed_to_everyone(shop: Shop) -> None:
    created = ok(
        await shop.client.post(
            f"{ADMIN}/type",
            json={"name": "Voucher", "description": "Shop vouchers", "imageUrl": "https://i/v"},
            headers=shop.admin,
        ),
        201,
    )
    assert set(created) == TYPE_FIELDS
    assert isinstance(created["id"], int)
    assert created["name"] == "Voucher"
    listed = ok(await shop.client.get(f"{REDEMPTION}/type", headers=shop.tenant.public))
    assert listed == [created]


async def test_redemption_type_needs_a_name_and_an_admin(shop: Shop) -> None:
    validation_error(
        await shop.client.post(f"{ADMIN}/type", json={"description": "x"}, headers=shop.admin),
        "name",
    )
    user = await shop.shopper()
    problem(
        await shop.client.post(f"{ADMIN}/type", json={"name": "x"}, headers=user.headers),
        403,
        "PRINCIPAL_NOT_ALLOWED",
    )
    problem(
        await shop.client.post(f"{ADMIN}/type", json={"name": "x"}, headers=shop.tenant.public),
        401,
        "MISSING_CREDENTIALS",
    )


# --- redemptions -------------------------------------------------------------------------------


async def test_create_redemption_answers_every_documented_field(shop: Shop) -> None:
    kind = ok(
        await shop.client.post(f"{ADMIN}/type", json={"name": "Gift"}, headers=shop.admin), 201
    )
    gold = await shop.status_type("Gold", 100)
    body = {
        "creditTokenAmount": 12.34,
        "description": "A free coffee",
        "name": "Coffee",
        "imageUrl": "https://img/coffee.png",
        "redemptionTypeId": kind["id"],
        "minUserStatusTypeId": gold["id"],
        "maxTotalSupply": 50,
        "maxPerUser": 2,
        "order": 3,
        "countryCodeRestrictions": ["not_es", "FR", "FR"],
        "tags": ["drinks", "hot"],
    }
    created = ok(await shop.client.post(ADMIN, json=body, headers=shop.admin), 201)
    assert set(created) == REDEMPTION_FIELDS
    assert created["isActive"] is False
    assert created["creditTokenAmount"] == 12.34
    assert created["type"] == kind
    assert created["minUserStatusType"]["id"] == gold["id"]
    assert created["minUserStatusType"]["name"] == "Gold"
    assert created["maxTotalSupply"] == 50
    assert created["availableSupply"] == 50
    assert created["supply"] == {"available": 50, "total": 50}
    assert created["maxPerUser"] == 2
    assert created["order"] == 3
    assert created["countryCodeRestrictions"] == ["NOT_ES", "FR"]
    assert created["tags"] == ["drinks", "hot"]
    assert created["tokenUnits"] == []
    assert created["isTestnet"] is True
    assert await shop.get(created["id"]) == created


async def test_unlimited_redemption_has_null_supply(shop: Shop) -> None:
    created = await shop.redemption(1, active=False, units=False)
    assert created["maxTotalSupply"] is None
    assert created["availableSupply"] is None
    assert created["supply"] == {"available": None, "total": None}
    assert created["maxPerUser"] is None
    assert created["type"] is None
    assert created["minUserStatusType"] is None
    supply = await shop.client.get(
        f"{REDEMPTION}/{created['id']}/available-supply", headers=shop.admin
    )
    assert ok(supply) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "creditTokenAmount"),
        ({"creditTokenAmount": -1}, "creditTokenAmount"),
        ({"creditTokenAmount": True}, "creditTokenAmount"),
        ({"creditTokenAmount": 1, "maxPerUser": 0}, "maxPerUser"),
        ({"creditTokenAmount": 1, "maxTotalSupply": -1}, "maxTotalSupply"),
        ({"creditTokenAmount": 1, "maxTotalSupply": 1.5}, "maxTotalSupply"),
        ({"creditTokenAmount": 1, "redemptionTypeId": "x"}, "redemptionTypeId"),
        ({"creditTokenAmount": 1, "countryCodeRestrictions": ["SPAIN"]}, "countryCodeRestrictions"),
        ({"creditTokenAmount": 1, "countryCodeRestrictions": ["N0"]}, "countryCodeRestrictions"),
        ({"creditTokenAmount": 1, "tags": [""]}, "tags"),
        ({"creditTokenAmount": 1, "name": ""}, "name"),
        ({"creditTokenAmount": 1, "unknown": 1}, "unknown"),
    ],
)
async def test_invalid_redemption_is_400(shop: Shop, body: dict[str, Any], field: str) -> None:
    validation_error(await shop.client.post(ADMIN, json=body, headers=shop.admin), field)


async def test_credit_amount_finer_than_the_credit_token_is_400(shop: Shop) -> None:
    response = await shop.client.post(ADMIN, json={"creditTokenAmount": 1.001}, headers=shop.admin)
    problem(response, 400, "INVALID_AMOUNT")


async def test_unknown_type_or_status_type_is_404(shop: Shop) -> None:
    response = await shop.client.post(
        ADMIN, json={"creditTokenAmount": 1, "redemptionTypeId": 999999}, headers=shop.admin
    )
    problem(response, 404, "REDEMPTION_TYPE_NOT_FOUND")
    response = await shop.client.post(
        ADMIN, json={"creditTokenAmount": 1, "minUserStatusTypeId": 999999}, headers=shop.admin
    )
    problem(response, 404, "USER_STATUS_TYPE_NOT_FOUND")


async def test_update_changes_the_fields_sent_and_null_clears(shop: Shop) -> None:
    created = await shop.redemption(5, active=False, units=False, maxPerUser=3, tags=["a"])
    url = f"{ADMIN}/{created['id']}"
    updated = ok(
        await shop.client.put(
            url,
            json={"name": "Tea", "maxPerUser": None, "maxTotalSupply": 7, "creditTokenAmount": 2},
            headers=shop.admin,
        )
    )
    assert updated["name"] == "Tea"
    assert updated["maxPerUser"] is None
    assert updated["supply"] == {"available": 7, "total": 7}
    assert updated["creditTokenAmount"] == 2
    assert updated["tags"] == ["a"]
    validation_error(
        await shop.client.put(url, json={"creditTokenAmount": None}, headers=shop.admin),
        "creditTokenAmount",
    )
    cleared = ok(await shop.client.put(url, json={"maxTotalSupply": None}, headers=shop.admin))
    assert cleared["supply"] == {"available": None, "total": None}


async def test_toggle_and_lists(shop: Shop) -> None:
    draft = await shop.redemption(1, active=False, units=False, name="Draft")
    live = await shop.redemption(1, name="Live", order=-1)
    assert live["isActive"] is True
    public = ok(await shop.client.get(REDEMPTION, headers=shop.tenant.public))
    assert [r["id"] for r in public] == [live["id"]]
    every = ok(await shop.client.get(ADMIN, headers=shop.admin))
    assert [r["id"] for r in every] == [live["id"], draft["id"]]  # by order, then oldest
    active = ok(await shop.client.get(ADMIN, params={"active": "true"}, headers=shop.admin))
    assert [r["id"] for r in active] == [live["id"]]
    inactive = ok(await shop.client.get(ADMIN, params={"active": "false"}, headers=shop.admin))
    assert [r["id"] for r in inactive] == [draft["id"]]
    problem(await shop.client.get(ADMIN, params={"active": "maybe"}, headers=shop.admin), 400,
            "VALIDATION_ERROR")  # fmt: skip
    # The inactive one is not visible to the public, users or businesses.
    problem(
        await shop.client.get(f"{REDEMPTION}/{draft['id']}", headers=shop.tenant.public),
        404,
        "REDEMPTION_NOT_FOUND",
    )
    off = ok(await shop.client.put(f"{ADMIN}/{live['id']}/toggle-active", headers=shop.admin))
    assert off["isActive"] is False


async def test_delete_is_soft(shop: Shop) -> None:
    created = await shop.redemption(1)
    assert ok(await shop.client.delete(f"{ADMIN}/{created['id']}", headers=shop.admin)) is True
    problem(await shop.client.get(f"{REDEMPTION}/{created['id']}", headers=shop.admin), 404,
            "REDEMPTION_NOT_FOUND")  # fmt: skip
    assert ok(await shop.client.get(ADMIN, headers=shop.admin)) == []
    problem(await shop.client.delete(f"{ADMIN}/{created['id']}", headers=shop.admin), 404,
            "REDEMPTION_NOT_FOUND")  # fmt: skip
    user = await shop.shopper(credits=5)
    problem(await shop.redeem(user, created["id"]), 404, "REDEMPTION_NOT_FOUND")


async def test_admin_operations_need_an_admin(shop: Shop, client: httpx.AsyncClient,
                                              tenant: TenantHandle) -> None:  # fmt: skip
    created = await shop.redemption(1)
    user = await shop.shopper()
    system = await make_system_key(client, tenant)
    calls = [
        ("GET", ADMIN, None),
        ("POST", ADMIN, {"creditTokenAmount": 1}),
        ("PUT", f"{ADMIN}/{created['id']}", {"name": "x"}),
        ("DELETE", f"{ADMIN}/{created['id']}", None),
        ("PUT", f"{ADMIN}/{created['id']}/toggle-active", None),
        ("POST", f"{ADMIN}/{created['id']}/token-units", {"tokenId": some_id(), "amount": 1}),
    ]
    for method, url, body in calls:
        for headers in (user.headers, system):
            response = await client.request(method, url, json=body, headers=headers)
            problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    # Readers: any principal of the tenant.
    for headers in (user.headers, system, tenant.public):
        assert ok(await client.get(f"{REDEMPTION}/{created['id']}", headers=headers))["id"]


async def test_other_tenants_redemptions_are_404(
    shop: Shop, client: httpx.AsyncClient, runtime: Runtime, other_tenant: TenantHandle
) -> None:
    created = await shop.redemption(1, maxTotalSupply=3)
    rid = created["id"]
    unit_id = created["tokenUnits"][0]["id"]
    other = other_tenant.admin
    for method, url, body in [
        ("GET", f"{REDEMPTION}/{rid}", None),
        ("GET", f"{REDEMPTION}/{rid}/available-supply", None),
        ("PUT", f"{ADMIN}/{rid}", {"name": "x"}),
        ("DELETE", f"{ADMIN}/{rid}", None),
        ("PUT", f"{ADMIN}/{rid}/toggle-active", None),
        ("PUT", f"{ADMIN}/{rid}/token-units/{unit_id}", {"tokenId": some_id(), "amount": 1}),
        ("DELETE", f"{ADMIN}/{rid}/token-units/{unit_id}", None),
    ]:
        response = await client.request(method, url, json=body, headers=other)
        problem(response, 404, "REDEMPTION_NOT_FOUND")
    assert ok(await client.get(ADMIN, headers=other)) == []
    assert ok(await client.get(REDEMPTION, headers=other_tenant.public)) == []
    assert ok(await client.get(f"{REDEMPTION}/type", headers=other_tenant.public)) == []
    from tests.businesses.conftest import make_user

    stranger = await make_user(runtime, other_tenant)
    response = await client.post(
        f"{REDEMPTION}/auth/redeem", json={"redemptionId": rid}, headers=stranger
    )
    problem(response, 404, "REDEMPTION_NOT_FOUND")
    assert (await shop.get(rid))["availableSupply"] == 3


async def test_malformed_id_is_400(shop: Shop) -> None:
    problem(await shop.client.get(f"{REDEMPTION}/nope", headers=shop.admin), 400,
            "VALIDATION_ERROR")  # fmt: skip


# --- token units -------------------------------------------------------------------------------


async def test_token_units_are_added_updated_and_removed(shop: Shop) -> None:
    created = await shop.redemption(1, active=False, units=False)
    rid = created["id"]
    token, item = await shop.reward_token()
    added = ok(
        await shop.add_unit(rid, tokenId=token["id"], tokenMetadataIncrementalId=item, amount=2),
        201,
    )
    assert set(added) == REDEMPTION_FIELDS
    (unit,) = added["tokenUnits"]
    assert set(unit) == TOKEN_UNIT_FIELDS
    assert unit["tokenId"] == token["id"]
    assert unit["token"]["contractAddress"] == token["contractAddress"]
    assert unit["tokenMetadataIncrementalId"] == item
    assert unit["amount"] == 2
    assert unit["maxAmount"] is None

    problem(
        await shop.add_unit(rid, tokenId=token["id"], tokenMetadataIncrementalId=item, amount=1),
        409,
        "TOKEN_UNIT_ALREADY_EXISTS",
    )
    url = f"{ADMIN}/{rid}/token-units/{unit['id']}"
    updated = ok(
        await shop.client.put(
            url, json={"tokenId": token["id"], "amount": 3, "maxAmount": 4}, headers=shop.admin
        )
    )
    assert updated["tokenUnits"][0]["amount"] == 3
    assert updated["tokenUnits"][0]["maxAmount"] == 4
    assert updated["tokenUnits"][0]["tokenMetadataIncrementalId"] == item
    removed = ok(await shop.client.delete(url, headers=shop.admin))
    assert removed["tokenUnits"] == []
    problem(await shop.client.delete(url, headers=shop.admin), 404, "TOKEN_UNIT_NOT_FOUND")


async def test_token_unit_rules(shop: Shop) -> None:
    rid = (await shop.redemption(1, active=False, units=False))["id"]
    nft, item = await shop.reward_token()
    problem(await shop.add_unit(rid, tokenId=nft["id"], amount=1), 422,
            "TOKEN_METADATA_ID_REQUIRED")  # fmt: skip
    problem(
        await shop.add_unit(rid, tokenId=nft["id"], tokenMetadataIncrementalId=99, amount=1),
        404,
        "TOKEN_METADATA_NOT_FOUND",
    )
    problem(await shop.add_unit(rid, tokenId=some_id(), amount=1), 404, "TOKEN_NOT_FOUND")
    problem(
        await shop.add_unit(rid, tokenId=nft["id"], tokenMetadataIncrementalId=item, amount=1.5),
        400,
        "INVALID_AMOUNT",
    )
    problem(
        await shop.add_unit(rid, tokenId=nft["id"], tokenMetadataIncrementalId=item, amount=0),
        400,
        "INVALID_AMOUNT",
    )
    validation_error(
        await shop.add_unit(rid, tokenId=nft["id"], amount=2, maxAmount=1), "maxAmount"
    )
    erc20 = await create_token(shop.client, shop.tenant, "ERC20", decimals=2)
    validation_error(
        await shop.add_unit(rid, tokenId=erc20["id"], tokenMetadataIncrementalId=item, amount=1),
        "tokenMetadataIncrementalId",
    )
    stamp = await create_token(shop.client, shop.tenant, "ERC721")
    stamp_item = await shop.economy.item(stamp["id"], "Stamp")
    problem(
        await shop.add_unit(rid, tokenId=stamp["id"], tokenMetadataIncrementalId=stamp_item,
                            amount=2),
        400,
        "INVALID_AMOUNT",
    )  # fmt: skip
    ok(await shop.add_unit(rid, tokenId=erc20["id"], amount=0.25), 201)
