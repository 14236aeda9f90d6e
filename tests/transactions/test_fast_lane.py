"""The fast lane (pers.fastlane): it answers the plain successful credit mint and payment
exactly as the regular path does, and declines everything else without writing anything, so the
regular path answers it (docs/decisions.md, "The fast lane")."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import fast_lane_outcomes
from tests.transactions.conftest import DEV_CHAIN_ID, Economy, problem

MINT = "/v1.7/transaction/admin/mint/credits"
PAY = "/v1.7/transaction/auth/transfer/credits"
# Fields that differ between two movements by construction.
OWN = {"id", "createdAt", "updatedAt"}


def same_movement(fast: dict[str, Any], slow: dict[str, Any]) -> None:
    assert set(fast) == set(slow)
    assert {k: v for k, v in fast.items() if k not in OWN} == {
        k: v for k, v in slow.items() if k not in OWN
    }


async def test_a_plain_mint_is_answered_by_the_lane_as_the_regular_path_would(
    economy: Economy, regular_client: httpx.AsyncClient
) -> None:
    email = f"{uuid.uuid4().hex}@lane.example"
    created = await economy.mint_credits(email, 1)  # a new user: the regular path creates it
    before = fast_lane_outcomes(economy.client).copy()
    body = {"userEmail": email.upper(), "amount": 12.34}
    fast = await economy.client.post(MINT, json=body, headers=economy.admin)
    slow = await regular_client.post(MINT, json=body, headers=economy.admin)
    assert fast.status_code == slow.status_code == 201, (fast.text, slow.text)
    assert fast.headers["content-type"] == slow.headers["content-type"] == "application/json"
    assert "x-request-id" in fast.headers
    same_movement(fast.json(), slow.json())
    assert fast.json()["recipientId"] == created["recipientId"]
    assert fast.json()["amount"] == 12.34
    after = fast_lane_outcomes(economy.client)
    assert after[MINT, True] == before[MINT, True] + 1
    assert after[MINT, False] == before[MINT, False]
    assert await economy.credit_balance(created["recipientAddress"]) == 25.68
    listed = await economy.client.get(f"/v1.7/transaction/{fast.json()['id']}",
                                      headers=economy.admin)  # fmt: skip
    assert listed.status_code == 200, listed.text
    assert listed.json()["id"] == fast.json()["id"]
    assert listed.json()["amount"] == 12.34


async def test_a_plain_payment_is_answered_by_the_lane_as_the_regular_path_would(
    economy: Economy, regular_client: httpx.AsyncClient
) -> None:
    headers, me = await economy.user()
    minted = await economy.client.post(
        MINT, json={"userEmail": me["id"], "userIdentifier": "id", "amount": 10},
        headers=economy.admin,
    )  # fmt: skip
    assert minted.status_code == 201, minted.text
    cafe = await economy.business("Lane cafe")
    before = fast_lane_outcomes(economy.client).copy()
    body = {"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 2.5}
    fast = await economy.client.post(PAY, json=body, headers=headers)
    slow = await regular_client.post(PAY, json=body, headers=headers)
    assert fast.status_code == slow.status_code == 201, (fast.text, slow.text)
    same_movement(fast.json(), slow.json())
    assert fast.json()["engagedBusinessId"] == cafe["id"]
    assert fast.json()["triggerProcessType"] == "TRANSFER"
    assert fast_lane_outcomes(economy.client)[PAY, True] == before[PAY, True] + 1
    assert await economy.credit_balance(me["accountAddress"]) == 5
    assert await economy.credit_balance(cafe["accountAddress"]) == 5


async def test_every_other_case_is_declined_and_answered_by_the_regular_path(
    economy: Economy,
) -> None:
    client = economy.client
    headers, me = await economy.user()
    funded = await client.post(
        MINT, json={"userEmail": me["id"], "userIdentifier": "id", "amount": 3},
        headers=economy.admin,
    )  # fmt: skip
    assert funded.status_code == 201, funded.text
    cafe = await economy.business("Careful cafe")
    closed = await economy.business("Closed cafe")
    off = await client.put(
        f"/v1.7/business/admin/activate/{closed['id']}", json={"isActive": False},
        headers=economy.admin,
    )  # fmt: skip
    assert off.status_code == 200, off.text
    before = fast_lane_outcomes(client).copy()

    too_fine = await client.post(
        MINT, json={"userEmail": me["id"], "userIdentifier": "id", "amount": 0.001},
        headers=economy.admin,
    )  # fmt: skip
    problem(too_fine, 400, "INVALID_AMOUNT")
    unknown_id = await client.post(
        MINT, json={"userEmail": str(uuid.uuid4()), "userIdentifier": "id", "amount": 1},
        headers=economy.admin,
    )  # fmt: skip
    problem(unknown_id, 404, "USER_NOT_FOUND")
    with_project_key = await client.post(
        MINT, json={"userEmail": me["id"], "userIdentifier": "id", "amount": 1},
        headers={**economy.admin, "x-project-key": economy.tenant.testnet_key},
    )  # fmt: skip
    assert with_project_key.status_code == 201, with_project_key.text
    as_user = await client.post(
        MINT, json={"userEmail": me["id"], "userIdentifier": "id", "amount": 1}, headers=headers
    )
    problem(as_user, 403, "PRINCIPAL_NOT_ALLOWED")
    overdraft = await client.post(
        PAY, json={"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 5},
        headers=headers,
    )  # fmt: skip
    problem(overdraft, 422, "INSUFFICIENT_BALANCE")
    wrong_chain = await client.post(
        PAY, json={"businessId": cafe["id"], "chainId": 1, "amount": 1}, headers=headers
    )
    problem(wrong_chain, 422, "CHAIN_MISMATCH")
    inactive = await client.post(
        PAY, json={"businessId": closed["id"], "chainId": DEV_CHAIN_ID, "amount": 1},
        headers=headers,
    )  # fmt: skip
    problem(inactive, 422, "BUSINESS_NOT_ACTIVE")
    extra_field = await client.post(
        PAY, json={"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 1, "x": 1},
        headers=headers,
    )  # fmt: skip
    problem(extra_field, 400, "VALIDATION_ERROR")
    replayable = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 1}
    first = await client.post(PAY, json=body, headers=replayable)
    again = await client.post(PAY, json=body, headers=replayable)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.headers.get("idempotent-replayed") == "true"
    assert first.json()["id"] == again.json()["id"]

    after = fast_lane_outcomes(client)
    assert after[MINT, True] == before[MINT, True]
    assert after[PAY, True] == before[PAY, True]
    assert after[MINT, False] - before[MINT, False] == 4
    assert after[PAY, False] - before[PAY, False] == 6
    # 3 minted + 1 (with the project key, by the regular path) - 1 paid once.
    assert await economy.credit_balance(me["accountAddress"]) == 3
    assert await economy.credit_balance(cafe["accountAddress"]) == 1
    assert await economy.credit_balance(closed["accountAddress"]) == 0


async def test_a_deactivated_user_gets_nothing_through_the_lane(economy: Economy) -> None:
    email = f"{uuid.uuid4().hex}@lane.example"
    tx = await economy.mint_credits(email, 5)
    toggled = await economy.client.put(
        f"/v1.7/user/admin/{tx['recipientId']}/toggle-active", headers=economy.admin
    )
    assert toggled.status_code == 200, toggled.text
    before = fast_lane_outcomes(economy.client).copy()
    mint = await economy.client.post(
        MINT, json={"userEmail": email, "amount": 1}, headers=economy.admin
    )
    problem(mint, 422, "USER_NOT_ACTIVE")
    assert fast_lane_outcomes(economy.client)[MINT, False] == before[MINT, False] + 1
    assert await economy.credit_balance(tx["recipientAddress"]) == 5
