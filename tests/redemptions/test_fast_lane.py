"""Redeems in the fast lane (pers.fastlane): a user's redeem is answered in one statement exactly
as the regular path answers it; every refusal, and whatever the lane does not take, is declined
with nothing written and answered by the regular path (docs/decisions.md, "The fast lane")."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import fast_lane_outcomes
from tests.redemptions.conftest import ADMIN, REDEEM, Shop, Shopper, ok, problem
from tests.tokens.conftest import create_token

# What differs between two redeems, or two users, by construction.
OWN = {"id", "userId", "createdAt", "transactionIds", "transactions"}
SAME_IN_TRANSACTIONS = (
    "amount", "type", "triggerProcessType", "tokenAddress", "tokenType", "status", "chainId",
    "contractTokenId", "tokenMetadataIncrementalId", "senderOwnerType", "recipientOwnerType",
)  # fmt: skip


def same_redeem(fast: dict[str, Any], slow: dict[str, Any]) -> None:
    assert set(fast) == set(slow)
    assert {k: v for k, v in fast.items() if k not in OWN} == {
        k: v for k, v in slow.items() if k not in OWN
    }
    assert len(fast["transactions"]) == len(slow["transactions"])
    for mine, theirs in zip(fast["transactions"], slow["transactions"], strict=True):
        assert set(mine) == set(theirs)
        for key in SAME_IN_TRANSACTIONS:
            if key in mine:
                assert mine[key] == theirs[key], key


class Counts:
    """The lane's outcomes for redeems since it was made."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.outcomes = fast_lane_outcomes(client)
        self.answered = self.outcomes[REDEEM, True]
        self.declined = self.outcomes[REDEEM, False]

    def __call__(self) -> tuple[int, int]:
        return (
            self.outcomes[REDEEM, True] - self.answered,
            self.outcomes[REDEEM, False] - self.declined,
        )


async def warm(shop: Shop, redemption: dict[str, Any], credits: Any = 100) -> None:
    """A first redeem, by a user of its own: the regular path reads the redemption and caches
    its token units, which the lane then uses."""
    ok(await shop.redeem(await shop.shopper(credits=credits), redemption["id"]), 201)


async def written(shop: Shop, shopper: Shopper) -> tuple[float, list[Any]]:
    return await shop.credits(shopper), ok(await shop.client.get(REDEEM, headers=shopper.headers))


async def test_a_redeem_is_answered_by_the_lane_as_the_regular_path_would(
    shop: Shop, regular_client: httpx.AsyncClient
) -> None:
    redemption = await shop.redemption(2.5, maxTotalSupply=50, maxPerUser=3)
    token = redemption["tokenUnits"][0]["token"]
    await warm(shop, redemption)
    alice, bob = await shop.shopper(credits=10), await shop.shopper(credits=10)
    counts = Counts(shop.client)

    fast = ok(await shop.redeem(alice, redemption["id"]), 201)
    slow = ok(
        await regular_client.post(
            REDEEM, json={"redemptionId": redemption["id"]}, headers=bob.headers
        ),
        201,
    )

    assert counts() == (1, 0)
    same_redeem(fast, slow)
    assert fast["userId"] == alice.id
    assert fast["userCountryCode"] is None
    spend, receive = fast["transactions"]
    assert fast["transactionIds"] == [spend["id"], receive["id"]]
    assert spend["senderAddress"] == alice.address
    assert receive["recipientAddress"] == alice.address
    assert spend["triggerProcessId"] == receive["triggerProcessId"] == fast["id"]
    assert await shop.credits(alice) == 7.5
    assert await shop.holds(alice, token) == 1
    assert (await shop.get(redemption["id"]))["supply"] == {"available": 47, "total": 50}
    mine = ok(await shop.client.get(REDEEM, headers=alice.headers))
    assert [r["id"] for r in mine] == [fast["id"]]
    assert mine[0]["transactionIds"] == fast["transactionIds"]
    for tx in fast["transactions"]:
        got = ok(await shop.client.get(f"/v1.7/transaction/{tx['id']}", headers=shop.admin))
        assert got["id"] == tx["id"]
        assert got["amount"] == tx["amount"]


