"""Triggers (who claims, how often, where, with what) and their conditions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.campaigns.conftest import (
    CAMPAIGN,
    CONDITION_FIELDS,
    CONDITIONS,
    TRIGGER_FIELDS,
    TRIGGERS,
    Callers,
    Programme,
    ok,
    problem,
    validation_error,
)

ALL_RULES = {
    "name": "Scan at the door",
    "description": "Scan the QR code at the entrance",
    "maxPerDay": 2,
    "maxPerUser": 10,
    "minCooldownSeconds": 3600,
    "maxGeoDistanceInMeters": 150.5,
    "requiredUserInfo": ["email", "firstName"],
    "triggerType": "CLAIM_BY_BUSINESS",
    "maxMultiplier": 2.5,
    "completionThreshold": 3,
}


async def test_a_trigger_without_rules_is_a_user_trigger_without_limits(
    programme: Programme,
) -> None:
    trigger = await programme.trigger("Plain")
    assert set(trigger) == TRIGGER_FIELDS
    assert trigger["name"] == "Plain"
    assert trigger["triggerType"] == "CLAIM_BY_USER"
    assert trigger["requiredUserInfo"] == []
    assert trigger["conditions"] == []
    for limit in (
        "description",
        "maxPerDay",
        "maxPerUser",
        "minCooldownSeconds",
        "maxGeoDistanceInMeters",
        "maxMultiplier",
        "completionThreshold",
    ):
        assert trigger[limit] is None, limit


async def test_every_claim_rule_is_stored_and_returned_as_sent(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    trigger = await programme.trigger(**ALL_RULES)
    assert {k: trigger[k] for k in ALL_RULES} == ALL_RULES
    [listed] = ok(await client.get(f"{CAMPAIGN}/trigger/all", headers=programme.public))
    assert listed == trigger


@pytest.mark.parametrize("trigger_type", ["CLAIM_BY_USER", "CLAIM_BY_SYSTEM", "CLAIM_BY_BUSINESS"])
async def test_each_trigger_type(programme: Programme, trigger_type: str) -> None:
    assert (await programme.trigger(triggerType=trigger_type))["triggerType"] == trigger_type


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (["firstName", "email", "email"], ["email", "firstName"]),
        ({"email": True, "lastName": False, "customData": True}, ["email", "customData"]),
        ({}, []),
        ([], []),
        (None, []),
        (
            ["isActive", "publicProfile", "accountAddress", "externalId", "instagramAccountId"],
            ["instagramAccountId", "externalId", "accountAddress", "publicProfile", "isActive"],
        ),
    ],
)
async def test_required_user_info_is_a_list_of_user_fields(
    programme: Programme, sent: Any, stored: list[str]
) -> None:
    trigger = await programme.trigger(requiredUserInfo=sent)
    assert trigger["requiredUserInfo"] == stored


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("maxPerUser", 0),
        ("maxPerUser", -1),
        ("maxPerUser", 1.5),
        ("maxPerUser", True),
        ("maxPerUser", "many"),
        ("maxPerDay", 0),
        ("maxPerDay", 2**31),
        ("minCooldownSeconds", -1),
        ("maxGeoDistanceInMeters", 0),
        ("maxGeoDistanceInMeters", -10),
        ("maxMultiplier", 0),
        ("maxMultiplier", -2),
        ("maxMultiplier", 1_000_001),
        ("maxMultiplier", "0.0000000000000000001"),
        ("completionThreshold", 0),
        ("completionThreshold", 2.5),
        ("triggerType", "CLAIM_BY_ANYONE"),
        ("requiredUserInfo", ["shoeSize"]),
        ("requiredUserInfo", "email"),
        ("name", ""),
        ("colour", "red"),
    ],
)
async def test_invalid_rules_are_refused(
    client: httpx.AsyncClient, programme: Programme, field: str, value: Any
) -> None:
    body = {"name": "Bad", field: value}
    validation_error(await client.post(TRIGGERS, json=body, headers=programme.admin), field)
    assert ok(await client.get(f"{CAMPAIGN}/trigger/all", headers=programme.public)) == []


async def test_zero_cooldown_and_fractional_multipliers_are_fine(programme: Programme) -> None:
    trigger = await programme.trigger(minCooldownSeconds=0, maxMultiplier="0.5")
    assert (trigger["minCooldownSeconds"], trigger["maxMultiplier"]) == (0, 0.5)


async def test_update_changes_the_fields_sent_and_null_removes_a_limit(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    trigger = await programme.trigger(**ALL_RULES)
    path = f"{TRIGGERS}/{trigger['id']}"
    response = await client.put(
        path,
        json={"name": "Renamed", "maxPerUser": None, "requiredUserInfo": None, "maxPerDay": 5},
        headers=programme.admin,
    )
    updated = ok(response)
    assert updated["name"] == "Renamed"
    assert updated["maxPerUser"] is None
    assert updated["requiredUserInfo"] == []
    assert updated["maxPerDay"] == 5
    assert updated["triggerType"] == "CLAIM_BY_BUSINESS"
    assert updated["maxMultiplier"] == 2.5
    no_type = {"name": "X", "triggerType": None}
    validation_error(await client.put(path, json=no_type, headers=programme.admin), "triggerType")
    validation_error(await client.put(path, json={"maxPerDay": 1}, headers=programme.admin), "name")


async def test_a_campaign_shows_its_trigger_and_follows_its_updates(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    trigger = await programme.trigger(maxPerUser=3)
    first = await programme.campaign("First")
    second = await programme.campaign("Second")
    assert (await programme.set_trigger(first["id"], trigger["id"]))["trigger"] == trigger
    await programme.set_trigger(second["id"], trigger["id"])
    ok(await client.put(f"{TRIGGERS}/{trigger['id']}", json={"name": "Scan", "maxPerUser": 7},
                        headers=programme.admin))  # fmt: skip
    for campaign in (first, second):
        assert (await programme.get(campaign["id"]))["trigger"]["maxPerUser"] == 7
    other = await programme.trigger("Other")
    replaced = await programme.set_trigger(first["id"], other["id"])
    assert replaced["trigger"]["id"] == other["id"]
    # Setting the same trigger again changes nothing.
    assert (await programme.set_trigger(first["id"], other["id"]))["trigger"] == replaced["trigger"]


async def test_setting_an_unknown_trigger_is_not_found(
    client: httpx.AsyncClient, programme: Programme, other_programme: Programme
) -> None:
    campaign = await programme.campaign()
    theirs = await other_programme.trigger()
    for trigger_id in (str(uuid.uuid4()), theirs["id"]):
        response = await client.put(
            f"{CAMPAIGN}/admin/{campaign['id']}/trigger/{trigger_id}", headers=programme.admin
        )
        problem(response, 404, "CAMPAIGN_TRIGGER_NOT_FOUND")
    assert (await programme.get(campaign["id"]))["trigger"] is None


async def test_deleting_a_trigger_detaches_it_from_its_campaigns(
    client: httpx.AsyncClient, programme: Programme, owner_engine: AsyncEngine
) -> None:
    trigger = await programme.trigger()
    kept = await programme.trigger("Kept")
    campaign = await programme.campaign()
    await programme.set_trigger(campaign["id"], trigger["id"])
    deleted_campaign = await programme.campaign("History")
    await programme.set_trigger(deleted_campaign["id"], trigger["id"])
    ok(await client.delete(f"{CAMPAIGN}/admin/{deleted_campaign['id']}", headers=programme.admin))
    path = f"{TRIGGERS}/{trigger['id']}"
    assert ok(await client.delete(path, headers=programme.admin)) is True
    assert (await programme.get(campaign["id"]))["trigger"] is None
    listed = ok(await client.get(f"{CAMPAIGN}/trigger/all", headers=programme.public))
    assert [t["id"] for t in listed] == [kept["id"]]
    problem(await client.delete(path, headers=programme.admin), 404, "CAMPAIGN_TRIGGER_NOT_FOUND")
    problem(await client.put(path, json={"name": "x"}, headers=programme.admin), 404,
            "CAMPAIGN_TRIGGER_NOT_FOUND")  # fmt: skip
    response = await client.put(
        f"{CAMPAIGN}/admin/{campaign['id']}/trigger/{trigger['id']}", headers=programme.admin
    )
    problem(response, 404, "CAMPAIGN_TRIGGER_NOT_FOUND")
    async with owner_engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT deleted_at FROM campaign_triggers WHERE id = :id"),
                {"id": trigger["id"]},
            )
        ).one()
        history = await conn.scalar(
            text("SELECT trigger_id FROM campaigns WHERE id = :id"), {"id": deleted_campaign["id"]}
        )
    assert row.deleted_at is not None
    # A deleted campaign keeps the trigger it had, for its claims' history.
    assert str(history) == trigger["id"]


async def test_the_trigger_list_is_open_to_every_principal_of_the_tenant(
    client: httpx.AsyncClient, programme: Programme, other_programme: Programme, callers: Callers
) -> None:
    first = await programme.trigger("First")
    second = await programme.trigger("Second")
    await other_programme.trigger("Theirs")
    for name, headers in callers.all().items():
        listed = ok(await client.get(f"{CAMPAIGN}/trigger/all", headers=headers))
        assert [t["id"] for t in listed] == [first["id"], second["id"]], name


async def test_another_tenant_cannot_touch_a_trigger(
    client: httpx.AsyncClient, programme: Programme, other_programme: Programme
) -> None:
    trigger = await programme.trigger()
    condition = await programme.condition()
    their_condition = await other_programme.condition()
    path = f"{TRIGGERS}/{trigger['id']}"
    other = other_programme.admin
    problem(await client.put(path, json={"name": "x"}, headers=other), 404,
            "CAMPAIGN_TRIGGER_NOT_FOUND")  # fmt: skip
    problem(await client.delete(path, headers=other), 404, "CAMPAIGN_TRIGGER_NOT_FOUND")
    problem(await client.put(f"{path}/condition/{their_condition['id']}", headers=other), 404,
            "CAMPAIGN_TRIGGER_NOT_FOUND")  # fmt: skip
    # Nor attach another tenant's condition to one's own trigger.
    problem(
        await client.put(f"{path}/condition/{their_condition['id']}", headers=programme.admin),
        404,
        "TRIGGER_CONDITION_NOT_FOUND",
    )
    response = await client.put(
        f"{CONDITIONS}/{condition['id']}",
        json={"conditionType": "EQUALS", "key": "k", "value": 1},
        headers=other,
    )
    problem(response, 404, "TRIGGER_CONDITION_NOT_FOUND")
    assert (await programme.attach(trigger["id"], condition["id"]))["conditions"] == [condition]


# --- conditions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition_type", "value"),
    [
        ("EQUALS", "north"),
        ("EQUALS", 42),
        ("EQUALS", True),
        ("EQUALS", {"size": "L"}),
        ("NOT_EQUALS", ["a", "b"]),
        ("GREATER_THAN", 100),
        ("GREATER_THAN", 0.1),
        ("LESS_THAN", "99.5"),
        ("CONTAINS", "vip"),
        ("CONTAINS", 7),
        ("IS_PART_OF", ["ES", "FR", "PT"]),
    ],
)
async def test_a_condition_keeps_its_type_key_and_value(
    programme: Programme, condition_type: str, value: Any
) -> None:
    condition = await programme.condition(condition_type, "field", value)
    assert set(condition) == CONDITION_FIELDS
    assert condition["conditionType"] == condition_type
    assert condition["key"] == "field"
    assert condition["value"] == value
    trigger = await programme.trigger()
    assert (await programme.attach(trigger["id"], condition["id"]))["conditions"] == [condition]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"conditionType": "GREATER_THAN", "key": "spent", "value": "lots"}, "value"),
        ({"conditionType": "LESS_THAN", "key": "spent", "value": True}, "value"),
        ({"conditionType": "LESS_THAN", "key": "spent", "value": [1]}, "value"),
        ({"conditionType": "IS_PART_OF", "key": "country", "value": "ES"}, "value"),
        ({"conditionType": "IS_PART_OF", "key": "country", "value": []}, "value"),
        ({"conditionType": "CONTAINS", "key": "tags", "value": {"a": 1}}, "value"),
        ({"conditionType": "CONTAINS", "key": "tags", "value": ["a"]}, "value"),
        ({"conditionType": "EQUALS", "key": "k", "value": None}, "value"),
        ({"conditionType": "EQUALS", "key": "k"}, "value"),
        ({"conditionType": "EQUALS", "key": "", "value": 1}, "key"),
        ({"conditionType": "EQUALS", "value": 1}, "key"),
        ({"conditionType": "SIMILAR", "key": "k", "value": 1}, "conditionType"),
        ({"key": "k", "value": 1}, "conditionType"),
        ({"conditionType": "EQUALS", "key": "k", "value": "x" * 10_001}, "value"),
        ({"conditionType": "EQUALS", "key": "k", "value": 1, "id": "string"}, "id"),
        ({"conditionType": "EQUALS", "key": "k", "value": 1, "extra": 1}, "extra"),
    ],
)
async def test_invalid_conditions_are_refused(
    client: httpx.AsyncClient, programme: Programme, body: dict[str, Any], field: str
) -> None:
    validation_error(await client.post(CONDITIONS, json=body, headers=programme.admin), field)


async def test_numbers_that_would_not_be_kept_exactly_are_refused(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    raw = '{"conditionType": "GREATER_THAN", "key": "spent", "value": 12345678901234567890.5}'
    response = await client.post(
        CONDITIONS,
        content=raw,
        headers={**programme.admin, "content-type": "application/json"},
    )
    validation_error(response, "value")
    exact = raw.replace("12345678901234567890.5", "19.99")
    created = ok(
        await client.post(
            CONDITIONS,
            content=exact,
            headers={**programme.admin, "content-type": "application/json"},
        ),
        201,
    )
    assert created["value"] == 19.99


async def test_a_condition_may_be_created_with_its_own_id(
    client: httpx.AsyncClient, programme: Programme, other_programme: Programme
) -> None:
    chosen = str(uuid.uuid4())
    created = await programme.condition(id=chosen)
    assert created["id"] == chosen
    again = {"conditionType": "EQUALS", "key": "k", "value": 1, "id": chosen}
    problem(await client.post(CONDITIONS, json=again, headers=programme.admin), 409,
            "TRIGGER_CONDITION_ID_TAKEN")  # fmt: skip
    # Ids are per tenant: another tenant may use the same one.
    assert (await other_programme.condition(id=chosen))["id"] == chosen


async def test_updating_a_condition_replaces_it_for_every_trigger(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    condition = await programme.condition("EQUALS", "store", "north")
    first = await programme.trigger("First")
    second = await programme.trigger("Second")
    await programme.attach(first["id"], condition["id"])
    await programme.attach(second["id"], condition["id"])
    path = f"{CONDITIONS}/{condition['id']}"
    body = {"conditionType": "IS_PART_OF", "key": "country", "value": ["ES"]}
    updated = ok(await client.put(path, json=body, headers=programme.admin))
    assert updated == {"id": condition["id"], **body}
    for trigger in ok(await client.get(f"{CAMPAIGN}/trigger/all", headers=programme.public)):
        assert trigger["conditions"] == [updated]
    with_id = {**body, "id": condition["id"]}
    assert ok(await client.put(path, json=with_id, headers=programme.admin)) == updated
    other_id = {**body, "id": str(uuid.uuid4())}
    validation_error(await client.put(path, json=other_id, headers=programme.admin), "id")
    missing = f"{CONDITIONS}/{uuid.uuid4()}"
    problem(await client.put(missing, json=body, headers=programme.admin), 404,
            "TRIGGER_CONDITION_NOT_FOUND")  # fmt: skip
    validation_error(
        await client.put(path, json={"conditionType": "EQUALS", "key": "k"},
                         headers=programme.admin), "value"
    )  # fmt: skip


async def test_the_condition_operation_attaches_and_detaches(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    trigger = await programme.trigger()
    first = await programme.condition("EQUALS", "store", "north")
    second = await programme.condition("GREATER_THAN", "spent", 10)
    assert (await programme.attach(trigger["id"], first["id"]))["conditions"] == [first]
    attached = await programme.attach(trigger["id"], second["id"])
    assert attached["conditions"] == [first, second]
    detached = await programme.attach(trigger["id"], first["id"])
    assert detached["conditions"] == [second]
    again = await programme.attach(trigger["id"], first["id"])
    assert again["conditions"] == [second, first]
    missing = f"{TRIGGERS}/{trigger['id']}/condition/{uuid.uuid4()}"
    problem(await client.put(missing, headers=programme.admin), 404, "TRIGGER_CONDITION_NOT_FOUND")
    no_trigger = f"{TRIGGERS}/{uuid.uuid4()}/condition/{first['id']}"
    problem(await client.put(no_trigger, headers=programme.admin), 404,
            "CAMPAIGN_TRIGGER_NOT_FOUND")  # fmt: skip
