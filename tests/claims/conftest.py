"""Claim tests: a rewarding campaign set up through the API in one call, users who claim,
every kind of claimer, and the checks that a refused claim recorded and minted nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pers.auth.models import ApiKeyType
from pers.db import async_url, set_tenant
from pers.kit.enums import Environment
from pers.runtime import Runtime
from pers.users.service import new_user
from tests.businesses.conftest import make_system_key
from tests.campaigns.conftest import (
    ADMIN,
    CAMPAIGN,
    Programme,
    callers,
    ok,
    other_programme,
    programme,
)
from tests.conftest import MovableClock, TenantHandle
from tests.tokens.conftest import problem

__all__ = ["callers", "other_programme", "programme"]

CLAIM = f"{CAMPAIGN}/auth/claim"
SYSTEM_CLAIM = f"{CAMPAIGN}/system/claim"
BUSINESS_CLAIM = f"{CAMPAIGN}/business/claim"
ADMIN_CLAIMS = f"{ADMIN}/claim"

# Every documented field of a claim (seed 001), and the extensions this API adds.
CLAIM_FIELDS = {"id", "createdAt", "user", "campaign", "business"}
CLAIM_EXTENSIONS = {"completion", "transactionIds"}
CLAIMED_EXTENSIONS = {*CLAIM_EXTENSIONS, "transactions"}
CLAIM_USER_FIELDS = {
    "id",
    "email",
    "firstName",
    "lastName",
    "externalId",
    "accountAddress",
    "instagramAccountId",
    "googleAccountName",
}


@dataclass
class Member:
    """A user of the tenant and a fresh session for it (re-issued at the clock's time)."""

    kit: Kit
    id: str
    account_address: str
    email: str | None
    env: Environment = Environment.TESTNET

    @property
    def headers(self) -> dict[str, str]:
        return self.kit.session_of(self.id, self.env)


@dataclass
class Reward:
    """A campaign, its trigger and the token its one token unit mints."""

    id: str
    trigger: dict[str, Any]
    token: dict[str, Any]
    body: dict[str, Any]


@dataclass
class Kit:
    programme: Programme
    runtime: Runtime
    clock: MovableClock
    engine: AsyncEngine
    _system: dict[str, str] | None = field(default=None)
    _credit: dict[str, Any] | None = field(default=None)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.programme.client

    @property
    def tenant(self) -> TenantHandle:
        return self.programme.tenant

    @property
    def admin(self) -> dict[str, str]:
        return self.programme.admin

    # --- set-up -------------------------------------------------------------------------------

    async def reward(
        self,
        *,
        token_type: str = "ERC20",
        amount: Any = 10,
        max_amount: Any = None,
        decimals: int | None = None,
        conditions: list[dict[str, Any]] | None = None,
        active: bool = True,
        with_trigger: bool = True,
        campaign: dict[str, Any] | None = None,
        **rules: Any,
    ) -> Reward:
        """A campaign with a trigger of ``rules`` (CLAIM_BY_USER unless ``triggerType`` says
        otherwise), its ``conditions`` and one token unit: of the tenant's credit token for an
        ERC20 (a tenant has one active ERC20 per environment), else of a new token."""
        token = await self._token(token_type, decimals)
        unit: dict[str, Any] = {"tokenId": token["id"], "amount": amount}
        if max_amount is not None:
            unit["maxAmount"] = max_amount
        if token_type != "ERC20":
            unit["tokenMetadataIncrementalId"] = await self.programme.item(token["id"])
        created = await self.programme.campaign("Reward", **(campaign or {}))
        ok(await self.programme.add_unit(created["id"], **unit), 201)
        trigger: dict[str, Any] = {}
        if with_trigger:
            trigger = await self.programme.trigger(**rules)
            for condition in conditions or []:
                made = await self.programme.condition(**condition)
                trigger = await self.programme.attach(trigger["id"], made["id"])
            await self.programme.set_trigger(created["id"], trigger["id"])
        body = await self.programme.toggle(created["id"]) if active else created
        return Reward(created["id"], trigger, token, body)

    async def _token(self, token_type: str, decimals: int | None) -> dict[str, Any]:
        fields: dict[str, Any] = {} if decimals is None else {"decimals": decimals}
        if token_type != "ERC20":
            return await self.programme.token(token_type, **fields)
        if self._credit is None:
            self._credit = await self.programme.token(token_type, **fields)
        assert decimals in (None, self._credit["decimals"]), "one credit token per tenant"
        return self._credit

    async def member(self, env: Environment = Environment.TESTNET, **profile: Any) -> Member:
        """A user made as a login would make it (e-mail unless given), with its session."""
        profile.setdefault("email", f"{uuid.uuid4().hex}@u.example")
        async with self.runtime.db.unit_of_work() as session:
            await set_tenant(session, self.tenant.id)
            user = new_user(self.runtime.wallets, self.tenant.id, self.clock.now(), **profile)
            session.add(user)
        return Member(self, str(user.id), user.account_address, user.email, env)

    def session_of(self, user_id: str, env: Environment = Environment.TESTNET) -> dict[str, str]:
        now = self.runtime.clock.now()
        token = self.runtime.signer.issue(
            typ=ApiKeyType.USER_JWT_ACCESS_TOKEN,
            tenant_id=self.tenant.id,
            environment=env,
            subject=user_id,
            now=now,
            ttl=timedelta(minutes=5),
            jti=uuid.uuid4(),
        )
        key = self.tenant.testnet_key if env is Environment.TESTNET else self.tenant.project_key
        return {"Authorization": f"Bearer {token}", "x-project-key": key}

    async def system(self) -> dict[str, str]:
        """The tenant's testnet system key."""
        if self._system is None:
            self._system = await make_system_key(self.client, self.tenant)
        return self._system

    async def mainnet_system(self) -> dict[str, str]:
        """A system key issued by a mainnet admin, with the mainnet project key."""
        response = await self.client.post(
            "/v1.7/tenant/admin/api-key",
            json={"keyName": "live backend"},
            headers=await self.programme.mainnet_admin(),
        )
        key = ok(response, 201)["apiPrivateKey"]
        return {"x-api-key": key, "x-project-key": self.tenant.project_key}

    async def business(
        self, name: str = "Corner Cafe", *, active: bool = True, **update: Any
    ) -> dict[str, Any]:
        """A business with its key headers in ``headers``; ``update`` (e.g. its coordinates)
        set with the business update endpoint."""
        made = await self.programme.business(name, active=active)
        if update:
            ok(
                await self.client.put(
                    f"/v1.7/business/admin/{made['id']}", json=update, headers=self.admin
                )
            )
        made["headers"] = {
            "x-api-key": made["apiPrivateKey"],
            "x-project-key": self.tenant.testnet_key,
        }
        return made

    async def engage(self, campaign_id: str, *business_ids: str, **limits: Any) -> dict[str, Any]:
        updated = ok(
            await self.programme.engage(campaign_id, businessIds=list(business_ids), **limits),
            201,
        )
        engagement: dict[str, Any] = updated["businessEngagements"][-1]
        return engagement

    async def update_trigger(self, trigger_id: str, **rules: Any) -> dict[str, Any]:
        updated: dict[str, Any] = ok(
            await self.client.put(f"{ADMIN}/trigger/{trigger_id}", json=rules, headers=self.admin)
        )
        return updated

    # --- claims -------------------------------------------------------------------------------

    async def claim(self, member: Member, campaign_id: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            CLAIM, json={"campaignId": campaign_id, **body}, headers=member.headers
        )

    async def raw_claim(self, member: Member, body: str) -> httpx.Response:
        """A claim whose JSON is sent as written (numbers a float could not hold)."""
        return await self.client.post(
            CLAIM, content=body, headers={**member.headers, "content-type": "application/json"}
        )

    async def system_claim(
        self, campaign_id: str, headers: dict[str, str] | None = None, **body: Any
    ) -> httpx.Response:
        return await self.client.post(
            SYSTEM_CLAIM,
            json={"campaignId": campaign_id, **body},
            headers=headers or await self.system(),
        )

    async def business_claim(
        self, business: dict[str, Any], campaign_id: str, **body: Any
    ) -> httpx.Response:
        return await self.client.post(
            BUSINESS_CLAIM, json={"campaignId": campaign_id, **body}, headers=business["headers"]
        )

    # --- what was recorded --------------------------------------------------------------------

    async def balances(self, address: str) -> list[dict[str, Any]]:
        body = ok(
            await self.client.get(f"/v1.7/balance/account/{address}", headers=self.programme.public)
        )
        lines: list[dict[str, Any]] = body["tokenBalances"]
        return lines

    async def balance(self, address: str, token: dict[str, Any]) -> float:
        """The total the address holds of ``token`` (every item and id)."""
        lines = await self.balances(address)
        return sum(
            float(line["balance"])
            for line in lines
            if line["contractAddress"] == token["contractAddress"]
        )

    async def recorded(self) -> tuple[int, int, int]:
        """The tenant's claims, transactions and counted claims, as the database holds them."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM campaign_claims WHERE tenant_id = :t),"
                        " (SELECT count(*) FROM transactions WHERE tenant_id = :t),"
                        " (SELECT coalesce(sum(total), 0) FROM campaign_claim_counters"
                        "  WHERE tenant_id = :t)"
                    ),
                    {"t": self.tenant.id},
                )
            ).one()
        return int(row[0]), int(row[1]), int(row[2])

    async def refused(
        self,
        response: httpx.Response,
        code: str,
        *,
        before: tuple[int, int, int],
        status: int = 422,
    ) -> dict[str, Any]:
        """The claim was refused with ``code`` and left no claim, transaction or count."""
        body = problem(response, status, code)
        assert await self.recorded() == before
        return body

    async def campaign_claims(self, campaign_id: str) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = ok(
            await self.client.get(f"{ADMIN}/{campaign_id}/claim", headers=self.admin)
        )
        return listed

    async def transaction(self, tx_id: str) -> dict[str, Any]:
        tx: dict[str, Any] = ok(
            await self.client.get(
                f"/v1.7/transaction/{tx_id}",
                headers={**self.admin, "x-project-key": self.tenant.testnet_key},
            )
        )
        return tx


@pytest.fixture(scope="session")
async def claims_engine(owner_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(owner_url), pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture
def kit(
    programme: Programme, runtime: Runtime, clock: MovableClock, claims_engine: AsyncEngine
) -> Kit:
    return Kit(programme, runtime, clock, claims_engine)