async def test_every_kind_of_token_unit_and_a_free_redemption_in_the_lane(shop: Shop) -> None:
    created = ok(
        await shop.client.post(
            ADMIN, json={"creditTokenAmount": 0, "name": "Welcome pack"}, headers=shop.admin
        ),
        201,
    )
    erc1155, item = await shop.reward_token()
    erc721 = await create_token(shop.client, shop.tenant, "ERC721")
    badge = await shop.economy.item(erc721["id"], "Badge")
    units = [
        {"tokenId": erc1155["id"], "tokenMetadataIncrementalId": item, "amount": 3},
        {"tokenId": erc721["id"], "tokenMetadataIncrementalId": badge, "amount": 1},
        {"tokenId": shop.credit["id"], "amount": 1.25},
    ]
    for unit in units:
        ok(await shop.add_unit(created["id"], **unit), 201)
    redemption = ok(
        await shop.client.put(f"{ADMIN}/{created['id']}/toggle-active", headers=shop.admin)
    )
    await warm(shop, redemption, credits=0)
    alice = await shop.shopper()
    counts = Counts(shop.client)

    first = ok(await shop.redeem(alice, redemption["id"]), 201)
    second = ok(await shop.redeem(alice, redemption["id"]), 201)

    assert counts() == (2, 0)
    assert first["creditTokenAmount"] == 0
    assert [t["tokenType"] for t in first["transactions"]] == ["ERC1155", "ERC721", "ERC20"]
    assert all(t["triggerProcessType"] == "REDEMPTION_RECEIVE" for t in first["transactions"])
    nft, nft_again = first["transactions"][1], second["transactions"][1]
    assert nft["tokenMetadataIncrementalId"] == nft_again["tokenMetadataIncrementalId"] == badge
    assert nft["contractTokenId"] != nft_again["contractTokenId"]  # a fresh id each time
    assert first["transactions"][0]["contractTokenId"] == str(item)
    assert await shop.holds(alice, erc1155) == 6
    assert await shop.holds(alice, erc721) == 2
    assert await shop.credits(alice) == 2.5


async def test_refusals_are_declined_and_answered_by_the_regular_path(shop: Shop) -> None:
    redemption = await shop.redemption(4, maxPerUser=1, maxTotalSupply=3)
    await warm(shop, redemption)
    poor, alice, bob, carol = [await shop.shopper(credits=c) for c in (3, 4, 4, 4)]
    counts = Counts(shop.client)

    problem(await shop.redeem(poor, redemption["id"]), 422, "INSUFFICIENT_BALANCE")
    assert await written(shop, poor) == (3, [])
    ok(await shop.redeem(alice, redemption["id"]), 201)
    problem(await shop.redeem(alice, redemption["id"]), 422, "MAX_PER_USER_REACHED")
    ok(await shop.redeem(bob, redemption["id"]), 201)
    problem(await shop.redeem(carol, redemption["id"]), 422, "REDEMPTION_SUPPLY_EXHAUSTED")
    assert await written(shop, carol) == (4, [])
    assert await shop.credits(alice) == 0

    assert counts() == (2, 3)
    # The counter the declined maxPerUser redeem reached was rolled back with it: the regular
    # path then refused it (the one redeem allowed was made) and counted nothing either.
    assert len(ok(await shop.client.get(REDEEM, headers=alice.headers))) == 1


async def test_a_catalog_change_is_seen_at_once(shop: Shop) -> None:
    redemption = await shop.redemption(1)
    await warm(shop, redemption)
    alice = await shop.shopper(credits=5)
    counts = Counts(shop.client)

    ok(await shop.client.put(f"{ADMIN}/{redemption['id']}/toggle-active", headers=shop.admin))
    problem(await shop.redeem(alice, redemption["id"]), 422, "REDEMPTION_NOT_ACTIVE")
    ok(await shop.client.put(f"{ADMIN}/{redemption['id']}/toggle-active", headers=shop.admin))
    # A price change: the lane never charges the cached price.
    ok(
        await shop.client.put(
            f"{ADMIN}/{redemption['id']}", json={"creditTokenAmount": 2}, headers=shop.admin
        )
    )
    ok(await shop.redeem(alice, redemption["id"]), 201)  # the regular path; caches anew
    ok(await shop.redeem(alice, redemption["id"]), 201)  # the lane
    assert await shop.credits(alice) == 1
    assert counts() == (1, 2)


