"""Which campaigns can be claimed: live, active, between its start and end dates, of the
credentials' environment, with a trigger."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from pers.kit.enums import Environment
from tests.campaigns.conftest import ADMIN, Programme, ok
from tests.claims.conftest import Kit, Member
from tests.tokens.conftest import promote


async def test_a_campaign_without_a_trigger_cannot_be_claimed(kit: Kit) -> None:
    reward = await kit.reward(with_trigger=False)
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "CAMPAIGN_HAS_NO_TRIGGER", before=before)
    system = await kit.system_claim(reward.id, userIdentifier="id", id=member.id)
    await kit.refused(system, "CAMPAIGN_HAS_NO_TRIGGER", before=before)


async def test_deleting_its_trigger_stops_the_claims(kit: Kit) -> None:
    reward = await kit.reward()
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    ok(await kit.client.delete(f"{ADMIN}/trigger/{reward.trigger['id']}", headers=kit.admin))
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "CAMPAIGN_HAS_NO_TRIGGER", before=before)


async def test_only_an_active_campaign_is_claimed(kit: Kit) -> None:
    reward = await kit.reward(active=False)
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "CAMPAIGN_NOT_ACTIVE", before=before)
    await kit.programme.toggle(reward.id)
    ok(await kit.claim(member, reward.id), 201)
    await kit.programme.toggle(reward.id)
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "CAMPAIGN_NOT_ACTIVE", before=before)
    assert await kit.balance(member.account_address, reward.token) == 10


async def test_a_campaign_is_claimed_from_its_start_date(kit: Kit) -> None:
    start = kit.clock.now() + timedelta(hours=1)
    reward = await kit.reward(campaign={"startDate": start.isoformat()})
    member = await kit.member()
    before = await kit.recorded()
    body = await kit.refused(
        await kit.claim(member, reward.id), "CAMPAIGN_NOT_STARTED", before=before
    )
    assert "starts" in body["detail"]
    kit.clock.advance(timedelta(minutes=59))
    await kit.refused(await kit.claim(member, reward.id), "CAMPAIGN_NOT_STARTED", before=before)
    kit.clock.advance(timedelta(minutes=1, seconds=1))
    ok(await kit.claim(member, reward.id), 201)


async def test_a_campaign_is_claimed_until_its_end_date(kit: Kit) -> None:
    end = kit.clock.now() + timedelta(hours=1)
    reward = await kit.reward(campaign={"endDate": end.isoformat()})
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    kit.clock.advance(timedelta(minutes=59))
    ok(await kit.claim(member, reward.id), 201)
    kit.clock.advance(timedelta(minutes=1, seconds=1))
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "CAMPAIGN_ENDED", before=before)
    assert await kit.balance(member.account_address, reward.token) == 20


async def test_a_campaign_that_ended_before_it_was_activated(kit: Kit) -> None:
    now = kit.clock.now()
    dates = {
        "startDate": (now - timedelta(days=2)).isoformat(),
        "endDate": (now - timedelta(days=1)).isoformat(),
    }
    reward = await kit.reward(campaign=dates)
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "CAMPAIGN_ENDED", before=before)


async def test_a_deleted_campaign_is_not_found(kit: Kit) -> None:
    reward = await kit.reward()
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    ok(await kit.client.delete(f"{ADMIN}/{reward.id}", headers=kit.admin))
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id), "CAMPAIGN_NOT_FOUND", before=before, status=404
    )


async def test_an_unknown_or_foreign_campaign_is_not_found(
    kit: Kit, other_programme: Programme
) -> None:
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, str(uuid.uuid4())), "CAMPAIGN_NOT_FOUND", before=before, status=404
    )
    foreign = await other_programme.active_campaign("Foreign")
    trigger = await other_programme.trigger()
    await other_programme.set_trigger(foreign["id"], trigger["id"])
    await kit.refused(
        await kit.claim(member, foreign["id"]), "CAMPAIGN_NOT_FOUND", before=before, status=404
    )


async def test_a_testnet_campaign_is_not_claimed_with_mainnet_credentials(kit: Kit) -> None:
    reward = await kit.reward()
    mainnet_member = await kit.member(env=Environment.MAINNET)
    before = await kit.recorded()
    body = await kit.refused(
        await kit.claim(mainnet_member, reward.id), "CAMPAIGN_WRONG_ENVIRONMENT", before=before
    )
    assert "testnet" in body["detail"]
    system_reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM")
    mainnet_system = await kit.mainnet_system()
    response = await kit.system_claim(
        system_reward.id, mainnet_system, userIdentifier="id", id=mainnet_member.id
    )
    await kit.refused(response, "CAMPAIGN_WRONG_ENVIRONMENT", before=before)


async def test_a_mainnet_campaign_is_claimed_only_with_mainnet_credentials(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM", amount=5)
    main_token = await promote(kit.client, kit.tenant, reward.token["id"], chain_id=137)
    moved = ok(await kit.client.put(f"{ADMIN}/{reward.id}/environment", headers=kit.admin))
    assert moved["isTestnet"] is False
    member = await kit.member()
    testnet_system = await kit.system()
    mainnet_system = await kit.mainnet_system()
    before = await kit.recorded()
    response = await kit.system_claim(reward.id, testnet_system, userIdentifier="id", id=member.id)
    await kit.refused(response, "CAMPAIGN_WRONG_ENVIRONMENT", before=before)
    claim = ok(
        await kit.system_claim(reward.id, mainnet_system, userIdentifier="id", id=member.id), 201
    )
    assert claim["campaign"]["isTestnet"] is False
    [tx] = claim["transactions"]
    assert (tx["tokenAddress"], tx["chainId"]) == (main_token["contractAddress"], 137)
    mainnet = ok(
        await kit.client.get(
            f"/v1.7/balance/account/{member.account_address}",
            headers={"x-project-key": kit.tenant.project_key},
        )
    )
    assert [(b["contractAddress"], b["balance"]) for b in mainnet["tokenBalances"]] == [
        (main_token["contractAddress"], 5)
    ]
    assert await kit.balances(member.account_address) == []  # nothing on testnet
    # The testnet history does not show the mainnet claim; the mainnet one does.
    assert await kit.campaign_claims(reward.id) == []
    main_admin = await kit.programme.mainnet_admin()
    listed: list[dict[str, Any]] = ok(
        await kit.client.get(f"{ADMIN}/{reward.id}/claim", headers=main_admin)
    )
    assert [c["id"] for c in listed] == [claim["id"]]


async def test_a_user_claims_a_mainnet_campaign_with_a_mainnet_session(kit: Kit) -> None:
    reward = await kit.reward(amount=3)
    await promote(kit.client, kit.tenant, reward.token["id"], chain_id=137)
    ok(await kit.client.put(f"{ADMIN}/{reward.id}/environment", headers=kit.admin))
    testnet = await kit.member()
    mainnet = Member(kit, testnet.id, testnet.account_address, testnet.email, Environment.MAINNET)
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(testnet, reward.id), "CAMPAIGN_WRONG_ENVIRONMENT", before=before
    )
    claim = ok(await kit.claim(mainnet, reward.id), 201)
    assert claim["transactions"][0]["chainId"] == 137
    # Each session sees the claims of its environment.
    mine = ok(await kit.client.get("/v1.7/campaign/auth/claim", headers=mainnet.headers))
    assert [c["id"] for c in mine] == [claim["id"]]
    assert ok(await kit.client.get("/v1.7/campaign/auth/claim", headers=testnet.headers)) == []
