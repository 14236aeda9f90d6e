"""The relayer settles ledger transactions on the dev chain: every intent ends ``succeeded`` with
its hash, and what the contracts hold is what the ledger says."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from web3 import HTTPProvider, Web3

from pers.chain.contracts import ContractName
from tests.contract_deployments.test_deployments import pers_cli
from tests.contracts import MAINNET_CHAIN_ID
from tests.settlement.conftest import Settlement
from tests.tokens.conftest import mainnet_admin, promote


async def _ledger_balance(s: Settlement, address: str, token: dict[str, Any]) -> Decimal:
    response = await s.client.get(f"/v1.7/balance/account/{address}", headers=s.tenant.public)
    assert response.status_code == 200, response.text
    for line in response.json()["tokenBalances"]:
        if line["contractAddress"] == token["contractAddress"]:
            return Decimal(str(line["balance"]))
    return Decimal(0)


async def _sends(s: Settlement) -> list[Any]:
    async with s.rt.db.unit_of_work() as session:
        await session.execute(
            text("SELECT set_config('pers.tenant_id', :t, true)"), {"t": str(s.tenant.id)}
        )
        rows = await session.execute(
            text(
                "SELECT nonce, status, intent_count, mined_hash FROM settlement_sends "
                "WHERE tenant_id = :t ORDER BY nonce"
            ),
            {"t": s.tenant.id},
        )
        return list(rows.all())


async def test_credit_mints_and_charges_settle_and_the_contract_agrees(
    settlement: Settlement,
) -> None:
    s = settlement
    credit = await s.token("ERC20", decimals=2, symbol="PTS")
    contract = s.contracts[credit["contractAddress"]]
    mints = [await s.mint_credits(f"u{i}@example.com", "12.5") for i in range(3)]
    charge = await s.client.post(
        "/v1.7/transaction/admin/transfer/credits",
        json={"userEmail": "u0@example.com", "userIdentifier": "email", "amount": "2.25"},
        headers=s.admin,
    )
    assert charge.status_code == 201, charge.text
    assert all(m["status"] == "created" for m in mints)

    await s.settle()

    for tx in [*mints, charge.json()]:
        settled = await s.transaction(tx["id"])
        assert settled["status"] == "succeeded"
        assert settled["transactionHash"].startswith("0x")
        assert len(settled["transactionHash"]) == 66
        receipt = s.w3.eth.get_transaction_receipt(settled["transactionHash"])
        assert receipt["status"] == 1
    for i, mint in enumerate(mints):
        holder = mint["recipientAddress"]
        on_chain = contract.functions.balanceOf(holder).call()
        assert Decimal(on_chain) / 100 == await _ledger_balance(s, holder, credit)
        assert on_chain == (1025 if i == 0 else 1250)
    # The charge went back to the issuer: burnt on chain.
    assert contract.functions.totalSupply().call() == 3 * 1250 - 225


async def test_a_deep_queue_is_settled_in_batches_in_ledger_order(settlement: Settlement) -> None:
    s = settlement
    credit = await s.token("ERC20", decimals=0)
    contract = s.contracts[credit["contractAddress"]]
    holders: dict[str, str] = {}
    for i in range(25):
        minted = await s.mint_credits(f"b{i % 5}@example.com", i + 1)
        holders[f"b{i % 5}@example.com"] = minted["recipientAddress"]
    # A charge after the mints: in one batch it must come after the mints it depends on.
    charge = await s.client.post(
        "/v1.7/transaction/admin/transfer/credits",
        json={"userEmail": "b0@example.com", "userIdentifier": "email", "amount": 40},
        headers=s.admin,
    )
    assert charge.status_code == 201, charge.text

    await s.settle(settlement_batch_max=10)

    sends = await _sends(s)
    assert [row.intent_count for row in sends] == [10, 10, 6]
    assert {row.status for row in sends} == {"confirmed"}
    expected = {f"b{k}@example.com": sum(i + 1 for i in range(25) if i % 5 == k) for k in range(5)}
    expected["b0@example.com"] -= 40
    for email, holder in holders.items():
        on_chain = contract.functions.balanceOf(holder).call()
        assert on_chain == expected[email]
        assert Decimal(on_chain) == await _ledger_balance(s, holder, credit)
    assert contract.functions.totalSupply().call() == sum(expected.values())


async def test_reward_and_status_tokens_settle(settlement: Settlement) -> None:
    s = settlement
    reward = await s.token("ERC1155")
    gold = await s.item(reward["id"], "Gold")
    status = await s.token("ERC721")
    level = await s.item(status["id"], "Level 1")
    created = await s.client.post(
        "/v1.7/user/admin", json={"email": "nft@example.com"}, headers=s.admin
    )
    assert created.status_code == 201, created.text
    holder = created.json()["accountAddress"]
    minted = []
    for token, item, amount in ((reward, gold, 3), (status, level, 1), (status, level, 1)):
        response = await s.client.post(
            "/v1.7/transaction/admin/mint/token",
            json={
                "tokenAddress": token["contractAddress"],
                "tokenMetadataIncrementalId": item,
                "amount": amount,
                "recipientAddress": holder,
                "chainId": token["chainId"],
            },
            headers=s.admin,
        )
        assert response.status_code == 201, response.text
        minted.append(response.json())
    burn = await s.client.post(
        "/v1.7/transaction/admin/burn/token",
        json={
            "tokenAddress": reward["contractAddress"],
            "tokenMetadataIncrementalId": gold,
            "amount": 1,
            "senderAddress": holder,
            "chainId": reward["chainId"],
        },
        headers=s.admin,
    )
    assert burn.status_code == 201, burn.text

    await s.settle()

    for tx in [*minted, burn.json()]:
        assert (await s.transaction(tx["id"]))["status"] == "succeeded"
    rewards = s.contracts[reward["contractAddress"]]
    assert rewards.functions.balanceOf(holder, gold).call() == 2
    statuses = s.contracts[status["contractAddress"]]
    for tx in minted[1:]:
        token_id = int(tx["contractTokenId"])
        assert statuses.functions.ownerOf(token_id).call() == holder
    assert statuses.functions.balanceOf(holder).call() == 2


async def test_a_deployment_is_sent_by_the_relayer_and_its_token_then_settles(
    settlement: Settlement,
) -> None:
    """`POST /token/admin/deploy`: the relayer deploys the contract with the tenant's operator
    (its nonce, like every other send), the token is registered once the creation is
    confirmed, and mints of the new token settle on it."""
    s = settlement
    requested = await s.client.post(
        "/v1.7/token/admin/deploy",
        json={"type": "ERC20", "name": "Fresh Points", "symbol": "FRESH", "decimals": 1},
        headers=s.admin,
    )
    assert requested.status_code == 202, requested.text
    deployment_id = requested.json()["id"]

    await s.settle()

    done = await s.client.get(f"/v1.7/token/admin/deploy/{deployment_id}", headers=s.admin)
    assert done.status_code == 200, done.text
    deployment = done.json()
    assert deployment["status"] == "succeeded", deployment
    address = deployment["contractAddress"]
    receipt = s.w3.eth.get_transaction_receipt(deployment["transactionHash"])
    assert receipt["contractAddress"] == address
    assert receipt["from"] == s.operator.address
    credit = await s.client.get("/v1.7/token/credit", headers=s.tenant.public)
    assert credit.status_code == 200, credit.text
    assert credit.json()["contractAddress"] == address

    minted = await s.mint_credits("fresh@example.com", "2.5")
    await s.settle()
    assert (await s.transaction(minted["id"]))["status"] == "succeeded"
    contract = s.w3.eth.contract(address=address, abi=s.compiled[ContractName.CREDIT].abi)
    assert contract.functions.balanceOf(minted["recipientAddress"]).call() == 25
    assert contract.functions.owner().call() == s.operator.address


async def test_testnet_and_mainnet_settle_on_their_own_chains_with_their_own_nonces(
    settlement: Settlement, devchains: dict[int, Any]
) -> None:
    """One tenant, one token on both sides: each environment's transactions go to its own
    chain (the tests' mainnet is chain 137, configured in PERS_CHAINS), in a lane of its own
    with its own nonces."""
    s = settlement
    credit = await s.token("ERC20", decimals=0)
    promoted = await promote(s.client, s.tenant, credit["id"])
    assert promoted["chainId"] == MAINNET_CHAIN_ID
    mainnet = await mainnet_admin(s.client, s.tenant)
    on_testnet = await s.mint_credits("both@example.com", 3)
    response = await s.client.post(
        "/v1.7/transaction/admin/mint/credits",
        json={"userEmail": "both@example.com", "userIdentifier": "email", "amount": 4},
        headers=mainnet,
    )
    assert response.status_code == 201, response.text
    on_mainnet = response.json()

    await s.settle()

    main_w3 = Web3(HTTPProvider(devchains[MAINNET_CHAIN_ID].url))
    settled = (await s.transaction(on_testnet["id"]))["transactionHash"]
    assert s.w3.eth.get_transaction_receipt(settled)["status"] == 1
    read = await s.client.get(f"/v1.7/transaction/{on_mainnet['id']}", headers=mainnet)
    assert read.status_code == 200, read.text
    assert read.json()["status"] == "succeeded"
    assert read.json()["chainId"] == MAINNET_CHAIN_ID
    receipt = main_w3.eth.get_transaction_receipt(read.json()["transactionHash"])
    assert receipt["status"] == 1
    assert receipt["from"] == s.operator.address
    abi = s.compiled[ContractName.CREDIT].abi
    holder = on_testnet["recipientAddress"]
    testnet_contract = s.w3.eth.contract(address=credit["contractAddress"], abi=abi)
    mainnet_contract = main_w3.eth.contract(address=promoted["contractAddress"], abi=abi)
    assert testnet_contract.functions.balanceOf(holder).call() == 3
    assert mainnet_contract.functions.balanceOf(holder).call() == 4
    async with s.rt.db.unit_of_work() as session:
        await session.execute(
            text("SELECT set_config('pers.tenant_id', :t, true)"), {"t": str(s.tenant.id)}
        )
        signers = (
            await session.execute(
                text("SELECT chain_id FROM settlement_signers WHERE tenant_id = :t"),
                {"t": s.tenant.id},
            )
        ).all()
    assert sorted(int(r[0]) for r in signers) == sorted([MAINNET_CHAIN_ID, credit["chainId"]])


async def test_pers_token_deploy_waits_for_a_worker(
    settlement: Settlement, owner_url: str, tmp_path: Any
) -> None:
    """`pers token deploy --wait S` records the deployment and waits until a worker has sent
    it: exit 0 with the contract; with no worker, exit 2 and the deployment still queued."""
    s = settlement
    deploy = ["token", "deploy", "--tenant", str(s.tenant.id), "--type", "ERC20"]
    code, out, err = await pers_cli(
        owner_url, tmp_path, *deploy, "--name", "Alone", "--symbol", "ALN", "--wait", "1"
    )
    assert code == 2, err
    assert json.loads(out)["status"] == "created"

    stop = asyncio.Event()
    worker = asyncio.create_task(s.relayer(settlement_poll_seconds=0.1).run(stop))
    try:
        code, out, err = await pers_cli(
            owner_url, tmp_path, *deploy, "--name", "Waited", "--symbol", "WTD", "--wait", "60"
        )
    finally:
        stop.set()
        await worker
    assert code == 0, err
    printed = json.loads(out)
    assert printed["status"] == "succeeded"
    assert s.w3.eth.get_code(printed["contractAddress"]) != b""
