"""Ledger load: mints, transfers and mint-from-URL over HTTP, against a minimal baseline.

    .venv/bin/python -m bench.ledger_load [--duration S] [--concurrency N] [--skip-url] [--keep]

One run starts an embedded PostgreSQL in ``.pers-bench/<name>-<timestamp>/``, the dev chain
(``python -m pers.cli devchain``: token registration checks each contract on it), the real server
(``python -m pers.cli api``, one uvicorn worker, its own login role ``pers_app``) and the
baseline (``bench/baseline_app.py``: FastAPI + asyncpg, one INSERT and one balance upsert per
request), each in its own database on that one PostgreSQL. It sets up tenants, credit tokens,
users and businesses over HTTP, then drives each scenario for a fixed time with a fixed number of
keep-alive connections from this process (httpx), and prints requests/s, p50 and p99 latency and
errors, the ratios to the baseline and the issue's targets (PASS/MISS). The figures also go to
``bench/results/ledger_load-<timestamp>.json``. Everything it started is stopped at the end and
the data directory is removed (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import functools
import http.server
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
APP_ROLE = "pers_app"
PLATFORM_KEY = "pers_bench_" + secrets.token_hex(16)
MINT_URL_PATH = "/v1.7/transaction/admin/mint/token/url"
SETUP_CONCURRENCY = 16
DEV_CHAIN_ID = 131277322940537

TARGET_VS_BASELINE = 0.5
TARGET_ONE_VS_SPREAD = 0.8
TARGET_URL_SECONDS = 60.0
TARGET_URL_RSS_MB = 500.0


# --- the chain -----------------------------------------------------------------------------------


@dataclass
class BenchChain:
    """The dev chain the server checks contracts on, and the deployment's master secret: token
    contracts must be owned by their tenant's operator, which it derives."""

    url: str
    secret_key: str


CHAIN: BenchChain | None = None


