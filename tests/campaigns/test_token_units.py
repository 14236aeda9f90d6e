"""Token units: what a claim mints. Amounts are exact token units (ERC20 scaled by the
token's decimals, stored in base units); NFTs name their item."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.campaigns.conftest import (
    ADMIN,
    TOKEN_UNIT_FIELDS,
    Programme,
    ok,
    problem,
    validation_error,
)
from tests.tokens.conftest import TOKEN_FIELDS


async def _base_units(engine: AsyncEngine, unit_id: str) -> tuple[Any, Any]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT amount, max_amount FROM campaign_token_units WHERE id = :id"),
                {"id": unit_id},
            )
        ).one()
    return row.amount, row.max_amount


async def test_an_erc20_unit_keeps_exact_token_units(
    programme: Programme, owner_engine: AsyncEngine
) -> None:
    campaign = await programme.campaign()
    token = await programme.token("ERC20", decimals=18)
    # Raw JSON: a Python float could not even hold the number sent.
    raw = f'{{"tokenId": "{token["id"]}", "amount": 0.1, "maxAmount": 123456789.123456789}}'
    response = await programme.client.post(
        f"{ADMIN}/{campaign['id']}/token-units",
        content=raw,
        headers={**programme.admin, "content-type": "application/json"},
    )
    updated = ok(response, 201)
    [unit] = updated["tokenUnits"]
    assert set(unit) == TOKEN_UNIT_FIELDS
    assert unit["tokenId"] == token["id"]
    assert unit["tokenMetadataIncrementalId"] is None
    assert unit["amount"] == 0.1
    assert unit["maxAmount"] == 123456789.123456789
    assert set(unit["token"]) == TOKEN_FIELDS
    assert unit["token"]["contractAddress"] == token["contractAddress"]
    amount, max_amount = await _base_units(owner_engine, unit["id"])
    assert amount == 10**17
    assert max_amount == 123456789123456789 * 10**9
    assert (await programme.get(campaign["id"]))["tokenUnits"] == [unit]


async def test_amounts_sent_as_strings_are_read_exactly(
    programme: Programme, owner_engine: AsyncEngine
) -> None:
    campaign = await programme.campaign()
    token = await programme.token("ERC20", decimals=18)
    response = await programme.add_unit(
        campaign["id"], tokenId=token["id"], amount="0.000000000000000001"
    )
    [unit] = ok(response, 201)["tokenUnits"]
    assert await _base_units(owner_engine, unit["id"]) == (1, None)


@pytest.mark.parametrize(
    ("amount", "max_amount", "status", "code"),
    [
        (1.255, None, 400, "INVALID_AMOUNT"),  # three decimals on a two-decimal token
        (0, None, 400, "INVALID_AMOUNT"),
        (-5, None, 400, "INVALID_AMOUNT"),
        (1, 1.001, 400, "INVALID_AMOUNT"),
        (5, 4, 400, "VALIDATION_ERROR"),
        ("five", None, 400, "VALIDATION_ERROR"),
        (True, None, 400, "VALIDATION_ERROR"),
        (None, None, 400, "VALIDATION_ERROR"),
    ],
)
async def test_invalid_erc20_amounts_are_refused(
    programme: Programme, amount: Any, max_amount: Any, status: int, code: str
) -> None:
    campaign = await programme.campaign()
    token = await programme.token("ERC20", decimals=2)
    body: dict[str, Any] = {"tokenId": token["id"], "amount": amount}
    if max_amount is not None:
        body["maxAmount"] = max_amount
    problem(await programme.add_unit(campaign["id"], **body), status, code)
    assert (await programme.get(campaign["id"]))["tokenUnits"] == []


async def test_an_erc20_unit_names_no_item(programme: Programme) -> None:
    campaign = await programme.campaign()
    token = await programme.token("ERC20")
    response = await programme.add_unit(
        campaign["id"], tokenId=token["id"], amount=1, tokenMetadataIncrementalId=1
    )
    validation_error(response, "tokenMetadataIncrementalId")


async def test_nft_units_name_an_existing_item(programme: Programme) -> None:
    campaign = await programme.campaign()
    reward = await programme.token("ERC1155")
    status = await programme.token("ERC721")
    gold = await programme.item(reward["id"], "Gold")
    badge = await programme.item(status["id"], "Badge")
    cid = campaign["id"]
    problem(await programme.add_unit(cid, tokenId=reward["id"], amount=1), 422,
            "TOKEN_METADATA_ID_REQUIRED")  # fmt: skip
    problem(
        await programme.add_unit(cid, tokenId=reward["id"], amount=1, tokenMetadataIncrementalId=9),
        404,
        "TOKEN_METADATA_NOT_FOUND",
    )
    problem(
        await programme.add_unit(
            cid, tokenId=reward["id"], amount=1.5, tokenMetadataIncrementalId=gold
        ),
        400,
        "INVALID_AMOUNT",
    )
    problem(
        await programme.add_unit(cid, tokenId=status["id"], amount=2, tokenMetadataIncrementalId=1),
        400,
        "INVALID_AMOUNT",
    )
    ok(
        await programme.add_unit(
            cid, tokenId=reward["id"], amount=3, maxAmount=10, tokenMetadataIncrementalId=str(gold)
        ),
        201,
    )
    updated = ok(
        await programme.add_unit(
            cid, tokenId=status["id"], amount=1, tokenMetadataIncrementalId=badge
        ),
        201,
    )
    units = updated["tokenUnits"]
    assert [(u["tokenId"], u["tokenMetadataIncrementalId"], u["amount"]) for u in units] == [
        (reward["id"], gold, 3),
        (status["id"], badge, 1),
    ]
    assert units[0]["maxAmount"] == 10
    assert [m["name"] for m in units[0]["token"]["metadata"]] == ["Gold"]


@pytest.mark.parametrize("value", [0, -1, 1.5, "abc", True])
async def test_a_malformed_item_id_is_refused(programme: Programme, value: Any) -> None:
    campaign = await programme.campaign()
    token = await programme.token("ERC1155")
    response = await programme.add_unit(
        campaign["id"], tokenId=token["id"], amount=1, tokenMetadataIncrementalId=value
    )
    validation_error(response, "tokenMetadataIncrementalId")


async def test_unknown_and_foreign_tokens_are_not_found(
    programme: Programme, other_programme: Programme
) -> None:
    campaign = await programme.campaign()
    theirs = await other_programme.token("ERC20")
    for token_id in (str(uuid.uuid4()), theirs["id"]):
        response = await programme.add_unit(campaign["id"], tokenId=token_id, amount=1)
        problem(response, 404, "TOKEN_NOT_FOUND")
    validation_error(await programme.add_unit(campaign["id"], tokenId="x", amount=1), "tokenId")
    validation_error(await programme.add_unit(campaign["id"], amount=1), "tokenId")


async def test_one_unit_per_token_item(programme: Programme) -> None:
    campaign = await programme.campaign()
    credit = await programme.token("ERC20")
    reward = await programme.token("ERC1155")
    gold = await programme.item(reward["id"], "Gold")
    silver = await programme.item(reward["id"], "Silver")
    cid = campaign["id"]
    ok(await programme.add_unit(cid, tokenId=credit["id"], amount=1), 201)
    body = problem(await programme.add_unit(cid, tokenId=credit["id"], amount=2), 409,
                   "TOKEN_UNIT_ALREADY_EXISTS")  # fmt: skip
    assert body["tokenUnitId"]
    with_gold = {"tokenId": reward["id"], "amount": 1, "tokenMetadataIncrementalId": gold}
    ok(await programme.add_unit(cid, **with_gold), 201)
    updated = ok(
        await programme.add_unit(
            cid, tokenId=reward["id"], amount=1, tokenMetadataIncrementalId=silver
        ),
        201,
    )
    assert len(updated["tokenUnits"]) == 3


async def test_update_changes_the_unit_and_keeps_what_is_not_sent(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    campaign = await programme.campaign()
    token = await programme.token("ERC20", decimals=2)
    [unit] = ok(
        await programme.add_unit(campaign["id"], tokenId=token["id"], amount=1, maxAmount=10),
        201,
    )["tokenUnits"]
    path = f"{ADMIN}/{campaign['id']}/token-units/{unit['id']}"
    updated = ok(
        await client.put(
            path, json={"tokenId": token["id"], "amount": 2.5}, headers=programme.admin
        )
    )
    [changed] = updated["tokenUnits"]
    assert (changed["id"], changed["amount"], changed["maxAmount"]) == (unit["id"], 2.5, 10)
    cleared = ok(
        await client.put(
            path,
            json={"tokenId": token["id"], "amount": 2.5, "maxAmount": None},
            headers=programme.admin,
        )
    )
    assert cleared["tokenUnits"][0]["maxAmount"] is None
    # A kept maxAmount below the new amount is refused, as for a new unit.
    ok(await client.put(path, json={"tokenId": token["id"], "amount": 1, "maxAmount": 3},
                        headers=programme.admin))  # fmt: skip
    too_much = {"tokenId": token["id"], "amount": 4}
    validation_error(await client.put(path, json=too_much, headers=programme.admin), "maxAmount")
    validation_error(await client.put(path, json={"amount": 4}, headers=programme.admin), "tokenId")


async def test_update_can_move_a_unit_to_another_token(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    campaign = await programme.campaign()
    credit = await programme.token("ERC20", decimals=2)
    reward = await programme.token("ERC1155")
    gold = await programme.item(reward["id"], "Gold")
    [unit] = ok(await programme.add_unit(campaign["id"], tokenId=credit["id"], amount=1.5),
                201)["tokenUnits"]  # fmt: skip
    path = f"{ADMIN}/{campaign['id']}/token-units/{unit['id']}"
    problem(
        await client.put(
            path, json={"tokenId": reward["id"], "amount": 1}, headers=programme.admin
        ),
        422,
        "TOKEN_METADATA_ID_REQUIRED",
    )
    moved = ok(
        await client.put(
            path,
            json={"tokenId": reward["id"], "amount": 2, "tokenMetadataIncrementalId": gold},
            headers=programme.admin,
        )
    )
    [now] = moved["tokenUnits"]
    assert (now["tokenId"], now["tokenMetadataIncrementalId"], now["amount"]) == (
        reward["id"],
        gold,
        2,
    )


async def test_update_cannot_collide_with_another_unit(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    campaign = await programme.campaign()
    first = await programme.token("ERC20")
    second = await programme.token("ERC20")
    ok(await programme.add_unit(campaign["id"], tokenId=first["id"], amount=1), 201)
    units = ok(await programme.add_unit(campaign["id"], tokenId=second["id"], amount=1),
               201)["tokenUnits"]  # fmt: skip
    path = f"{ADMIN}/{campaign['id']}/token-units/{units[1]['id']}"
    response = await client.put(path, json={"tokenId": first["id"], "amount": 3},
                                headers=programme.admin)  # fmt: skip
    problem(response, 409, "TOKEN_UNIT_ALREADY_EXISTS")


async def test_remove_keeps_the_row_and_frees_the_token(
    client: httpx.AsyncClient, programme: Programme, owner_engine: AsyncEngine
) -> None:
    campaign = await programme.campaign()
    token = await programme.token("ERC20")
    [unit] = ok(await programme.add_unit(campaign["id"], tokenId=token["id"], amount=1),
                201)["tokenUnits"]  # fmt: skip
    path = f"{ADMIN}/{campaign['id']}/token-units/{unit['id']}"
    assert ok(await client.delete(path, headers=programme.admin))["tokenUnits"] == []
    problem(await client.delete(path, headers=programme.admin), 404, "TOKEN_UNIT_NOT_FOUND")
    problem(await client.put(path, json={"tokenId": token["id"], "amount": 1},
                             headers=programme.admin), 404, "TOKEN_UNIT_NOT_FOUND")  # fmt: skip
    again = ok(await programme.add_unit(campaign["id"], tokenId=token["id"], amount=2), 201)
    assert [u["amount"] for u in again["tokenUnits"]] == [2]
    async with owner_engine.connect() as conn:
        removed = await conn.scalar(
            text("SELECT removed_at FROM campaign_token_units WHERE id = :id"), {"id": unit["id"]}
        )
    assert removed is not None


async def test_a_unit_belongs_to_its_campaign(
    client: httpx.AsyncClient, programme: Programme
) -> None:
    first = await programme.campaign("First")
    second = await programme.campaign("Second")
    token = await programme.token("ERC20")
    [unit] = ok(await programme.add_unit(first["id"], tokenId=token["id"], amount=1),
                201)["tokenUnits"]  # fmt: skip
    path = f"{ADMIN}/{second['id']}/token-units/{unit['id']}"
    problem(await client.delete(path, headers=programme.admin), 404, "TOKEN_UNIT_NOT_FOUND")
    assert len((await programme.get(first["id"]))["tokenUnits"]) == 1
