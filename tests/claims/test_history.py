"""What a claim answers (every documented field, and the extensions) and the claim history
views: the user's own, all of the tenant's, by campaign, by user and by business; paginated,
newest first, one tenant's only."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.businesses.conftest import BUSINESS_FIELDS
from tests.campaigns.conftest import (
    ADMIN,
    CAMPAIGN,
    CAMPAIGN_FIELDS,
    ENGAGEMENT_FIELDS,
    TOKEN_UNIT_FIELDS,
    TRIGGER_FIELDS,
    Programme,
    ok,
    problem,
    validation_error,
)
from tests.claims.conftest import (
    ADMIN_CLAIMS,
    CLAIM,
    CLAIM_EXTENSIONS,
    CLAIM_FIELDS,
    CLAIM_USER_FIELDS,
    CLAIMED_EXTENSIONS,
    Kit,
    Member,
)

TRANSACTION_FIELDS = {
    "amount",
    "id",
    "tokenAddress",
    "tokenType",
    "senderAddress",
    "recipientAddress",
    "transactionHash",
    "type",
    "triggerProcessType",
    "triggerProcessId",
    "status",
    "createdAt",
    "updatedAt",
    "contractTokenId",
    "tokenMetadataIncrementalId",
    "chainId",
    "tenantId",
    "senderId",
    "senderOwnerType",
    "recipientId",
    "recipientOwnerType",
    "engagedBusinessId",
}


def _listed(claim: dict[str, Any]) -> dict[str, Any]:
    """A claim as the history shows it: without the transactions themselves."""
    return {k: v for k, v in claim.items() if k != "transactions"}


async def _mine(member: Member, campaign_id: str | None = None, **params: Any) -> Any:
    path = CLAIM if campaign_id is None else f"{CAMPAIGN}/auth/{campaign_id}/claim"
    return await member.kit.client.get(path, headers=member.headers, params=params)


# --- the claim --------------------------------------------------------------------------------


async def test_a_claim_answers_every_documented_field(kit: Kit) -> None:
    reward = await kit.reward(
        decimals=2,
        amount=2.5,
        maxPerUser=5,
        conditions=[{"condition_type": "EQUALS", "key": "store", "value": "north"}],
    )
    cafe = await kit.business("Cafe", coordsLatitude=41.4, coordsLongitude=2.17)
    await kit.engage(reward.id, cafe["id"], shortDescription="At the counter", maxPerBussiness=2)
    member = await kit.member(first_name="Ada", last_name="Lovelace", external_id="crm-1")
    response = await kit.claim(
        member,
        reward.id,
        businessId=cafe["id"],
        conditionsData={"store": "north"},
        multiplier=2,
        latitude=41.4,
        longitude=2.17,
    )
    claim = ok(response, 201)
    assert set(claim) == CLAIM_FIELDS | CLAIMED_EXTENSIONS
    uuid.UUID(claim["id"])
    created = datetime.fromisoformat(claim["createdAt"])
    assert created.utcoffset() == timedelta(0)
    assert abs(created - kit.clock.now()) < timedelta(seconds=30)

    user = claim["user"]
    assert set(user) >= CLAIM_USER_FIELDS
    assert (user["id"], user["email"], user["accountAddress"]) == (
        member.id,
        member.email,
        member.account_address,
    )
    assert (user["firstName"], user["lastName"], user["externalId"]) == ("Ada", "Lovelace", "crm-1")
    assert (user["instagramAccountId"], user["googleAccountName"]) == (None, None)

    campaign = claim["campaign"]
    assert set(campaign) == CAMPAIGN_FIELDS
    assert campaign == await kit.programme.get(reward.id, member.headers)
    assert set(campaign["trigger"]) == TRIGGER_FIELDS
    assert campaign["trigger"]["id"] == reward.trigger["id"]
    assert [c["key"] for c in campaign["trigger"]["conditions"]] == ["store"]
    [unit] = campaign["tokenUnits"]
    assert set(unit) == TOKEN_UNIT_FIELDS
    assert unit["amount"] == 2.5
    [engagement] = campaign["businessEngagements"]
    assert set(engagement) == ENGAGEMENT_FIELDS
    assert engagement["businessIds"] == [cafe["id"]]

    business = claim["business"]
    assert set(business) == BUSINESS_FIELDS
    assert (business["id"], business["displayName"], business["coordsLatitude"]) == (
        cafe["id"],
        "Cafe",
        41.4,
    )
    assert "apiPrivateKey" not in business

    assert claim["completion"] == {"count": 1, "threshold": None, "rewarded": True}
    [tx] = claim["transactions"]
    assert set(tx) == TRANSACTION_FIELDS
    assert claim["transactionIds"] == [tx["id"]]
    assert tx["amount"] == 5
    assert tx["engagedBusinessId"] == cafe["id"]
    # The history shows the same claim, without the transactions themselves.
    [listed] = ok(await _mine(member))
    assert set(listed) == CLAIM_FIELDS | CLAIM_EXTENSIONS
    assert listed == _listed(claim)


async def test_a_system_claim_shows_the_user_it_named(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM")
    claim = ok(
        await kit.system_claim(
            reward.id, userIdentifier="instagramAccountId", instagramAccountId="ig-77"
        ),
        201,
    )
    assert set(claim) == CLAIM_FIELDS | CLAIMED_EXTENSIONS
    assert claim["user"]["instagramAccountId"] == "ig-77"
    assert claim["user"]["email"] is None
    assert claim["business"] is None
    [listed] = ok(await kit.client.get(ADMIN_CLAIMS, headers=kit.admin))
    assert listed == _listed(claim)


# --- the history views ------------------------------------------------------------------------


async def test_each_view_shows_its_claims_newest_first(kit: Kit) -> None:
    first = await kit.reward()
    second = await kit.reward(with_trigger=False)
    await kit.programme.set_trigger(second.id, first.trigger["id"])
    system_reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM")
    ada, bob = await kit.member(), await kit.member()
    a1 = ok(await kit.claim(ada, first.id), 201)
    b1 = ok(await kit.claim(bob, first.id), 201)
    a2 = ok(await kit.claim(ada, second.id), 201)
    a3 = ok(await kit.system_claim(system_reward.id, userIdentifier="id", id=ada.id), 201)
    a4 = ok(await kit.claim(ada, first.id), 201)

    def ids(claims: list[dict[str, Any]]) -> list[str]:
        return [c["id"] for c in claims]

    assert ids(ok(await _mine(ada))) == ids([a4, a3, a2, a1])
    assert ids(ok(await _mine(bob))) == ids([b1])
    assert ids(ok(await _mine(ada, first.id))) == ids([a4, a1])
    assert ids(ok(await _mine(bob, second.id))) == []
    assert ids(ok(await kit.client.get(ADMIN_CLAIMS, headers=kit.admin))) == ids(
        [a4, a3, a2, b1, a1]
    )
    assert ids(await kit.campaign_claims(first.id)) == ids([a4, b1, a1])
    assert ids(await kit.campaign_claims(system_reward.id)) == ids([a3])
    by_user = ok(await kit.client.get(f"{ADMIN_CLAIMS}/user/{ada.id}", headers=kit.admin))
    assert ids(by_user) == ids([a4, a3, a2, a1])
    assert by_user[0] == _listed(a4)
    no_claims = await kit.member()
    assert ok(await kit.client.get(f"{ADMIN_CLAIMS}/user/{no_claims.id}", headers=kit.admin)) == []


async def test_the_claims_at_a_business(kit: Kit) -> None:
    reward = await kit.reward()
    by_business = await kit.reward(triggerType="CLAIM_BY_BUSINESS")
    cafe, museum = await kit.business("Cafe"), await kit.business("Museum")
    quiet = await kit.business("Quiet")
    await kit.engage(reward.id, cafe["id"], museum["id"])
    await kit.engage(by_business.id, cafe["id"])
    ada, bob = await kit.member(), await kit.member()
    at_cafe = ok(await kit.claim(ada, reward.id, businessId=cafe["id"]), 201)
    at_museum = ok(await kit.claim(bob, reward.id, businessId=museum["id"]), 201)
    ok(await kit.claim(ada, reward.id), 201)  # at no business
    by_cafe = ok(
        await kit.business_claim(cafe, by_business.id, userIdentifier="id", id=bob.id), 201
    )

    async def at(business_id: str) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = ok(
            await kit.client.get(f"{ADMIN_CLAIMS}/business/{business_id}", headers=kit.admin)
        )
        return listed

    assert await at(cafe["id"]) == [_listed(by_cafe), _listed(at_cafe)]
    assert await at(museum["id"]) == [_listed(at_museum)]
    assert await at(quiet["id"]) == []
    # A deactivated business keeps its history.
    ok(
        await kit.client.put(
            f"/v1.7/business/admin/activate/{museum['id']}",
            json={"isActive": False},
            headers=kit.admin,
        )
    )
    [shown] = await at(museum["id"])
    assert (shown["id"], shown["business"]["isActive"]) == (at_museum["id"], False)
    problem(
        await kit.client.get(f"{ADMIN_CLAIMS}/business/{uuid.uuid4()}", headers=kit.admin),
        404,
        "BUSINESS_NOT_FOUND",
    )


async def test_a_deleted_campaign_keeps_its_history(kit: Kit) -> None:
    reward = await kit.reward()
    member = await kit.member()
    claim = ok(await kit.claim(member, reward.id), 201)
    ok(await kit.client.delete(f"{ADMIN}/{reward.id}", headers=kit.admin))
    for listed in (
        await kit.campaign_claims(reward.id),
        ok(await _mine(member, reward.id)),
        ok(await _mine(member)),
        ok(await kit.client.get(ADMIN_CLAIMS, headers=kit.admin)),
        ok(await kit.client.get(f"{ADMIN_CLAIMS}/user/{member.id}", headers=kit.admin)),
    ):
        [shown] = listed
        assert shown["id"] == claim["id"]
        assert shown["campaign"]["id"] == reward.id
        assert shown["campaign"]["name"] == "Reward"
        assert shown["campaign"]["isActive"] is False
    # It is gone everywhere else.
    problem(
        await kit.client.get(f"{CAMPAIGN}/{reward.id}", headers=kit.admin),
        404,
        "CAMPAIGN_NOT_FOUND",
    )


async def test_unknown_campaigns_and_users_are_not_found(kit: Kit) -> None:
    member = await kit.member()
    missing = str(uuid.uuid4())
    problem(
        await kit.client.get(f"{ADMIN}/{missing}/claim", headers=kit.admin),
        404,
        "CAMPAIGN_NOT_FOUND",
    )
    problem(await _mine(member, missing), 404, "CAMPAIGN_NOT_FOUND")
    problem(
        await kit.client.get(f"{ADMIN_CLAIMS}/user/{missing}", headers=kit.admin),
        404,
        "USER_NOT_FOUND",
    )
    validation_error(
        await kit.client.get(f"{ADMIN}/not-a-uuid/claim", headers=kit.admin), "campaignId"
    )


async def test_another_tenant_sees_none_of_the_claims(kit: Kit, other_programme: Programme) -> None:
    reward = await kit.reward()
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"])
    member = await kit.member()
    ok(await kit.claim(member, reward.id, businessId=cafe["id"]), 201)
    other_admin = other_programme.admin
    assert ok(await kit.client.get(ADMIN_CLAIMS, headers=other_admin)) == []
    problem(
        await kit.client.get(f"{ADMIN}/{reward.id}/claim", headers=other_admin),
        404,
        "CAMPAIGN_NOT_FOUND",
    )
    problem(
        await kit.client.get(f"{ADMIN_CLAIMS}/user/{member.id}", headers=other_admin),
        404,
        "USER_NOT_FOUND",
    )
    problem(
        await kit.client.get(f"{ADMIN_CLAIMS}/business/{cafe['id']}", headers=other_admin),
        404,
        "BUSINESS_NOT_FOUND",
    )
    # A user of the other tenant.
    stranger_kit = Kit(other_programme, kit.runtime, kit.clock, kit.engine)
    stranger = await stranger_kit.member()
    assert ok(await _mine(stranger)) == []
    problem(await _mine(stranger, reward.id), 404, "CAMPAIGN_NOT_FOUND")
    # The tenant still sees its own.
    assert len(ok(await kit.client.get(ADMIN_CLAIMS, headers=kit.admin))) == 1


async def test_the_history_is_paginated(kit: Kit) -> None:
    reward = await kit.reward()
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"])
    member = await kit.member()
    made = [
        ok(await kit.claim(member, reward.id, businessId=cafe["id"]), 201)["id"] for _ in range(5)
    ][::-1]
    for path, headers in (
        (ADMIN_CLAIMS, kit.admin),
        (f"{ADMIN_CLAIMS}/business/{cafe['id']}", kit.admin),
        (f"{ADMIN}/{reward.id}/claim", kit.admin),
        (f"{ADMIN_CLAIMS}/user/{member.id}", kit.admin),
        (CLAIM, None),
        (f"{CAMPAIGN}/auth/{reward.id}/claim", None),
    ):
        pages = []
        for page in (1, 2, 3, 4):
            listed = ok(
                await kit.client.get(
                    path, params={"page": page, "limit": 2}, headers=headers or member.headers
                )
            )
            pages.append([c["id"] for c in listed])
        assert pages == [made[0:2], made[2:4], made[4:5], []], path
        everything = ok(await kit.client.get(path, headers=headers or member.headers))
        assert [c["id"] for c in everything] == made


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
    ],
)
async def test_invalid_pages_are_refused(kit: Kit, params: dict[str, Any], field: str) -> None:
    validation_error(await kit.client.get(ADMIN_CLAIMS, params=params, headers=kit.admin), field)


async def test_only_admins_read_the_admin_views_and_only_users_their_own(kit: Kit) -> None:
    reward = await kit.reward()
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    system = await kit.system()
    cafe = await kit.business("Cafe")
    for path in (
        ADMIN_CLAIMS,
        f"{ADMIN}/{reward.id}/claim",
        f"{ADMIN_CLAIMS}/user/{member.id}",
        f"{ADMIN_CLAIMS}/business/{cafe['id']}",
    ):
        for headers in (member.headers, system, cafe["headers"], kit.programme.public):
            response = await kit.client.get(path, headers=headers)
            assert response.status_code in (401, 403), (path, response.text)
    for path in (CLAIM, f"{CAMPAIGN}/auth/{reward.id}/claim"):
        for headers in (kit.admin, system, cafe["headers"], kit.programme.public):
            response = await kit.client.get(path, headers=headers)
            assert response.status_code in (401, 403), (path, response.text)
