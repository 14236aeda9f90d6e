"""Trigger conditions: every condition of the trigger must hold on the claim's
``conditionsData[key]``; a missing key fails."""

from __future__ import annotations

from typing import Any

import pytest

from tests.campaigns.conftest import CONDITIONS, TRIGGERS, ok
from tests.claims.conftest import Kit

MISSING = object()

CASES: list[tuple[str, Any, list[Any], list[Any]]] = [
    # (conditionType, value, data that passes, data that fails)
    ("EQUALS", "north", ["north"], ["North", "south", "", None, ["north"], MISSING]),
    ("EQUALS", 10, [10, 10.0, 1e1], ["10", 10.5, 9, True, None, MISSING]),
    ("EQUALS", True, [True], [1, "true", False, MISSING]),
    (
        "EQUALS",
        {"tier": 1, "tags": ["a"]},
        [{"tags": ["a"], "tier": 1.0}],
        [{"tier": 1}, {"tier": 2, "tags": ["a"]}, MISSING],
    ),
    ("NOT_EQUALS", "north", ["south", "North", 5, None, ["north"]], ["north", MISSING]),
    ("NOT_EQUALS", 3, [4, "x"], [3, 3.0, MISSING]),
    (
        "GREATER_THAN",
        9.5,
        [10, "10", 9.51, " 12 ", 1e3, "1e1"],
        [9.5, 9, "9", "9.5", -10, "abc", "", True, None, [10], {"n": 10}, MISSING],
    ),
    ("GREATER_THAN", "9.5", [10, "10"], [9, "9.49", MISSING]),
    (
        "LESS_THAN",
        100,
        [20, "20", 99.99, -1000, "-5"],
        [100, "100", 1000, "1000", "abc", False, MISSING],
    ),
    ("LESS_THAN", "0.3", [0.29, "0.299999"], [0.3, "0.30", 1, MISSING]),
    (
        "CONTAINS",
        "gold",
        ["gold", "golden ticket", ["silver", "gold"]],
        ["Gold", "silver", ["golden"], [], "", 7, {"gold": 1}, None, MISSING],
    ),
    ("CONTAINS", 7, [[1, 7], [7.0], "room 7"], [[1, 2], [], ["7"], "room 8", 7, MISSING]),
    (
        "IS_PART_OF",
        ["north", "south"],
        ["north", "south"],
        ["east", "North", ["north"], "north south", None, MISSING],
    ),
    ("IS_PART_OF", [1, 2, 3], [2, 2.0, 3], [4, 0, "2", True, MISSING]),
]


def _data(key: str, value: Any) -> dict[str, Any]:
    return {"other": 1} if value is MISSING else {key: value, "other": 1}


@pytest.mark.parametrize(
    ("condition_type", "value", "passing", "failing"),
    CASES,
    ids=[f"{c[0]}-{c[1]!r}" for c in CASES],
)
async def test_a_condition_on_the_claims_data(
    kit: Kit, condition_type: str, value: Any, passing: list[Any], failing: list[Any]
) -> None:
    reward = await kit.reward(
        amount=1, conditions=[{"condition_type": condition_type, "key": "k", "value": value}]
    )
    member = await kit.member()
    [condition] = reward.trigger["conditions"]
    for data in passing:
        response = await kit.claim(member, reward.id, conditionsData=_data("k", data))
        assert response.status_code == 201, (data, response.text)
    for data in failing:
        before = await kit.recorded()
        response = await kit.claim(member, reward.id, conditionsData=_data("k", data))
        assert response.status_code == 422, (data, response.text)
        body = await kit.refused(response, "CONDITION_NOT_MET", before=before)
        assert (body["key"], body["conditionType"]) == ("k", condition_type)
        assert body["conditionId"] == condition["id"]
    assert await kit.balance(member.account_address, reward.token) == len(passing)


