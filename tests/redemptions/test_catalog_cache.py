"""Redeems read a redemption's type, token units and minimum status from a per-process cache
revalidated by the tenant's catalog version (revision 0017); the redemption row and its stock
are read each time. Whatever an admin changes between two redeems, the next one sees."""

from __future__ import annotations

from tests.redemptions.conftest import ADMIN, Shop, ok


async def test_the_next_redeem_sees_every_catalog_change(shop: Shop) -> None:
    redemption = await shop.redemption(5, maxTotalSupply=10)
    [unit] = redemption["tokenUnits"]
    shopper = await shop.shopper(credits=100)
    first = ok(await shop.redeem(shopper, redemption["id"]), 201)
    assert first["transactions"][-1]["amount"] == 1

    # The token unit now gives 3: the next redeem mints 3.
    ok(
        await shop.client.put(
            f"{ADMIN}/{redemption['id']}/token-units/{unit['id']}",
            json={
                "tokenId": unit["token"]["id"],
                "tokenMetadataIncrementalId": unit["tokenMetadataIncrementalId"],
                "amount": 3,
            },
            headers=shop.admin,
        )
    )
    second = ok(await shop.redeem(shopper, redemption["id"]), 201)
    assert second["transactions"][-1]["amount"] == 3
    # The stock is read each time, not cached: two taken.
    supply = ok(
        await shop.client.get(
            f"/v1.7/redemption/{redemption['id']}/available-supply", headers=shopper.headers
        )
    )
    assert supply == 8

    # The reward token is switched off.
    ok(
        await shop.client.put(
            f"/v1.7/token/admin/{unit['token']['id']}/toggle-active", headers=shop.admin
        )
    )
    refused = await shop.redeem(shopper, redemption["id"])
    assert (refused.status_code, refused.json()["code"]) == (422, "REWARD_TOKEN_NOT_ACTIVE")
