"""Redeeming: every rule passing and failing, what moves, and the user's redeems."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.redemptions.conftest import REDEEM, REDEEM_FIELDS, Shop, ok, problem
from tests.tokens.conftest import create_token


async def _units_token(shop: Shop, redemption: dict[str, Any]) -> dict[str, Any]:
    token: dict[str, Any] = redemption["tokenUnits"][0]["token"]
    return token


async def test_redeem_spends_credits_and_mints_each_token_unit(shop: Shop) -> None:
    redemption = await shop.redemption(12.5)
    token = await _units_token(shop, redemption)
    alice = await shop.shopper(credits=20)

    redeemed = ok(await shop.redeem(alice, redemption["id"]), 201)

    assert set(redeemed) == REDEEM_FIELDS | {"transactions"}
    assert redeemed["redemption"] is None
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


async def test_inactive_redemption_is_not_redeemed(shop: Shop) -> None:
    redemption = await shop.redemption(1, active=False)
    alice = await shop.shopper(credits=5)
    problem(await shop.redeem(alice, redemption["id"]), 422, "REDEMPTION_NOT_ACTIVE")
    assert await shop.credits(alice) == 5


async def test_redemption_without_token_units_is_not_redeemed(shop: Shop) -> None:
    redemption = await shop.redemption(1, units=False)
    alice = await shop.shopper(credits=5)
    problem(await shop.redeem(alice, redemption["id"]), 422, "REDEMPTION_HAS_NO_TOKEN_UNITS")


async def test_only_a_logged_in_user_redeems(shop: Shop) -> None:
    redemption = await shop.redemption(1)
    response = await shop.client.post(
        REDEEM, json={"redemptionId": redemption["id"]}, headers=shop.admin
    )
    problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    response = await shop.client.post(
        REDEEM, json={"redemptionId": redemption["id"]}, headers=shop.tenant.public
    )
    problem(response, 401, "MISSING_CREDENTIALS")
    alice = await shop.shopper()
    response = await shop.client.post(REDEEM, json={"redemptionId": "x"}, headers=alice.headers)
    problem(response, 400, "VALIDATION_ERROR")


async def test_status_below_the_minimum_is_rejected(shop: Shop) -> None:
    gold = await shop.status_type("Gold", 100)
    await shop.status_type("Silver", 20)
    redemption = await shop.redemption(10, minUserStatusTypeId=gold["id"])
    silver_user = await shop.shopper(credits=50)
    body = problem(await shop.redeem(silver_user, redemption["id"]), 422, "USER_STATUS_TOO_LOW")
    assert body["minUserStatusTypeId"] == gold["id"]
    assert await shop.credits(silver_user) == 50
    nobody = await shop.shopper(credits=10)
    problem(await shop.redeem(nobody, redemption["id"]), 422, "USER_STATUS_TOO_LOW")


async def test_status_at_or_above_the_minimum_passes(shop: Shop) -> None:
    silver = await shop.status_type("Silver", 20)
    await shop.status_type("Gold", 100)
    redemption = await shop.redemption(10, minUserStatusTypeId=silver["id"])
    gold_user = await shop.shopper(credits=150)
    ok(await shop.redeem(gold_user, redemption["id"]), 201)
    exactly_silver = await shop.shopper(credits=20)
    ok(await shop.redeem(exactly_silver, redemption["id"]), 201)
    assert await shop.credits(exactly_silver) == 10


async def test_max_per_user_is_enforced(shop: Shop) -> None:
    redemption = await shop.redemption(1, maxPerUser=2)
    alice = await shop.shopper(credits=10)
    ok(await shop.redeem(alice, redemption["id"]), 201)
    ok(await shop.redeem(alice, redemption["id"]), 201)
    body = problem(await shop.redeem(alice, redemption["id"]), 422, "MAX_PER_USER_REACHED")
    assert body["maxPerUser"] == 2
    assert await shop.credits(alice) == 8
    bob = await shop.shopper(credits=10)
    ok(await shop.redeem(bob, redemption["id"]), 201)


async def test_supply_runs_out(shop: Shop) -> None:
    redemption = await shop.redemption(1, maxTotalSupply=2)
    url = f"/v1.7/redemption/{redemption['id']}/available-supply"
    assert ok(await shop.client.get(url, headers=shop.tenant.public)) == 2
    users = [await shop.shopper(credits=5) for _ in range(3)]
    ok(await shop.redeem(users[0], redemption["id"]), 201)
    assert ok(await shop.client.get(url, headers=shop.tenant.public)) == 1
    ok(await shop.redeem(users[1], redemption["id"]), 201)
    problem(await shop.redeem(users[2], redemption["id"]), 422, "REDEMPTION_SUPPLY_EXHAUSTED")
    assert await shop.credits(users[2]) == 5
    assert ok(await shop.client.get(url, headers=shop.tenant.public)) == 0
    detail = await shop.get(redemption["id"])
    assert detail["supply"] == {"available": 0, "total": 2}
    # Raising the total keeps the redeems made; lowering it below them is refused.
    problem(
        await shop.client.put(
            f"/v1.7/redemption/admin/{redemption['id']}", json={"maxTotalSupply": 1},
            headers=shop.admin,
        ),
        422,
        "MAX_TOTAL_SUPPLY_BELOW_REDEEMED",
    )  # fmt: skip
    raised = ok(
        await shop.client.put(
            f"/v1.7/redemption/admin/{redemption['id']}", json={"maxTotalSupply": 3},
            headers=shop.admin,
        )
    )  # fmt: skip
    assert raised["supply"] == {"available": 1, "total": 3}
    ok(await shop.redeem(users[2], redemption["id"]), 201)


async def test_country_restrictions_apply_when_the_country_is_known(shop: Shop) -> None:
    redemption = await shop.redemption(1, countryCodeRestrictions=["NOT_ES", "FR", "DE"])
    spaniard = await shop.shopper(credits=5)
    await shop.set_country(spaniard, "es")
    body = problem(await shop.redeem(spaniard, redemption["id"]), 422, "COUNTRY_NOT_ALLOWED")
    assert body["userCountryCode"] == "ES"
    italian = await shop.shopper(credits=5)
    await shop.set_country(italian, "IT")
    problem(await shop.redeem(italian, redemption["id"]), 422, "COUNTRY_NOT_ALLOWED")
    french = await shop.shopper(credits=5)
    await shop.set_country(french, "FR")
    assert ok(await shop.redeem(french, redemption["id"]), 201)["userCountryCode"] == "FR"
    unknown = await shop.shopper(credits=5)
    assert ok(await shop.redeem(unknown, redemption["id"]), 201)["userCountryCode"] is None


async def test_deny_only_restrictions_allow_every_other_country(shop: Shop) -> None:
    redemption = await shop.redemption(1, countryCodeRestrictions=["NOT_ES"])
    italian = await shop.shopper(credits=5)
    await shop.set_country(italian, "IT")
    ok(await shop.redeem(italian, redemption["id"]), 201)


async def test_a_configured_edge_header_gives_the_country(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shop.runtime.settings, "country_header", "cf-ipcountry")
    redemption = await shop.redemption(1, countryCodeRestrictions=["NOT_ES"])
    alice = await shop.shopper(credits=5)
    await shop.set_country(alice, "FR")  # the header wins over the profile
    problem(
        await shop.redeem(alice, redemption["id"], **{"cf-ipcountry": "ES"}),
        422,
        "COUNTRY_NOT_ALLOWED",
    )
    ok(await shop.redeem(alice, redemption["id"], **{"cf-ipcountry": "PT"}), 201)


async def test_the_header_is_ignored_unless_configured(shop: Shop) -> None:
    redemption = await shop.redemption(1, countryCodeRestrictions=["NOT_ES"])
    alice = await shop.shopper(credits=5)
    ok(await shop.redeem(alice, redemption["id"], **{"cf-ipcountry": "ES"}), 201)


async def test_free_redemption_spends_nothing(shop: Shop) -> None:
    redemption = await shop.redemption(0)
    alice = await shop.shopper()
    redeemed = ok(await shop.redeem(alice, redemption["id"]), 201)
    (receive,) = redeemed["transactions"]
    assert receive["triggerProcessType"] == "REDEMPTION_RECEIVE"


async def test_erc721_and_erc20_units_are_minted(shop: Shop) -> None:
    redemption = await shop.redemption(3, units=False)
    stamp = await create_token(shop.client, shop.tenant, "ERC721")
    stamp_item = await shop.economy.item(stamp["id"], "Stamp")
    bonus = shop.credit  # the tenant's one active ERC20: a cashback of credits
    rid = redemption["id"]
    ok(await shop.add_unit(rid, tokenId=stamp["id"], tokenMetadataIncrementalId=stamp_item,
                           amount=1), 201)  # fmt: skip
    ok(await shop.add_unit(rid, tokenId=bonus["id"], amount=0.5), 201)
    alice = await shop.shopper(credits=6)
    ok(await shop.redeem(alice, rid), 201)
    ok(await shop.redeem(alice, rid), 201)
    assert await shop.holds(alice, stamp) == 2
    assert await shop.credits(alice) == 1  # 6 - 2 x 3 + 2 x 0.5
    assert bonus["type"] == "ERC20"


async def test_inactive_reward_token_refuses_the_redeem(shop: Shop) -> None:
    redemption = await shop.redemption(1)
    token = redemption["tokenUnits"][0]["token"]
    ok(await shop.client.put(f"/v1.7/token/admin/{token['id']}/toggle-active",
                             headers=shop.admin))  # fmt: skip
    alice = await shop.shopper(credits=5)
    problem(await shop.redeem(alice, redemption["id"]), 422, "REWARD_TOKEN_NOT_ACTIVE")


async def test_a_deactivated_user_cannot_redeem(shop: Shop) -> None:
    redemption = await shop.redemption(1)
    alice = await shop.shopper(credits=5)
    ok(await shop.client.put(f"/v1.7/user/admin/{alice.id}/toggle-active", headers=shop.admin))
    response = await shop.redeem(alice, redemption["id"])
    assert response.status_code in (401, 422), response.text


async def test_redeems_are_listed_newest_first_and_only_the_users_own(shop: Shop) -> None:
    redemption = await shop.redemption(1)
    alice = await shop.shopper(credits=5)
    bob = await shop.shopper(credits=5)
    first = ok(await shop.redeem(alice, redemption["id"]), 201)
    shop.runtime.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    second = ok(await shop.redeem(alice, redemption["id"]), 201)
    ok(await shop.redeem(bob, redemption["id"]), 201)
    mine = ok(await shop.client.get(REDEEM, headers=alice.headers))
    assert [r["id"] for r in mine] == [second["id"], first["id"]]
    page = ok(await shop.client.get(REDEEM, params={"limit": 1, "page": 2}, headers=alice.headers))
    assert [r["id"] for r in page] == [first["id"]]


async def test_idempotency_key_replays_the_redeem(shop: Shop) -> None:
    redemption = await shop.redemption(1)
    alice = await shop.shopper(credits=5)
    first = ok(await shop.redeem(alice, redemption["id"], **{"Idempotency-Key": "r-1"}), 201)
    again = ok(await shop.redeem(alice, redemption["id"], **{"Idempotency-Key": "r-1"}), 201)
    assert again["id"] == first["id"]
    assert await shop.credits(alice) == 4
