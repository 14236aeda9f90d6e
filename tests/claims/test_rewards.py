"""What a claim mints: each token unit (``amount x multiplier``, at most ``maxAmount``) as a MINT
transaction naming the claim, on every ``completionThreshold``-th claim; and what a claim
repeated with its Idempotency-Key does (nothing more)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from tests.campaigns.conftest import ok, validation_error
from tests.claims.conftest import Kit

# --- token units ------------------------------------------------------------------------------


async def test_an_erc20_unit_mints_token_units_scaled_by_the_decimals(kit: Kit) -> None:
    reward = await kit.reward(decimals=2, amount=1.5)
    member = await kit.member()
    claim = ok(await kit.claim(member, reward.id), 201)
    [tx] = claim["transactions"]
    assert (tx["amount"], tx["tokenType"], tx["tokenAddress"]) == (
        1.5,
        "ERC20",
        reward.token["contractAddress"],
    )
    assert tx["contractTokenId"] is None
    [line] = await kit.balances(member.account_address)
    assert (line["contractAddress"], line["balance"], line["tokenType"]) == (
        reward.token["contractAddress"],
        1.5,
        "ERC20",
    )


async def test_an_erc20_unit_of_18_decimals_is_exact(kit: Kit) -> None:
    reward = await kit.reward(decimals=18, amount=0.1)
    member = await kit.member()
    for _ in range(3):
        ok(await kit.claim(member, reward.id), 201)
    assert await kit.balance(member.account_address, reward.token) == 0.3
    claim = ok(await kit.claim(member, reward.id, multiplier=0.7), 201)
    assert claim["transactions"][0]["amount"] == 0.07


async def test_an_erc1155_unit_mints_its_item(kit: Kit) -> None:
    reward = await kit.reward(token_type="ERC1155", amount=2)
    [unit] = reward.body["tokenUnits"]
    item = unit["tokenMetadataIncrementalId"]
    member = await kit.member()
    claim = ok(await kit.claim(member, reward.id), 201)
    [tx] = claim["transactions"]
    assert (tx["amount"], tx["tokenType"], tx["tokenMetadataIncrementalId"]) == (
        2,
        "ERC1155",
        item,
    )
    ok(await kit.claim(member, reward.id), 201)
    [line] = await kit.balances(member.account_address)
    assert (line["tokenType"], line["tokenMetadataIncrementalId"], line["balance"]) == (
        "ERC1155",
        item,
        4,
    )


async def test_an_erc721_unit_mints_a_fresh_id_per_claim(kit: Kit) -> None:
    reward = await kit.reward(token_type="ERC721", amount=1)
    [unit] = reward.body["tokenUnits"]
    member, other = await kit.member(), await kit.member()
    ids = []
    for who in (member, member, other):
        # The multiplier does not multiply a unique token.
        [tx] = ok(await kit.claim(who, reward.id, multiplier=3), 201)["transactions"]
        assert (tx["amount"], tx["tokenType"]) == (1, "ERC721")
        assert tx["tokenMetadataIncrementalId"] == unit["tokenMetadataIncrementalId"]
        ids.append(tx["contractTokenId"])
    assert None not in ids
    assert len(set(ids)) == 3
    lines = await kit.balances(member.account_address)
    assert sorted(line["tokenId"] for line in lines) == sorted(ids[:2])
    assert [line["balance"] for line in lines] == [1, 1]


async def test_every_token_unit_is_its_own_mint_naming_the_claim(kit: Kit) -> None:
    reward = await kit.reward(decimals=2, amount=5)
    badge = await kit.programme.token("ERC1155")
    item = await kit.programme.item(badge["id"])
    ok(
        await kit.programme.add_unit(
            reward.id, tokenId=badge["id"], amount=1, tokenMetadataIncrementalId=item
        ),
        201,
    )
    member = await kit.member()
    claim = ok(await kit.claim(member, reward.id), 201)
    assert len(claim["transactions"]) == 2
    assert claim["transactionIds"] == [t["id"] for t in claim["transactions"]]
    for tx in claim["transactions"]:
        assert tx["type"] == "MINT"
        assert tx["triggerProcessType"] == "CAMPAIGN_USER_CLAIM"
        assert tx["triggerProcessId"] == claim["id"]
        assert tx["recipientId"] == member.id
        assert tx["recipientOwnerType"] == "user"
        assert tx["senderOwnerType"] == "tenant"
        assert await kit.transaction(tx["id"]) == tx
    assert {t["tokenAddress"]: t["amount"] for t in claim["transactions"]} == {
        reward.token["contractAddress"]: 5,
        badge["contractAddress"]: 1,
    }


@pytest.mark.parametrize(
    ("trigger_type", "process"),
    [
        ("CLAIM_BY_SYSTEM", "CAMPAIGN_SYSTEM_CLAIM"),
        ("CLAIM_BY_BUSINESS", "CAMPAIGN_BUSINESS_CLAIM"),
    ],
)
async def test_the_transaction_says_who_claimed(kit: Kit, trigger_type: str, process: str) -> None:
    reward = await kit.reward(triggerType=trigger_type)
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"])
    member = await kit.member()
    naming = {"userIdentifier": "id", "id": member.id}
    if trigger_type == "CLAIM_BY_SYSTEM":
        response = await kit.system_claim(reward.id, **naming)
    else:
        response = await kit.business_claim(cafe, reward.id, **naming)
    claim = ok(response, 201)
    [tx_id] = claim["transactionIds"]
    tx = await kit.transaction(tx_id)
    assert (tx["type"], tx["triggerProcessType"], tx["triggerProcessId"]) == (
        "MINT",
        process,
        claim["id"],
    )


async def test_an_inactive_reward_token_is_refused(kit: Kit) -> None:
    reward = await kit.reward()
    member = await kit.member()
    toggle = f"/v1.7/token/admin/{reward.token['id']}/toggle-active"
    assert ok(await kit.client.put(toggle, headers=kit.admin))["isActive"] is False
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "REWARD_TOKEN_NOT_ACTIVE", before=before)
    assert ok(await kit.client.put(toggle, headers=kit.admin))["isActive"] is True
    ok(await kit.claim(member, reward.id), 201)


async def test_an_inactive_item_is_not_minted(kit: Kit) -> None:
    reward = await kit.reward(token_type="ERC1155")
    [item] = reward.body["tokenUnits"][0]["token"]["metadata"]
    ok(
        await kit.client.put(
            f"/v1.7/token/admin/metadata/{item['id']}/toggle-active", headers=kit.admin
        )
    )
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "TOKEN_NOT_ACTIVE", before=before)


# --- multiplier -------------------------------------------------------------------------------


async def test_the_multiplier_defaults_to_one(kit: Kit) -> None:
    reward = await kit.reward(amount=10)
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    ok(await kit.claim(member, reward.id, multiplier=None), 201)
    assert await kit.balance(member.account_address, reward.token) == 20


@pytest.mark.parametrize(
    ("amount", "multiplier", "minted"),
    [
        (1.5, 2.5, 3.75),
        (10, 0.5, 5),
        (1, 0.29, 0.29),  # exact: 0.29 as a binary float is just below 0.29
        (1, 1.1, 1.1),
        (0.07, 3, 0.21),
        (2, 0.333, 0.66),  # 66.6 base units, rounded down
    ],
)
async def test_each_unit_mints_amount_times_multiplier(
    kit: Kit, amount: float, multiplier: float, minted: float
) -> None:
    reward = await kit.reward(decimals=2, amount=amount)
    member = await kit.member()
    claim = ok(await kit.claim(member, reward.id, multiplier=multiplier), 201)
    assert claim["transactions"][0]["amount"] == minted
    assert await kit.balance(member.account_address, reward.token) == minted


async def test_the_multiplied_amount_is_capped_at_max_amount(kit: Kit) -> None:
    reward = await kit.reward(decimals=2, amount=10, max_amount=15)
    member = await kit.member()
    amounts = []
    for multiplier in (1.2, 1.5, 2, 100):
        claim = ok(await kit.claim(member, reward.id, multiplier=multiplier), 201)
        amounts.append(claim["transactions"][0]["amount"])
    assert amounts == [12, 15, 15, 15]


async def test_an_erc1155_amount_is_multiplied_in_whole_items(kit: Kit) -> None:
    reward = await kit.reward(token_type="ERC1155", amount=3, max_amount=8)
    member = await kit.member()
    minted = [
        ok(await kit.claim(member, reward.id, multiplier=m), 201)["transactions"][0]["amount"]
        for m in (2, 1.5, 5)
    ]
    assert minted == [6, 4, 8]


async def test_a_multiplier_above_max_multiplier_is_refused(kit: Kit) -> None:
    reward = await kit.reward(maxMultiplier=3)
    member = await kit.member()
    ok(await kit.claim(member, reward.id, multiplier=3), 201)
    before = await kit.recorded()
    body = await kit.refused(
        await kit.claim(member, reward.id, multiplier=3.01),
        "MULTIPLIER_ABOVE_MAXIMUM",
        before=before,
    )
    assert body["maxMultiplier"] == 3
    assert await kit.balance(member.account_address, reward.token) == 30


async def test_a_max_multiplier_below_one_needs_a_multiplier(kit: Kit) -> None:
    reward = await kit.reward(maxMultiplier=0.5, amount=10)
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "MULTIPLIER_ABOVE_MAXIMUM", before=before)
    claim = ok(await kit.claim(member, reward.id, multiplier=0.5), 201)
    assert claim["transactions"][0]["amount"] == 5


@pytest.mark.parametrize("multiplier", [0, -1, -0.5, "abc", True])
async def test_a_multiplier_must_be_above_zero(kit: Kit, multiplier: Any) -> None:
    reward = await kit.reward()
    member = await kit.member()
    validation_error(await kit.claim(member, reward.id, multiplier=multiplier), "multiplier")
    assert await kit.recorded() == (0, 0, 0)


@pytest.mark.parametrize("multiplier", ["1000000.5", "1e400", "1.0000000000000000001"])
async def test_a_multiplier_is_at_most_a_million_with_18_decimals(
    kit: Kit, multiplier: str
) -> None:
    reward = await kit.reward()
    member = await kit.member()
    response = await kit.raw_claim(
        member, f'{{"campaignId": "{reward.id}", "multiplier": {multiplier}}}'
    )
    validation_error(response, "multiplier")
    assert await kit.recorded() == (0, 0, 0)


async def test_the_multiplier_is_exact(kit: Kit) -> None:
    """A multiplier with more digits than a binary float holds is used as sent."""
    capped = await kit.reward(maxMultiplier=1)
    member = await kit.member()
    before = await kit.recorded()
    response = await kit.raw_claim(
        member, f'{{"campaignId": "{capped.id}", "multiplier": 1.000000000000000001}}'
    )
    await kit.refused(response, "MULTIPLIER_ABOVE_MAXIMUM", before=before)
    free = await kit.reward(decimals=18, amount=1)
    response = await kit.raw_claim(
        member, f'{{"campaignId": "{free.id}", "multiplier": 1.000000000000000001}}'
    )
    [tx_id] = ok(response, 201)["transactionIds"]
    async with kit.engine.connect() as conn:
        amount = await conn.scalar(
            text("SELECT amount FROM transactions WHERE id = :id"), {"id": tx_id}
        )
    assert amount == 10**18 + 1


async def test_a_reward_above_what_a_token_holds_is_refused(kit: Kit) -> None:
    reward = await kit.reward(token_type="ERC1155", amount=10**77)
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, multiplier=2),
        "INVALID_MULTIPLIER",
        before=before,
        status=400,
    )


async def test_a_multiplier_that_leaves_no_base_unit_is_refused(kit: Kit) -> None:
    reward = await kit.reward(decimals=2, amount=0.01)
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, multiplier=0.5),
        "INVALID_MULTIPLIER",
        before=before,
        status=400,
    )


# --- completionThreshold ------------------------------------------------------------------------


async def test_every_nth_completion_mints(kit: Kit) -> None:
    reward = await kit.reward(completionThreshold=3, amount=7)
    member = await kit.member()
    seen = []
    for n in range(1, 8):
        claim = ok(await kit.claim(member, reward.id), 201)
        rewarded = n % 3 == 0
        assert claim["completion"] == {"count": n, "threshold": 3, "rewarded": rewarded}
        assert len(claim["transactions"]) == len(claim["transactionIds"]) == int(rewarded)
        seen.append((claim["id"], claim["completion"], claim["transactionIds"]))
        assert await kit.balance(member.account_address, reward.token) == 7 * (n // 3)
    # Every completion is a claim of the history, with its progress.
    history = await kit.campaign_claims(reward.id)
    assert [(c["id"], c["completion"], c["transactionIds"]) for c in history] == seen[::-1]
    # Each user completes on its own.
    other = ok(await kit.claim(await kit.member(), reward.id), 201)
    assert other["completion"] == {"count": 1, "threshold": 3, "rewarded": False}


async def test_without_a_threshold_every_claim_is_rewarded(kit: Kit) -> None:
    reward = await kit.reward()
    member = await kit.member()
    for n in (1, 2):
        claim = ok(await kit.claim(member, reward.id), 201)
        assert claim["completion"] == {"count": n, "threshold": None, "rewarded": True}


async def test_completions_count_towards_max_per_user(kit: Kit) -> None:
    reward = await kit.reward(completionThreshold=2, maxPerUser=3)
    member = await kit.member()
    rewarded = [
        ok(await kit.claim(member, reward.id), 201)["completion"]["rewarded"] for _ in range(3)
    ]
    assert rewarded == [False, True, False]
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "MAX_PER_USER_REACHED", before=before)


async def test_a_rewarding_completion_refused_at_minting_is_not_counted(kit: Kit) -> None:
    reward = await kit.reward(completionThreshold=2)
    member = await kit.member()
    toggle = f"/v1.7/token/admin/{reward.token['id']}/toggle-active"
    ok(await kit.client.put(toggle, headers=kit.admin))
    # The first completion mints nothing, so an inactive token does not stop it.
    assert ok(await kit.claim(member, reward.id), 201)["completion"]["rewarded"] is False
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "REWARD_TOKEN_NOT_ACTIVE", before=before)
    ok(await kit.client.put(toggle, headers=kit.admin))
    claim = ok(await kit.claim(member, reward.id), 201)
    assert claim["completion"] == {"count": 2, "threshold": 2, "rewarded": True}


# --- Idempotency-Key ----------------------------------------------------------------------------


async def test_a_claim_repeated_with_its_key_is_answered_again_and_mints_once(kit: Kit) -> None:
    reward = await kit.reward(maxPerUser=1, amount=4)
    member = await kit.member()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"campaignId": reward.id}
    first = await kit.client.post(
        "/v1.7/campaign/auth/claim", json=body, headers={**member.headers, **key}
    )
    second = await kit.client.post(
        "/v1.7/campaign/auth/claim", json=body, headers={**member.headers, **key}
    )
    assert first.status_code == second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert await kit.recorded() == (1, 1, 1)
    assert await kit.balance(member.account_address, reward.token) == 4
    # The same key with another body is refused; another key is a new claim (here refused by
    # maxPerUser).
    other = await kit.client.post(
        "/v1.7/campaign/auth/claim",
        json={**body, "conditionsData": {"a": 1}},
        headers={**member.headers, **key},
    )
    await kit.refused(other, "IDEMPOTENCY_KEY_REUSED", before=(1, 1, 1))
    fresh = await kit.client.post(
        "/v1.7/campaign/auth/claim",
        json=body,
        headers={**member.headers, "Idempotency-Key": "another"},
    )
    await kit.refused(fresh, "MAX_PER_USER_REACHED", before=(1, 1, 1))


async def test_one_key_used_by_two_users_makes_two_claims(kit: Kit) -> None:
    reward = await kit.reward()
    ada, bob = await kit.member(), await kit.member()
    key = {"Idempotency-Key": "shared-key"}
    body = {"campaignId": reward.id}
    first = await kit.client.post(
        "/v1.7/campaign/auth/claim", json=body, headers={**ada.headers, **key}
    )
    second = await kit.client.post(
        "/v1.7/campaign/auth/claim", json=body, headers={**bob.headers, **key}
    )
    assert first.status_code == second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert (first.json()["user"]["id"], second.json()["user"]["id"]) == (ada.id, bob.id)
    assert await kit.recorded() == (2, 2, 2)


async def test_a_system_claim_repeated_with_its_key_creates_one_user(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM")
    headers = {**(await kit.system()), "Idempotency-Key": uuid.uuid4().hex}
    body = {"campaignId": reward.id, "userIdentifier": "email", "email": "x@new.example"}
    first = await kit.client.post("/v1.7/campaign/system/claim", json=body, headers=headers)
    second = await kit.client.post("/v1.7/campaign/system/claim", json=body, headers=headers)
    assert first.status_code == second.status_code == 201, second.text
    assert second.json()["id"] == first.json()["id"]
    assert await kit.recorded() == (1, 1, 1)


async def test_a_refused_claim_retried_with_its_key_runs_again(kit: Kit) -> None:
    reward = await kit.reward(active=False)
    member = await kit.member()
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"campaignId": reward.id}
    refused = await kit.client.post(
        "/v1.7/campaign/auth/claim", json=body, headers={**member.headers, **headers}
    )
    await kit.refused(refused, "CAMPAIGN_NOT_ACTIVE", before=(0, 0, 0))
    await kit.programme.toggle(reward.id)
    retried = await kit.client.post(
        "/v1.7/campaign/auth/claim", json=body, headers={**member.headers, **headers}
    )
    assert retried.status_code == 201, retried.text
    assert await kit.recorded() == (1, 1, 1)


async def test_concurrent_claims_with_one_key_mint_once(kit: Kit) -> None:
    reward = await kit.reward(amount=2)
    member = await kit.member()
    headers = {**member.headers, "Idempotency-Key": uuid.uuid4().hex}
    responses = await asyncio.gather(
        *(
            kit.client.post(
                "/v1.7/campaign/auth/claim", json={"campaignId": reward.id}, headers=headers
            )
            for _ in range(10)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    created = [r.json()["id"] for r in responses if r.status_code == 201]
    assert len(set(created)) == 1
    for r in responses:
        if r.status_code == 409:
            assert r.json()["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
    assert await kit.recorded() == (1, 1, 1)
    assert await kit.balance(member.account_address, reward.token) == 2
