"""Who claims: the user itself, a tenant system naming the user, an active engaged business at
itself. The trigger's ``triggerType`` decides which of them may."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.campaigns.conftest import ok
from tests.claims.conftest import Kit
from tests.tokens.conftest import problem


async def test_a_user_claims_a_campaign_of_a_user_trigger(kit: Kit) -> None:
    reward = await kit.reward(amount=10)
    member = await kit.member()
    claim = ok(await kit.claim(member, reward.id), 201)
    assert claim["user"]["id"] == member.id
    assert claim["campaign"]["id"] == reward.id
    assert claim["business"] is None
    [tx] = claim["transactions"]
    assert tx["type"] == "MINT"
    assert tx["triggerProcessType"] == "CAMPAIGN_USER_CLAIM"
    assert tx["triggerProcessId"] == claim["id"]
    assert tx["recipientAddress"] == member.account_address
    assert await kit.balance(member.account_address, reward.token) == 10
    assert [c["id"] for c in await kit.campaign_claims(reward.id)] == [claim["id"]]


@pytest.mark.parametrize("trigger_type", ["CLAIM_BY_SYSTEM", "CLAIM_BY_BUSINESS"])
async def test_a_user_cannot_claim_for_a_system_or_business_trigger(
    kit: Kit, trigger_type: str
) -> None:
    reward = await kit.reward(triggerType=trigger_type)
    member = await kit.member()
    before = await kit.recorded()
    body = await kit.refused(
        await kit.claim(member, reward.id), "TRIGGER_TYPE_MISMATCH", before=before
    )
    assert body["triggerType"] == trigger_type
    assert await kit.balances(member.account_address) == []


@pytest.mark.parametrize("trigger_type", ["CLAIM_BY_USER", "CLAIM_BY_BUSINESS"])
async def test_a_system_cannot_claim_for_a_user_or_business_trigger(
    kit: Kit, trigger_type: str
) -> None:
    reward = await kit.reward(triggerType=trigger_type)
    member = await kit.member()
    before = await kit.recorded()
    response = await kit.system_claim(reward.id, userIdentifier="id", id=member.id)
    await kit.refused(response, "TRIGGER_TYPE_MISMATCH", before=before)


@pytest.mark.parametrize("trigger_type", ["CLAIM_BY_USER", "CLAIM_BY_SYSTEM"])
async def test_a_business_cannot_claim_for_a_user_or_system_trigger(
    kit: Kit, trigger_type: str
) -> None:
    reward = await kit.reward(triggerType=trigger_type)
    cafe = await kit.business()
    await kit.engage(reward.id, cafe["id"])
    member = await kit.member()
    before = await kit.recorded()
    response = await kit.business_claim(cafe, reward.id, userIdentifier="id", id=member.id)
    await kit.refused(response, "TRIGGER_TYPE_MISMATCH", before=before)


async def test_admins_and_anonymous_callers_cannot_claim(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM")
    body = {"campaignId": reward.id, "userIdentifier": "email", "email": "a@b.example"}
    for path in ("/v1.7/campaign/system/claim", "/v1.7/campaign/business/claim"):
        for headers in (kit.admin, kit.programme.public):
            response = await kit.client.post(path, json=body, headers=headers)
            assert response.status_code in (401, 403), response.text
    member = await kit.member()
    system = await kit.system()
    user_reward = await kit.reward()
    # A system key on the user's endpoint, a user session on the system's.
    wrong = await kit.client.post(
        "/v1.7/campaign/auth/claim", json={"campaignId": user_reward.id}, headers=system
    )
    assert wrong.status_code in (401, 403), wrong.text
    wrong = await kit.client.post("/v1.7/campaign/system/claim", json=body, headers=member.headers)
    assert wrong.status_code in (401, 403), wrong.text
    assert await kit.recorded() == (0, 0, 0)


# --- a system names the user ------------------------------------------------------------------


async def _system_reward(kit: Kit) -> Any:
    return await kit.reward(triggerType="CLAIM_BY_SYSTEM", amount=4)


async def test_a_system_names_the_user_by_id(kit: Kit) -> None:
    reward = await _system_reward(kit)
    member = await kit.member()
    claim = ok(await kit.system_claim(reward.id, userIdentifier="id", id=member.id), 201)
    assert claim["user"]["id"] == member.id
    [tx] = claim["transactions"]
    assert tx["triggerProcessType"] == "CAMPAIGN_SYSTEM_CLAIM"
    assert tx["triggerProcessId"] == claim["id"]
    assert tx["recipientId"] == member.id
    assert await kit.balance(member.account_address, reward.token) == 4


async def test_a_system_names_the_user_by_email_in_any_case(kit: Kit) -> None:
    reward = await _system_reward(kit)
    member = await kit.member()
    assert member.email is not None
    claim = ok(
        await kit.system_claim(reward.id, userIdentifier="email", email=member.email.upper()),
        201,
    )
    assert claim["user"]["id"] == member.id
    assert claim["user"]["email"] == member.email


@pytest.mark.parametrize(
    ("identifier", "column"),
    [("externalId", "external_id"), ("instagramAccountId", "instagram_account_id")],
)
async def test_a_system_names_the_user_by_external_or_instagram_id(
    kit: Kit, identifier: str, column: str
) -> None:
    reward = await _system_reward(kit)
    value = f"acct-{uuid.uuid4().hex[:8]}"
    member = await kit.member(**{column: value})
    claim = ok(
        await kit.system_claim(reward.id, userIdentifier=identifier, **{identifier: value}), 201
    )
    assert claim["user"]["id"] == member.id
    assert claim["user"][identifier] == value
    assert await kit.balance(member.account_address, reward.token) == 4


@pytest.mark.parametrize("identifier", ["email", "externalId", "instagramAccountId"])
async def test_a_user_not_seen_before_is_created_once(kit: Kit, identifier: str) -> None:
    reward = await _system_reward(kit)
    value = f"new-{uuid.uuid4().hex[:10]}" + ("@x.example" if identifier == "email" else "")
    first = ok(
        await kit.system_claim(reward.id, userIdentifier=identifier, **{identifier: value}), 201
    )
    assert first["user"][identifier] == value
    second = ok(
        await kit.system_claim(reward.id, userIdentifier=identifier, **{identifier: value}), 201
    )
    assert second["user"]["id"] == first["user"]["id"]
    user = ok(await kit.client.get(f"/v1.7/user/admin/{first['user']['id']}", headers=kit.admin))
    assert user[identifier] == value
    assert await kit.balance(first["user"]["accountAddress"], reward.token) == 8


async def test_an_unknown_user_id_is_not_found_and_nothing_is_created(kit: Kit) -> None:
    reward = await _system_reward(kit)
    before = await kit.recorded()
    response = await kit.system_claim(reward.id, userIdentifier="id", id=str(uuid.uuid4()))
    await kit.refused(response, "USER_NOT_FOUND", before=before, status=404)


async def test_a_refused_claim_does_not_create_the_user_it_named(kit: Kit) -> None:
    reward = await kit.reward(
        triggerType="CLAIM_BY_SYSTEM",
        conditions=[{"condition_type": "EQUALS", "key": "store", "value": "north"}],
    )
    email = f"{uuid.uuid4().hex}@x.example"
    before = await kit.recorded()
    response = await kit.system_claim(
        reward.id, userIdentifier="email", email=email, conditionsData={"store": "south"}
    )
    await kit.refused(response, "CONDITION_NOT_MET", before=before)
    search = {"search": email}
    assert (
        ok(await kit.client.get("/v1.7/user/admin", params=search, headers=kit.admin))["data"] == []
    )
    response = await kit.system_claim(
        reward.id, userIdentifier="email", email=email, conditionsData={"store": "north"}
    )
    ok(response, 201)
    [user] = ok(await kit.client.get("/v1.7/user/admin", params=search, headers=kit.admin))["data"]
    assert user["id"] == response.json()["user"]["id"]


@pytest.mark.parametrize(
    "body",
    [
        {"userIdentifier": "email"},  # the field it names is missing
        {"userIdentifier": "externalId", "email": "a@b.example"},
        {"userIdentifier": "id", "id": "  "},
        {},  # nothing names the user
        {"email": "a@b.example", "externalId": "crm-1"},  # two fields, no userIdentifier
    ],
)
async def test_a_system_claim_must_name_the_user(kit: Kit, body: dict[str, Any]) -> None:
    reward = await _system_reward(kit)
    before = await kit.recorded()
    await kit.refused(
        await kit.system_claim(reward.id, **body),
        "USER_IDENTIFIER_REQUIRED",
        before=before,
        status=400,
    )


async def test_an_unknown_user_identifier_is_a_validation_error(kit: Kit) -> None:
    reward = await _system_reward(kit)
    response = await kit.system_claim(reward.id, userIdentifier="phone", email="a@b.example")
    body = problem(response, 400, "VALIDATION_ERROR")
    assert any("userIdentifier" in e["field"] for e in body["errors"])


async def test_the_one_field_sent_names_the_user_without_user_identifier(kit: Kit) -> None:
    reward = await _system_reward(kit)
    member = await kit.member()
    claim = ok(await kit.system_claim(reward.id, email=member.email), 201)
    assert claim["user"]["id"] == member.id


async def test_a_deactivated_user_cannot_be_rewarded(kit: Kit) -> None:
    reward = await _system_reward(kit)
    member = await kit.member()
    ok(await kit.client.put(f"/v1.7/user/admin/{member.id}/toggle-active", headers=kit.admin))
    before = await kit.recorded()
    response = await kit.system_claim(reward.id, userIdentifier="id", id=member.id)
    await kit.refused(response, "USER_NOT_ACTIVE", before=before)


# --- a business claims at itself ----------------------------------------------------------------


async def test_an_engaged_business_claims_for_a_user_at_itself(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_BUSINESS", amount=3)
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"])
    email = f"{uuid.uuid4().hex}@x.example"
    claim = ok(await kit.business_claim(cafe, reward.id, userIdentifier="email", email=email), 201)
    assert claim["user"]["email"] == email
    assert claim["business"]["id"] == cafe["id"]
    [tx] = claim["transactions"]
    assert tx["triggerProcessType"] == "CAMPAIGN_BUSINESS_CLAIM"
    assert tx["triggerProcessId"] == claim["id"]
    assert tx["engagedBusinessId"] == cafe["id"]
    # Naming itself as the business is the same claim.
    again = ok(
        await kit.business_claim(
            cafe, reward.id, userIdentifier="email", email=email, businessId=cafe["id"]
        ),
        201,
    )
    assert again["business"]["id"] == cafe["id"]
    assert await kit.balance(claim["user"]["accountAddress"], reward.token) == 6


async def test_a_business_cannot_claim_at_another_business(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_BUSINESS")
    cafe = await kit.business("Cafe")
    museum = await kit.business("Museum")
    await kit.engage(reward.id, cafe["id"], museum["id"])
    member = await kit.member()
    before = await kit.recorded()
    response = await kit.business_claim(
        cafe, reward.id, userIdentifier="id", id=member.id, businessId=museum["id"]
    )
    await kit.refused(response, "BUSINESS_MISMATCH", before=before)


async def test_a_business_not_engaged_cannot_claim(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_BUSINESS")
    cafe = await kit.business("Cafe")
    other = await kit.business("Elsewhere")
    await kit.engage(reward.id, other["id"])
    member = await kit.member()
    before = await kit.recorded()
    response = await kit.business_claim(cafe, reward.id, userIdentifier="id", id=member.id)
    await kit.refused(response, "BUSINESS_NOT_ENGAGED", before=before)


async def test_an_engagement_removed_stops_the_business_claims(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_BUSINESS")
    cafe = await kit.business("Cafe")
    engagement = await kit.engage(reward.id, cafe["id"])
    member = await kit.member()
    ok(await kit.business_claim(cafe, reward.id, userIdentifier="id", id=member.id), 201)
    removed = await kit.client.delete(
        f"/v1.7/campaign/admin/{reward.id}/business-engagement/{engagement['id']}",
        headers=kit.admin,
    )
    ok(removed)
    before = await kit.recorded()
    response = await kit.business_claim(cafe, reward.id, userIdentifier="id", id=member.id)
    await kit.refused(response, "BUSINESS_NOT_ENGAGED", before=before)


async def test_an_inactive_business_key_is_unauthorized(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_BUSINESS")
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"])
    ok(
        await kit.client.put(
            f"/v1.7/business/admin/activate/{cafe['id']}",
            json={"isActive": False},
            headers=kit.admin,
        )
    )
    member = await kit.member()
    before = await kit.recorded()
    response = await kit.business_claim(cafe, reward.id, userIdentifier="id", id=member.id)
    assert response.status_code == 401, response.text
    assert await kit.recorded() == before
    never_active = await kit.business("Draft", active=False)
    response = await kit.business_claim(never_active, reward.id, userIdentifier="id", id=member.id)
    assert response.status_code == 401, response.text
    assert await kit.recorded() == before


# --- a user claims at a business ---------------------------------------------------------------


async def test_a_user_claims_at_an_engaged_business(kit: Kit) -> None:
    reward = await kit.reward()
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"])
    member = await kit.member()
    claim = ok(await kit.claim(member, reward.id, businessId=cafe["id"]), 201)
    assert claim["business"]["id"] == cafe["id"]
    assert claim["transactions"][0]["engagedBusinessId"] == cafe["id"]


async def test_a_user_cannot_claim_at_a_business_not_engaged(kit: Kit) -> None:
    reward = await kit.reward()
    cafe = await kit.business("Cafe")
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, businessId=cafe["id"]),
        "BUSINESS_NOT_ENGAGED",
        before=before,
    )
    await kit.refused(
        await kit.claim(member, reward.id, businessId=str(uuid.uuid4())),
        "BUSINESS_NOT_FOUND",
        before=before,
        status=404,
    )


async def test_a_user_cannot_claim_at_an_engaged_business_while_it_is_inactive(kit: Kit) -> None:
    reward = await kit.reward()
    draft = await kit.business("Draft", active=False)
    await kit.engage(reward.id, draft["id"])
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, businessId=draft["id"]),
        "BUSINESS_NOT_ACTIVE",
        before=before,
    )


async def test_another_tenants_business_is_not_found(kit: Kit, other_programme: Any) -> None:
    reward = await kit.reward()
    foreign = await other_programme.business("Foreign")
    member = await kit.member()
    before = await kit.recorded()
    await kit.refused(
        await kit.claim(member, reward.id, businessId=foreign["id"]),
        "BUSINESS_NOT_FOUND",
        before=before,
        status=404,
    )


async def test_a_system_may_claim_at_an_engaged_business(kit: Kit) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM")
    cafe, elsewhere = await kit.business("Cafe"), await kit.business("Elsewhere")
    await kit.engage(reward.id, cafe["id"])
    member = await kit.member()
    naming = {"userIdentifier": "id", "id": member.id}
    claim = ok(await kit.system_claim(reward.id, businessId=cafe["id"], **naming), 201)
    assert claim["business"]["id"] == cafe["id"]
    assert claim["transactions"][0]["engagedBusinessId"] == cafe["id"]
    before = await kit.recorded()
    response = await kit.system_claim(reward.id, businessId=elsewhere["id"], **naming)
    await kit.refused(response, "BUSINESS_NOT_ENGAGED", before=before)


async def test_keys_of_other_principals_cannot_use_the_system_and_business_claims(
    kit: Kit,
) -> None:
    reward = await kit.reward(triggerType="CLAIM_BY_SYSTEM")
    cafe = await kit.business("Cafe")
    await kit.engage(reward.id, cafe["id"])
    body = {"campaignId": reward.id, "userIdentifier": "email", "email": "a@b.example"}
    wrong = await kit.client.post("/v1.7/campaign/system/claim", json=body, headers=cafe["headers"])
    assert wrong.status_code in (401, 403), wrong.text
    wrong = await kit.client.post(
        "/v1.7/campaign/business/claim", json=body, headers=await kit.system()
    )
    assert wrong.status_code in (401, 403), wrong.text
    assert await kit.recorded() == (0, 0, 0)