def _deploy(chain: BenchChain, tenant_id: str, token_type: str, decimals: int) -> str:
    from eth_account import Account
    from web3 import HTTPProvider, Web3
    from web3.types import RPCEndpoint

    from pers.chain.contracts import ContractName
    from pers.chain.deploy import init_code
    from pers.wallets.derivation import OwnerType, WalletDeriver

    tenant = uuid.UUID(tenant_id)
    key = WalletDeriver(bytes.fromhex(chain.secret_key)).private_key(
        tenant, OwnerType.TENANT, tenant
    )
    operator = Account.from_key(key)
    w3 = Web3(HTTPProvider(chain.url, request_kwargs={"timeout": 30}))
    funded = w3.provider.make_request(RPCEndpoint("pers_fund"), [operator.address, hex(10**20)])
    w3.eth.wait_for_transaction_receipt(funded["result"])
    kind = {"ERC20": ContractName.CREDIT, "ERC721": ContractName.STATUS}.get(
        token_type, ContractName.REWARD
    )
    uri = "" if kind is ContractName.CREDIT else "https://bench.example/"
    data = init_code(kind, "Bench", "BNCH", decimals, uri)
    transaction = {
        "type": 2, "chainId": DEV_CHAIN_ID, "nonce": w3.eth.get_transaction_count(operator.address),
        "to": b"", "value": 0, "gas": 6_000_000, "maxPriorityFeePerGas": 10**9,
        "maxFeePerGas": 10**11, "data": data,
    }  # fmt: skip
    sent = w3.eth.send_raw_transaction(operator.sign_transaction(transaction).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(sent)
    if receipt["status"] != 1 or receipt["contractAddress"] is None:
        raise RuntimeError(f"deploying a {token_type} contract failed: {receipt}")
    return str(receipt["contractAddress"])


async def deploy_contract(tenant_id: str, token_type: str, decimals: int = 0) -> str:
    """A ``token_type`` contract owned by the tenant's operator, on the bench's dev chain."""
    if CHAIN is None:
        raise RuntimeError("the bench's dev chain is not running")
    return await asyncio.to_thread(_deploy, CHAIN, tenant_id, token_type, decimals)


# --- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """This process's environment without any PERS_/BASELINE_ setting that could leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERS_", "BASELINE_"))}
    src = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    return env


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def spawn(name: str, args: list[str], env: dict[str, str], port: int, work: Path) -> Server:
    log = work / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [PYTHON, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Server(name, proc, f"http://127.0.0.1:{port}", log)


def wait_ready(server: Server, path: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited ({server.proc.returncode}):\n{server.tail()}")
        try:
            if httpx.get(server.base_url + path, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s:\n{server.tail()}")


def run_checked(args: list[str], env: dict[str, str], what: str, timeout: float = 300.0) -> None:
    done = subprocess.run(
        [PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def postmaster_pid(work: Path) -> int:
    return int((work / "pg" / "postmaster.pid").read_text().splitlines()[0])


class CpuMeter:
    """CPU seconds used by the server, PostgreSQL (postmaster and backends), this client, and
    the rest of the machine."""

    def __init__(self, server_pid: int, pg_pid: int) -> None:
        self.server = psutil.Process(server_pid)
        self.pg = psutil.Process(pg_pid)
        self.me = psutil.Process()

    @staticmethod
    def _cpu(proc: psutil.Process) -> float:
        try:
            t = proc.cpu_times()
            return float(t.user + t.system)
        except psutil.Error:
            return 0.0

    def sample(self) -> dict[str, float]:
        # The postmaster's own time, its reaped children's (backends that ended) and the live
        # backends': a backend that ends between two samples moves from one sum to the other.
        pg = 0.0
        with contextlib.suppress(psutil.Error):
            t = self.pg.cpu_times()
            pg = t.user + t.system + t.children_user + t.children_system
            pg += sum(self._cpu(c) for c in self.pg.children())
        server, client = self._cpu(self.server), self._cpu(self.me)
        t = psutil.cpu_times()
        busy = sum(t) - t.idle - getattr(t, "iowait", 0.0)
        # Everything else on the machine (other sessions, builds): it competes for the cores.
        other = busy - server - pg - client
        return {"server": server, "postgres": pg, "client": client, "other": other}


# --- load ----------------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_pct: dict[str, float] = field(default_factory=dict)
    # CPU milliseconds per successful request: where the time goes on the shared cores.
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class Reply:
    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class RawHttp:
    """One keep-alive HTTP/1.1 connection, written straight on asyncio streams.

    The load client shares the two cores with the servers and PostgreSQL, so it has to be cheap:
    on this machine httpx spends about 1.1 ms of CPU per request (one client per connection; one
    client shared by 32 connections is slower still, its pool scans every connection on each
    request), this about 0.06 ms. ``--client httpx`` measures with httpx instead.
    """

    def __init__(self, base_url: str) -> None:
        parsed = httpx.URL(base_url)
        self.host = parsed.host
        self.port = parsed.port or 80
        self.authority = f"{self.host}:{self.port}".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, *, json: Any, headers: dict[str, str] | None = None) -> Reply:
        return await self.request("POST", path, json, headers)

    async def get(self, path: str, *, headers: dict[str, str] | None = None) -> Reply:
        return await self.request("GET", path, None, headers)

    async def request(
        self, method: str, path: str, body: Any, headers: dict[str, str] | None
    ) -> Reply:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = b"" if body is None else json_bytes(body)
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self.authority]
        if body is not None:
            head.append(b"Content-Type: application/json")
        head.append(b"Content-Length: %d" % len(data))
        head.extend(f"{k}: {v}".encode() for k, v in (headers or {}).items())
        self.writer.write(b"\r\n".join(head) + b"\r\n\r\n" + data)
        try:
            return await self._read(self.reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await self.aclose()
            raise

    async def _read(self, reader: asyncio.StreamReader) -> Reply:
        lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            parts = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await reader.readexactly(size + 2))
            await reader.readuntil(b"\r\n")
            content = b"".join(p[:-2] for p in parts)
        else:
            content = await reader.readexactly(length)
        if close:
            await self.aclose()
        return Reply(status, content)

    async def aclose(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


Conn = Any  # RawHttp or httpx.AsyncClient: both have ``post(path, json=, headers=)``
Send = Callable[[Conn, random.Random], Awaitable[Any]]
CONNECTION_ERRORS = (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError)


def connection_factory(kind: str, base_url: str) -> Callable[[], Conn]:
    if kind == "raw":
        return lambda: RawHttp(base_url)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return lambda: httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0)


async def drive(
    name: str,
    connect: Callable[[], Conn],
    send: Send,
    *,
    duration: float,
    warmup: float,
    concurrency: int,
    expect: int,
    meter: CpuMeter,
) -> Figures:
    """``concurrency`` workers, each with its own keep-alive connection, send one request after
    another for ``duration`` seconds (after ``warmup`` seconds not counted); every latency is
    kept."""
    latencies: list[float] = []
    errors = 0
    first_errors: list[str] = []
    recording = False
    conns = [connect() for _ in range(concurrency)]

    async def worker(conn: Conn, seed: int, stop_at: float) -> None:
        nonlocal errors
        rng = random.Random(seed)
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            failure: str | None = None
            try:
                response = await send(conn, rng)
                if response.status_code != expect:
                    failure = f"{response.status_code} {response.text[:200]}"
            except CONNECTION_ERRORS as exc:
                failure = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - t0
            if not recording:
                continue
            latencies.append(elapsed)
            if failure is not None:
                errors += 1
                if len(first_errors) < 3:
                    first_errors.append(failure)

    try:
        if warmup > 0:
            stop = time.perf_counter() + warmup
            await asyncio.gather(*(worker(c, i, stop) for i, c in enumerate(conns)))
        recording = True
        before = meter.sample()
        start = time.perf_counter()
        stop = start + duration
        await asyncio.gather(*(worker(c, 1000 + i, stop) for i, c in enumerate(conns)))
        seconds = time.perf_counter() - start
        after = meter.sample()
    finally:
        for conn in conns:
            await conn.aclose()
    ordered = sorted(latencies)
    ok = max(1, len(latencies) - errors)
    return Figures(
        name=name,
        requests=len(latencies),
        errors=errors,
        seconds=round(seconds, 3),
        rps=round((len(latencies) - errors) / seconds, 1),
        p50_ms=round(percentile(ordered, 0.50) * 1000, 2),
        p99_ms=round(percentile(ordered, 0.99) * 1000, 2),
        cpu_pct={k: round(100 * (after[k] - before[k]) / seconds, 1) for k in before},
        cpu_ms_per_request={k: round(1000 * (after[k] - before[k]) / ok, 3) for k in before},
        first_errors=first_errors,
    )


async def bounded(items: list[Any], fn: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(item: Any) -> Any:
        async with gate:
            return await fn(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


def expect_status(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:500]}")
    return response.json()


# --- the economy ---------------------------------------------------------------------------------


@dataclass
class Tenant:
    id: str
    admin: dict[str, str]
    testnet_key: str
    credit: dict[str, Any]
    emails: list[str] = field(default_factory=list)


async def new_tenant(client: httpx.AsyncClient, name: str, *, guests: bool = False) -> Tenant:
    body = expect_status(
        await client.post(
            "/v1.7/tenant", json={"projectName": name}, headers={"x-api-key": PLATFORM_KEY}
        ),
        201,
        "create tenant",
    )
    admin = {"Authorization": f"Bearer {body['jwt']}"}
    if guests:
        expect_status(
            await client.put(
                "/v1.7/tenant/admin", json={"allowJWTForUnauthenticatedUsers": True}, headers=admin
            ),
            200,
            "allow guests",
        )
    token = {
        "contractAddress": await deploy_contract(body["id"], "ERC20", 2),
        "type": "ERC20",
        "decimals": 2,
        "symbol": "PTS",
    }
    credit = expect_status(
        await client.post("/v1.7/token/admin", json=token, headers=admin), 201, "credit token"
    )
    return Tenant(body["id"], admin, body["testnetProjectApiKey"], credit)


async def mint(
    client: Conn, tenant: Tenant, value: str, amount: Any, identifier: str = "email"
) -> Any:
    return await client.post(
        "/v1.7/transaction/admin/mint/credits",
        json={"userEmail": value, "userIdentifier": identifier, "amount": amount},
        headers=tenant.admin,
    )


async def seed_users(client: httpx.AsyncClient, tenant: Tenant, prefix: str, count: int) -> None:
    tenant.emails = [f"{prefix}-{i}@bench.example" for i in range(count)]

    async def one(email: str) -> None:
        expect_status(await mint(client, tenant, email, 1), 201, "seed mint")

    await bounded(tenant.emails, one)


@dataclass
class Guest:
    headers: dict[str, str]
    user_id: str


async def new_guest(client: httpx.AsyncClient, tenant: Tenant, n: int, funds: int) -> Guest:
    tokens = expect_status(
        await client.post(
            "/v1.7/auth/token",
            json={"rawLoginData": {"bench": n}},
            headers={"x-project-key": tenant.testnet_key},
        ),
        200,
        "guest login",
    )
    headers = {
        "Authorization": f"Bearer {tokens['accessToken']}",
        "x-project-key": tenant.testnet_key,
    }
    me = expect_status(await client.get("/v1.7/user/auth/me", headers=headers), 200, "me")
    expect_status(await mint(client, tenant, me["id"], funds, identifier="id"), 201, "fund guest")
    return Guest(headers, me["id"])


async def new_business(client: httpx.AsyncClient, tenant: Tenant, name: str) -> str:
    created = expect_status(
        await client.post("/v1.7/business/admin", json={"displayName": name}, headers=tenant.admin),
        201,
        "create business",
    )
    expect_status(
        await client.put(
            f"/v1.7/business/admin/activate/{created['id']}",
            json={"isActive": True},
            headers=tenant.admin,
        ),
        200,
        "activate business",
    )
    return str(created["id"])


# --- mint from URL -------------------------------------------------------------------------------


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def write_csv(path: Path, rows: int, existing: list[str], rng: random.Random) -> dict[str, int]:
    """``email,amount``: one row in ten to an existing user, the rest to new e-mails."""
    reused = 0
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["email", "amount"])
        for i in range(rows):
            if existing and i % 10 == 0:
                email = existing[(i // 10) % len(existing)]
                reused += 1
            else:
                email = f"url-{i}@bench.example"
            out.writerow([email, f"{rng.randint(1, 10_000) / 100:.2f}"])
    return {"rows": rows, "existing_users": reused, "new_users": rows - reused}


class RssSampler:
    """Samples a process's resident memory every 100 ms in a thread."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.proc = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


async def mint_from_url(
    client: httpx.AsyncClient, server: Server, tenant: Tenant, work: Path, rows: int
) -> dict[str, Any]:
    spec = (await client.get("/openapi.json")).json()
    if MINT_URL_PATH not in spec.get("paths", {}):
        return {"skipped": "endpoint not available"}
    directory = work / "files"
    directory.mkdir(exist_ok=True)
    mix = write_csv(directory / "mint.csv", rows, tenant.emails, random.Random(7))
    rss_before = psutil.Process(server.pid).memory_info().rss
    with serve_directory(directory) as files:
        body = {
            "url": f"{files}/mint.csv",
            "tokenAddress": tenant.credit["contractAddress"],
            "chainId": tenant.credit["chainId"],
            "amount": 1,
        }
        with RssSampler(server.pid) as rss:
            t0 = time.perf_counter()
            response = await client.post(
                MINT_URL_PATH, json=body, headers=tenant.admin, timeout=httpx.Timeout(600.0)
            )
            wall = time.perf_counter() - t0
    if response.status_code in (404, 405):
        return {"skipped": "endpoint not available", "status": response.status_code}
    result: dict[str, Any] = {
        **mix,
        "status": response.status_code,
        "wall_s": round(wall, 2),
        "rows_per_s": round(rows / wall, 1),
        "rss_before_mb": round(rss_before / 2**20, 1),
        "rss_peak_mb": round(rss.peak / 2**20, 1),
        "vm_hwm_mb": None if (hwm := vm_hwm(server.pid)) is None else round(hwm / 2**20, 1),
        "response_bytes": len(response.content),
    }
    if response.status_code == 202:
        result["note"] = "202 Accepted: the wall time covers the enqueue, not the minting"
    if response.status_code >= 300:
        result["error"] = response.text[:500]
    else:
        with contextlib.suppress(ValueError):
            payload = response.json()
            if isinstance(payload, list):
                result["transactions_returned"] = len(payload)
    return result


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Options:
    duration: float
    warmup: float
    concurrency: int
    skip_url: bool
    keep: bool
    users: int
    tenants: int
    guests: int
    businesses: int
    url_rows: int
    skip_new_users: bool
    client: str
    breakdown: bool


def start_servers(work: Path, started: list[Server]) -> tuple[Server, Server, str]:
    global CHAIN
    from pers.embedded import enable_app_login, start_embedded

    owner = start_embedded(work, "pers_bench")
    baseline_url = start_embedded(work, "baseline")
    app = make_url(owner).set(username=APP_ROLE).render_as_string(hide_password=False)
    env = clean_env()
    secret_key = secrets.token_hex(32)
    chain_port = free_port()
    pers_env = {
        **env,
        "PERS_DEVCHAIN_PORT": str(chain_port),
        "PERS_DATABASE_URL": owner,
        "PERS_APP_DATABASE_URL": app,
        "PERS_RUN_MIGRATIONS": "true",
        "PERS_DATA_DIR": str(work),
        "PERS_SECRET_KEY": secret_key,
        "PERS_PLATFORM_API_KEY": PLATFORM_KEY,
        "PERS_LOG_LEVEL": "WARNING",
        "PERS_ACCESS_TOKEN_TTL_SECONDS": "7200",
        "PERS_ALLOW_PRIVATE_URLS": "true",
    }
    # Migrations first (as the owner), then the app role may log in: the API never logs in as
    # the owner, as in a production deployment with PERS_APP_DATABASE_URL.
    run_checked(["-m", "pers.cli", "db", "upgrade"], pers_env, "pers db upgrade")
    enable_app_login(work, APP_ROLE)
    chain = spawn("devchain", ["-m", "pers.cli", "devchain"], pers_env, chain_port, work)
    started.append(chain)
    wait_ready(chain, "/")
    CHAIN = BenchChain(chain.base_url, secret_key)
    pers_port = free_port()
    pers = spawn("pers", ["-m", "pers.cli", "api"], {**pers_env, "PERS_PORT": str(pers_port)},
                 pers_port, work)  # fmt: skip
    started.append(pers)
    base_port = free_port()
    baseline_env = {
        **env,
        "BASELINE_DATABASE_URL": baseline_url,
        "BASELINE_PORT": str(base_port),
        "BASELINE_POOL_SIZE": "20",  # the server's pool (PERS_DB_POOL_SIZE, no overflow)
        "BASELINE_LOG_LEVEL": "WARNING",
    }
    baseline = spawn("baseline", ["-m", "bench.baseline_app"], baseline_env, base_port, work)
    started.append(baseline)
    return pers, baseline, owner


async def pg_version(owner_url: str) -> str:
    import asyncpg

    url = make_url(owner_url)
    conn = await asyncpg.connect(
        user=url.username, host=url.query.get("host", url.host), database=url.database
    )
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def client_for(base_url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(60.0))


BASELINE_USERS = [f"user-{i}" for i in range(10_000)]


async def baseline_mint(conn: Conn, rng: random.Random) -> Any:
    """The baseline's one request: POST /mint to a random one of 10,000 users."""
    return await conn.post("/mint", json={"user": rng.choice(BASELINE_USERS), "amount": 100})


async def drive_baseline(
    label: str, baseline: Server, client: str, meter: CpuMeter, load: dict[str, Any]
) -> Figures:
    """Drive the baseline as a scenario (before and after the server's, in every bench)."""
    print(f"{label} ...", flush=True)
    figures = await drive(
        label, connection_factory(client, baseline.base_url), baseline_mint,
        expect=201, meter=meter, **load,
    )  # fmt: skip
    print_figures(figures)
    return figures


async def scenarios(opts: Options, pers: Server, baseline: Server, work: Path) -> dict[str, Any]:
    meter_pers = CpuMeter(pers.pid, postmaster_pid(work))
    meter_base = CpuMeter(baseline.pid, postmaster_pid(work))
    load = {
        "duration": opts.duration,
        "warmup": opts.warmup,
        "concurrency": opts.concurrency,
    }
    figures: dict[str, Figures] = {}
    results: dict[str, Any] = {"scenarios": figures}

    # a. baseline
    print(f"a. baseline: POST /mint, {len(BASELINE_USERS):,} users ...", flush=True)
    figures["a_baseline"] = await drive(
        "a. baseline POST /mint", connection_factory(opts.client, baseline.base_url), baseline_mint,
        expect=201, meter=meter_base, **load,
    )  # fmt: skip
    print_figures(figures["a_baseline"])
    short = {**load, "duration": min(opts.duration, 5.0)}
    if opts.breakdown:

        async def base_ping(conn: Conn, rng: random.Random) -> Any:
            return await conn.get("/ping")

        print("x0. baseline GET /ping (no database) ...", flush=True)
        figures["x0_baseline_ping"] = await drive(
            "x0. baseline GET /ping (no database)",
            connection_factory(opts.client, baseline.base_url), base_ping,
            expect=200, meter=meter_base, **short,
        )  # fmt: skip
        print_figures(figures["x0_baseline_ping"])

    async with client_for(pers.base_url, opts.concurrency) as client:
        t0 = time.perf_counter()
        print(
            f"setup: 1 tenant x {opts.users:,} users; {opts.tenants} tenants x "
            f"{max(1, opts.users // opts.tenants)} users; {opts.guests:,} funded guests and "
            f"{opts.businesses} businesses ...",
            flush=True,
        )
        one = await new_tenant(client, "Bench one")
        await seed_users(client, one, "one", opts.users)
        spread = await bounded(
            list(range(opts.tenants)), lambda i: new_tenant(client, f"Bench spread {i}")
        )
        per_tenant = max(1, opts.users // opts.tenants)
        await bounded(
            list(enumerate(spread)),
            lambda it: seed_users(client, it[1], f"spread{it[0]}", per_tenant),
        )
        shop = await new_tenant(client, "Bench shop", guests=True)
        businesses = [await new_business(client, shop, f"Shop {i}") for i in range(opts.businesses)]
        guests = await bounded(
            list(range(opts.guests)), lambda n: new_guest(client, shop, n, 100_000)
        )
        results["setup_s"] = round(time.perf_counter() - t0, 1)
        print(f"setup done in {results['setup_s']} s", flush=True)

        async def mint_one(conn: Conn, rng: random.Random) -> Any:
            return await mint(conn, one, rng.choice(one.emails), 1)

        async def mint_new(conn: Conn, rng: random.Random) -> Any:
            return await mint(conn, one, f"new-{uuid.uuid4().hex}@bench.example", 1)

        async def mint_spread(conn: Conn, rng: random.Random) -> Any:
            tenant = rng.choice(spread)
            return await mint(conn, tenant, rng.choice(tenant.emails), 1)

        chain_id = shop.credit["chainId"]

        async def transfer(conn: Conn, rng: random.Random) -> Any:
            return await conn.post(
                "/v1.7/transaction/auth/transfer/credits",
                json={"businessId": rng.choice(businesses), "chainId": chain_id, "amount": 1},
                headers=rng.choice(guests).headers,
            )

        plan: list[tuple[str, str, Send]] = [
            ("b_mint_one_tenant", f"b. mint credits, 1 tenant, {opts.users:,} users", mint_one),
            ("c_mint_spread", f"c. mint credits, {opts.tenants} tenants", mint_spread),
        ]
        if not opts.skip_new_users:
            plan.append(("b2_mint_new_users", "b2. mint credits, 1 tenant, new users", mint_new))
        plan.append(
            (
                "d_transfer",
                f"d. user->business transfer, {opts.guests:,} users, {opts.businesses} shops",
                transfer,
            )
        )
        for key, label, send in plan:
            print(f"{label} ...", flush=True)
            figures[key] = await drive(
                label, connection_factory(opts.client, pers.base_url), send,
                expect=201, meter=meter_pers, **load,
            )  # fmt: skip
            print_figures(figures[key])

        print("a'. baseline again, after the server's scenarios ...", flush=True)
        figures["a2_baseline_again"] = await drive(
            "a'. baseline POST /mint (again)",
            connection_factory(opts.client, baseline.base_url), baseline_mint,
            expect=201, meter=meter_base, **load,
        )  # fmt: skip
        print_figures(figures["a2_baseline_again"])

        if opts.breakdown:

            async def welcome(conn: Conn, rng: random.Random) -> Any:
                return await conn.get("/v1.7/")

            async def admin_check(conn: Conn, rng: random.Random) -> Any:
                return await conn.get("/v1.7/admin", headers=one.admin)

            checks: list[tuple[str, str, Send]] = [
                ("x1_pers_welcome", "x1. pers GET /v1.7/ (no auth, no database)", welcome),
                ("x2_pers_admin_auth", "x2. pers GET /v1.7/admin (admin JWT only)", admin_check),
            ]
            for key, label, send in checks:
                print(f"{label} ...", flush=True)
                figures[key] = await drive(
                    label, connection_factory(opts.client, pers.base_url), send,
                    expect=200, meter=meter_pers, **short,
                )  # fmt: skip
                print_figures(figures[key])

        if opts.skip_url:
            results["e_mint_url"] = {"skipped": "--skip-url"}
        else:
            print(f"e. mint from URL, {opts.url_rows:,} rows ...", flush=True)
            results["e_mint_url"] = await mint_from_url(client, pers, one, work, opts.url_rows)
            print(f"   {results['e_mint_url']}", flush=True)
    return results


def print_figures(f: Figures) -> None:
    cpu = " ".join(
        f"{k} {v:.0f}%" + ("" if k == "other" else f" ({f.cpu_ms_per_request[k]:.2f} ms/req)")
        for k, v in f.cpu_pct.items()
    )
    print(
        f"   {f.rps:8.1f} req/s  p50 {f.p50_ms:7.2f} ms  p99 {f.p99_ms:7.2f} ms  "
        f"errors {f.errors}/{f.requests}  cpu: {cpu}",
        flush=True,
    )
    for error in f.first_errors:
        print(f"     error: {error}", flush=True)


def verdict(value: float | None, target: float, *, at_most: bool = False) -> str:
    if value is None:
        return "n/a"
    ok = value <= target if at_most else value >= target
    return "PASS" if ok else "MISS"


def row(figure: str, value: Any, target: str, verdict_: str) -> dict[str, Any]:
    return {"figure": figure, "value": value, "target": target, "verdict": verdict_}


def at_least(figure: str, value: float | None, target: float) -> dict[str, Any]:
    return row(figure, value, f">= {target}", verdict(value, target))


def summarize(results: dict[str, Any]) -> list[dict[str, Any]]:
    figures: dict[str, Figures] = results["scenarios"]
    # The mean of the baseline before and after the server's scenarios: the machine is shared.
    bases = [f.rps for k, f in figures.items() if k.startswith(("a_", "a2_"))]
    base = sum(bases) / len(bases)
    tenants = results["options"]["tenants"]

    def rps(key: str) -> float | None:
        f = figures.get(key)
        return None if f is None or f.rps <= 0 else f.rps

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or not b else round(a / b, 3)

    b, c, d = rps("b_mint_one_tenant"), rps("c_mint_spread"), rps("d_transfer")
    b2 = rps("b2_mint_new_users")
    rows = [at_least("b/a mint (1 tenant) vs baseline", ratio(b, base), TARGET_VS_BASELINE)]
    if b2 is not None:
        rows.append(row("b2/a mint to new users vs baseline", ratio(b2, base), "(info)", ""))
    rows += [
        at_least(f"c/a mint ({tenants} tenants) vs baseline", ratio(c, base), TARGET_VS_BASELINE),
        at_least("d/a transfer vs baseline", ratio(d, base), TARGET_VS_BASELINE),
        at_least("b/c one tenant's issuer vs spread", ratio(b, c), TARGET_ONE_VS_SPREAD),
    ]

    # CPU per request (server + PostgreSQL) is little moved by other load on the machine: the
    # baseline's over ours is the ratio the cores alone would allow.
    def cpu_cost(key: str) -> float | None:
        f = figures.get(key)
        return (
            None if f is None else f.cpu_ms_per_request["server"] + f.cpu_ms_per_request["postgres"]
        )

    base_costs = [c for k in ("a_baseline", "a2_baseline_again") if (c := cpu_cost(k))]
    base_cost = sum(base_costs) / len(base_costs) if base_costs else None
    for key, label in (("b_mint_one_tenant", "b"), ("c_mint_spread", "c"), ("d_transfer", "d")):
        cost = cpu_cost(key)
        if cost and base_cost:
            rows.append(
                row(f"{label}: CPU ms/req baseline/ours ({base_cost:.2f}/{cost:.2f})",
                    round(base_cost / cost, 3), "(info)", "")
            )  # fmt: skip
    url = results.get("e_mint_url", {})
    if "wall_s" in url and url.get("status", 500) < 300:
        wall, rss = url["wall_s"], url["rss_peak_mb"]
        rows.append(
            row(f"e mint from URL, {url['rows']:,} rows: wall s", wall,
                f"< {TARGET_URL_SECONDS:.0f}", verdict(wall, TARGET_URL_SECONDS, at_most=True))
        )  # fmt: skip
        rows.append(
            row("e mint from URL: server peak RSS MB", rss, f"< {TARGET_URL_RSS_MB:.0f}",
                verdict(rss, TARGET_URL_RSS_MB, at_most=True))
        )  # fmt: skip
    elif "wall_s" in url:
        rows.append(row("e mint from URL", url.get("status"), "2xx", "MISS"))
    else:
        target = f"< {TARGET_URL_SECONDS:.0f} s, < {TARGET_URL_RSS_MB:.0f} MB"
        rows.append(row("e mint from URL", None, target, f"skipped: {url.get('skipped')}"))
    return rows


def print_report(results: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    figures: dict[str, Figures] = results["scenarios"]
    print()
    print("=" * 100)
    print(results["machine_note"])
    print(
        f"load: {results['options']['concurrency']} connections, "
        f"{results['options']['duration']} s per scenario after "
        f"{results['options']['warmup']} s warm-up, {results['options']['client']} client; "
        f"PostgreSQL {results['postgres']}"
    )
    print("-" * 100)
    head = (
        f"{'scenario':<52} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  "
        f"{'cpu %':<15} cpu ms/req"
    )
    print(head)
    for f in figures.values():
        cpu = "/".join(f"{v:.0f}" for v in f.cpu_pct.values())
        per = "/".join(f"{v:.2f}" for k, v in f.cpu_ms_per_request.items() if k != "other")
        print(
            f"{f.name:<52} {f.rps:>9.1f} {f.p50_ms:>8.2f} {f.p99_ms:>8.2f} "
            f"{f.errors:>7}  {cpu:<15} {per}"
        )
    print(
        "  cpu %: server/postgres/client/other processes, of one core (200% is both cores);\n"
        "  cpu ms/req: server/postgres/client CPU per successful request.\n"
        "  The ratios below use the mean of a and a' (the machine is shared)."
    )
    url = results.get("e_mint_url", {})
    if "wall_s" in url:
        print(
            f"{'e. mint from URL':<52} {url['rows_per_s']:>9.1f} rows/s, {url['wall_s']} s, "
            f"status {url['status']}, server RSS {url['rss_before_mb']} -> peak "
            f"{url['rss_peak_mb']} MB (VmHWM {url['vm_hwm_mb']} MB)"
        )
    busy = [f"{f.name.split(' ')[0]} {f.cpu_pct['other']:.0f}%" for f in figures.values()
            if f.cpu_pct.get("other", 0) > 25]  # fmt: skip
    if busy:
        print(
            "  warning: other processes used the cores during "
            + ", ".join(busy)
            + " (of one core): throughput there is lower than on an idle machine"
        )
    print("-" * 100)
    print(f"{'figure':<52} {'value':>9} {'target':>10}  verdict")
    for row in rows:
        value = "-" if row["value"] is None else f"{row['value']}"
        print(f"{row['figure']:<52} {value:>9} {row['target']:>10}  {row['verdict']}")
    print("=" * 100)


def print_short_report(results: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """The scenarios and the targets, one table each (claims, redeems)."""
    print()
    print("=" * 100)
    print(results["machine_note"])
    print("-" * 100)
    print(f"{'scenario':<52} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  cpu ms/req")
    for f in results["scenarios"].values():
        cpu = "/".join(f"{f.cpu_ms_per_request[k]:.2f}" for k in ("server", "postgres", "client"))
        print(f"{f.name:<52} {f.rps:>9.1f} {f.p50_ms:>8.2f} {f.p99_ms:>8.2f} {f.errors:>7}  {cpu}")
        for error in f.first_errors:
            print(f"    error: {error}")
    print("-" * 100)
    print(f"{'figure':<52} {'value':>9} {'target':>10}  verdict")
    for r in rows:
        value = "-" if r["value"] is None else r["value"]
        print(f"{r['figure']:<52} {value!s:>9} {r['target']:>10}  {r['verdict']}")
    print("=" * 100)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for the client when installed (it is, with uvicorn[standard]): less client CPU on
    the shared cores."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ledger_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections")
    parser.add_argument("--skip-url", action="store_true", help="skip mint from URL")
    parser.add_argument("--skip-new-users", action="store_true", help="skip mints to new users")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="load client: raw asyncio HTTP/1.1 (cheap) or httpx")  # fmt: skip
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip the x* scenarios (framework floor, auth alone)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep .pers-bench/<name>-<timestamp>/")
    parser.add_argument("--users", type=int, default=2000, help="users minted to (b and c)")
    parser.add_argument("--tenants", type=int, default=100, help="tenants of scenario c")
    parser.add_argument("--guests", type=int, default=1000, help="paying users (d)")
    parser.add_argument("--businesses", type=int, default=5, help="businesses paid (d)")
    parser.add_argument("--url-rows", type=int, default=100_000, help="rows of the CSV (e)")
    args = parser.parse_args(argv)
    opts = Options(
        duration=args.duration, warmup=args.warmup, concurrency=args.concurrency,
        skip_url=args.skip_url, keep=args.keep, users=args.users, tenants=args.tenants,
        guests=args.guests, businesses=args.businesses, url_rows=args.url_rows,
        skip_new_users=args.skip_new_users, client=args.client,
        breakdown=not args.no_breakdown,
    )  # fmt: skip
    if not 1 <= opts.concurrency <= 256 or not 0 < opts.duration <= 300:
        parser.error("keep --concurrency within 1..256 and --duration within (0, 300]")

    cores = os.cpu_count()
    note = (
        f"machine: {cores} cores shared by the server (one uvicorn worker), the baseline server, "
        f"PostgreSQL (same machine) and this load client; Python {platform.python_version()}"
    )
    return run_bench(
        "ledger_load", note, functools.partial(scenarios, opts), summarize, print_report,
        options=asdict(opts), keep=opts.keep, extra={"cpu_count": cores},
    )  # fmt: skip


Scenarios = Callable[[Server, Server, Path], Awaitable[dict[str, Any]]]


def run_bench(
    name: str,
    note: str,
    run_scenarios: Scenarios,
    summarize_results: Callable[[dict[str, Any]], list[dict[str, Any]]],
    report: Callable[[dict[str, Any], list[dict[str, Any]]], None],
    *,
    options: dict[str, Any],
    keep: bool,
    extra: dict[str, Any] | None = None,
) -> int:
    """Start PostgreSQL, the server and the baseline in a fresh ``.pers-bench/<name>-<timestamp>/``,
    run the scenarios, print the report and write ``bench/results/<name>-<timestamp>.json``;
    stop everything and remove the directory (unless ``keep``) whatever happens."""
    sys.path.insert(0, str(ROOT / "src"))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = ROOT / ".pers-bench" / f"{name}-{stamp}"
    work.mkdir(parents=True)
    print(note, flush=True)
    started: list[Server] = []
    try:
        pers, baseline, owner = start_servers(work, started)
        wait_ready(pers, "/v1.7/")
        wait_ready(baseline, "/docs")
        print(f"pers on {pers.base_url} (pid {pers.pid}), baseline on {baseline.base_url} "
              f"(pid {baseline.pid}), data in {work}", flush=True)  # fmt: skip
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            results = runner.run(run_scenarios(pers, baseline, work))
        results["options"] = options
        results["machine_note"] = note
        results["postgres"] = asyncio.run(pg_version(owner))
        results["timestamp"] = stamp
        results.update(extra or {})
        rows = summarize_results(results)
        report(results, rows)
        for server in (pers, baseline):
            if server.proc.poll() is not None:
                print(f"warning: {server.name} exited early:\n{server.tail()}")
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"{name}-{stamp}.json"
        payload = {
            **{k: v for k, v in results.items() if k != "scenarios"},
            "scenarios": {k: asdict(v) for k, v in results["scenarios"].items()},
            "summary": rows,
        }
        out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"results: {out.relative_to(ROOT)}")
        return 0
    finally:
        for server in started:
            server.stop()
        from pers.embedded import stop_embedded

        with contextlib.suppress(Exception):
            stop_embedded(work)
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
