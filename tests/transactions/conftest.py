"""An economy to move value in: a tenant with a credit token, businesses and users."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import TenantHandle
from tests.contracts import registrable

DEV_CHAIN_ID = 131277322940537
PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


@dataclass
class Economy:
    client: httpx.AsyncClient
    tenant: TenantHandle
    credit: dict[str, Any]
    guests: list[dict[str, str]] = field(default_factory=list)

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.admin

    async def token(self, token_type: str, **fields: Any) -> dict[str, Any]:
        body = {"type": token_type, **fields}
        body.setdefault("contractAddress", registrable(self.tenant.id, body))
        response = await self.client.post("/v1.7/token/admin", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def item(self, token_id: str, name: str = "Gold") -> int:
        response = await self.client.post(
            f"/v1.7/token/admin/{token_id}/metadata", json={"name": name}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        body = response.json()
        items = body.get("metadata", [body])
        return int(items[-1]["tokenMetadataIncrementalId"])

    async def business(self, name: str = "Cafe", **abilities: bool) -> dict[str, Any]:
        created = await self.client.post(
            "/v1.7/business/admin", json={"displayName": name}, headers=self.admin
        )
        assert created.status_code == 201, created.text
        business: dict[str, Any] = created.json()
        activated = await self.client.put(
            f"/v1.7/business/admin/activate/{business['id']}",
            json={"isActive": True, **abilities},
            headers=self.admin,
        )
        assert activated.status_code == 200, activated.text
        business["headers"] = {
            "x-api-key": business["apiPrivateKey"],
            "x-project-key": self.tenant.testnet_key,
        }
        return business

    async def user(self) -> tuple[dict[str, str], dict[str, Any]]:
        """A logged-in (guest) user: its headers and its profile."""
        response = await self.client.post(
            "/v1.7/auth/token",
            json={"rawLoginData": {"n": len(self.guests)}},
            headers={"x-project-key": self.tenant.testnet_key},
        )
        assert response.status_code == 200, response.text
        headers = {
            "Authorization": f"Bearer {response.json()['accessToken']}",
            "x-project-key": self.tenant.testnet_key,
        }
        self.guests.append(headers)
        me = await self.client.get("/v1.7/user/auth/me", headers=headers)
        assert me.status_code == 200, me.text
        profile: dict[str, Any] = me.json()
        return headers, profile

    async def mint_credits(self, email: str, amount: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/v1.7/transaction/admin/mint/credits",
            json={"userEmail": email, "userIdentifier": "email", "amount": amount},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        tx: dict[str, Any] = response.json()
        return tx

    async def balances(self, address: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1.7/balance/account/{address}", headers=headers or self.tenant.public
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def credit_balance(self, address: str) -> float:
        body = await self.balances(address)
        for line in body["tokenBalances"]:
            if line["contractAddress"] == self.credit["contractAddress"]:
                return float(line["balance"])
        return 0.0


@pytest.fixture
async def economy(client: httpx.AsyncClient, tenant: TenantHandle) -> Economy:
    allow = await client.put(
        "/v1.7/tenant/admin", json={"allowJWTForUnauthenticatedUsers": True}, headers=tenant.admin
    )
    assert allow.status_code == 200, allow.text
    body = {"type": "ERC20", "decimals": 2, "symbol": "PTS"}
    body["contractAddress"] = registrable(tenant.id, body)
    response = await client.post("/v1.7/token/admin", json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    return Economy(client, tenant, response.json())
