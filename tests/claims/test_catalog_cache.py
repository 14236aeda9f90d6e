"""Claims read campaign details from a per-process cache revalidated by the tenant's catalog
version (revision 0017): whatever an admin changes between two claims (the campaign, its
trigger's conditions, its token units, the token itself) the next claim sees it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.campaigns.conftest import ok
from tests.claims.conftest import Kit


async def _version(kit: Kit) -> int:
    async with kit.engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT catalog_version FROM tenants WHERE id = :t"), {"t": kit.tenant.id}
        )
    return int(found)


async def test_the_next_claim_sees_every_catalog_change(kit: Kit) -> None:
    condition = {"condition_type": "EQUALS", "key": "store", "value": "north"}
    reward = await kit.reward(amount=2, conditions=[condition])
    member = await kit.member()
    data: dict[str, Any] = {"conditionsData": {"store": "north"}}
    first = ok(await kit.claim(member, reward.id, **data), 201)
    assert [t["amount"] for t in first["transactions"]] == [2]

    # A token unit's amount changes: the next claim mints the new amount.
    [unit] = reward.body["tokenUnits"]
    before = await _version(kit)
    ok(
        await kit.client.put(
            f"/v1.7/campaign/admin/{reward.id}/token-units/{unit['id']}",
            json={"tokenId": reward.token["id"], "amount": 5},
            headers=kit.admin,
        )
    )
    assert await _version(kit) > before
    second = ok(await kit.claim(member, reward.id, **data), 201)
    assert [t["amount"] for t in second["transactions"]] == [5]

    # The trigger's condition changes: the same data no longer meets it.
    [linked] = reward.trigger["conditions"]
    ok(
        await kit.client.put(
            f"/v1.7/campaign/admin/trigger-condition/{linked['id']}",
            json={"conditionType": "EQUALS", "key": "store", "value": "south"},
            headers=kit.admin,
        )
    )
    refused = await kit.claim(member, reward.id, **data)
    assert (refused.status_code, refused.json()["code"]) == (422, "CONDITION_NOT_MET")
    ok(await kit.claim(member, reward.id, conditionsData={"store": "south"}), 201)

    # The reward token is switched off: claims stop minting it.
    ok(
        await kit.client.put(
            f"/v1.7/token/admin/{reward.token['id']}/toggle-active", headers=kit.admin
        )
    )
    refused = await kit.claim(member, reward.id, conditionsData={"store": "south"})
    assert (refused.status_code, refused.json()["code"]) == (422, "REWARD_TOKEN_NOT_ACTIVE")
    ok(
        await kit.client.put(
            f"/v1.7/token/admin/{reward.token['id']}/toggle-active", headers=kit.admin
        )
    )

    # The campaign is switched off.
    ok(await kit.client.put(f"/v1.7/campaign/admin/{reward.id}/activate", headers=kit.admin))
    refused = await kit.claim(member, reward.id, conditionsData={"store": "south"})
    assert (refused.status_code, refused.json()["code"]) == (422, "CAMPAIGN_NOT_ACTIVE")


async def test_a_change_written_behind_the_api_moves_the_version_too(kit: Kit) -> None:
    """The version is kept by the database (triggers), not by the services: any write counts."""
    reward = await kit.reward(amount=3)
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    before = await _version(kit)
    async with kit.engine.begin() as conn:
        await conn.execute(
            text("UPDATE campaigns SET is_active = false WHERE id = :c"), {"c": reward.id}
        )
    assert await _version(kit) == before + 1
    refused = await kit.claim(member, reward.id)
    assert (refused.status_code, refused.json()["code"]) == (422, "CAMPAIGN_NOT_ACTIVE")
