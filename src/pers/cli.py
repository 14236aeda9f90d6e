"""The ``pers`` command."""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pers.config import Settings
from pers.kit.enums import Environment

# Allocations between young-generation collections while serving (CPython's default: 700).
GC_YOUNG_THRESHOLD = 35_000


def prepare_gc_for_serving() -> None:
    """Called once start-up is done, before serving.

    What start-up made (modules, the app, its models: about 150,000 objects) lives as long as
    the process. Frozen, the collector no longer walks it on each full collection (about 80 ms
    on a 2-core machine, during which every request waits: the tail latency).

    A young-generation collection promotes whatever is alive at that instant: the objects of
    the requests in flight, which die soon after. At the default threshold (700 allocations)
    that churn triggered a full collection every 2.5 s under load, each walking the 70,000
    objects made since start-up for 26 to 43 ms while every request waited (measured with
    gc.callbacks in the claim bench). At 35,000 there was none in two minutes of load."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


if TYPE_CHECKING:
    from pers.chain.devchain import DevChainServer
    from pers.wallets.derivation import WalletDeriver


def _serve(settings: Settings, *, all_in_one: bool) -> int:
    import uvicorn

    from pers.app import create_app
    from pers.bootstrap import build_runtime, prepare
    from pers.logs import configure_logging

    configure_logging(settings.log_level)
    deployment, urls = prepare(settings)
    runtime = build_runtime(deployment, urls)
    app = create_app(runtime)
    base = f"http://{settings.host}:{settings.port}"
    mode = (
        "embedded PostgreSQL in " + str(settings.data_dir / "pg")
        if urls.embedded
        else "external PostgreSQL"
    )
    lines = [
        f"pers {'serve' if all_in_one else 'api'} on {base} ({mode})",
        f"  API:      {base}/v1.7/",
        f"  API docs: {base}/docs   (OpenAPI: {base}/openapi.json)",
    ]
    if deployment.platform_api_key_generated or not settings.platform_api_key:
        lines.append(f"  platform key (x-api-key, creates tenants): {deployment.platform_api_key}")
        lines.append(f"    stored in {settings.data_dir / 'keys' / 'platform_api_key'}")
    devchain = _start_devchain(settings) if all_in_one and settings.devchain else None
    if devchain is not None:
        lines.append(
            f"  dev chain: {devchain.url} (chain id {settings.testnet_chain_id}, "
            f"journal in {settings.data_dir / 'devchain'})"
        )
    else:
        lines.append(f"  testnet chain: {settings.testnet_rpc}")
    worker = None
    if all_in_one:
        from pers.settlement.worker import start_worker_thread

        worker = start_worker_thread(deployment, urls)
        lines.append("  settlement worker: running in this process")
    print("\n".join(lines), flush=True)
    prepare_gc_for_serving()
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
    finally:
        if worker is not None:
            thread, stop = worker
            stop.set()
            thread.join(timeout=30)
        if devchain is not None:
            devchain.stop()
    return 0


def _worker(settings: Settings) -> int:
    from pers.bootstrap import prepare
    from pers.logs import configure_logging
    from pers.settlement.worker import run_worker

    configure_logging(settings.log_level)
    deployment, urls = prepare(settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"pers worker: settling on {settings.testnet_rpc} and the configured chains", flush=True)
    run_worker(deployment, urls, stop)
    return 0


def _start_devchain(settings: Settings) -> DevChainServer:
    """The embedded dev chain, served from a thread of this process (the API and the relayer
    reach it over HTTP all the same)."""
    from pers.chain.devchain import open_devchain

    try:
        server = open_devchain(
            settings.testnet_chain_id,
            settings.data_dir,
            settings.devchain_host,
            settings.devchain_port,
        )
    except OSError as exc:
        raise SystemExit(
            f"the dev chain cannot listen on {settings.devchain_host}:{settings.devchain_port} "
            f"({exc.strerror or exc}): set PERS_DEVCHAIN_PORT to a free port, or configure the "
            "testnet chain in PERS_CHAINS to use a running one"
        ) from exc
    return server.start()


def _devchain(settings: Settings) -> int:
    from pers.logs import configure_logging

    configure_logging(settings.log_level)
    if not settings.devchain:
        print(
            f"note: PERS_CHAINS configures the testnet chain {settings.testnet_chain_id}; "
            "pers serve will not use this dev chain",
            file=sys.stderr,
        )
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    server = _start_devchain(settings)
    print(
        f"pers dev chain on {server.url} (chain id {settings.testnet_chain_id}, "
        f"journal in {settings.data_dir / 'devchain'})",
        flush=True,
    )
    try:
        stopped.wait()
    finally:
        server.stop()
    return 0


def _existing_wallets(settings: Settings) -> WalletDeriver:
    """The deployment's wallet deriver, for migrations that fill addresses of existing rows.
    Refuses to generate a new master secret: addresses derived from one would be wrong."""
    from pers.deployment import load_deployment
    from pers.wallets.derivation import WalletDeriver

    if not settings.secret_key and not (settings.data_dir / "keys" / "master_secret").exists():
        raise RuntimeError(
            "existing rows need wallet addresses derived from the deployment's master secret: "
            "set PERS_SECRET_KEY (or PERS_DATA_DIR) as for the API, then run this again"
        )
    return WalletDeriver(load_deployment(settings).master_secret)


def _db(settings: Settings, action: str, revision: str | None) -> int:
    from pers import migrate
    from pers.bootstrap import database_urls

    urls = database_urls(settings)
    role = settings.db_app_role
    if action == "upgrade":
        migrate.upgrade(
            urls.owner,
            revision or "head",
            app_role=role,
            wallets=lambda: _existing_wallets(settings),
        )
    elif action == "downgrade":
        migrate.downgrade(urls.owner, revision or "-1", app_role=role)
    elif action == "check":
        migrate.check(urls.owner, app_role=role)
    print(f"db {action}: done")
    return 0


def _token_deploy(settings: Settings, args: argparse.Namespace) -> int:
    """Record a contract deployment for a tenant, as ``POST /token/admin/deploy`` does; the
    settlement worker sends it. Prints the deployment as JSON. With ``--wait S``: waits up to S
    seconds for a worker (``pers serve`` or ``pers worker``) to finish it; exit 1 if it failed,
    2 if it is still pending."""
    import asyncio
    import json
    import uuid

    from pers.auth.context import Principal, PrincipalKind, RequestContext
    from pers.bootstrap import build_runtime, prepare
    from pers.contract_deployments import service
    from pers.contract_deployments.http_v1 import deployment_read
    from pers.errors import PersError
    from pers.kit.enums import Environment
    from pers.tenants import service as tenants
    from pers.tokens.models import TokenType

    try:
        tenant_id = uuid.UUID(args.tenant)
    except ValueError:
        raise SystemExit(f"--tenant: not a tenant id: {args.tenant}") from None
    deployment, urls = prepare(settings)
    runtime = build_runtime(deployment, urls)

    async def run() -> str:
        try:
            async with runtime.db.unit_of_work() as session:
                if not await tenants.bind_tenant(session, tenant_id):
                    raise SystemExit(f"no tenant {tenant_id}")
                ctx = RequestContext(
                    tenant_id=tenant_id,
                    environment=Environment.TESTNET,
                    principal=Principal(PrincipalKind.PLATFORM),
                    now=runtime.clock.now(),
                    request_id="cli",
                )
                view = await service.request_deployment(
                    session,
                    runtime,
                    ctx,
                    token_type=TokenType(args.type),
                    name=args.name,
                    symbol=args.symbol,
                    decimals=args.decimals,
                    base_uri=args.base_uri,
                )
            deadline = time.monotonic() + (args.wait or 0)
            while view.status.value not in ("succeeded", "failed") and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                async with runtime.db.unit_of_work() as session:
                    await tenants.bind_tenant(session, tenant_id)
                    view = await service.get_deployment(session, ctx, view.id)
            return deployment_read(view).model_dump_json(by_alias=True)
        finally:
            await runtime.close()

    try:
        shown = json.loads(asyncio.run(run()))
    except PersError as exc:
        raise SystemExit(f"{exc.code}: {exc.detail}") from None
    print(json.dumps(shown, indent=2))
    if args.wait is None or shown["status"] == "succeeded":
        return 0
    return 1 if shown["status"] == "failed" else 2


def _reconcile(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when ledger and chains agree, 1 on a difference or a failed intent, 2 when the
    question cannot be answered (bad arguments, database or chain unreachable)."""
    import asyncio
    import json

    from sqlalchemy.exc import SQLAlchemyError

    from pers.bootstrap import database_urls
    from pers.db import Database, make_engine
    from pers.reconcile import report as rendering
    from pers.reconcile.service import (
        ChainReadError,
        Options,
        ReconcileError,
        Report,
        reconcile,
    )

    options = Options(
        tenant=args.tenant,
        environment=args.environment,
        from_block=args.from_block,
        log_range=args.log_range,
        concurrency=args.concurrency,
        rpc_timeout=args.rpc_timeout,
    )

    async def run() -> Report:
        db = Database(make_engine(urls.owner, settings, role=None))
        try:
            return await reconcile(db, settings, wallets, options)
        finally:
            await db.dispose()

    try:
        wallets = _existing_wallets(settings)
        urls = database_urls(settings)
        report = asyncio.run(run())
    except (RuntimeError, ReconcileError, ChainReadError, ValueError) as exc:
        print(f"pers reconcile: {exc}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError) as exc:
        print(
            f"pers reconcile: the database cannot be read ({type(exc).__name__})", file=sys.stderr
        )
        return 2
    if args.json:
        print(json.dumps(rendering.as_json(report), indent=2))
    else:
        print(rendering.as_text(report))
    return report.exit_code


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pers", description="PERS loyalty backend")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "serve",
        help="all-in-one: embedded PostgreSQL and dev chain (by default), migrations, API",
    )
    sub.add_parser("api", help="the API alone (stateless; run several behind a load balancer)")
    sub.add_parser(
        "devchain", help="the embedded dev chain alone (py-evm, JSON-RPC on PERS_DEVCHAIN_PORT)"
    )
    sub.add_parser("worker", help="the settlement relayer alone (run several: they share the work)")
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "downgrade", "check"])
    db.add_argument("revision", nargs="?", help="target (upgrade: head; downgrade: -1)")
    token = sub.add_parser("token", help="token contracts")
    token_sub = token.add_subparsers(dest="action", required=True)
    deploy = token_sub.add_parser(
        "deploy",
        help="deploy pers's credit, status or reward contract for a tenant on its testnet "
        "chain (recorded now, sent by the settlement worker)",
    )
    deploy.add_argument("--tenant", required=True, help="the tenant's id")
    deploy.add_argument("--type", required=True, choices=["ERC20", "ERC721", "ERC1155"])
    deploy.add_argument("--name", required=True)
    deploy.add_argument("--symbol", required=True)
    deploy.add_argument("--decimals", type=int, default=None, help="ERC20 only (default 18)")
    deploy.add_argument("--base-uri", default=None, help="ERC721/ERC1155 metadata base URI")
    deploy.add_argument(
        "--wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait for a worker to deploy it (exit 1: failed, 2: still pending)",
    )
    deploy.add_argument(
        "--environment",
        choices=["testnet"],
        default="testnet",
        help="where the token is registered; deployments target testnet (the mainnet side is "
        "promoted with PUT /token/admin/{id}/mainnet/...)",
    )
    rec = sub.add_parser(
        "reconcile",
        help="compare the settled ledger with the chains, holder by holder (exit 1: differences)",
    )
    rec.add_argument("--tenant", type=uuid.UUID, help="one tenant (id); default: every tenant")
    rec.add_argument(
        "--environment", type=Environment, choices=list(Environment), help="default: both"
    )
    rec.add_argument("--json", action="store_true", help="machine-readable output")
    rec.add_argument(
        "--from-block", type=int, default=0, help="scan transfer logs from this block (default 0)"
    )
    rec.add_argument(
        "--log-range", type=_positive, default=10_000, help="blocks per eth_getLogs (10000)"
    )
    rec.add_argument(
        "--concurrency", type=_positive, default=8, help="JSON-RPC calls in flight per chain (8)"
    )
    rec.add_argument(
        "--rpc-timeout", type=float, default=30.0, help="seconds one JSON-RPC call may take (30)"
    )
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "serve":
        return _serve(settings, all_in_one=True)
    if args.command == "api":
        return _serve(settings, all_in_one=False)
    if args.command == "devchain":
        return _devchain(settings)
    if args.command == "worker":
        return _worker(settings)
    if args.command == "token":
        return _token_deploy(settings, args)
    if args.command == "reconcile":
        return _reconcile(settings, args)
    return _db(settings, args.action, args.revision)


if __name__ == "__main__":
    sys.exit(main())
