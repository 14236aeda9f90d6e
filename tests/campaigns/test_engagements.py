"""Business engagements: the partners of a campaign and the per-user limits at each."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.businesses.conftest import BUSINESS_FIELDS
from tests.campaigns.conftest import (
    ADMIN,
    ENGAGEMENT_FIELDS,
    Callers,
    Programme,
    ok,
    problem,
    validation_error,
)


async def test_an_engagement_keeps_its_businesses_and_limits(programme: Programme) -> None:
    campaign = await programme.campaign()
    cafe = await programme.business("Cafe")
    museum = await programme.business("Museum")
    response = await programme.engage(
        campaign["id"],
        businessIds=[cafe["id"], museum["id"]],
        shortDescription="Show the QR code at the counter",
        maxPerBussiness=2,
        maxPerDay=1,
    )
    updated = ok(response, 201)
    [engagement] = updated["businessEngagements"]
    assert set(engagement) == ENGAGEMENT_FIELDS
    assert engagement["businessIds"] == [cafe["id"], museum["id"]]
    assert [b["displayName"] for b in engagement["businesses"]] == ["Cafe", "Museum"]
    assert all(set(b) == BUSINESS_FIELDS for b in engagement["businesses"])
    assert engagement["shortDescription"] == "Show the QR code at the counter"
    assert engagement["maxPerBussiness"] == 2
    assert engagement["maxPerDay"] == 1
    assert (await programme.get(campaign["id"]))["businessEngagements"] == [engagement]


async def test_limits_are_optional(programme: Programme) -> None:
    campaign = await programme.campaign()
    cafe = await programme.business()
    [engagement] = ok(await programme.engage(campaign["id"], businessIds=[cafe["id"]]), 201)[
        "businessEngagements"
    ]
    assert (engagement["shortDescription"], engagement["maxPerBussiness"]) == (None, None)
    assert engagement["maxPerDay"] is None


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"maxPerBussiness": 0}, "maxPerBussiness"),
        ({"maxPerBussiness": 1.5}, "maxPerBussiness"),
        ({"maxPerDay": -1}, "maxPerDay"),
        ({"maxPerBusiness": 2}, "maxPerBusiness"),  # the spec spells it maxPerBussiness
        ({"shortDescription": "x" * 501}, "shortDescription"),
    ],
)
async def test_invalid_limits_are_refused(
    programme: Programme, extra: dict[str, Any], field: str
) -> None:
    campaign = await programme.campaign()
    cafe = await programme.business()
    validation_error(await programme.engage(campaign["id"], businessIds=[cafe["id"]], **extra),
                     field)  # fmt: skip


@pytest.mark.parametrize("business_ids", [[], "one", ["not-a-uuid"], None])
async def test_business_ids_must_be_a_list_of_ids(programme: Programme, business_ids: Any) -> None:
    campaign = await programme.campaign()
    validation_error(await programme.engage(campaign["id"], businessIds=business_ids),
                     "businessIds")  # fmt: skip


async def test_a_business_listed_twice_is_refused(programme: Programme) -> None:
    campaign = await programme.campaign()
    cafe = await programme.business()
    response = await programme.engage(campaign["id"], businessIds=[cafe["id"], cafe["id"]])
    validation_error(response, "businessIds")


async def test_unknown_and_foreign_businesses_are_not_found(
    programme: Programme, other_programme: Programme
) -> None:
    campaign = await programme.campaign()
    cafe = await programme.business()
    theirs = await other_programme.business()
    for missing in (str(uuid.uuid4()), theirs["id"]):
        response = await programme.engage(campaign["id"], businessIds=[cafe["id"], missing])
        body = problem(response, 404, "BUSINESS_NOT_FOUND")
        assert body["businessIds"] == [missing]
    assert (await programme.get(campaign["id"]))["businessEngagements"] == []


async def test_a_business_is_in_one_engagement_of_a_campaign(programme: Programme) -> None:
    campaign = await programme.campaign()
    other_campaign = await programme.campaign("Other")
    cafe = await programme.business("Cafe")
    museum = await programme.business("Museum")
    ok(await programme.engage(campaign["id"], businessIds=[cafe["id"]]), 201)
    body = problem(
        await programme.engage(campaign["id"], businessIds=[museum["id"], cafe["id"]]),
        409,
        "BUSINESS_ALREADY_ENGAGED",
    )
    assert body["businessIds"] == [cafe["id"]]
    # Other campaigns may engage it too.
    ok(await programme.engage(other_campaign["id"], businessIds=[cafe["id"]]), 201)


async def test_inactive_businesses_may_be_engaged_and_only_admins_and_systems_see_them(
    client: httpx.AsyncClient, programme: Programme, callers: Callers
) -> None:
    campaign = await programme.active_campaign()
    cafe = await programme.business("Cafe")
    closed = await programme.business("Closed", active=False)
    ok(await programme.engage(campaign["id"], businessIds=[cafe["id"], closed["id"]]), 201)
    for name, headers in callers.all().items():
        [engagement] = (await programme.get(campaign["id"], headers))["businessEngagements"]
        assert engagement["businessIds"] == [cafe["id"], closed["id"]]
        shown = [b["displayName"] for b in engagement["businesses"]]
        expected = ["Cafe", "Closed"] if name in ("admin", "system") else ["Cafe"]
        assert shown == expected, name


async def test_update_replaces_the_businesses_and_changes_the_fields_sent(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    campaign = await programme.campaign()
    cafe = await programme.business("Cafe")
    museum = await programme.business("Museum")
    bar = await programme.business("Bar")
    [engagement] = ok(
        await programme.engage(
            campaign["id"],
            businessIds=[cafe["id"], museum["id"]],
            shortDescription="Scan",
            maxPerBussiness=2,
            maxPerDay=1,
        ),
        201,
    )["businessEngagements"]
    path = f"{ADMIN}/{campaign['id']}/business-engagement/{engagement['id']}"
    body = {"businessIds": [museum["id"], bar["id"]], "maxPerDay": None, "maxPerBussiness": 5}
    [updated] = ok(await client.put(path, json=body, headers=programme.admin))[
        "businessEngagements"
    ]
    assert updated["id"] == engagement["id"]
    assert sorted(updated["businessIds"]) == sorted([museum["id"], bar["id"]])
    assert updated["shortDescription"] == "Scan"
    assert (updated["maxPerBussiness"], updated["maxPerDay"]) == (5, None)
    # The cafe left this engagement: another engagement may take it now.
    ok(await programme.engage(campaign["id"], businessIds=[cafe["id"]]), 201)
    taken = {"businessIds": [cafe["id"]]}
    problem(await client.put(path, json=taken, headers=programme.admin), 409,
            "BUSINESS_ALREADY_ENGAGED")  # fmt: skip
    validation_error(await client.put(path, json={"maxPerDay": 2}, headers=programme.admin),
                     "businessIds")  # fmt: skip


async def test_remove_ends_the_engagement_and_keeps_its_row(
    client: httpx.AsyncClient, programme: Programme, owner_engine: AsyncEngine
) -> None:
    campaign = await programme.campaign()
    cafe = await programme.business()
    [engagement] = ok(await programme.engage(campaign["id"], businessIds=[cafe["id"]]), 201)[
        "businessEngagements"
    ]
    path = f"{ADMIN}/{campaign['id']}/business-engagement/{engagement['id']}"
    assert ok(await client.delete(path, headers=programme.admin))["businessEngagements"] == []
    problem(await client.delete(path, headers=programme.admin), 404,
            "BUSINESS_ENGAGEMENT_NOT_FOUND")  # fmt: skip
    problem(await client.put(path, json={"businessIds": [cafe["id"]]}, headers=programme.admin),
            404, "BUSINESS_ENGAGEMENT_NOT_FOUND")  # fmt: skip
    ok(await programme.engage(campaign["id"], businessIds=[cafe["id"]]), 201)
    async with owner_engine.connect() as conn:
        removed = await conn.scalar(
            text("SELECT removed_at FROM campaign_business_engagements WHERE id = :id"),
            {"id": engagement["id"]},
        )
    assert removed is not None


async def test_an_engagement_belongs_to_its_campaign(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    first = await programme.campaign("First")
    second = await programme.campaign("Second")
    cafe = await programme.business()
    [engagement] = ok(await programme.engage(first["id"], businessIds=[cafe["id"]]), 201)[
        "businessEngagements"
    ]
    path = f"{ADMIN}/{second['id']}/business-engagement/{engagement['id']}"
    problem(await client.delete(path, headers=programme.admin), 404,
            "BUSINESS_ENGAGEMENT_NOT_FOUND")  # fmt: skip
    assert len((await programme.get(first["id"]))["businessEngagements"]) == 1
