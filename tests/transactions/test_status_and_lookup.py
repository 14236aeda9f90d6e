"""What depends on balances: a user's current status, and businesses looking users up."""

from __future__ import annotations

from tests.transactions.conftest import DEV_CHAIN_ID, Economy, problem


async def _status_type(economy: Economy, name: str, minimum: float, tokens: list[str]) -> int:
    response = await economy.client.post(
        "/v1.7/user/admin/status-type",
        json={"name": name, "minTokenBalance": minimum, "eligibleTokenAddresses": tokens},
        headers=economy.admin,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_current_status_follows_the_balance_of_eligible_tokens(economy: Economy) -> None:
    credit = economy.credit["contractAddress"]
    silver = await _status_type(economy, "Silver", 10, [credit])
    gold = await _status_type(economy, "Gold", 50, [credit])
    headers, me = await economy.user()

    async def status() -> int | None:
        response = await economy.client.get("/v1.7/user/auth/me/status", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        return None if body is None else int(body["id"])

    assert await status() is None
    mint = {"userEmail": me["id"], "userIdentifier": "id", "amount": 10}
    await economy.client.post(
        "/v1.7/transaction/admin/mint/credits", json=mint, headers=economy.admin
    )
    assert await status() == silver
    await economy.client.post(
        "/v1.7/transaction/admin/mint/credits", json={**mint, "amount": 45}, headers=economy.admin
    )
    assert await status() == gold
    cafe = await economy.business("Cafe")
    spent = await economy.client.post(
        "/v1.7/transaction/auth/transfer/credits",
        json={"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 5.01},
        headers=headers,
    )
    assert spent.status_code == 201, spent.text
    assert await status() == silver
    as_admin = await economy.client.get(
        f"/v1.7/user/admin/{me['id']}/status", headers=economy.admin
    )
    assert as_admin.json()["id"] == silver


async def test_business_looks_users_up_only_with_can_manage_users(economy: Economy) -> None:
    _, me = await economy.user()
    plain = await economy.business("Plain")
    manager = await economy.business("Manager", canManageUsers=True)
    body = {"userIdentifier": "id", "id": me["id"]}
    refused = await economy.client.post("/v1.7/user/info", json=body, headers=plain["headers"])
    problem(refused, 403, "BUSINESS_CANNOT_MANAGE_USERS")
    found = await economy.client.post("/v1.7/user/info", json=body, headers=manager["headers"])
    assert found.status_code == 200, found.text
    assert found.json()["accountAddress"] == me["accountAddress"]
