"""Redeeming: every rule passing and failing, what moves, and the user's redeems."""

from __future__ import annotations

from typing import Any

from tests.redemptions.conftest import REDEEM, REDEEM_FIELDS, Shop, ok, problem


async def _units_token(shop: Shop, redemption: dict[str, Any]) -> dict[str, Any]:
    token: dict[str, Any] = redemption["tokenUnits"][0]["token"]
    return token


async def test_redeem_spends_credits_and_mints_each_token_unit(shop: Shop) -> None:
    redemption = await shop.redemption(12.5)
    token = await _units_token(shop, redemption)
    alice = await shop.shopper(credits=20)

    redeemed = ok(await shop.redeem(alice, redemption["id"]), 201)

    assert set(redeemed) == REDEEM_FIELDS | {"transactions"}
    assert redeemed["userId"] == alice.id
    assert redeemed["redemptionId"] == redemption["id"]
    assert redeemed["creditTokenAmount"] == 12.5
    spend, receive = redeemed["transactions"]
    assert [t["id"] for t in redeemed["transactions"]] == redeemed["transactionIds"]
    assert spend["triggerProcessType"] == "REDEMPTION_SPEND"
    assert spend["type"] == "BURN"
    assert spend["amount"] == 12.5
    assert spend["senderAddress"] == alice.address
    assert spend["triggerProcessId"] == redeemed["id"]
    assert receive["triggerProcessType"] == "REDEMPTION_RECEIVE"
    assert receive["type"] == "MINT"
    assert receive["recipientAddress"] == alice.address
    assert receive["triggerProcessId"] == redeemed["id"]
    assert await shop.credits(alice) == 7.5
    assert await shop.holds(alice, token) == 1

    mine = ok(await shop.client.get(REDEEM, headers=alice.headers))
    assert [r["id"] for r in mine] == [redeemed["id"]]
    assert set(mine[0]) == REDEEM_FIELDS
    assert mine[0]["redemption"]["id"] == redemption["id"]


async def test_redeem_with_too_few_credits_is_rejected_and_writes_nothing(shop: Shop) -> None:
    redemption = await shop.redemption(10, maxTotalSupply=1, maxPerUser=1)
    token = await _units_token(shop, redemption)
    bob = await shop.shopper(credits=9.99)

    problem(await shop.redeem(bob, redemption["id"]), 422, "INSUFFICIENT_BALANCE")

    assert await shop.credits(bob) == 9.99
    assert await shop.holds(bob, token) == 0
    assert ok(await shop.client.get(REDEEM, headers=bob.headers)) == []
    assert (await shop.get(redemption["id"]))["availableSupply"] == 1
    # The refused redeem counted nothing: with credits, the one redeem allowed still works.
    await shop.economy.mint_credits(bob.email, 0.01)
    ok(await shop.redeem(bob, redemption["id"]), 201)
    assert await shop.credits(bob) == 0
