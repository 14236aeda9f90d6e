"""A shop to redeem in: the tenant's credit token (2 decimals), reward tokens, users with
credits, and redemptions made through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pers.runtime import Runtime
from tests.businesses.conftest import make_user
from tests.conftest import TenantHandle
from tests.tokens.conftest import create_token, problem
from tests.transactions.conftest import Economy, economy

__all__ = ["economy", "problem"]

REDEMPTION = "/v1.7/redemption"
ADMIN = f"{REDEMPTION}/admin"
REDEEM = f"{REDEMPTION}/auth/redeem"

# Every field of the documented Redemption DTO (seed 001), the v2 fields of seed 004, and
# the extensions (isTestnet, createdAt, updatedAt).
REDEMPTION_FIELDS = {
    "id",
    "description",
    "name",
    "imageUrl",
    "isActive",
    "creditTokenAmount",
    "type",
    "tokenUnits",
    "maxTotalSupply",
    "availableSupply",
    "maxPerUser",
    "minUserStatusType",
    "order",
    "supply",
    "countryCodeRestrictions",
    "tags",
    "isTestnet",
    "createdAt",
    "updatedAt",
}
TYPE_FIELDS = {"name", "description", "imageUrl", "id"}
TOKEN_UNIT_FIELDS = {"id", "tokenId", "token", "tokenMetadataIncrementalId", "amount", "maxAmount"}
REDEEM_FIELDS = {
    "id",
    "userId",
    "redemptionId",
    "transactionIds",
    "creditTokenAmount",
    "userCountryCode",
    "createdAt",
    "redemption",
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class Shopper:
    headers: dict[str, str]
    id: str
    email: str
    address: str


@dataclass
class Shop:
    client: httpx.AsyncClient
    runtime: Runtime
    tenant: TenantHandle
    economy: Economy

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.admin

    @property
    def credit(self) -> dict[str, Any]:
        return self.economy.credit

    async def reward_token(self) -> tuple[dict[str, Any], int]:
        """An ERC1155 reward token and one of its items."""
        token = await create_token(self.client, self.tenant, "ERC1155")
        item = await self.economy.item(token["id"], "Voucher")
        return token, item

    async def redemption(
        self, credit_token_amount: Any = 10, *, active: bool = True, units: bool = True, **f: Any
    ) -> dict[str, Any]:
        body = {"creditTokenAmount": credit_token_amount, "name": "Coffee", **f}
        created: dict[str, Any] = ok(
            await self.client.post(ADMIN, json=body, headers=self.admin), 201
        )
        if units:
            token, item = await self.reward_token()
            created = ok(
                await self.add_unit(
                    created["id"], tokenId=token["id"], tokenMetadataIncrementalId=item, amount=1
                ),
                201,
            )
        if active:
            created = ok(
                await self.client.put(f"{ADMIN}/{created['id']}/toggle-active", headers=self.admin)
            )
        return created

    async def add_unit(self, redemption_id: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"{ADMIN}/{redemption_id}/token-units", json=body, headers=self.admin
        )

    async def shopper(self, credits: Any = 0) -> Shopper:
        headers = await make_user(self.runtime, self.tenant)
        me = ok(await self.client.get("/v1.7/user/auth/me", headers=headers))
        if credits:
            await self.economy.mint_credits(me["email"], credits)
        return Shopper(headers, me["id"], me["email"], me["accountAddress"])

    async def redeem(self, shopper: Shopper, redemption_id: str, **headers: str) -> httpx.Response:
        return await self.client.post(
            REDEEM, json={"redemptionId": redemption_id}, headers={**shopper.headers, **headers}
        )

    async def credits(self, shopper: Shopper) -> float:
        return await self.economy.credit_balance(shopper.address)

    async def holds(self, shopper: Shopper, token: dict[str, Any]) -> float:
        body = await self.economy.balances(shopper.address)
        return sum(
            float(line["balance"])
            for line in body["tokenBalances"]
            if line["contractAddress"] == token["contractAddress"]
        )

    async def get(self, redemption_id: str, headers: dict[str, str] | None = None) -> Any:
        return ok(
            await self.client.get(f"{REDEMPTION}/{redemption_id}", headers=headers or self.admin)
        )

    async def status_type(self, name: str, min_balance: Any) -> dict[str, Any]:
        created: dict[str, Any] = ok(
            await self.client.post(
                "/v1.7/user/admin/status-type",
                json={
                    "name": name,
                    "minTokenBalance": min_balance,
                    "eligibleTokenAddresses": [self.credit["contractAddress"]],
                },
                headers=self.admin,
            ),
            201,
        )
        return created

    async def set_country(self, shopper: Shopper, code: str) -> None:
        ok(
            await self.client.put(
                f"/v1.7/user/admin/{shopper.id}",
                json={"customData": {"countryCode": code}},
                headers=self.admin,
            )
        )


@pytest.fixture
async def shop(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle, economy: Economy
) -> Shop:
    return Shop(client, runtime, tenant, economy)


def some_id() -> str:
    return str(uuid.uuid4())
