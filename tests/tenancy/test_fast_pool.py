"""The fast lane's connection pool (pers.db.FastPool): connections made like the regular
path's, at most ``size`` of them, kept between calls, and replaced when one fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from pers.bootstrap import DatabaseUrls
from pers.config import Settings
from pers.db import Database, FastPool, fast_statement, make_engine
from pers.runtime import Runtime

APP_ROLE = "pers_app"

PoolFactory = Callable[[int], FastPool]


@pytest.fixture
async def fast_pool(database_urls: DatabaseUrls, settings: Settings) -> AsyncIterator[PoolFactory]:
    """Pools built as ``build_runtime`` builds the server's, of a chosen size."""
    role = None if database_urls.dedicated_app_login else APP_ROLE
    made: list[FastPool] = []

    def make(size: int) -> FastPool:
        engine = make_engine(database_urls.app, settings, role=role, pool_size=size)
        made.append(FastPool(engine, size))
        return made[-1]

    yield make
    for pool in made:
        await pool.close()


async def _backend(pool: FastPool) -> int:
    row = await pool.fetchrow("SELECT pg_backend_pid() AS pid")
    assert row is not None
    return int(row["pid"])


def test_the_server_runtime_has_a_fast_pool_of_the_configured_size(runtime: Runtime) -> None:
    assert runtime.db.fast is not None
    assert runtime.db.fast.size == runtime.settings.db_fast_pool_size


async def test_statements_run_as_the_app_role_each_in_its_own_transaction(
    fast_pool: PoolFactory,
) -> None:
    pool = fast_pool(1)
    rows = [
        await pool.fetchrow("SELECT current_user AS who, pg_current_xact_id()::text AS xact")
        for _ in range(2)
    ]
    assert rows[0] is not None
    assert rows[1] is not None
    assert rows[0]["who"] == APP_ROLE
    # No transaction is left open between calls: each statement committed on its own.
    assert rows[0]["xact"] != rows[1]["xact"]
    assert pool.open == 1


async def test_a_connection_is_kept_and_reused(fast_pool: PoolFactory) -> None:
    pool = fast_pool(3)
    first = await _backend(pool)
    assert [await _backend(pool) for _ in range(5)] == [first] * 5
    assert pool.open == 1


async def test_callers_beyond_the_size_wait_and_all_are_served(fast_pool: PoolFactory) -> None:
    pool = fast_pool(2)

    async def sleeper() -> int:
        row = await pool.fetchrow("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)")
        assert row is not None
        return int(row["pid"])

    backends = await asyncio.gather(*(sleeper() for _ in range(8)))
    assert len(backends) == 8
    assert len(set(backends)) == 2
    assert pool.open == 2


async def test_a_server_error_returns_none_and_keeps_the_connection(
    fast_pool: PoolFactory,
) -> None:
    pool = fast_pool(1)
    before = await _backend(pool)
    assert await pool.fetchrow("SELECT 1 / 0") is None
    assert await _backend(pool) == before
    assert pool.open == 1


async def test_a_terminated_backend_is_replaced(
    fast_pool: PoolFactory, owner_engine: AsyncEngine
) -> None:
    pool = fast_pool(1)
    before = await _backend(pool)
    async with owner_engine.connect() as owner:
        await owner.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
    # The server ended the session: the next call on it fails (as the regular path's would;
    # a lost connection propagates, its outcome unknown) ...
    failure: Exception | None = None
    for _ in range(50):
        try:
            await pool.fetchrow("SELECT 1")
        except Exception as exc:  # the driver raises one of several kinds
            failure = exc
            break
        await asyncio.sleep(0.02)  # the backend may still be exiting
    assert failure is not None, "the terminated backend kept answering"
    assert pool.open == 0
    # ... and the next one gets a new connection.
    after = await _backend(pool)
    assert after != before
    assert pool.open == 1


async def test_a_caller_cancelled_mid_statement_frees_its_place(fast_pool: PoolFactory) -> None:
    pool = fast_pool(1)
    before = await _backend(pool)
    task = asyncio.create_task(pool.fetchrow("SELECT pg_sleep(5)"))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.open == 0
    # The connection's state was unknown, so the next caller gets a new one.
    assert await _backend(pool) != before
    assert pool.open == 1


async def test_a_waiter_cancelled_before_its_turn_takes_nothing(fast_pool: PoolFactory) -> None:
    pool = fast_pool(1)
    holder = asyncio.create_task(pool.fetchrow("SELECT pg_sleep(0.3)"))
    await asyncio.sleep(0.05)
    waiter = asyncio.create_task(pool.fetchrow("SELECT 1 AS one"))
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert await holder is not None
    row = await asyncio.wait_for(pool.fetchrow("SELECT 1 AS one"), timeout=5)
    assert row is not None
    assert row["one"] == 1
    assert pool.open == 1


async def test_a_waiter_cancelled_as_a_connection_is_released_leaves_it_idle(
    fast_pool: PoolFactory,
) -> None:
    pool = fast_pool(1)
    held = await pool._acquire()
    waiter = asyncio.create_task(pool._acquire())
    await asyncio.sleep(0)  # the waiter is now waiting for the one connection
    # Cancelled, and in the same turn of the loop the connection comes back: the release
    # passes over the cancelled waiter and keeps the connection.
    waiter.cancel()
    pool._release(held)
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert await pool._acquire() is held
    pool._release(held)
    assert pool.open == 1


async def test_close_returns_the_connections(fast_pool: PoolFactory) -> None:
    pool = fast_pool(2)
    await asyncio.gather(*(pool.fetchrow("SELECT pg_sleep(0.05)") for _ in range(2)))
    assert pool.open == 2
    await pool.close()
    assert pool.open == 0


async def test_fast_statement_uses_the_pool_when_there_is_one(
    fast_pool: PoolFactory, database_urls: DatabaseUrls, settings: Settings
) -> None:
    pool = fast_pool(1)
    role = None if database_urls.dedicated_app_login else APP_ROLE
    db = Database(make_engine(database_urls.app, settings, role=role), pool)
    try:
        row = await fast_statement(db, "SELECT pg_backend_pid() AS pid")
        assert row is not None
        assert pool.open == 1
        assert await _backend(pool) == row["pid"]
        assert db.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await db.engine.dispose()
