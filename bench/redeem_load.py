"""Redeem load: redemptions redeemed over HTTP, against the ledger bench's baseline.

    .venv/bin/python -m bench.redeem_load [--duration S] [--users N] [--keep]

Same machinery as ``bench.ledger_load`` (embedded PostgreSQL, the real server with its own
login role, the FastAPI + asyncpg baseline, the raw HTTP client, CPU per process). Set-up over
HTTP: one tenant, its credit token, an ERC1155 reward token with one item, ``--users`` guest
users (logged in, each funded with credits for every redeem it can make), and two active
redemptions of 1 credit for 1 reward: one with a large ``maxTotalSupply`` (its stock split over
the supply shards) and one unlimited.

Scenarios, ``--duration`` seconds each at ``--concurrency`` connections:

    a, a'  baseline POST /mint (before and after)
    r      POST /v1.7/redemption/auth/redeem: a random user redeems the large-supply redemption
    u      the same on the unlimited redemption (no supply row at all)

and prints the issue's targets: r/a at 0.4 or more, and r/u (what the stock costs) for
information. Figures go to ``bench/results/redeem_load-<ts>.json``.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.ledger_load import (
    ROOT,
    Conn,
    CpuMeter,
    Figures,
    Send,
    Server,
    Tenant,
    at_least,
    bounded,
    client_for,
    connection_factory,
    deploy_contract,
    drive,
    drive_baseline,
    expect_status,
    new_guest,
    new_tenant,
    postmaster_pid,
    print_figures,
    print_short_report,
    row,
    run_bench,
    verdict,
)

RESULTS = ROOT / "bench" / "results"
TARGET_VS_BASELINE = 0.4
TARGET_P99_MS = 100.0
LARGE_SUPPLY = 100_000_000
FUNDS = 1_000_000


@dataclass
class Options:
    duration: float
    warmup: float
    concurrency: int
    users: int
    keep: bool
    client: str


async def reward_token(client: httpx.AsyncClient, tenant: Tenant) -> tuple[str, int]:
    token = expect_status(
        await client.post(
            "/v1.7/token/admin",
            json={
                "contractAddress": await deploy_contract(tenant.id, "ERC1155"),
                "type": "ERC1155",
            },
            headers=tenant.admin,
        ),
        201,
        "reward token",
    )
    item = expect_status(
        await client.post(
            f"/v1.7/token/admin/{token['id']}/metadata", json={"name": "Voucher"},
            headers=tenant.admin,
        ),
        201,
        "reward item",
    )  # fmt: skip
    items = item.get("metadata", [item])
    return str(token["id"]), int(items[-1]["tokenMetadataIncrementalId"])


async def new_redemption(
    client: httpx.AsyncClient, tenant: Tenant, reward: tuple[str, int], supply: int | None
) -> str:
    base = "/v1.7/redemption/admin"
    created = expect_status(
        await client.post(
            base, json={"creditTokenAmount": 1, "name": "Bench", "maxTotalSupply": supply},
            headers=tenant.admin,
        ),
        201,
        "redemption",
    )  # fmt: skip
    rid = created["id"]
    token_id, item = reward
    expect_status(
        await client.post(
            f"{base}/{rid}/token-units",
            json={"tokenId": token_id, "tokenMetadataIncrementalId": item, "amount": 1},
            headers=tenant.admin,
        ),
        201,
        "token unit",
    )
    expect_status(
        await client.put(f"{base}/{rid}/toggle-active", headers=tenant.admin), 200, "activate"
    )
    return str(rid)


async def scenarios(opts: Options, pers: Server, baseline: Server, work: Path) -> dict[str, Any]:
    meter_pers = CpuMeter(pers.pid, postmaster_pid(work))
    meter_base = CpuMeter(baseline.pid, postmaster_pid(work))
    load = {"duration": opts.duration, "warmup": opts.warmup, "concurrency": opts.concurrency}
    figures: dict[str, Figures] = {}
    results: dict[str, Any] = {"scenarios": figures}

    async def baseline_run(key: str, label: str) -> None:
        figures[key] = await drive_baseline(label, baseline, opts.client, meter_base, load)

    await baseline_run("a_baseline", "a. baseline POST /mint")
    async with client_for(pers.base_url, opts.concurrency) as client:
        t0 = time.perf_counter()
        print(f"setup: {opts.users:,} funded logged-in users, 2 redemptions ...", flush=True)
        tenant = await new_tenant(client, "Bench redeems", guests=True)
        guests = await bounded(
            list(range(opts.users)), lambda n: new_guest(client, tenant, n, FUNDS)
        )
        users = [g.headers for g in guests]
        reward = await reward_token(client, tenant)
        large = await new_redemption(client, tenant, reward, LARGE_SUPPLY)
        unlimited = await new_redemption(client, tenant, reward, None)
        results["setup_s"] = round(time.perf_counter() - t0, 1)
        print(f"setup done in {results['setup_s']} s", flush=True)

        def redeem(redemption_id: str) -> Send:
            async def send(conn: Conn, rng: random.Random) -> Any:
                return await conn.post(
                    "/v1.7/redemption/auth/redeem",
                    json={"redemptionId": redemption_id},
                    headers=rng.choice(users),
                )

            return send

        plan: list[tuple[str, str, Send]] = [
            ("r_redeem_large_supply", f"r. redeems, supply {LARGE_SUPPLY:,}, {opts.users:,} users",
             redeem(large)),
            ("u_redeem_unlimited", f"u. redeems, unlimited, {opts.users:,} users",
             redeem(unlimited)),
        ]  # fmt: skip
        for key, label, send in plan:
            print(f"{label} ...", flush=True)
            figures[key] = await drive(
                label, connection_factory(opts.client, pers.base_url), send,
                expect=201, meter=meter_pers, **load,
            )  # fmt: skip
            print_figures(figures[key])
    await baseline_run("a2_baseline_again", "a'. baseline POST /mint (again)")
    return results


def summarize(results: dict[str, Any]) -> list[dict[str, Any]]:
    figures: dict[str, Figures] = results["scenarios"]
    base = (figures["a_baseline"].rps + figures["a2_baseline_again"].rps) / 2

    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 3) if b > 0 else None

    r, u = figures["r_redeem_large_supply"], figures["u_redeem_unlimited"]
    return [
        at_least("r/a redeems vs baseline", ratio(r.rps, base), TARGET_VS_BASELINE),
        row(
            "r p99 ms (32 clients)",
            r.p99_ms,
            f"< {TARGET_P99_MS:.0f}",
            verdict(r.p99_ms, TARGET_P99_MS, at_most=True),
        ),
        row("r/u limited vs unlimited supply", ratio(r.rps, u.rps), "info", "-"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections")
    parser.add_argument("--users", type=int, default=5_000, help="funded logged-in users")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--keep", action="store_true", help="keep .pers-bench/<name>-<timestamp>/")
    args = parser.parse_args(argv)
    opts = Options(
        duration=args.duration, warmup=args.warmup, concurrency=args.concurrency,
        users=args.users, keep=args.keep, client=args.client,
    )  # fmt: skip
    note = (
        f"machine: {os.cpu_count()} cores shared by the server (one uvicorn worker), the "
        f"baseline, PostgreSQL and this client; Python {platform.python_version()}; "
        f"{opts.concurrency} connections, {opts.duration:.0f} s per scenario"
    )
    return run_bench(
        "redeem_load", note, functools.partial(scenarios, opts), summarize, print_short_report,
        options=asdict(opts), keep=opts.keep,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
