"""The tables as the API's database role sees them: tenant isolation, and no deletion of the
rows claims will refer to."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pers.db import set_tenant
from pers.runtime import Runtime
from tests.campaigns.conftest import Programme, ok

HISTORY_TABLES = (
    "campaigns",
    "campaign_triggers",
    "campaign_trigger_conditions",
    "campaign_token_units",
    "campaign_business_engagements",
)
ALL_TABLES = (
    *HISTORY_TABLES,
    "campaign_trigger_condition_links",
    "campaign_engagement_businesses",
)


async def _configured(programme: Programme) -> None:
    campaign = await programme.campaign()
    trigger = await programme.trigger()
    condition = await programme.condition()
    await programme.attach(trigger["id"], condition["id"])
    await programme.set_trigger(campaign["id"], trigger["id"])
    token = await programme.token("ERC20")
    ok(await programme.add_unit(campaign["id"], tokenId=token["id"], amount=1), 201)
    business = await programme.business()
    ok(await programme.engage(campaign["id"], businessIds=[business["id"]]), 201)


@pytest.mark.parametrize("table", HISTORY_TABLES)
async def test_the_app_role_cannot_delete_rows_claims_refer_to(
    runtime: Runtime, programme: Programme, table: str
) -> None:
    await _configured(programme)
    session = runtime.db.sessionmaker()
    try:
        await set_tenant(session, programme.tenant.id)
        assert await session.scalar(text(f"SELECT count(*) FROM {table}")) == 1
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text(f"DELETE FROM {table}"))
    finally:
        await session.rollback()
        await session.close()


async def test_each_tenant_sees_only_its_own_rows(
    runtime: Runtime, programme: Programme, other_programme: Programme
) -> None:
    await _configured(programme)
    await _configured(other_programme)
    session = runtime.db.sessionmaker()
    try:
        for table in ALL_TABLES:
            assert await session.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table
        await set_tenant(session, programme.tenant.id)
        for table in ALL_TABLES:
            tenants = (await session.execute(text(f"SELECT DISTINCT tenant_id FROM {table}"))).all()
            assert [t[0] for t in tenants] == [programme.tenant.id], table
    finally:
        await session.rollback()
        await session.close()
