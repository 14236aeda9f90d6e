"""Claims in the fast lane (pers.fastlane): a user's claim and a system's claim for a known
user are answered in one statement exactly as the regular path answers them; every refusal,
and whatever the lane does not take, is declined with nothing written and answered by the
regular path (docs/decisions.md, "The fast lane")."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from tests.campaigns.conftest import ok
from tests.claims.conftest import CLAIM, SYSTEM_CLAIM, Kit
from tests.conftest import fast_lane_outcomes

# What differs between two claims, or two users, by construction.
OWN = {"id", "createdAt", "updatedAt", "transactionIds", "transactions", "user"}


def same_claim(fast: dict[str, Any], slow: dict[str, Any]) -> None:
    assert set(fast) == set(slow)
    assert {k: v for k, v in fast.items() if k not in OWN} == {
        k: v for k, v in slow.items() if k not in OWN
    }
    assert set(fast["user"]) == set(slow["user"])
    assert len(fast["transactions"]) == len(slow["transactions"])
    for mine, theirs in zip(fast["transactions"], slow["transactions"], strict=True):
        assert set(mine) == set(theirs)
        for key in ("amount", "type", "triggerProcessType", "tokenAddress", "status", "chainId"):
            assert mine[key] == theirs[key]


async def test_a_user_claim_is_answered_by_the_lane_as_the_regular_path_would(
    kit: Kit, regular_client: httpx.AsyncClient
) -> None:
    conditions = [{"conditionType": "EQUALS", "key": "store", "value": "north"}]
    reward = await kit.reward(amount=3, maxPerUser=5, conditions=conditions)
    first, second, third = await kit.member(), await kit.member(), await kit.member()
    body = {"campaignId": reward.id, "conditionsData": {"store": "north"}}
    # The first claim reads the campaign and caches its detail (the regular path).
    ok(await kit.client.post(CLAIM, json=body, headers=first.headers), 201)
    before = fast_lane_outcomes(kit.client).copy()
    answer = await kit.client.post(CLAIM, json=body, headers=second.headers)
    fast = ok(answer, 201)
    slow = ok(await regular_client.post(CLAIM, json=body, headers=third.headers), 201)
    after = fast_lane_outcomes(kit.client)
    assert after[CLAIM, True] == before[CLAIM, True] + 1
    # The lane writes the campaign's JSON into its answer as rendered once: one campaign key.
    keys = json.loads(answer.content, object_pairs_hook=lambda pairs: [k for k, _ in pairs])
    assert sorted(keys) == sorted(set(keys)) == sorted(slow)
    assert after[CLAIM, False] == before[CLAIM, False]
    same_claim(fast, slow)
    assert fast["user"]["id"] == second.id
    assert fast["transactions"][0]["recipientAddress"] == second.account_address
    assert fast["transactions"][0]["triggerProcessId"] == fast["id"]
    assert fast["transactionIds"] == [fast["transactions"][0]["id"]]
    assert await kit.balance(second.account_address, reward.token) == 3
    history = ok(await kit.client.get(CLAIM, headers=second.headers))
    assert [c["id"] for c in history] == [fast["id"]]


async def test_a_system_claim_by_e_mail_is_answered_by_the_lane(
    kit: Kit, regular_client: httpx.AsyncClient
) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM", amount=2)
    known, other, third = await kit.member(), await kit.member(), await kit.member()
    system = await kit.system()
    ok(await kit.system_claim(reward.id, email=other.email), 201)  # caches the detail
    before = fast_lane_outcomes(kit.client).copy()
    assert known.email is not None
    fast = ok(await kit.system_claim(reward.id, email=known.email.upper()), 201)
    assert fast_lane_outcomes(kit.client)[SYSTEM_CLAIM, True] == before[SYSTEM_CLAIM, True] + 1
    slow = ok(
        await regular_client.post(
            SYSTEM_CLAIM, json={"campaignId": reward.id, "email": third.email}, headers=system
        ),
        201,
    )
    same_claim(fast, slow)
    assert fast["user"]["id"] == known.id
    assert await kit.balance(known.account_address, reward.token) == 2


async def test_refusals_and_what_the_lane_does_not_take_go_the_regular_path(kit: Kit) -> None:
    reward = await kit.reward(
        amount=1, maxPerUser=2, completionThreshold=2,
        conditions=[{"conditionType": "GREATER_THAN", "key": "spent", "value": 10}],
    )  # fmt: skip
    member, warm = await kit.member(), await kit.member()
    ok(await kit.claim(warm, reward.id, conditionsData={"spent": 11}), 201)  # cache the detail
    outcomes = fast_lane_outcomes(kit.client)
    answered, declined = outcomes[CLAIM, True], outcomes[CLAIM, False]

    # A failing condition: declined, refused by the regular path, nothing written.
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, conditionsData={"spent": 9}),
        "CONDITION_NOT_MET", before=before,
    )  # fmt: skip
    # Completion 1 of 2 (no reward), then 2 of 2 (rewarded): both in the lane.
    progress = ok(await kit.claim(member, reward.id, conditionsData={"spent": 12}), 201)
    assert progress["completion"] == {"count": 1, "threshold": 2, "rewarded": False}
    assert progress["transactions"] == []
    done = ok(await kit.claim(member, reward.id, conditionsData={"spent": 12}), 201)
    assert done["completion"] == {"count": 2, "threshold": 2, "rewarded": True}
    assert await kit.balance(member.account_address, reward.token) == 1
    # maxPerUser reached: the counter refuses in the lane, which declines.
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, conditionsData={"spent": 12}),
        "MAX_PER_USER_REACHED", before=before,
    )  # fmt: skip
    # The catalog changes (a higher limit): the cached detail is stale, the lane declines, the
    # regular path answers with the new limit and caches the new detail; the next is the lane's.
    await kit.update_trigger(reward.trigger["id"], name="Scan", maxPerUser=4, completionThreshold=2)
    ok(await kit.claim(member, reward.id, conditionsData={"spent": 12}), 201)
    ok(await kit.claim(member, reward.id, conditionsData={"spent": 12}), 201)
    assert await kit.balance(member.account_address, reward.token) == 2

    assert outcomes[CLAIM, True] - answered == 3
    assert outcomes[CLAIM, False] - declined == 3


async def test_a_deactivated_user_and_a_new_e_mail_are_declined(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM", amount=1)
    member = await kit.member()
    assert member.email is not None
    ok(await kit.system_claim(reward.id, email=member.email), 201)
    outcomes = fast_lane_outcomes(kit.client)
    declined = outcomes[SYSTEM_CLAIM, False]
    new = ok(await kit.system_claim(reward.id, email="first.time@u.example"), 201)
    assert new["user"]["email"] == "first.time@u.example"  # created by the regular path
    ok(await kit.client.put(f"/v1.7/user/admin/{member.id}/toggle-active", headers=kit.admin))
    before = await kit.recorded()
    await kit.refused(
        await kit.system_claim(reward.id, email=member.email), "USER_NOT_ACTIVE", before=before
    )
    assert outcomes[SYSTEM_CLAIM, False] - declined == 2


async def test_cooldown_is_exact_in_the_lane(kit: Kit) -> None:
    reward = await kit.reward(amount=1, minCooldownSeconds=60)
    member, warm = await kit.member(), await kit.member()
    ok(await kit.claim(warm, reward.id), 201)
    ok(await kit.claim(member, reward.id), 201)
    kit.clock.advance(timedelta(seconds=59))
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "COOLDOWN_ACTIVE", before=before)
    kit.clock.advance(timedelta(seconds=1))
    ok(await kit.claim(member, reward.id), 201)
    assert await kit.balance(member.account_address, reward.token) == 2
