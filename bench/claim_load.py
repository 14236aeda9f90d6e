"""Claim load: campaign claims over HTTP, against the ledger bench's baseline.

    .venv/bin/python -m bench.claim_load [--duration S] [--users N] [--campaigns N] [--keep]

Same machinery as ``bench.ledger_load`` (embedded PostgreSQL, the real server with its own
login role, the FastAPI + asyncpg baseline, the raw HTTP client, CPU per process). Set-up over
HTTP: one tenant, its credit token, ``--users`` guest users (each logged in: the user claims),
``--emails`` users named by e-mail, and ``--campaigns`` + 2 active campaigns, each with one
trigger carrying one condition (``store`` EQUALS ``north``) and one token unit (1 credit).

Scenarios, ``--duration`` seconds each at ``--concurrency`` connections:

    a, a'  baseline POST /mint (before and after)
    f      POST /v1.7/campaign/auth/claim: a random one of the users claims the one campaign
    g      POST /v1.7/campaign/system/claim: the system claims for a random e-mail
    h      the same as f, each claim on a random one of ``--campaigns`` campaigns

and prints the issue's targets: f/a and g/a at 0.5 or more, p99 of f under 100 ms, f/h at 0.8 or
more (the campaign is not a hot row). Figures go to ``bench/results/claim_load-<ts>.json``.
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
    drive,
    drive_baseline,
    expect_status,
    new_tenant,
    postmaster_pid,
    print_figures,
    print_short_report,
    row,
    run_bench,
    seed_users,
    verdict,
)

RESULTS = ROOT / "bench" / "results"
TARGET_VS_BASELINE = 0.5
TARGET_P99_MS = 100.0
TARGET_ONE_VS_SPREAD = 0.8
CONDITIONS = {"store": "north"}


@dataclass
class Options:
    duration: float
    warmup: float
    concurrency: int
    users: int
    emails: int
    campaigns: int
    keep: bool
    client: str


async def login(client: httpx.AsyncClient, tenant: Tenant, n: int) -> dict[str, str]:
    tokens = expect_status(
        await client.post(
            "/v1.7/auth/token",
            json={"rawLoginData": {"claimer": n}},
            headers={"x-project-key": tenant.testnet_key},
        ),
        200,
        "guest login",
    )
    return {"Authorization": f"Bearer {tokens['accessToken']}", "x-project-key": tenant.testnet_key}


async def new_campaign(
    client: httpx.AsyncClient, tenant: Tenant, name: str, trigger_type: str
) -> str:
    admin = tenant.admin
    base = "/v1.7/campaign/admin"
    campaign = expect_status(
        await client.post(base, json={"name": name}, headers=admin), 201, "campaign"
    )
    cid = campaign["id"]
    expect_status(
        await client.post(
            f"{base}/{cid}/token-units",
            json={"tokenId": tenant.credit["id"], "amount": 1},
            headers=admin,
        ),
        201,
        "token unit",
    )
    trigger = expect_status(
        await client.post(
            f"{base}/trigger", json={"name": name, "triggerType": trigger_type}, headers=admin
        ),
        201,
        "trigger",
    )
    ((key, value),) = CONDITIONS.items()
    condition = expect_status(
        await client.post(
            f"{base}/trigger-condition",
            json={"conditionType": "EQUALS", "key": key, "value": value},
            headers=admin,
        ),
        201,
        "condition",
    )
    expect_status(
        await client.put(
            f"{base}/trigger/{trigger['id']}/condition/{condition['id']}", headers=admin
        ),
        200,
        "attach condition",
    )
    expect_status(
        await client.put(f"{base}/{cid}/trigger/{trigger['id']}", headers=admin), 200, "trigger"
    )
    expect_status(await client.put(f"{base}/{cid}/activate", headers=admin), 200, "activate")
    return str(cid)


async def system_key(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    key = expect_status(
        await client.post(
            "/v1.7/tenant/admin/api-key", json={"keyName": "bench"}, headers=tenant.admin
        ),
        201,
        "system key",
    )
    return {"x-api-key": key["apiPrivateKey"], "x-project-key": tenant.testnet_key}


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
        print(
            f"setup: {opts.users:,} logged-in users, {opts.emails:,} users by e-mail, "
            f"{opts.campaigns + 2} campaigns ...",
            flush=True,
        )
        tenant = await new_tenant(client, "Bench claims", guests=True)
        users = await bounded(list(range(opts.users)), lambda n: login(client, tenant, n))
        await seed_users(client, tenant, "claimer", opts.emails)
        one = await new_campaign(client, tenant, "One", "CLAIM_BY_USER")
        by_system = await new_campaign(client, tenant, "System", "CLAIM_BY_SYSTEM")
        spread = await bounded(
            list(range(opts.campaigns)),
            lambda i: new_campaign(client, tenant, f"Spread {i}", "CLAIM_BY_USER"),
        )
        system = await system_key(client, tenant)
        results["setup_s"] = round(time.perf_counter() - t0, 1)
        print(f"setup done in {results['setup_s']} s", flush=True)

        async def user_claim(conn: Conn, rng: random.Random) -> Any:
            return await conn.post(
                "/v1.7/campaign/auth/claim",
                json={"campaignId": one, "conditionsData": CONDITIONS},
                headers=rng.choice(users),
            )

        async def system_claim(conn: Conn, rng: random.Random) -> Any:
            return await conn.post(
                "/v1.7/campaign/system/claim",
                json={
                    "campaignId": by_system,
                    "conditionsData": CONDITIONS,
                    "userIdentifier": "email",
                    "email": rng.choice(tenant.emails),
                },
                headers=system,
            )

        async def spread_claim(conn: Conn, rng: random.Random) -> Any:
            return await conn.post(
                "/v1.7/campaign/auth/claim",
                json={"campaignId": rng.choice(spread), "conditionsData": CONDITIONS},
                headers=rng.choice(users),
            )

        plan: list[tuple[str, str, Send]] = [
            ("f_user_claims_one", f"f. user claims, 1 campaign, {opts.users:,} users", user_claim),
            ("g_system_claims", f"g. system claims by e-mail, {opts.emails:,} users", system_claim),
            ("h_user_claims_spread", f"h. user claims, {opts.campaigns} campaigns", spread_claim),
        ]
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

    f, g, h = (
        figures["f_user_claims_one"],
        figures["g_system_claims"],
        figures["h_user_claims_spread"],
    )
    campaigns = results["options"]["campaigns"]
    return [
        at_least("f/a user claims vs baseline", ratio(f.rps, base), TARGET_VS_BASELINE),
        at_least("g/a system claims vs baseline", ratio(g.rps, base), TARGET_VS_BASELINE),
        row(
            "f p99 ms (32 clients)",
            f.p99_ms,
            f"< {TARGET_P99_MS:.0f}",
            verdict(f.p99_ms, TARGET_P99_MS, at_most=True),
        ),
        row(
            "g p99 ms",
            g.p99_ms,
            f"< {TARGET_P99_MS:.0f}",
            verdict(g.p99_ms, TARGET_P99_MS, at_most=True),
        ),
        at_least(
            f"f/h one campaign vs {campaigns} campaigns", ratio(f.rps, h.rps), TARGET_ONE_VS_SPREAD
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections")
    parser.add_argument("--users", type=int, default=10_000, help="logged-in users (f, h)")
    parser.add_argument("--emails", type=int, default=2_000, help="users named by e-mail (g)")
    parser.add_argument("--campaigns", type=int, default=50, help="campaigns of scenario h")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--keep", action="store_true", help="keep .pers-bench/<name>-<timestamp>/")
    args = parser.parse_args(argv)
    opts = Options(
        duration=args.duration, warmup=args.warmup, concurrency=args.concurrency,
        users=args.users, emails=args.emails, campaigns=args.campaigns, keep=args.keep,
        client=args.client,
    )  # fmt: skip
    note = (
        f"machine: {os.cpu_count()} cores shared by the server (one uvicorn worker), the "
        f"baseline, PostgreSQL and this client; Python {platform.python_version()}; "
        f"{opts.concurrency} connections, {opts.duration:.0f} s per scenario"
    )
    return run_bench(
        "claim_load", note, functools.partial(scenarios, opts), summarize, print_short_report,
        options=asdict(opts), keep=opts.keep,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
