"""Testnet and mainnet: a campaign lives in one environment, is listed and read with that
environment's credentials, and admins move it with the environment toggle."""

from __future__ import annotations

import httpx

from tests.campaigns.conftest import ADMIN, CAMPAIGN, Programme, ok, problem
from tests.tokens.conftest import mainnet_public, promote


async def test_campaigns_are_created_in_the_environment_of_the_admin(
    programme: Programme,
) -> None:
    assert (await programme.campaign("Test"))["isTestnet"] is True
    main_admin = await programme.mainnet_admin()
    created = ok(await programme.client.post(ADMIN, json={"name": "Live"}, headers=main_admin), 201)
    assert created["isTestnet"] is False


async def test_each_project_key_lists_and_reads_its_own_environment(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    testnet = await programme.active_campaign("Test")
    mainnet = await programme.active_campaign("Live")
    mainnet = ok(await client.put(f"{ADMIN}/{mainnet['id']}/environment", headers=programme.admin))
    assert mainnet["isTestnet"] is False
    main_key = mainnet_public(programme.tenant)
    assert [c["id"] for c in ok(await client.get(CAMPAIGN, headers=programme.public))] == [
        testnet["id"]
    ]
    assert [c["id"] for c in ok(await client.get(CAMPAIGN, headers=main_key))] == [mainnet["id"]]
    problem(await client.get(f"{CAMPAIGN}/{mainnet['id']}", headers=programme.public), 404,
            "CAMPAIGN_NOT_FOUND")  # fmt: skip
    problem(await client.get(f"{CAMPAIGN}/{testnet['id']}", headers=main_key), 404,
            "CAMPAIGN_NOT_FOUND")  # fmt: skip
    assert (await programme.get(mainnet["id"], main_key))["id"] == mainnet["id"]


async def test_admins_see_and_manage_both_environments(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    testnet = await programme.campaign("Test")
    mainnet = await programme.campaign("Live")
    ok(await client.put(f"{ADMIN}/{mainnet['id']}/environment", headers=programme.admin))
    main_admin = await programme.mainnet_admin()
    for headers in (programme.admin, main_admin):
        listed = ok(await client.get(ADMIN, headers=headers))
        assert [(c["id"], c["isTestnet"]) for c in listed] == [
            (testnet["id"], True),
            (mainnet["id"], False),
        ]
        for campaign in (testnet, mainnet):
            assert (await programme.get(campaign["id"], headers))["id"] == campaign["id"]
    # A testnet admin moves a campaign back from mainnet.
    back = ok(await client.put(f"{ADMIN}/{mainnet['id']}/environment", headers=programme.admin))
    assert back["isTestnet"] is True


async def test_a_campaign_goes_to_mainnet_only_with_mainnet_tokens(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    campaign = await programme.active_campaign()
    credit = await programme.token("ERC20", decimals=2)
    reward = await programme.token("ERC1155")
    gold = await programme.item(reward["id"])
    ok(await programme.add_unit(campaign["id"], tokenId=credit["id"], amount=1.5), 201)
    ok(await programme.add_unit(campaign["id"], tokenId=reward["id"], amount=1,
                                tokenMetadataIncrementalId=gold), 201)  # fmt: skip
    path = f"{ADMIN}/{campaign['id']}/environment"
    body = problem(await client.put(path, headers=programme.admin), 422, "TOKEN_NOT_ON_MAINNET")
    assert sorted(body["tokenIds"]) == sorted([credit["id"], reward["id"]])
    assert (await programme.get(campaign["id"]))["isTestnet"] is True
    await promote(client, programme.tenant, credit["id"], chain_id=137)
    body = problem(await client.put(path, headers=programme.admin), 422, "TOKEN_NOT_ON_MAINNET")
    assert body["tokenIds"] == [reward["id"]]
    main_reward = await promote(client, programme.tenant, reward["id"], chain_id=137)
    moved = ok(await client.put(path, headers=programme.admin))
    assert moved["isTestnet"] is False
    # Its token units now show the tokens' mainnet side.
    shown = {u["tokenId"]: u["token"] for u in moved["tokenUnits"]}
    assert shown[reward["id"]]["contractAddress"] == main_reward["contractAddress"]
    assert {t["chainId"] for t in shown.values()} == {137}
    assert [u["amount"] for u in moved["tokenUnits"]] == [1.5, 1]
    listed = ok(await client.get(CAMPAIGN, headers=mainnet_public(programme.tenant)))
    assert [c["id"] for c in listed] == [campaign["id"]]
    assert ok(await client.get(CAMPAIGN, headers=programme.public)) == []


async def test_a_mainnet_campaign_rewards_only_mainnet_tokens(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    campaign = await programme.campaign()
    ok(await client.put(f"{ADMIN}/{campaign['id']}/environment", headers=programme.admin))
    testnet_only = await programme.token("ERC20")
    body = problem(
        await programme.add_unit(campaign["id"], tokenId=testnet_only["id"], amount=1),
        422,
        "TOKEN_NOT_ON_MAINNET",
    )
    assert body["tokenIds"] == [testnet_only["id"]]
    promoted = await promote(client, programme.tenant, testnet_only["id"], chain_id=137)
    [unit] = ok(
        await programme.add_unit(campaign["id"], tokenId=testnet_only["id"], amount=1), 201
    )["tokenUnits"]
    assert unit["token"]["contractAddress"] == promoted["contractAddress"]
