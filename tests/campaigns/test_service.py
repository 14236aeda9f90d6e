"""What the claims will use: the typed service functions, and the locks that keep concurrent
admin changes consistent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from pers.auth.context import Principal, PrincipalKind, RequestContext
from pers.campaigns import service
from pers.campaigns.errors import CampaignNotFound
from pers.campaigns.models import ConditionType, TriggerType
from pers.db import set_tenant
from pers.kit.enums import Environment
from pers.runtime import Runtime
from tests.campaigns.conftest import ADMIN, TRIGGERS, Programme, ok
from tests.conftest import TenantHandle


@asynccontextmanager
async def in_tenant(
    runtime: Runtime, tenant: TenantHandle, kind: PrincipalKind = PrincipalKind.USER
) -> AsyncIterator[tuple[AsyncSession, RequestContext]]:
    ctx = RequestContext(
        tenant_id=tenant.id,
        environment=Environment.TESTNET,
        principal=Principal(kind, uuid.uuid4()),
        now=runtime.clock.now(),
        request_id="test",
    )
    async with runtime.db.unit_of_work() as session:
        await set_tenant(session, tenant.id)
        yield session, ctx


async def test_a_claim_sees_the_whole_configuration_of_a_campaign(
    runtime: Runtime, programme: Programme
) -> None:
    campaign = await programme.campaign()  # inactive: the claim decides what that means
    trigger = await programme.trigger(maxPerUser=3, maxMultiplier=2, triggerType="CLAIM_BY_SYSTEM")
    condition = await programme.condition("GREATER_THAN", "spent", 10)
    await programme.attach(trigger["id"], condition["id"])
    await programme.set_trigger(campaign["id"], trigger["id"])
    token = await programme.token("ERC20", decimals=2)
    ok(await programme.add_unit(campaign["id"], tokenId=token["id"], amount=1.5, maxAmount=3), 201)
    cafe = await programme.business()
    ok(await programme.engage(campaign["id"], businessIds=[cafe["id"]], maxPerBussiness=2), 201)
    async with in_tenant(runtime, programme.tenant) as (session, ctx):
        detail = await service.get_claimable_campaign(session, ctx, uuid.UUID(campaign["id"]))
        engagement = await service.find_engagement(
            session, ctx, uuid.UUID(campaign["id"]), uuid.UUID(cafe["id"])
        )
        nobody = await service.find_engagement(
            session, ctx, uuid.UUID(campaign["id"]), uuid.uuid4()
        )
    assert detail.campaign.is_active is False
    assert detail.campaign.environment is Environment.TESTNET
    assert detail.trigger is not None
    assert detail.trigger.trigger.trigger_type is TriggerType.CLAIM_BY_SYSTEM
    assert detail.trigger.trigger.max_multiplier == Decimal(2)
    [cond] = detail.trigger.conditions
    assert (cond.condition_type, cond.key, cond.value) == (ConditionType.GREATER_THAN, "spent", 10)
    [unit] = detail.token_units
    assert (unit.unit.amount, unit.unit.max_amount) == (150, 300)  # base units
    assert (unit.amount, unit.max_amount) == (Decimal("1.5"), Decimal(3))
    assert engagement is not None
    assert engagement.max_per_bussiness == 2
    assert nobody is None


async def test_a_deleted_campaign_is_not_claimable_but_stays_in_history(
    client: httpx.AsyncClient, runtime: Runtime, programme: Programme
) -> None:
    campaign = await programme.active_campaign()
    trigger = await programme.trigger()
    await programme.set_trigger(campaign["id"], trigger["id"])
    ok(await client.delete(f"{ADMIN}/{campaign['id']}", headers=programme.admin))
    ok(await client.delete(f"{TRIGGERS}/{trigger['id']}", headers=programme.admin))
    campaign_id = uuid.UUID(campaign["id"])
    async with in_tenant(runtime, programme.tenant) as (session, ctx):
        with pytest.raises(CampaignNotFound):
            await service.get_claimable_campaign(session, ctx, campaign_id)
        history = await service.campaigns_by_ids(session, ctx, [campaign_id, uuid.uuid4()])
    assert list(history) == [campaign_id]
    assert history[campaign_id].campaign.deleted_at is not None
    assert history[campaign_id].trigger is not None
    assert history[campaign_id].trigger.trigger.id == uuid.UUID(trigger["id"])


async def test_concurrent_additions_of_one_token_make_one_unit(programme: Programme) -> None:
    campaign = await programme.campaign()
    token = await programme.token("ERC20")
    responses = await asyncio.gather(
        *(programme.add_unit(campaign["id"], tokenId=token["id"], amount=n) for n in range(1, 9))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7, [r.text for r in responses if r.status_code != 409]
    assert len((await programme.get(campaign["id"]))["tokenUnits"]) == 1


async def test_concurrent_engagements_of_one_business_make_one(programme: Programme) -> None:
    campaign = await programme.campaign()
    cafe = await programme.business()
    responses = await asyncio.gather(
        *(programme.engage(campaign["id"], businessIds=[cafe["id"]]) for _ in range(8))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    assert len((await programme.get(campaign["id"]))["businessEngagements"]) == 1


async def test_concurrent_condition_toggles_leave_a_consistent_trigger(
    programme: Programme,
) -> None:
    trigger = await programme.trigger()
    condition = await programme.condition()
    path = f"{TRIGGERS}/{trigger['id']}/condition/{condition['id']}"
    responses = await asyncio.gather(
        *(programme.client.put(path, headers=programme.admin) for _ in range(7))
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    # Seven toggles, one after the other: attached at the end.
    attached = [len(r.json()["conditions"]) for r in responses]
    assert sorted(attached) == [0, 0, 0, 1, 1, 1, 1]


async def test_deleting_a_trigger_while_it_is_being_set_leaves_no_dangling_campaign(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    trigger = await programme.trigger()
    campaigns = [await programme.campaign(f"C{n}") for n in range(6)]
    sets = [
        client.put(f"{ADMIN}/{c['id']}/trigger/{trigger['id']}", headers=programme.admin)
        for c in campaigns
    ]
    deletion = client.delete(f"{TRIGGERS}/{trigger['id']}", headers=programme.admin)
    *set_responses, deleted = await asyncio.gather(*sets, deletion)
    assert deleted.status_code == 200
    assert {r.status_code for r in set_responses} <= {200, 404}
    for campaign in campaigns:
        assert (await programme.get(campaign["id"]))["trigger"] is None
