"""Campaigns: create, update, get, the two lists, activation and soft delete."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.campaigns.conftest import (
    ADMIN,
    CAMPAIGN,
    CAMPAIGN_FIELDS,
    Callers,
    Programme,
    ok,
    problem,
    validation_error,
)
from tests.conftest import MovableClock

BENEFICIARY = "0x52908400098527886E0F7030069857D2E4169EE7"


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ids(campaigns: list[dict[str, object]]) -> list[object]:
    return [c["id"] for c in campaigns]


async def test_a_new_campaign_is_an_inactive_testnet_draft_starting_now(
    programme: Programme,
) -> None:
    before = datetime.now(UTC)
    created = await programme.campaign("Summer")
    assert set(created) == CAMPAIGN_FIELDS
    assert created["name"] == "Summer"
    assert created["isActive"] is False
    assert created["isTestnet"] is True
    assert created["trigger"] is None
    assert created["tokenUnits"] == []
    assert created["businessEngagements"] == []
    for optional in ("description", "beneficiaryAccountAddress", "endDate", "imageUrl"):
        assert created[optional] is None
    assert created["externalUrl"] is None
    assert before - timedelta(seconds=5) <= _parse(created["startDate"]) <= datetime.now(UTC)
    assert created["createdAt"] == created["updatedAt"]
    uuid.UUID(created["id"])


async def test_every_documented_field_is_stored_and_returned(programme: Programme) -> None:
    start = datetime(2031, 5, 1, 8, 0, tzinfo=UTC)
    created = await programme.campaign(
        "Museum night",
        description="Visit three museums",
        beneficiaryAccountAddress=BENEFICIARY.lower(),
        startDate=_iso(start),
        endDate="2031-05-02T10:00:00+02:00",
        imageUrl="https://img.example/m.png",
        externalUrl="https://museums.example/night",
    )
    assert created["description"] == "Visit three museums"
    assert created["beneficiaryAccountAddress"] == BENEFICIARY  # EIP-55 form
    assert _parse(created["startDate"]) == start
    assert _parse(created["endDate"]) == datetime(2031, 5, 2, 8, 0, tzinfo=UTC)
    assert created["imageUrl"] == "https://img.example/m.png"
    assert created["externalUrl"] == "https://museums.example/night"
    assert await programme.get(created["id"]) == created


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "beneficiaryAccountAddress": "0x123"}, "beneficiaryAccountAddress"),
        ({"name": "A", "startDate": "2031-01-01T00:00:00"}, "startDate"),
        ({"name": "A", "startDate": "soon"}, "startDate"),
        ({"name": "A", "imageUrl": "https://x/" + "a" * 2048}, "imageUrl"),
        ({"name": "A", "isActive": True}, "isActive"),
        ({"name": "A", "isTestnet": False}, "isTestnet"),
        (
            {"name": "A", "startDate": "2031-01-02T00:00:00Z", "endDate": "2031-01-01T00:00:00Z"},
            "endDate",
        ),
        (
            {"name": "A", "startDate": "2031-01-01T00:00:00Z", "endDate": "2031-01-01T00:00:00Z"},
            "endDate",
        ),
    ],
)
async def test_create_rejects_invalid_bodies(
    client: httpx.AsyncClient, programme: Programme, body: dict[str, object], field: str
) -> None:
    validation_error(await client.post(ADMIN, json=body, headers=programme.admin), field)
    assert await programme.admin_list() == []


async def test_an_end_date_in_the_past_of_a_default_start_is_refused(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    response = await client.post(
        ADMIN, json={"name": "A", "endDate": "2001-01-01T00:00:00Z"}, headers=programme.admin
    )
    validation_error(response, "endDate")


async def test_update_changes_only_the_fields_sent_and_null_clears(
    client: httpx.AsyncClient, programme: Programme, clock: MovableClock
) -> None:
    created = await programme.campaign(
        "Old", description="d", imageUrl="https://i.example/a.png", endDate="2099-01-01T00:00:00Z"
    )
    clock.advance(timedelta(seconds=3))
    response = await client.put(
        f"{ADMIN}/{created['id']}",
        json={"name": "New", "description": None, "externalUrl": "https://e.example"},
        headers=programme.admin,
    )
    updated = ok(response)
    assert updated["name"] == "New"
    assert updated["description"] is None
    assert updated["externalUrl"] == "https://e.example"
    assert updated["imageUrl"] == "https://i.example/a.png"
    assert updated["endDate"] == created["endDate"]
    assert updated["startDate"] == created["startDate"]
    assert updated["createdAt"] == created["createdAt"]
    assert _parse(updated["updatedAt"]) > _parse(created["updatedAt"])
    assert await programme.get(created["id"]) == updated


async def test_update_checks_the_dates_against_the_stored_ones(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    created = await programme.campaign("A", startDate="2031-01-10T00:00:00Z")
    path = f"{ADMIN}/{created['id']}"
    early_end = {"name": "A", "endDate": "2031-01-05T00:00:00Z"}
    validation_error(await client.put(path, json=early_end, headers=programme.admin), "endDate")
    no_start = {"name": "A", "startDate": None}
    validation_error(await client.put(path, json=no_start, headers=programme.admin), "startDate")
    validation_error(await client.put(path, json={}, headers=programme.admin), "name")
    moved = {"name": "A", "startDate": "2031-01-01T00:00:00Z", "endDate": "2031-01-05T00:00:00Z"}
    assert ok(await client.put(path, json=moved, headers=programme.admin))["endDate"] == (
        "2031-01-05T00:00:00Z"
    )
    assert (await programme.get(created["id"]))["startDate"] == "2031-01-01T00:00:00Z"


async def test_toggle_activate_flips_is_active(programme: Programme) -> None:
    created = await programme.campaign()
    assert (await programme.toggle(created["id"]))["isActive"] is True
    assert (await programme.toggle(created["id"]))["isActive"] is False
    assert (await programme.get(created["id"]))["isActive"] is False


async def test_list_active_shows_active_running_campaigns_of_the_environment(
    client: httpx.AsyncClient, programme: Programme, callers: Callers
) -> None:
    active = await programme.active_campaign("Active")
    upcoming = await programme.active_campaign("Upcoming", startDate="2099-01-01T00:00:00Z")
    await programme.campaign("Draft")
    await programme.active_campaign(
        "Ended", startDate="2001-01-01T00:00:00Z", endDate="2001-02-01T00:00:00Z"
    )
    for name, headers in callers.all().items():
        listed = ok(await client.get(CAMPAIGN, headers=headers))
        assert ids(listed) == [active["id"], upcoming["id"]], name
        assert all(set(c) == CAMPAIGN_FIELDS for c in listed)


async def test_a_campaign_leaves_the_active_list_when_its_end_date_passes(
    client: httpx.AsyncClient, programme: Programme, clock: MovableClock
) -> None:
    end = datetime.now(UTC) + timedelta(hours=1)
    campaign = await programme.active_campaign("Short", endDate=_iso(end))
    assert ids(ok(await client.get(CAMPAIGN, headers=programme.public))) == [campaign["id"]]
    clock.advance(timedelta(hours=2))
    assert ok(await client.get(CAMPAIGN, headers=programme.public)) == []
    # Still there for admins, and by id.
    assert ids(await programme.admin_list()) == [campaign["id"]]
    assert (await programme.get(campaign["id"], programme.public))["id"] == campaign["id"]


async def test_admin_list_filters_on_active(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    draft = await programme.campaign("Draft")
    active = await programme.active_campaign("Active")
    ended = await programme.active_campaign(
        "Ended", startDate="2001-01-01T00:00:00Z", endDate="2001-02-01T00:00:00Z"
    )
    assert ids(await programme.admin_list()) == [draft["id"], active["id"], ended["id"]]
    assert ids(await programme.admin_list(active="true")) == [active["id"], ended["id"]]
    assert ids(await programme.admin_list(active="false")) == [draft["id"]]
    validation_error(
        await client.get(ADMIN, params={"active": "maybe"}, headers=programme.admin), "active"
    )


async def test_get_hides_inactive_campaigns_from_users_businesses_and_the_public(
    client: httpx.AsyncClient, programme: Programme, callers: Callers
) -> None:
    draft = await programme.campaign("Draft")
    for name in ("user", "business", "public"):
        response = await client.get(f"{CAMPAIGN}/{draft['id']}", headers=callers.all()[name])
        problem(response, 404, "CAMPAIGN_NOT_FOUND")
    for name in ("admin", "system"):
        assert (await programme.get(draft["id"], callers.all()[name]))["id"] == draft["id"]
    await programme.toggle(draft["id"])
    for name, headers in callers.all().items():
        assert (await programme.get(draft["id"], headers))["isActive"] is True, name


async def test_unknown_and_malformed_ids(client: httpx.AsyncClient, programme: Programme) -> None:
    missing = uuid.uuid4()
    problem(await client.get(f"{CAMPAIGN}/{missing}", headers=programme.admin), 404,
            "CAMPAIGN_NOT_FOUND")  # fmt: skip
    for method, path in [
        ("PUT", f"{ADMIN}/{missing}"),
        ("DELETE", f"{ADMIN}/{missing}"),
        ("PUT", f"{ADMIN}/{missing}/activate"),
        ("PUT", f"{ADMIN}/{missing}/environment"),
    ]:
        body = {"name": "x"} if method == "PUT" and path.endswith(str(missing)) else None
        response = await client.request(method, path, json=body, headers=programme.admin)
        problem(response, 404, "CAMPAIGN_NOT_FOUND")
    validation_error(await client.get(f"{CAMPAIGN}/not-a-uuid", headers=programme.admin), "id")


async def test_delete_is_soft_and_hides_the_campaign_everywhere(
    client: httpx.AsyncClient, programme: Programme, owner_engine: AsyncEngine
) -> None:
    campaign = await programme.active_campaign("Gone")
    token = await programme.token("ERC20")
    ok(await programme.add_unit(campaign["id"], tokenId=token["id"], amount=5), 201)
    kept = await programme.active_campaign("Kept")
    response = await client.delete(f"{ADMIN}/{campaign['id']}", headers=programme.admin)
    assert ok(response) is True
    path = f"{CAMPAIGN}/{campaign['id']}"
    problem(await client.get(path, headers=programme.admin), 404, "CAMPAIGN_NOT_FOUND")
    problem(await client.get(path, headers=programme.public), 404, "CAMPAIGN_NOT_FOUND")
    assert ids(await programme.admin_list()) == [kept["id"]]
    assert ids(ok(await client.get(CAMPAIGN, headers=programme.public))) == [kept["id"]]
    for method, admin_path, body in [
        ("DELETE", f"{ADMIN}/{campaign['id']}", None),
        ("PUT", f"{ADMIN}/{campaign['id']}", {"name": "Back"}),
        ("PUT", f"{ADMIN}/{campaign['id']}/activate", None),
        ("POST", f"{ADMIN}/{campaign['id']}/token-units", {"tokenId": token["id"], "amount": 1}),
    ]:
        response = await client.request(method, admin_path, json=body, headers=programme.admin)
        problem(response, 404, "CAMPAIGN_NOT_FOUND")
    # The history stays: the row (inactive, deleted) and its token unit.
    async with owner_engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT is_active, deleted_at FROM campaigns WHERE id = :id"),
                {"id": campaign["id"]},
            )
        ).one()
        units = await conn.scalar(
            text("SELECT count(*) FROM campaign_token_units WHERE campaign_id = :id"),
            {"id": campaign["id"]},
        )
    assert row.is_active is False
    assert row.deleted_at is not None
    assert units == 1


async def test_another_tenant_cannot_see_or_change_a_campaign(
    client: httpx.AsyncClient, programme: Programme, other_programme: Programme
) -> None:
    campaign = await programme.active_campaign("Mine")
    other = other_programme
    assert ok(await client.get(CAMPAIGN, headers=other.public)) == []
    assert await other.admin_list() == []
    token = await other.token("ERC20")
    trigger = await other.trigger()
    business = await other.business()
    unit_body = {"tokenId": token["id"], "amount": 1}
    engagement_body = {"businessIds": [business["id"]]}
    for method, path, body in [
        ("GET", f"{CAMPAIGN}/{campaign['id']}", None),
        ("PUT", f"{ADMIN}/{campaign['id']}", {"name": "Theirs"}),
        ("DELETE", f"{ADMIN}/{campaign['id']}", None),
        ("PUT", f"{ADMIN}/{campaign['id']}/activate", None),
        ("PUT", f"{ADMIN}/{campaign['id']}/environment", None),
        ("POST", f"{ADMIN}/{campaign['id']}/token-units", unit_body),
        ("PUT", f"{ADMIN}/{campaign['id']}/token-units/{uuid.uuid4()}", unit_body),
        ("DELETE", f"{ADMIN}/{campaign['id']}/token-units/{uuid.uuid4()}", None),
        ("PUT", f"{ADMIN}/{campaign['id']}/trigger/{trigger['id']}", None),
        ("POST", f"{ADMIN}/{campaign['id']}/business-engagement", engagement_body),
        ("PUT", f"{ADMIN}/{campaign['id']}/business-engagement/{uuid.uuid4()}", engagement_body),
        ("DELETE", f"{ADMIN}/{campaign['id']}/business-engagement/{uuid.uuid4()}", None),
    ]:
        response = await client.request(method, path, json=body, headers=other.admin)
        problem(response, 404, "CAMPAIGN_NOT_FOUND")
    assert (await programme.get(campaign["id"]))["name"] == "Mine"


async def test_create_with_an_idempotency_key_creates_one_campaign(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    headers = {**programme.admin, "Idempotency-Key": "campaign-1"}
    first = await client.post(ADMIN, json={"name": "Once"}, headers=headers)
    again = await client.post(ADMIN, json={"name": "Once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert ids(await programme.admin_list()) == [first.json()["id"]]
