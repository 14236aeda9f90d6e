"""Credits: minting, charging, transfers, exact amounts, permissions, concurrency."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.conftest import TenantHandle
from tests.transactions.conftest import DEV_CHAIN_ID, Economy, problem

MINT = "/v1.7/transaction/admin/mint/credits"


async def test_admin_mints_credits_to_a_new_user_by_email(economy: Economy) -> None:
    email = f"{uuid.uuid4().hex}@shop.example"
    tx = await economy.mint_credits(email, 12.5)
    assert tx["type"] == "MINT"
    assert tx["triggerProcessType"] == "ADMIN_TRIGGERED"
    assert tx["status"] == "created"
    assert tx["amount"] == 12.5
    assert tx["tokenAddress"] == economy.credit["contractAddress"]
    assert tx["tokenType"] == "ERC20"
    assert tx["recipientOwnerType"] == "user"
    assert tx["senderOwnerType"] == "tenant"
    assert tx["transactionHash"] is None
    assert await economy.credit_balance(tx["recipientAddress"]) == 12.5
    again = await economy.mint_credits(email.upper(), 1)
    assert again["recipientAddress"] == tx["recipientAddress"]
    assert await economy.credit_balance(tx["recipientAddress"]) == 13.5


async def test_amounts_are_exact(economy: Economy) -> None:
    email = f"{uuid.uuid4().hex}@shop.example"
    first = await economy.mint_credits(email, 0.1)
    await economy.mint_credits(email, 0.2)
    assert await economy.credit_balance(first["recipientAddress"]) == 0.3
    numeric_string = await economy.mint_credits(email, "0.07")
    assert numeric_string["amount"] == 0.07


async def test_bad_amounts_are_400_and_write_nothing(economy: Economy) -> None:
    email = f"{uuid.uuid4().hex}@shop.example"
    for amount in (0, -1, 0.001, "abc", True, None):
        response = await economy.client.post(
            MINT, json={"userEmail": email, "amount": amount}, headers=economy.admin
        )
        assert response.status_code == 400, (amount, response.text)
    users = await economy.client.post(
        "/v1.7/user/info", json={"email": email}, headers=economy.admin
    )
    assert users.status_code == 404


async def test_business_needs_can_mint_token(economy: Economy) -> None:
    plain = await economy.business("Plain")
    minter = await economy.business("Minter", canMintToken=True)
    body = {"userEmail": f"{uuid.uuid4().hex}@x.example", "amount": 5}
    refused = await economy.client.post(
        "/v1.7/transaction/business/mint/credits", json=body, headers=plain["headers"]
    )
    problem(refused, 403, "BUSINESS_CANNOT_MINT")
    minted = await economy.client.post(
        "/v1.7/transaction/business/mint/credits", json=body, headers=minter["headers"]
    )
    assert minted.status_code == 201, minted.text
    assert minted.json()["engagedBusinessId"] == minter["id"]
    assert minted.json()["triggerProcessType"] == "EARN"


async def test_business_charges_a_user_only_with_can_charge_token(economy: Economy) -> None:
    email = f"{uuid.uuid4().hex}@x.example"
    tx = await economy.mint_credits(email, 10)
    user_address = tx["recipientAddress"]
    plain = await economy.business("Plain")
    charger = await economy.business("Charger", canChargeToken=True)
    body = {"userEmail": email, "userIdentifier": "email", "amount": 4}
    refused = await economy.client.post(
        "/v1.7/transaction/business/transfer/credits", json=body, headers=plain["headers"]
    )
    problem(refused, 403, "BUSINESS_CANNOT_CHARGE")
    charged = await economy.client.post(
        "/v1.7/transaction/business/transfer/credits", json=body, headers=charger["headers"]
    )
    assert charged.status_code == 201, charged.text
    assert charged.json()["recipientAddress"] == charger["accountAddress"]
    assert await economy.credit_balance(user_address) == 6
    assert await economy.credit_balance(charger["accountAddress"]) == 4
    overdraft = await economy.client.post(
        "/v1.7/transaction/business/transfer/credits",
        json={**body, "amount": 7},
        headers=charger["headers"],
    )
    problem(overdraft, 422, "INSUFFICIENT_BALANCE")
    assert await economy.credit_balance(user_address) == 6


async def test_admin_takes_credits_back_to_the_tenant(economy: Economy) -> None:
    email = f"{uuid.uuid4().hex}@x.example"
    tx = await economy.mint_credits(email, 10)
    back = await economy.client.post(
        "/v1.7/transaction/admin/transfer/credits",
        json={"userEmail": email, "amount": 3},
        headers=economy.admin,
    )
    assert back.status_code == 201, back.text
    assert back.json()["recipientOwnerType"] == "tenant"
    assert back.json()["senderAddress"] == tx["recipientAddress"]
    assert await economy.credit_balance(tx["recipientAddress"]) == 7
    unknown = await economy.client.post(
        "/v1.7/transaction/admin/transfer/credits",
        json={"userEmail": "nobody@x.example", "amount": 1},
        headers=economy.admin,
    )
    assert unknown.status_code == 404


async def test_user_pays_a_business_in_credits(economy: Economy) -> None:
    headers, me = await economy.user()
    await economy.client.post(
        MINT,
        json={"userEmail": me["id"], "userIdentifier": "id", "amount": 20},
        headers=economy.admin,
    )
    cafe = await economy.business("Cafe")
    paid = await economy.client.post(
        "/v1.7/transaction/auth/transfer/credits",
        json={"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 7.5},
        headers=headers,
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["senderAddress"] == me["accountAddress"]
    assert await economy.credit_balance(me["accountAddress"]) == 12.5
    assert await economy.credit_balance(cafe["accountAddress"]) == 7.5
    wrong_chain = await economy.client.post(
        "/v1.7/transaction/auth/transfer/credits",
        json={"businessId": cafe["id"], "chainId": 1, "amount": 1},
        headers=headers,
    )
    problem(wrong_chain, 422, "CHAIN_MISMATCH")


async def test_fifty_concurrent_payments_spend_exactly_the_balance(economy: Economy) -> None:
    headers, me = await economy.user()
    await economy.client.post(
        MINT,
        json={"userEmail": me["id"], "userIdentifier": "id", "amount": 20},
        headers=economy.admin,
    )
    cafe = await economy.business("Busy cafe")
    body = {"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 1}

    async def pay() -> int:
        response = await economy.client.post(
            "/v1.7/transaction/auth/transfer/credits", json=body, headers=headers
        )
        return response.status_code

    statuses = await asyncio.gather(*(pay() for _ in range(50)))
    assert statuses.count(201) == 20
    assert statuses.count(422) == 30
    assert await economy.credit_balance(me["accountAddress"]) == 0
    assert await economy.credit_balance(cafe["accountAddress"]) == 20


async def test_mint_replayed_with_an_idempotency_key_mints_once(economy: Economy) -> None:
    email = f"{uuid.uuid4().hex}@x.example"
    body = {"userEmail": email, "amount": 5}
    headers = {**economy.admin, "Idempotency-Key": uuid.uuid4().hex}
    first = await economy.client.post(MINT, json=body, headers=headers)
    second = await economy.client.post(MINT, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert await economy.credit_balance(first.json()["recipientAddress"]) == 5


async def test_testnet_credits_are_invisible_on_mainnet(
    economy: Economy, client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    tx = await economy.mint_credits(f"{uuid.uuid4().hex}@x.example", 9)
    mainnet = await client.get(
        f"/v1.7/balance/account/{tx['recipientAddress']}",
        headers={"x-project-key": tenant.project_key},
    )
    assert mainnet.status_code == 200, mainnet.text
    assert mainnet.json()["tokenBalances"] == []
    by_id = await client.get(
        f"/v1.7/transaction/{tx['id']}",
        headers={**tenant.admin, "x-project-key": tenant.testnet_key},
    )
    assert by_id.status_code == 200, by_id.text
    jwt = await client.post(
        "/v1.7/tenant/admin/jwt", json={"isTestnet": False}, headers=tenant.admin
    )
    mainnet_admin = {"Authorization": f"Bearer {jwt.json()['jwt']}"}
    hidden = await client.get(f"/v1.7/transaction/{tx['id']}", headers=mainnet_admin)
    problem(hidden, 404, "TRANSACTION_NOT_FOUND")
    no_credit_token = await client.post(
        MINT, json={"userEmail": "a@b.example", "amount": 1}, headers=mainnet_admin
    )
    problem(no_credit_token, 422, "CREDIT_TOKEN_NOT_CONFIGURED")


async def test_business_and_user_read_their_own_balances(economy: Economy) -> None:
    headers, me = await economy.user()
    await economy.client.post(
        MINT,
        json={"userEmail": me["id"], "userIdentifier": "id", "amount": 9},
        headers=economy.admin,
    )
    cafe = await economy.business("Cafe")
    paid = await economy.client.post(
        "/v1.7/transaction/auth/transfer/credits",
        json={"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 2.25},
        headers=headers,
    )
    assert paid.status_code == 201, paid.text

    business_me = await economy.client.get("/v1.7/business/business/me", headers=cafe["headers"])
    assert business_me.status_code == 200, business_me.text
    assert business_me.json()["tokenBalances"] == [
        {
            "contractAddress": economy.credit["contractAddress"],
            "chainId": DEV_CHAIN_ID,
            "balance": 2.25,
            "tokenName": economy.credit["name"],
            "tokenSymbol": "PTS",
            "tokenType": "ERC20",
            "tokenId": None,
            "metadataUri": None,
            "tokenMetadataIncrementalId": None,
        }
    ]
    mine = await economy.client.get("/v1.7/balance/auth/me", headers=headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["accountAddress"] == me["accountAddress"]
    assert [line["balance"] for line in mine.json()["tokenBalances"]] == [6.75]
    lower = await economy.balances(me["accountAddress"].lower())
    assert [line["balance"] for line in lower["tokenBalances"]] == [6.75]


async def test_no_value_moves_to_or_from_a_deactivated_user(economy: Economy) -> None:
    email = f"{uuid.uuid4().hex}@x.example"
    tx = await economy.mint_credits(email, 5)
    toggled = await economy.client.put(
        f"/v1.7/user/admin/{tx['recipientId']}/toggle-active", headers=economy.admin
    )
    assert toggled.status_code == 200, toggled.text
    assert toggled.json()["isActive"] is False
    mint = await economy.client.post(
        MINT, json={"userEmail": email, "amount": 1}, headers=economy.admin
    )
    problem(mint, 422, "USER_NOT_ACTIVE")
    take = await economy.client.post(
        "/v1.7/transaction/admin/transfer/credits",
        json={"userEmail": email, "amount": 1},
        headers=economy.admin,
    )
    problem(take, 422, "USER_NOT_ACTIVE")
    assert await economy.credit_balance(tx["recipientAddress"]) == 5


async def test_a_credits_body_without_a_user_is_400_and_writes_nothing(economy: Economy) -> None:
    response = await economy.client.post(MINT, json={"amount": 5}, headers=economy.admin)
    problem(response, 400, "USER_IDENTIFIER_REQUIRED")
    blank = await economy.client.post(
        MINT, json={"userEmail": "  ", "amount": 5}, headers=economy.admin
    )
    problem(blank, 400, "USER_IDENTIFIER_REQUIRED")
