"""Test harness: a fresh database per run on the embedded PostgreSQL (or
``PERS_TEST_DATABASE_URL``), built by the migrations, and the ASGI app through httpx."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from pers import migrate
from pers.app import create_app
from pers.bootstrap import DatabaseUrls, build_runtime
from pers.chain.devchain import DevChain, DevChainServer
from pers.config import ChainSetting, Settings
from pers.deployment import load_deployment
from pers.runtime import Runtime
from tests import contracts
from tests.contracts import DEV_CHAIN_ID, MAINNET_CHAIN_ID

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_KEY = "pers_platform_test_key"


class MovableClock:
    """Real time plus an offset tests can move; reset after every test."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def _server_url() -> str:
    external = os.environ.get("PERS_TEST_DATABASE_URL")
    if external:
        return external
    from pers.embedded import start_embedded

    return start_embedded(ROOT / ".pers-test", "postgres")


def _create_database(server_url: str, name: str) -> str:
    import asyncio

    import asyncpg

    url = make_url(server_url)

    async def create() -> None:
        conn = await asyncpg.connect(
            user=url.username, password=url.password, host=url.query.get("host", url.host),
            port=url.port, database=url.database or "postgres",
        )  # fmt: skip
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url() -> str:
    return _server_url()


@pytest.fixture(scope="session")
def owner_url(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = _create_database(server_url, f"pers_test_{worker}")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def make_fresh_database(server_url: str) -> Any:
    """A new empty database (for migration tests); returns its owner URL."""

    def make(name: str) -> str:
        return _create_database(server_url, name)

    return make


@pytest.fixture(scope="session")
def devchains() -> Iterator[dict[int, DevChainServer]]:
    """The session's chains, in memory, served over HTTP on loopback: the dev chain (testnet)
    and a second dev chain standing in for the mainnet chain."""
    servers = {
        chain_id: DevChainServer(DevChain(chain_id, None), "127.0.0.1", 0).start()
        for chain_id in (DEV_CHAIN_ID, MAINNET_CHAIN_ID)
    }
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def settings(
    tmp_path_factory: pytest.TempPathFactory, devchains: dict[int, DevChainServer]
) -> Settings:
    testnet = make_url(devchains[DEV_CHAIN_ID].url)
    mainnet = ChainSetting(
        chain_id=MAINNET_CHAIN_ID,
        name="test mainnet (a dev chain)",
        rpc_url=devchains[MAINNET_CHAIN_ID].url,
        is_testnet=False,
        confirmations=1,
    )
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        platform_api_key=PLATFORM_KEY,
        database_url="postgresql://unused",  # the tests pass URLs explicitly
        jwks_cache_seconds=0,
        devchain_host=testnet.host,
        devchain_port=testnet.port,
        chains=[mainnet],
        mainnet_chain_id=MAINNET_CHAIN_ID,
    )


@pytest.fixture(scope="session")
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(autouse=True)
def _reset_clock(clock: MovableClock) -> Iterator[None]:
    yield
    clock.offset = timedelta(0)


APP_ROLE = "pers_app"


@pytest.fixture(scope="session")
def database_urls(owner_url: str) -> DatabaseUrls:
    """As in production: on the embedded server the API logs in as the app role itself.
    An external test server keeps the owner login with the role switch (no password known)."""
    if os.environ.get("PERS_TEST_DATABASE_URL"):
        return DatabaseUrls(
            owner=owner_url, app=owner_url, embedded=False, dedicated_app_login=False
        )
    from pers.embedded import enable_app_login

    enable_app_login(ROOT / ".pers-test", APP_ROLE)
    app = make_url(owner_url).set(username=APP_ROLE).render_as_string(hide_password=False)
    return DatabaseUrls(owner=owner_url, app=app, embedded=False, dedicated_app_login=True)


@pytest.fixture(scope="session")
async def runtime(
    settings: Settings, database_urls: DatabaseUrls, clock: MovableClock
) -> AsyncIterator[Runtime]:
    deployment = load_deployment(settings)
    rt = build_runtime(deployment, database_urls, clock)
    yield rt
    await rt.close()


@pytest.fixture(scope="session")
def deployer(
    runtime: Runtime, devchains: dict[int, DevChainServer]
) -> Iterator[contracts.Deployer]:
    """Deploys contracts for tenants' operators (``tests.contracts.deployed``)."""
    deployer = contracts.Deployer(devchains, runtime.wallets)
    contracts.install(deployer)
    yield deployer
    contracts.install(None)


@pytest.fixture(scope="session")
async def client(
    runtime: Runtime, deployer: contracts.Deployer
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime, own_runtime=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pers.test") as c:
        yield c


@pytest.fixture
async def regular_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The same API with the fast lane switched off (PERS_FAST_LANE=false): every request
    through the regular path, to compare the lane's answers with."""
    settings = runtime.settings.model_copy(update={"fast_lane": False})
    app = create_app(dataclasses.replace(runtime, settings=settings), own_runtime=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pers.test") as c:
        yield c


def fast_lane_outcomes(client: httpx.AsyncClient) -> Counter[tuple[str, bool]]:
    """How many requests of each path the client's app answered in the fast lane (True) and
    declined to the regular path (False)."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    outcomes: Counter[tuple[str, bool]] = transport.app.state.fast_lane_outcomes  # type: ignore[attr-defined]
    return outcomes


class TenantHandle:
    """A tenant created through the API, with its one-time credentials."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.id = uuid.UUID(body["id"])
        self.project_key: str = body["projectApiKey"]
        self.testnet_key: str = body["testnetProjectApiKey"]
        self.admin_jwt: str = body["jwt"]

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_jwt}"}

    @property
    def public(self) -> dict[str, str]:
        return {"x-project-key": self.testnet_key}


async def create_tenant(client: httpx.AsyncClient, name: str = "Acme") -> TenantHandle:
    response = await client.post(
        "/v1.7/tenant", json={"projectName": name}, headers={"x-api-key": PLATFORM_KEY}
    )
    assert response.status_code == 201, response.text
    return TenantHandle(response.json())


@pytest.fixture
async def tenant(client: httpx.AsyncClient) -> TenantHandle:
    return await create_tenant(client, "Tenant A")


@pytest.fixture
async def other_tenant(client: httpx.AsyncClient) -> TenantHandle:
    return await create_tenant(client, "Tenant B")


@pytest.fixture(scope="session")
async def _owner_engine_for_checks(owner_url: str) -> AsyncIterator[Any]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from pers.db import async_url

    engine = create_async_engine(async_url(owner_url), pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True)
async def _value_is_conserved(_owner_engine_for_checks: Any) -> AsyncIterator[None]:
    """After every test: every token's postings, in every tenant and environment, sum to zero
    (DESIGN section 6)."""
    yield
    from sqlalchemy import text

    async with _owner_engine_for_checks.connect() as conn:
        unbalanced = (
            await conn.execute(
                text(
                    "SELECT tenant_id, environment, token_id, token_key, sum(amount) "
                    "FROM postings GROUP BY 1, 2, 3, 4 HAVING sum(amount) <> 0 LIMIT 5"
                )
            )
        ).all()
    assert unbalanced == [], f"value created or lost: {unbalanced}"
