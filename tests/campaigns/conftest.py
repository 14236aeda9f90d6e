"""Helpers of the Campaign tests: campaigns, triggers, conditions, tokens and businesses made
through the API, and every kind of caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pers.db import async_url
from pers.runtime import Runtime
from tests.businesses.conftest import make_system_key, make_user
from tests.conftest import TenantHandle
from tests.tokens.conftest import add_metadata, create_token, mainnet_admin, problem

CAMPAIGN = "/v1.7/campaign"
ADMIN = f"{CAMPAIGN}/admin"
TRIGGERS = f"{ADMIN}/trigger"
CONDITIONS = f"{ADMIN}/trigger-condition"

# Every field of the documented Campaign DTO (seed 001).
CAMPAIGN_FIELDS = {
    "name",
    "description",
    "beneficiaryAccountAddress",
    "startDate",
    "endDate",
    "imageUrl",
    "externalUrl",
    "id",
    "isActive",
    "isTestnet",
    "trigger",
    "tokenUnits",
    "businessEngagements",
    "createdAt",
    "updatedAt",
}
# The documented trigger fields.
TRIGGER_FIELDS = {
    "name",
    "description",
    "maxPerDay",
    "maxPerUser",
    "minCooldownSeconds",
    "maxGeoDistanceInMeters",
    "requiredUserInfo",
    "triggerType",
    "maxMultiplier",
    "completionThreshold",
    "id",
    "conditions",
}
# The documented condition fields, plus its id.
CONDITION_FIELDS = {"id", "conditionType", "value", "key"}
TOKEN_UNIT_FIELDS = {"id", "tokenId", "token", "tokenMetadataIncrementalId", "amount", "maxAmount"}
ENGAGEMENT_FIELDS = {
    "id",
    "businessIds",
    "businesses",
    "shortDescription",
    "maxPerBussiness",
    "maxPerDay",
    "createdAt",
    "updatedAt",
}

__all__ = ["add_metadata", "create_token", "mainnet_admin", "problem"]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def validation_error(response: httpx.Response, field: str) -> dict[str, Any]:
    """A 400 VALIDATION_ERROR that names ``field`` (in the location or in the message)."""
    body = problem(response, 400, "VALIDATION_ERROR")
    reported = [f"{e['field']}: {e['message']}" for e in body["errors"]]
    assert any(field in r for r in reported), f"{field} not among the reported errors {reported}"
    return body


@dataclass
class Programme:
    """One tenant's campaign set-up, driven through the API as its admin."""

    client: httpx.AsyncClient
    tenant: TenantHandle

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.admin

    @property
    def public(self) -> dict[str, str]:
        return self.tenant.public

    async def campaign(self, name: str = "Summer", **fields: Any) -> dict[str, Any]:
        body = {"name": name, **fields}
        created: dict[str, Any] = ok(
            await self.client.post(ADMIN, json=body, headers=self.admin), 201
        )
        return created

    async def active_campaign(self, name: str = "Summer", **fields: Any) -> dict[str, Any]:
        created = await self.campaign(name, **fields)
        return await self.toggle(created["id"])

    async def toggle(self, campaign_id: str) -> dict[str, Any]:
        toggled: dict[str, Any] = ok(
            await self.client.put(f"{ADMIN}/{campaign_id}/activate", headers=self.admin)
        )
        return toggled

    async def get(self, campaign_id: str, headers: dict[str, str] | None = None) -> Any:
        return ok(await self.client.get(f"{CAMPAIGN}/{campaign_id}", headers=headers or self.admin))

    async def admin_list(self, **params: str) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = ok(
            await self.client.get(ADMIN, headers=self.admin, params=params)
        )
        return listed

    async def trigger(self, name: str = "Scan", **fields: Any) -> dict[str, Any]:
        created: dict[str, Any] = ok(
            await self.client.post(TRIGGERS, json={"name": name, **fields}, headers=self.admin),
            201,
        )
        return created

    async def condition(
        self, condition_type: str = "EQUALS", key: str = "store", value: Any = "north", **extra: Any
    ) -> dict[str, Any]:
        body = {"conditionType": condition_type, "key": key, "value": value, **extra}
        created: dict[str, Any] = ok(
            await self.client.post(CONDITIONS, json=body, headers=self.admin), 201
        )
        return created

    async def attach(self, trigger_id: str, condition_id: str) -> dict[str, Any]:
        toggled: dict[str, Any] = ok(
            await self.client.put(
                f"{TRIGGERS}/{trigger_id}/condition/{condition_id}", headers=self.admin
            )
        )
        return toggled

    async def set_trigger(self, campaign_id: str, trigger_id: str) -> dict[str, Any]:
        updated: dict[str, Any] = ok(
            await self.client.put(f"{ADMIN}/{campaign_id}/trigger/{trigger_id}", headers=self.admin)
        )
        return updated

    async def token(self, token_type: str = "ERC20", **fields: Any) -> dict[str, Any]:
        return await create_token(self.client, self.tenant, token_type, **fields)

    async def item(self, token_id: str, name: str = "Gold") -> int:
        created = await add_metadata(self.client, self.tenant, token_id, name=name)
        return int(created["tokenMetadataIncrementalId"])

    async def add_unit(self, campaign_id: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"{ADMIN}/{campaign_id}/token-units", json=body, headers=self.admin
        )

    async def business(self, name: str = "Corner Cafe", *, active: bool = True) -> dict[str, Any]:
        created: dict[str, Any] = ok(
            await self.client.post(
                "/v1.7/business/admin", json={"displayName": name}, headers=self.admin
            ),
            201,
        )
        if active:
            ok(
                await self.client.put(
                    f"/v1.7/business/admin/activate/{created['id']}",
                    json={"isActive": True},
                    headers=self.admin,
                )
            )
        return created

    async def engage(self, campaign_id: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"{ADMIN}/{campaign_id}/business-engagement", json=body, headers=self.admin
        )

    async def mainnet_admin(self) -> dict[str, str]:
        return await mainnet_admin(self.client, self.tenant)


@pytest.fixture
def programme(client: httpx.AsyncClient, tenant: TenantHandle) -> Programme:
    return Programme(client, tenant)


@pytest.fixture
def other_programme(client: httpx.AsyncClient, other_tenant: TenantHandle) -> Programme:
    return Programme(client, other_tenant)


@dataclass
class Callers:
    """Credentials of every principal kind of one tenant (testnet), for permission tests."""

    tenant: TenantHandle
    user: dict[str, str]
    system: dict[str, str]
    business: dict[str, str]

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.admin

    @property
    def public(self) -> dict[str, str]:
        return self.tenant.public

    def all(self) -> dict[str, dict[str, str]]:
        return {
            "admin": self.admin,
            "system": self.system,
            "business": self.business,
            "user": self.user,
            "public": self.public,
        }


@pytest.fixture
async def callers(runtime: Runtime, programme: Programme) -> Callers:
    business = await programme.business("Caller")
    return Callers(
        tenant=programme.tenant,
        user=await make_user(runtime, programme.tenant),
        system=await make_system_key(programme.client, programme.tenant),
        business={
            "x-api-key": business["apiPrivateKey"],
            "x-project-key": programme.tenant.testnet_key,
        },
    )


@pytest.fixture
async def owner_engine(owner_url: str) -> AsyncIterator[AsyncEngine]:
    """The schema owner: sees every row, deleted and removed ones included."""
    engine = create_async_engine(async_url(owner_url))
    yield engine
    await engine.dispose()
