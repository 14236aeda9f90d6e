"""Reward (ERC1155) and status (ERC721) tokens, burns, and who sees which transactions."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import TenantHandle, create_tenant
from tests.transactions.conftest import DEV_CHAIN_ID, Economy, problem


async def test_erc1155_mint_transfer_and_burn(economy: Economy) -> None:
    reward = await economy.token("ERC1155")
    item = await economy.item(reward["id"], "Free coffee")
    headers, me = await economy.user()
    minted = await economy.client.post(
        "/v1.7/transaction/admin/mint/token",
        json={
            "amount": 3, "tokenAddress": reward["contractAddress"], "chainId": DEV_CHAIN_ID,
            "tokenMetadataIncrementalId": item, "recipientAddress": me["accountAddress"],
        },
        headers=economy.admin,
    )  # fmt: skip
    assert minted.status_code == 201, minted.text
    assert minted.json()["contractTokenId"] == str(item)
    cafe = await economy.business("Cafe")
    given = await economy.client.post(
        "/v1.7/transaction/auth/transfer/token",
        json={
            "businessId": cafe["id"], "tokenAddress": reward["contractAddress"],
            "tokenMetadataIncrementalId": item, "chainId": DEV_CHAIN_ID, "amount": 1,
        },
        headers=headers,
    )  # fmt: skip
    assert given.status_code == 201, given.text
    burned = await economy.client.post(
        "/v1.7/transaction/auth/burn/token",
        json={
            "tokenAddress": reward["contractAddress"], "chainId": DEV_CHAIN_ID,
            "tokenMetadataIncrementalId": str(item), "amount": 1,
        },
        headers=headers,
    )  # fmt: skip
    assert burned.status_code == 201, burned.text
    assert burned.json()["type"] == "BURN"
    lines = (await economy.balances(me["accountAddress"]))["tokenBalances"]
    assert [(line["tokenType"], line["tokenId"], line["balance"]) for line in lines] == [
        ("ERC1155", str(item), 1)
    ]
    too_many = await economy.client.post(
        "/v1.7/transaction/auth/burn/token",
        json={
            "tokenAddress": reward["contractAddress"], "chainId": DEV_CHAIN_ID,
            "tokenMetadataIncrementalId": item, "amount": 2,
        },
        headers=headers,
    )  # fmt: skip
    problem(too_many, 422, "INSUFFICIENT_BALANCE")


async def test_each_erc721_mint_is_a_new_token_id(economy: Economy) -> None:
    status = await economy.token("ERC721")
    gold = await economy.item(status["id"], "Gold")
    _headers, me = await economy.user()
    body = {
        "amount": 1, "tokenAddress": status["contractAddress"], "chainId": DEV_CHAIN_ID,
        "tokenMetadataIncrementalId": gold, "recipientAddress": me["accountAddress"],
    }  # fmt: skip
    first = await economy.client.post(
        "/v1.7/transaction/admin/mint/token", json=body, headers=economy.admin
    )
    second = await economy.client.post(
        "/v1.7/transaction/admin/mint/token", json=body, headers=economy.admin
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["contractTokenId"] != second.json()["contractTokenId"]
    two = await economy.client.post(
        "/v1.7/transaction/admin/mint/token", json={**body, "amount": 2}, headers=economy.admin
    )
    problem(two, 400, "INVALID_AMOUNT")
    burned = await economy.client.post(
        "/v1.7/transaction/admin/burn/token",
        json={**body, "senderAddress": me["accountAddress"]},
        headers=economy.admin,
    )
    assert burned.status_code == 201, burned.text
    lines = (await economy.balances(me["accountAddress"]))["tokenBalances"]
    assert len(lines) == 1
    assert lines[0]["tokenType"] == "ERC721"
    assert lines[0]["tokenMetadataIncrementalId"] == gold
    no_item = await economy.client.post(
        "/v1.7/transaction/admin/mint/token",
        json={**body, "tokenMetadataIncrementalId": None},
        headers=economy.admin,
    )
    problem(no_item, 422, "TOKEN_METADATA_ID_REQUIRED")


async def test_mint_to_an_unknown_address_is_404(economy: Economy) -> None:
    reward = await economy.token("ERC1155")
    item = await economy.item(reward["id"])
    response = await economy.client.post(
        "/v1.7/transaction/admin/mint/token",
        json={
            "amount": 1, "tokenAddress": reward["contractAddress"], "chainId": DEV_CHAIN_ID,
            "tokenMetadataIncrementalId": item, "recipientAddress": "0x" + "ab" * 20,
        },
        headers=economy.admin,
    )  # fmt: skip
    problem(response, 404, "ACCOUNT_NOT_FOUND")


async def test_histories_show_each_party_its_own_transactions(economy: Economy) -> None:
    headers, me = await economy.user()
    other_headers, other = await economy.user()
    minted = await economy.client.post(
        "/v1.7/transaction/admin/mint/credits",
        json={"userEmail": me["id"], "userIdentifier": "id", "amount": 10},
        headers=economy.admin,
    )
    cafe = await economy.business("Cafe")
    paid = await economy.client.post(
        "/v1.7/transaction/auth/transfer/credits",
        json={"businessId": cafe["id"], "chainId": DEV_CHAIN_ID, "amount": 4},
        headers=headers,
    )
    sent = (await economy.client.get("/v1.7/transaction/auth/sender", headers=headers)).json()
    received = (
        await economy.client.get("/v1.7/transaction/auth/recipient", headers=headers)
    ).json()
    assert [t["id"] for t in sent] == [paid.json()["id"]]
    assert [t["id"] for t in received] == [minted.json()["id"]]
    assert (
        await economy.client.get("/v1.7/transaction/auth/sender", headers=other_headers)
    ).json() == []

    mine = await economy.client.get(f"/v1.7/transaction/{paid.json()['id']}", headers=headers)
    assert mine.status_code == 200
    theirs = await economy.client.get(
        f"/v1.7/transaction/{paid.json()['id']}", headers=other_headers
    )
    problem(theirs, 404, "TRANSACTION_NOT_FOUND")
    business_view = await economy.client.get(
        f"/v1.7/transaction/{paid.json()['id']}", headers=cafe["headers"]
    )
    assert business_view.status_code == 200

    by_sender = await economy.client.post(
        "/v1.7/transaction/admin/sender",
        json={"accountType": "USER", "accountAddress": me["accountAddress"]},
        headers=economy.admin,
    )
    assert [t["id"] for t in by_sender.json()] == [paid.json()["id"]]
    by_recipient = await economy.client.post(
        "/v1.7/transaction/admin/recipient",
        json={"accountType": "BUSINESS", "businessOrUserId": cafe["id"]},
        headers=economy.admin,
    )
    assert [t["id"] for t in by_recipient.json()] == [paid.json()["id"]]
    everything = await economy.client.request(
        "GET",
        "/v1.7/transaction/admin",
        json={"accountType": "USER", "businessOrUserId": me["id"]},
        headers=economy.admin,
    )
    assert {t["id"] for t in everything.json()} == {paid.json()["id"], minted.json()["id"]}
    by_query = await economy.client.get(
        "/v1.7/transaction/admin",
        params={"accountType": "USER", "accountAddress": me["accountAddress"]},
        headers=economy.admin,
    )
    assert {t["id"] for t in by_query.json()} == {paid.json()["id"], minted.json()["id"]}
    missing = await economy.client.get("/v1.7/transaction/admin", headers=economy.admin)
    problem(missing, 400, "VALIDATION_ERROR")
    assert other["id"] != me["id"]


async def test_another_tenant_cannot_see_a_transaction(
    economy: Economy, client: httpx.AsyncClient
) -> None:
    tx = await economy.mint_credits(f"{uuid.uuid4().hex}@x.example", 1)
    stranger: TenantHandle = await create_tenant(client, "Stranger")
    response = await client.get(f"/v1.7/transaction/{tx['id']}", headers=stranger.admin)
    problem(response, 404, "TRANSACTION_NOT_FOUND")


async def test_only_the_right_principals_move_value(economy: Economy) -> None:
    headers, me = await economy.user()
    body = {"userEmail": "a@b.example", "amount": 1}
    as_user = await economy.client.post(
        "/v1.7/transaction/admin/mint/credits", json=body, headers=headers
    )
    problem(as_user, 403, "PRINCIPAL_NOT_ALLOWED")
    as_public = await economy.client.post(
        "/v1.7/transaction/business/mint/credits", json=body, headers=economy.tenant.public
    )
    problem(as_public, 401, "MISSING_CREDENTIALS")
    admin_as_user = await economy.client.post(
        "/v1.7/transaction/auth/transfer/credits",
        json={"businessId": str(uuid.uuid4()), "chainId": DEV_CHAIN_ID, "amount": 1},
        headers=economy.admin,
    )
    problem(admin_as_user, 403, "PRINCIPAL_NOT_ALLOWED")
    assert me["accountAddress"]
