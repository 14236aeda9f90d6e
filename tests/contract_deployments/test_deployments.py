"""Contract deployments: ``POST /token/admin/deploy`` records the intent, the relayer's side of
the service (claim, broadcast, complete, fail) takes it to a registered token. The relayer is
played here by the test: it deploys ``deployment_init_code`` with the operator key."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from typing import Any

import httpx
import pytest

from pers.chains.registry import registry_of
from pers.contract_deployments import service
from pers.contract_deployments.errors import DeploymentFinished
from pers.contract_deployments.models import DeploymentStatus
from pers.kit.enums import Environment
from pers.runtime import Runtime
from pers.tokens import service as tokens
from pers.tokens.models import TokenType
from tests.conftest import TenantHandle
from tests.contracts import DEV_CHAIN_ID, deployer
from tests.tokens.conftest import (
    ADMIN_TOKENS,
    list_tokens,
    problem,
    system_headers,
    user_headers,
    validation_error,
)

DEPLOY = f"{ADMIN_TOKENS}/deploy"
FIELDS = {
    "id", "type", "kind", "name", "symbol", "decimals", "baseUri", "environment", "chainId",
    "status", "contractAddress", "tokenId", "transactionHash", "failureReason", "chainSendId",
    "createdAt", "updatedAt", "completedAt",
}  # fmt: skip
BODIES = {
    "ERC20": {"type": "ERC20", "name": "Coffee Points", "symbol": "BEAN", "decimals": 2},
    "ERC721": {"type": "ERC721", "name": "Gold Club", "symbol": "GOLD", "baseUri": "ipfs://q/"},
    "ERC1155": {"type": "ERC1155", "name": "Rewards", "symbol": "RWD", "baseUri": "https://r/"},
}


async def request(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(DEPLOY, json=body, headers=tenant.admin)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


async def relay(runtime: Runtime, tenant: TenantHandle, deployment_id: str) -> dict[str, Any]:
    """What the settlement relayer does: claim, deploy with the operator key, complete."""
    async with runtime.db.unit_of_work() as session:
        (claimed,) = await service.claim_deployments(session, tenant.id)
    assert (str(claimed.id), claimed.status) == (deployment_id, DeploymentStatus.PROCESSING)
    operator = deployer().operator(tenant.id)
    receipt = deployer().send(DEV_CHAIN_ID, operator, service.deployment_init_code(claimed))
    async with runtime.db.unit_of_work() as session:
        await service.mark_broadcasted(
            session, tenant.id, claimed.id, transaction_hash=receipt["transactionHash"]
        )
        done = await service.complete_deployment(
            session, tenant.id, claimed.id, receipt["contractAddress"], receipt["transactionHash"]
        )
    assert done.status is DeploymentStatus.SUCCEEDED
    return {"view": done, "receipt": receipt}


async def test_a_deployment_request_is_recorded_with_every_field(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    body = await request(client, tenant, {"type": "ERC20", "name": "Points", "symbol": "PTS"})
    assert set(body) == FIELDS
    assert body["type"] == "ERC20"
    assert body["kind"] == "credit"
    assert (body["name"], body["symbol"], body["decimals"]) == ("Points", "PTS", 18)
    assert (body["environment"], body["chainId"], body["status"]) == (
        "testnet",
        DEV_CHAIN_ID,
        "created",
    )
    for pending in ("baseUri", "contractAddress", "tokenId", "transactionHash"):
        assert body[pending] is None
    assert body["failureReason"] is body["chainSendId"] is body["completedAt"] is None
    got = await client.get(f"{DEPLOY}/{body['id']}", headers=tenant.admin)
    assert got.status_code == 200, got.text
    assert got.json() == body
    listed = await client.get(DEPLOY, headers=tenant.admin)
    assert [d["id"] for d in listed.json()] == [body["id"]]
    # Nothing is registered before the chain has the contract.
    assert await list_tokens(client, tenant.admin, active="false") == []


@pytest.mark.parametrize("token_type", ["ERC20", "ERC721", "ERC1155"])
async def test_a_deployed_contract_becomes_the_tenants_token(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle, token_type: str
) -> None:
    created = await request(client, tenant, BODIES[token_type])
    relayed = await relay(runtime, tenant, created["id"])
    address = relayed["receipt"]["contractAddress"]

    got = (await client.get(f"{DEPLOY}/{created['id']}", headers=tenant.admin)).json()
    assert got["status"] == "succeeded"
    assert got["contractAddress"] == address
    assert got["transactionHash"] == relayed["receipt"]["transactionHash"]
    assert got["completedAt"] is not None
    (token,) = await list_tokens(client, tenant.admin, active="false")
    assert token["id"] == got["tokenId"]
    expected = BODIES[token_type]
    assert (token["type"], token["name"], token["symbol"], token["decimals"]) == (
        token_type,
        expected["name"],
        expected["symbol"],
        expected.get("decimals", 0),
    )
    assert (token["contractAddress"], token["chainId"], token["isActive"]) == (
        address,
        DEV_CHAIN_ID,
        True,
    )
    # The deployed contract passes the registration check (owner = the tenant's operator).
    chain = registry_of(runtime.settings).for_environment(Environment.TESTNET)
    assert chain is not None
    await tokens.verify_contract(
        runtime,
        tenant.id,
        chain,
        contract_address=address,
        token_type=TokenType(token_type),
        decimals=token["decimals"],
    )
    # ...so registering it again is refused only because the tenant has it already.
    again = await client.post(
        ADMIN_TOKENS,
        json={"contractAddress": address, "type": token_type, **expected_decimals(token_type)},
        headers=tenant.admin,
    )
    problem(again, 409, "TOKEN_ADDRESS_TAKEN")


def expected_decimals(token_type: str) -> dict[str, Any]:
    return {"decimals": BODIES[token_type]["decimals"]} if token_type == "ERC20" else {}


async def test_completing_twice_is_idempotent_and_another_contract_is_a_conflict(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    created = await request(client, tenant, BODIES["ERC1155"])
    relayed = await relay(runtime, tenant, created["id"])
    receipt = relayed["receipt"]
    async with runtime.db.unit_of_work() as session:
        again = await service.complete_deployment(
            session,
            tenant.id,
            uuid.UUID(created["id"]),
            receipt["contractAddress"].lower(),
            receipt["transactionHash"],
        )
    assert again == relayed["view"]
    other = deployer().deploy(tenant.id, "ERC1155")
    with pytest.raises(DeploymentFinished):
        async with runtime.db.unit_of_work() as session:
            await service.complete_deployment(
                session, tenant.id, uuid.UUID(created["id"]), other, "0x" + "ab" * 32
            )
    assert len(await list_tokens(client, tenant.admin, active="false")) == 1


async def test_a_failed_deployment_says_why_and_stays_failed(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    created = await request(client, tenant, BODIES["ERC20"])
    deployment_id = uuid.UUID(created["id"])
    for _ in range(2):  # idempotent
        async with runtime.db.unit_of_work() as session:
            failed = await service.fail_deployment(
                session, tenant.id, deployment_id, "execution reverted: out of gas"
            )
        assert failed.status is DeploymentStatus.FAILED
    got = (await client.get(f"{DEPLOY}/{created['id']}", headers=tenant.admin)).json()
    assert (got["status"], got["failureReason"]) == ("failed", "execution reverted: out of gas")
    address = deployer().deploy(tenant.id, "ERC20", decimals=2)
    with pytest.raises(DeploymentFinished):
        async with runtime.db.unit_of_work() as session:
            await service.complete_deployment(
                session, tenant.id, deployment_id, address, "0x" + "cd" * 32
            )
    async with runtime.db.unit_of_work() as session:
        assert await service.claim_deployments(session, tenant.id) == []
    assert await list_tokens(client, tenant.admin, active="false") == []


async def test_a_succeeded_deployment_cannot_fail(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    created = await request(client, tenant, BODIES["ERC721"])
    await relay(runtime, tenant, created["id"])
    with pytest.raises(DeploymentFinished):
        async with runtime.db.unit_of_work() as session:
            await service.fail_deployment(session, tenant.id, uuid.UUID(created["id"]), "late")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "ERC20", "symbol": "S"}, "name"),
        ({"type": "ERC20", "name": "", "symbol": "S"}, "name"),
        ({"type": "ERC20", "name": "n" * 201, "symbol": "S"}, "name"),
        ({"type": "ERC20", "name": "N"}, "symbol"),
        ({"type": "ERC20", "name": "N", "symbol": "s" * 33}, "symbol"),
        ({"type": "ERC777", "name": "N", "symbol": "S"}, "type"),
        ({"type": "ERC20", "name": "N", "symbol": "S", "decimals": 37}, "decimals"),
        ({"type": "ERC20", "name": "N", "symbol": "S", "decimals": -1}, "decimals"),
        ({"type": "ERC721", "name": "N", "symbol": "S", "decimals": 2}, "decimals"),
        ({"type": "ERC20", "name": "N", "symbol": "S", "baseUri": "https://x/"}, "baseUri"),
        ({"type": "ERC1155", "name": "N", "symbol": "S", "baseUri": "u" * 433}, "baseUri"),
        # 300 characters, 600 bytes: more than the contract's 432 bytes
        ({"type": "ERC1155", "name": "N", "symbol": "S", "baseUri": "é" * 300}, "base URI"),
        ({"type": "ERC20", "name": "N", "symbol": "S", "chainId": 1}, "chainId"),
    ],
)
async def test_invalid_deployments_are_400_and_nothing_is_recorded(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, Any], field: str
) -> None:
    validation_error(await client.post(DEPLOY, json=body, headers=tenant.admin), field)
    assert (await client.get(DEPLOY, headers=tenant.admin)).json() == []


async def test_only_admins_deploy_and_read_deployments(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = await request(client, tenant, BODIES["ERC20"])
    for headers in (
        await user_headers(client, tenant),
        await system_headers(client, tenant),
    ):
        problem(
            await client.post(DEPLOY, json=BODIES["ERC20"], headers=headers),
            403,
            "PRINCIPAL_NOT_ALLOWED",
        )
        problem(await client.get(DEPLOY, headers=headers), 403, "PRINCIPAL_NOT_ALLOWED")
        problem(
            await client.get(f"{DEPLOY}/{created['id']}", headers=headers),
            403,
            "PRINCIPAL_NOT_ALLOWED",
        )
    problem(await client.post(DEPLOY, json=BODIES["ERC20"]), 401, "MISSING_CREDENTIALS")
    assert len((await client.get(DEPLOY, headers=tenant.admin)).json()) == 1


async def test_another_tenants_deployment_is_404_and_not_listed(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    created = await request(client, tenant, BODIES["ERC721"])
    problem(
        await client.get(f"{DEPLOY}/{created['id']}", headers=other_tenant.admin),
        404,
        "DEPLOYMENT_NOT_FOUND",
    )
    assert (await client.get(DEPLOY, headers=other_tenant.admin)).json() == []


async def test_deployments_are_listed_oldest_first_and_filtered_by_status(
    client: httpx.AsyncClient, runtime: Runtime, tenant: TenantHandle
) -> None:
    first = await request(client, tenant, BODIES["ERC20"])
    second = await request(client, tenant, BODIES["ERC1155"])
    async with runtime.db.unit_of_work() as session:
        await service.fail_deployment(session, tenant.id, uuid.UUID(first["id"]), "gave up")
    listed = await client.get(DEPLOY, headers=tenant.admin)
    assert [d["id"] for d in listed.json()] == [first["id"], second["id"]]
    created = await client.get(DEPLOY, params={"status": "created"}, headers=tenant.admin)
    assert [d["id"] for d in created.json()] == [second["id"]]
    page = await client.get(DEPLOY, params={"page": 2, "limit": 1}, headers=tenant.admin)
    assert [d["id"] for d in page.json()] == [second["id"]]


async def test_a_deployment_request_replays_with_the_same_idempotency_key(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    headers = {**tenant.admin, "Idempotency-Key": f"deploy-{uuid.uuid4()}"}
    first = await client.post(DEPLOY, json=BODIES["ERC20"], headers=headers)
    second = await client.post(DEPLOY, json=BODIES["ERC20"], headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.json()["id"] == first.json()["id"]
    other_body = await client.post(DEPLOY, json=BODIES["ERC721"], headers=headers)
    problem(other_body, 422, "IDEMPOTENCY_KEY_REUSED")
    assert len((await client.get(DEPLOY, headers=tenant.admin)).json()) == 1


async def pers_cli(owner_url: str, data_dir: Any, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERS_")}
    env.update(PERS_DATABASE_URL=owner_url, PERS_DATA_DIR=str(data_dir))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pers.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_the_cli_records_a_deployment(
    client: httpx.AsyncClient, owner_url: str, tenant: TenantHandle, tmp_path: Any
) -> None:
    deploy = ["token", "deploy", "--tenant", str(tenant.id)]
    code, out, err = await pers_cli(
        owner_url, tmp_path, *deploy, "--type", "ERC20", "--name", "Points", "--symbol", "PTS",
        "--decimals", "2",
    )  # fmt: skip
    assert code == 0, err
    printed = json.loads(out)
    (listed,) = (await client.get(DEPLOY, headers=tenant.admin)).json()
    assert printed == listed
    assert (listed["kind"], listed["decimals"], listed["status"]) == ("credit", 2, "created")

    code, _, err = await pers_cli(
        owner_url, tmp_path, *deploy, "--type", "ERC721", "--name", "N", "--symbol", "S",
        "--decimals", "2",
    )  # fmt: skip
    assert (code, "VALIDATION_ERROR" in err) == (1, True)
    stranger = ["token", "deploy", "--tenant", str(uuid.uuid4())]
    code, _, err = await pers_cli(
        owner_url, tmp_path, *stranger, "--type", "ERC20", "--name", "N", "--symbol", "S"
    )
    assert (code, "no tenant" in err) == (1, True)
    assert len((await client.get(DEPLOY, headers=tenant.admin)).json()) == 1