async def test_every_condition_must_hold(kit: Kit) -> None:
    reward = await kit.reward(
        conditions=[
            {"condition_type": "EQUALS", "key": "store", "value": "north"},
            {"condition_type": "GREATER_THAN", "key": "spent", "value": 20},
        ]
    )
    member = await kit.member()
    ok(await kit.claim(member, reward.id, conditionsData={"store": "north", "spent": 25}), 201)
    before = await kit.recorded()
    for data, key in [
        ({"store": "south", "spent": 25}, "store"),
        ({"store": "north", "spent": 15}, "spent"),
        ({"store": "north"}, "spent"),
        ({}, "store"),
    ]:
        response = await kit.claim(member, reward.id, conditionsData=data)
        assert (await kit.refused(response, "CONDITION_NOT_MET", before=before))["key"] == key
    for absent in ({}, {"conditionsData": None}):
        response = await kit.claim(member, reward.id, **absent)
        await kit.refused(response, "CONDITION_NOT_MET", before=before)


async def test_a_system_claim_is_held_to_the_conditions(kit: Kit) -> None:
    reward = await kit.reward(
        triggerType="CLAIM_BY_SYSTEM",
        conditions=[{"condition_type": "IS_PART_OF", "key": "channel", "value": ["web", "pos"]}],
    )
    member = await kit.member()
    naming = {"userIdentifier": "id", "id": member.id}
    ok(await kit.system_claim(reward.id, conditionsData={"channel": "pos"}, **naming), 201)
    before = await kit.recorded()
    response = await kit.system_claim(reward.id, conditionsData={"channel": "app"}, **naming)
    await kit.refused(response, "CONDITION_NOT_MET", before=before)


async def test_conditions_follow_the_trigger_as_it_changes(kit: Kit) -> None:
    reward = await kit.reward()
    member = await kit.member()
    ok(await kit.claim(member, reward.id), 201)
    condition = await kit.programme.condition("EQUALS", "store", "north")
    await kit.programme.attach(reward.trigger["id"], condition["id"])
    before = await kit.recorded()
    await kit.refused(await kit.claim(member, reward.id), "CONDITION_NOT_MET", before=before)
    ok(await kit.claim(member, reward.id, conditionsData={"store": "north"}), 201)
    # Updating the condition changes it for every trigger it is attached to.
    ok(
        await kit.client.put(
            f"{CONDITIONS}/{condition['id']}",
            json={"conditionType": "EQUALS", "key": "store", "value": "south"},
            headers=kit.admin,
        )
    )
    before = await kit.recorded()
    response = await kit.claim(member, reward.id, conditionsData={"store": "north"})
    await kit.refused(response, "CONDITION_NOT_MET", before=before)
    ok(await kit.claim(member, reward.id, conditionsData={"store": "south"}), 201)
    # Detached, it applies no more.
    ok(
        await kit.client.put(
            f"{TRIGGERS}/{reward.trigger['id']}/condition/{condition['id']}", headers=kit.admin
        )
    )
    ok(await kit.claim(member, reward.id), 201)


async def test_too_many_conditions_data_keys_are_invalid(kit: Kit) -> None:
    reward = await kit.reward()
    member = await kit.member()
    data = {f"k{i}": i for i in range(101)}
    response = await kit.claim(member, reward.id, conditionsData=data)
    assert response.status_code == 400, response.text
    assert await kit.recorded() == (0, 0, 0)


async def test_numbers_of_the_claim_are_compared_exactly(kit: Kit) -> None:
    """JSON numbers with more digits than a binary float holds are compared as sent."""
    above = await kit.reward(
        conditions=[{"condition_type": "GREATER_THAN", "key": "k", "value": 0.1}]
    )
    equal = await kit.reward(conditions=[{"condition_type": "EQUALS", "key": "k", "value": 10}])
    member = await kit.member()
    ok(
        await kit.raw_claim(
            member,
            f'{{"campaignId": "{above.id}", "conditionsData": {{"k": 0.10000000000000000001}}}}',
        ),
        201,
    )
    before = await kit.recorded()
    response = await kit.raw_claim(
        member, f'{{"campaignId": "{equal.id}", "conditionsData": {{"k": 10.000000000000000001}}}}'
    )
    await kit.refused(response, "CONDITION_NOT_MET", before=before)
    ok(
        await kit.raw_claim(
            member,
            f'{{"campaignId": "{equal.id}", "conditionsData": {{"k": 10.000000000000000000}}}}',
        ),
        201,
    )
