"""Settlement throughput: queued credit mints settled on the dev chain, batched and not.

    .venv/bin/python -m bench.settlement_load [--intents N] [--unbatched-intents N]
                                              [--batch-max B] [--keep]

One run starts an embedded PostgreSQL in ``.pers-bench/settlement-<timestamp>/`` and the dev
chain as its own process (``python -m pers.cli devchain``, as next to ``pers worker`` in
production). In this process: the pers API (in-process ASGI, only to set up and to queue), a
tenant, a credit contract deployed by the tenant's operator and registered as its credit token.
Then, twice: queue N mints to new users (one admin mint from URL), and time one relayer
(``pers.settlement.relayer.Relayer``, the code of ``pers worker``) from the first pass until
every intent is ``succeeded``; first with batching (``operatorBatch`` of up to B intents),
then one chain transaction per intent. It prints intents settled per second for both, the ratio
(target 10x or more), chain transactions and gas, and checks that the contract's total supply
equals the ledger's. Figures also go to ``bench/results/settlement_load-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from bench.ledger_load import (
    PLATFORM_KEY,
    PYTHON,
    RESULTS,
    ROOT,
    clean_env,
    free_port,
    serve_directory,
)

TARGET_BATCH_SPEEDUP = 10.0


@dataclass
class Options:
    intents: int
    unbatched_intents: int
    batch_max: int
    keep: bool


def start_devchain(work: Path, port: int) -> subprocess.Popen[bytes]:
    env = clean_env() | {"PERS_DATA_DIR": str(work), "PERS_DEVCHAIN_PORT": str(port)}
    process = subprocess.Popen(
        [PYTHON, "-m", "pers.cli", "devchain"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            answer = httpx.post(
                url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
            )
            if answer.status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the dev chain did not start")


async def queue_mints(
    client: httpx.AsyncClient, admin: dict[str, str], credit: dict[str, Any], work: Path,
    count: int, tag: str,
) -> float:  # fmt: skip
    directory = work / "files"
    directory.mkdir(exist_ok=True)
    lines = ["email,amount", *(f"{tag}-{i}@bench.example,1" for i in range(count))]
    (directory / f"{tag}.csv").write_text("\n".join(lines) + "\n")
    with serve_directory(directory) as files:
        t0 = time.perf_counter()
        response = await client.post(
            "/v1.7/transaction/admin/mint/token/url",
            json={
                "url": f"{files}/{tag}.csv",
                "tokenAddress": credit["contractAddress"],
                "chainId": credit["chainId"],
            },
            headers=admin,
            timeout=httpx.Timeout(600.0),
        )
        wall = time.perf_counter() - t0
    if response.status_code >= 300:
        raise RuntimeError(f"mint from URL: {response.status_code} {response.text[:300]}")
    return wall


async def settle(rt: Any, registry: Any, tenant_id: Any, batch_max: int) -> dict[str, Any]:
    from pers.settlement.relayer import Relayer

    settings = rt.settings.model_copy(update={"settlement_batch_max": batch_max})
    relayer = Relayer(
        type(rt)(**{**rt.__dict__, "settings": settings}),
        registry=registry,
        tenants=frozenset({tenant_id}),
    )
    t0 = time.perf_counter()
    try:
        await relayer.drain(seconds=3600)
    finally:
        await relayer.close()
    return {"wall_s": time.perf_counter() - t0}


async def counts(rt: Any, tenant_id: Any) -> dict[str, Any]:
    from sqlalchemy import text

    from pers.db import set_tenant

    async with rt.db.unit_of_work() as session:
        await set_tenant(session, tenant_id)
        statuses = dict(
            (
                await session.execute(
                    text(
                        "SELECT status, count(*) FROM transactions WHERE tenant_id = :t "
                        "GROUP BY status"
                    ),
                    {"t": tenant_id},
                )
            ).all()
        )
        sends = (
            await session.execute(
                text(
                    "SELECT count(*), coalesce(sum(intent_count), 0) FROM settlement_sends "
                    "WHERE tenant_id = :t AND status = 'confirmed'"
                ),
                {"t": tenant_id},
            )
        ).one()
    return {"statuses": statuses, "sends": int(sends[0]), "intents_in_sends": int(sends[1])}


def gas_used(w3: Web3, sender: str, first_block: int) -> tuple[int, int]:
    total = transactions = 0
    for number in range(first_block, w3.eth.block_number + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            if tx["from"] == sender:
                transactions += 1
                total += w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"]
    return transactions, total


async def run(opts: Options, work: Path, owner: str, port: int) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    from pers.app import create_app
    from pers.bootstrap import DatabaseUrls, build_runtime
    from pers.chain.compile import compile_contract
    from pers.chain.contracts import ContractName
    from pers.chains.registry import registry_of
    from pers.config import Settings
    from pers.deployment import load_deployment
    from pers.wallets.derivation import OwnerType

    app_url = make_url(owner).set(username="pers_app").render_as_string(False)
    settings = Settings(
        data_dir=work, platform_api_key=PLATFORM_KEY, database_url=owner,
        devchain_port=port, allow_private_urls=True,
    )  # fmt: skip
    deployment = load_deployment(settings)
    urls = DatabaseUrls(owner=owner, app=app_url, embedded=True, dedicated_app_login=True)
    rt = build_runtime(deployment, urls)
    registry = registry_of(settings)
    app = create_app(rt, own_runtime=False)
    w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 120}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        created = await client.post(
            "/v1.7/tenant", json={"projectName": "Settle"}, headers={"x-api-key": PLATFORM_KEY}
        )
        tenant = created.json()
        admin = {"Authorization": f"Bearer {tenant['jwt']}"}
        import uuid

        tenant_id = uuid.UUID(tenant["id"])
        operator = Account.from_key(rt.wallets.private_key(tenant_id, OwnerType.TENANT, tenant_id))
        w3.provider.make_request(RPCEndpoint("pers_fund"), [operator.address, hex(10**22)])
        build = compile_contract(ContractName.CREDIT, ROOT / ".pers-test" / "contracts")
        factory = w3.eth.contract(abi=build.abi, bytecode=build.bytecode)
        tx = factory.constructor("Bench Points", "BP", 0).build_transaction(
            {"from": operator.address, "nonce": w3.eth.get_transaction_count(operator.address)}
        )
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(operator.sign_transaction(dict(tx)).raw_transaction)
        )
        address = receipt["contractAddress"]
        registered = await client.post(
            "/v1.7/token/admin",
            json={"contractAddress": address, "type": "ERC20", "decimals": 0,
                  "symbol": "BP", "name": "Bench Points"},
            headers=admin,
        )  # fmt: skip
        credit = registered.json()
        contract = w3.eth.contract(address=address, abi=build.abi)
        results: dict[str, Any] = {}
        for label, count, batch_max in (
            ("batched", opts.intents, opts.batch_max),
            ("unbatched", opts.unbatched_intents, 1),
        ):
            if count <= 0:
                continue
            queued_s = await queue_mints(client, admin, credit, work, count, label)
            first_block = w3.eth.block_number + 1
            before = await counts(rt, tenant_id)
            timing = await settle(rt, registry, tenant_id, batch_max)
            after = await counts(rt, tenant_id)
            chain_txs, gas = gas_used(w3, operator.address, first_block)
            settled = after["statuses"].get("succeeded", 0) - before["statuses"].get("succeeded", 0)
            results[label] = {
                "intents": count,
                "batch_max": batch_max,
                "queue_s": round(queued_s, 2),
                "settle_s": round(timing["wall_s"], 2),
                "intents_per_s": round(settled / timing["wall_s"], 1),
                "settled": settled,
                "chain_transactions": chain_txs,
                "gas_per_intent": round(gas / max(settled, 1)),
            }
            print(f"{label}: {json.dumps(results[label])}", flush=True)
        supply = contract.functions.totalSupply().call()
        final = await counts(rt, tenant_id)
        results["check"] = {
            "total_supply_on_chain": supply,
            "succeeded_in_ledger": final["statuses"].get("succeeded", 0),
            "statuses": final["statuses"],
            "agree": supply == final["statuses"].get("succeeded", 0),
        }
    await rt.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intents", type=int, default=10_000)
    parser.add_argument("--unbatched-intents", type=int, default=10_000)
    parser.add_argument("--batch-max", type=int, default=100)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    opts = Options(args.intents, args.unbatched_intents, args.batch_max, args.keep)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = ROOT / ".pers-bench" / f"settlement-{stamp}"
    work.mkdir(parents=True)
    from pers import migrate
    from pers.embedded import enable_app_login, start_embedded, stop_embedded

    port = free_port()
    chain = start_devchain(work, port)
    try:
        owner = start_embedded(work)
        migrate.upgrade(owner)
        enable_app_login(work, "pers_app")
        results = asyncio.run(run(opts, work, owner, port))
    finally:
        chain.terminate()
        chain.wait(timeout=60)
        stop_embedded(work)
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
    batched = results.get("batched", {}).get("intents_per_s")
    unbatched = results.get("unbatched", {}).get("intents_per_s")
    if batched and unbatched:
        speedup = batched / unbatched
        results["speedup"] = round(speedup, 1)
        verdict = "PASS" if speedup >= TARGET_BATCH_SPEEDUP else "MISS"
        print(
            f"\nsettled per second: batched {batched}, one transaction per intent {unbatched}: "
            f"{speedup:.1f}x (target >= {TARGET_BATCH_SPEEDUP:.0f}x) {verdict}"
        )
    print(f"chain agrees with the ledger: {results['check']['agree']} {results['check']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"settlement_load-{stamp}.json"
    out.write_text(json.dumps({"options": opts.__dict__, "results": results}, indent=2))
    print(f"figures: {out}")
    return 0 if results["check"]["agree"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
