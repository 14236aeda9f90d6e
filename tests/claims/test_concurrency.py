"""Limits are exact under concurrency: simultaneous claims (asyncio.gather over one client) get
exactly as many successes as the limit allows, and exactly that many rewards."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable

import httpx

from tests.claims.conftest import CLAIM, SYSTEM_CLAIM, Kit


async def _all(requests: list[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*requests))


def _outcomes(responses: list[httpx.Response]) -> Counter[str]:
    """201, or the problem code, of each response."""
    return Counter(
        "201" if r.status_code == 201 else f"{r.status_code} {r.json().get('code')}"
        for r in responses
    )


async def test_fifty_claims_of_one_user_get_exactly_max_per_user(kit: Kit) -> None:
    reward = await kit.reward(maxPerUser=3, amount=5)
    member = await kit.member()
    headers = member.headers
    body = {"campaignId": reward.id}
    responses = await _all([kit.client.post(CLAIM, json=body, headers=headers) for _ in range(50)])
    assert _outcomes(responses) == {"201": 3, "422 MAX_PER_USER_REACHED": 47}
    assert await kit.recorded() == (3, 3, 3)
    assert await kit.balance(member.account_address, reward.token) == 15
    claims = await kit.campaign_claims(reward.id)
    assert sorted(c["completion"]["count"] for c in claims) == [1, 2, 3]


async def test_fifty_users_claiming_at_once_all_succeed(kit: Kit) -> None:
    reward = await kit.reward(maxPerUser=1, maxPerDay=1, minCooldownSeconds=3600, amount=2)
    members = [await kit.member() for _ in range(50)]
    body = {"campaignId": reward.id}
    responses = await _all([kit.client.post(CLAIM, json=body, headers=m.headers) for m in members])
    assert _outcomes(responses) == {"201": 50}
    assert {r.json()["user"]["id"] for r in responses} == {m.id for m in members}
    assert await kit.recorded() == (50, 50, 50)
    for member in members[:5]:
        assert await kit.balance(member.account_address, reward.token) == 2


async def test_concurrent_claims_stop_exactly_at_max_per_day(kit: Kit) -> None:
    reward = await kit.reward(maxPerDay=2)
    member = await kit.member()
    headers = member.headers
    body = {"campaignId": reward.id}
    responses = await _all([kit.client.post(CLAIM, json=body, headers=headers) for _ in range(20)])
    assert _outcomes(responses) == {"201": 2, "422 MAX_PER_DAY_REACHED": 18}
    assert await kit.recorded() == (2, 2, 2)


async def test_concurrent_claims_respect_the_cooldown(kit: Kit) -> None:
    reward = await kit.reward(minCooldownSeconds=60)
    member = await kit.member()
    headers = member.headers
    body = {"campaignId": reward.id}
    responses = await _all([kit.client.post(CLAIM, json=body, headers=headers) for _ in range(20)])
    assert _outcomes(responses) == {"201": 1, "422 COOLDOWN_ACTIVE": 19}
    assert await kit.recorded() == (1, 1, 1)


async def test_concurrent_claims_stop_exactly_at_max_per_bussiness(kit: Kit) -> None:
    reward = await kit.reward(maxPerUser=10)
    cafe, museum = await kit.business("Cafe"), await kit.business("Museum")
    await kit.engage(reward.id, cafe["id"], museum["id"], maxPerBussiness=2)
    member = await kit.member()
    headers = member.headers
    requests = [
        kit.client.post(
            CLAIM, json={"campaignId": reward.id, "businessId": b["id"]}, headers=headers
        )
        for _ in range(10)
        for b in (cafe, museum)
    ]
    responses = await _all(requests)
    assert _outcomes(responses) == {"201": 4, "422 MAX_PER_BUSINESS_REACHED": 16}
    ok_at = Counter(r.json()["business"]["id"] for r in responses if r.status_code == 201)
    assert ok_at == {cafe["id"]: 2, museum["id"]: 2}
    # Two counters per claim: the campaign's and the business's.
    assert await kit.recorded() == (4, 4, 8)


async def test_concurrent_business_claims_stop_at_the_engagements_limits(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_BUSINESS")
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"], maxPerBussiness=5, maxPerDay=2)
    member = await kit.member()
    body = {"campaignId": reward.id, "userIdentifier": "id", "id": member.id}
    responses = await _all(
        [
            kit.client.post("/v1.7/campaign/business/claim", json=body, headers=cafe["headers"])
            for _ in range(20)
        ]
    )
    assert _outcomes(responses) == {"201": 2, "422 MAX_PER_DAY_AT_BUSINESS_REACHED": 18}
    assert await kit.recorded() == (2, 2, 4)


async def test_concurrent_claims_for_one_new_user_create_it_once(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM", maxPerUser=1)
    system = await kit.system()
    body = {
        "campaignId": reward.id,
        "userIdentifier": "email",
        "email": f"{uuid.uuid4().hex}@new.example",
    }
    responses = await _all(
        [kit.client.post(SYSTEM_CLAIM, json=body, headers=system) for _ in range(20)]
    )
    assert _outcomes(responses) == {"201": 1, "422 MAX_PER_USER_REACHED": 19}
    users = await kit.client.get(
        "/v1.7/user/admin", params={"search": body["email"]}, headers=kit.admin
    )
    assert len(users.json()["data"]) == 1


async def test_concurrent_system_claims_for_many_new_users(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM", maxPerUser=1)
    system = await kit.system()
    emails = [f"{uuid.uuid4().hex}@new.example" for _ in range(30)]
    responses = await _all(
        [
            kit.client.post(
                SYSTEM_CLAIM,
                json={"campaignId": reward.id, "userIdentifier": "email", "email": email},
                headers=system,
            )
            for email in emails
        ]
    )
    assert _outcomes(responses) == {"201": 30}
    assert sorted(r.json()["user"]["email"] for r in responses) == sorted(emails)
    assert await kit.recorded() == (30, 30, 30)


async def test_concurrent_completions_reward_every_nth_exactly(kit: Kit) -> None:
    reward = await kit.reward(completionThreshold=5, amount=1)
    member = await kit.member()
    headers = member.headers
    body = {"campaignId": reward.id}
    responses = await _all([kit.client.post(CLAIM, json=body, headers=headers) for _ in range(20)])
    assert _outcomes(responses) == {"201": 20}
    counts = sorted(r.json()["completion"]["count"] for r in responses)
    assert counts == list(range(1, 21))
    rewarded = sorted(
        r.json()["completion"]["count"] for r in responses if r.json()["completion"]["rewarded"]
    )
    assert rewarded == [5, 10, 15, 20]
    assert await kit.balance(member.account_address, reward.token) == 4
