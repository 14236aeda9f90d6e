"""Redeems at once: exact supply, exact per-user limits, no overdraft, nothing half written."""

from __future__ import annotations

import asyncio

from tests.redemptions.conftest import REDEEM, Shop, ok


async def test_each_redeem_takes_exactly_one_unit_of_a_sharded_supply(shop: Shop) -> None:
    redemption = await shop.redemption(1, maxTotalSupply=40)  # 16 shards
    users = [await shop.shopper(credits=1) for _ in range(5)]
    for user in users:
        ok(await shop.redeem(user, redemption["id"]), 201)
    assert (await shop.get(redemption["id"]))["supply"] == {"available": 35, "total": 40}


async def test_100_users_at_once_redeem_a_supply_of_10_exactly(shop: Shop) -> None:
    redemption = await shop.redemption(5, maxTotalSupply=10)
    token = redemption["tokenUnits"][0]["token"]
    users = [await shop.shopper(credits=5) for _ in range(100)]

    responses = await asyncio.gather(*(shop.redeem(u, redemption["id"]) for u in users))

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 10, codes
    refused = [r.json()["code"] for r in responses if r.status_code != 201]
    assert refused == ["REDEMPTION_SUPPLY_EXHAUSTED"] * 90
    detail = await shop.get(redemption["id"])
    assert detail["supply"] == {"available": 0, "total": 10}
    for user, response in zip(users, responses, strict=True):
        won = response.status_code == 201
        assert await shop.credits(user) == (0 if won else 5)
        assert await shop.holds(user, token) == (1 if won else 0)
        mine = ok(await shop.client.get(REDEEM, headers=user.headers))
        assert len(mine) == (1 if won else 0)


async def test_one_user_with_credits_for_3_fires_20_redeems_at_once(shop: Shop) -> None:
    redemption = await shop.redemption(2)
    token = redemption["tokenUnits"][0]["token"]
    alice = await shop.shopper(credits=7)

    responses = await asyncio.gather(*(shop.redeem(alice, redemption["id"]) for _ in range(20)))

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 3, codes
    refused = {r.json()["code"] for r in responses if r.status_code != 201}
    assert refused == {"INSUFFICIENT_BALANCE"}
    assert await shop.credits(alice) == 1
    assert await shop.holds(alice, token) == 3
    assert len(ok(await shop.client.get(REDEEM, headers=alice.headers))) == 3


async def test_max_per_user_holds_under_concurrent_redeems(shop: Shop) -> None:
    redemption = await shop.redemption(1, maxPerUser=2, maxTotalSupply=100)
    alice = await shop.shopper(credits=50)

    responses = await asyncio.gather(*(shop.redeem(alice, redemption["id"]) for _ in range(15)))

    assert [r.status_code for r in responses].count(201) == 2
    assert {r.json()["code"] for r in responses if r.status_code != 201} == {"MAX_PER_USER_REACHED"}
    assert await shop.credits(alice) == 48
    assert (await shop.get(redemption["id"]))["availableSupply"] == 98