async def test_countries_in_the_lane(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    redemption = await shop.redemption(1, countryCodeRestrictions=["NOT_ES", "FR", "DE"])
    await warm(shop, redemption)
    french, spaniard, italian, odd = [await shop.shopper(credits=5) for _ in range(4)]
    await shop.set_country(french, "fr")
    await shop.set_country(spaniard, "ES")
    await shop.set_country(italian, "IT")
    await shop.set_country(odd, " de ")
    counts = Counts(shop.client)

    assert ok(await shop.redeem(french, redemption["id"]), 201)["userCountryCode"] == "FR"
    assert counts() == (1, 0)
    problem(await shop.redeem(spaniard, redemption["id"]), 422, "COUNTRY_NOT_ALLOWED")
    problem(await shop.redeem(italian, redemption["id"]), 422, "COUNTRY_NOT_ALLOWED")
    # A country the statement does not read plainly: the regular path trims it.
    assert ok(await shop.redeem(odd, redemption["id"]), 201)["userCountryCode"] == "DE"
    assert counts() == (1, 3)
    assert await written(shop, spaniard) == (5, [])

    monkeypatch.setattr(shop.runtime.settings, "country_header", "cf-ipcountry")
    answered = ok(await shop.redeem(spaniard, redemption["id"], **{"cf-ipcountry": "de"}), 201)
    assert answered["userCountryCode"] == "DE"  # the header wins over the profile
    assert counts() == (2, 3)


async def test_a_minimum_status_is_left_to_the_regular_path(shop: Shop) -> None:
    gold = await shop.status_type("Gold", 50)
    redemption = await shop.redemption(1, minUserStatusTypeId=gold["id"])
    await warm(shop, redemption)
    low, high = await shop.shopper(credits=10), await shop.shopper(credits=60)
    counts = Counts(shop.client)
    problem(await shop.redeem(low, redemption["id"]), 422, "USER_STATUS_TOO_LOW")
    ok(await shop.redeem(high, redemption["id"]), 201)
    assert counts() == (0, 2)


async def test_a_deactivated_user_is_declined(shop: Shop) -> None:
    redemption = await shop.redemption(1)
    await warm(shop, redemption)
    alice = await shop.shopper(credits=5)
    counts = Counts(shop.client)
    ok(await shop.client.put(f"/v1.7/user/admin/{alice.id}/toggle-active", headers=shop.admin))
    problem(await shop.redeem(alice, redemption["id"]), 401, "USER_INACTIVE")
    assert counts() == (0, 1)
    assert await shop.credits(alice) == 5


async def test_100_users_at_once_redeem_a_supply_of_10_in_the_lane(shop: Shop) -> None:
    redemption = await shop.redemption(5, maxTotalSupply=11)
    token = redemption["tokenUnits"][0]["token"]
    await warm(shop, redemption)
    users = [await shop.shopper(credits=5) for _ in range(100)]
    counts = Counts(shop.client)

    responses = await asyncio.gather(*(shop.redeem(u, redemption["id"]) for u in users))

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 10, codes
    assert counts()[0] == 10
    assert {r.json()["code"] for r in responses if r.status_code != 201} == {
        "REDEMPTION_SUPPLY_EXHAUSTED"
    }
    assert (await shop.get(redemption["id"]))["supply"] == {"available": 0, "total": 11}
    for user, response in zip(users, responses, strict=True):
        won = response.status_code == 201
        assert await shop.credits(user) == (0 if won else 5)
        assert await shop.holds(user, token) == (1 if won else 0)


async def test_one_user_with_credits_for_3_fires_20_redeems_in_the_lane(shop: Shop) -> None:
    redemption = await shop.redemption(2)
    token = redemption["tokenUnits"][0]["token"]
    await warm(shop, redemption)
    alice = await shop.shopper(credits=7)
    counts = Counts(shop.client)

    responses = await asyncio.gather(*(shop.redeem(alice, redemption["id"]) for _ in range(20)))

    assert [r.status_code for r in responses].count(201) == 3
    assert counts()[0] == 3
    assert {r.json()["code"] for r in responses if r.status_code != 201} == {"INSUFFICIENT_BALANCE"}
    assert await shop.credits(alice) == 1
    assert await shop.holds(alice, token) == 3
