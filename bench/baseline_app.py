"""The baseline for ``bench.ledger_load``: the least a mint can cost on this stack.

A minimal FastAPI app on an asyncpg pool with one endpoint, ``POST /mint {user, amount}``, that
does in one transaction one INSERT into ``tx`` and one balance upsert. No auth, no ORM, no row
level security: what FastAPI + uvicorn + asyncpg + PostgreSQL give on this machine, so the
server's own figures can be read as a ratio of it.

Run by the benchmark as ``python -m bench.baseline_app`` with ``BASELINE_DATABASE_URL``,
``BASELINE_PORT`` and ``BASELINE_POOL_SIZE`` set; uvicorn serves it with the server's settings
(one worker, no access log, logging at WARNING).
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field

SCHEMA = """
CREATE TABLE IF NOT EXISTS tx (
    id bigserial PRIMARY KEY,
    user_id text NOT NULL,
    amount bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS balances (
    user_id text PRIMARY KEY,
    amount bigint NOT NULL
);
"""

INSERT_TX = "INSERT INTO tx (user_id, amount) VALUES ($1, $2) RETURNING id, created_at"
UPSERT_BALANCE = (
    "INSERT INTO balances (user_id, amount) VALUES ($1, $2) "
    "ON CONFLICT (user_id) DO UPDATE SET amount = balances.amount + excluded.amount"
)


class MintIn(BaseModel):
    user: str = Field(min_length=1, max_length=320)
    amount: int = Field(gt=0)


class MintOut(BaseModel):
    id: int
    user: str
    amount: int
    created_at: str


def create_app(dsn: str, pool_size: int) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(dsn, min_size=min(pool_size, 10), max_size=pool_size)
        async with pool.acquire() as conn:
            await conn.execute(SCHEMA)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    # The same framework settings as pers (pers.app): FastAPI's per-request telemetry check off
    # where the installed FastAPI has it, so the baseline is not slowed by what pers avoids.
    quiet: dict[str, Any] = {}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        quiet["telemetry"] = {"tracing": False, "metrics": False, "logs": False}
    app = FastAPI(lifespan=lifespan, openapi_url=None, **quiet)

    @app.post("/mint", status_code=201, response_model=MintOut)
    async def mint(body: MintIn, request: Request) -> dict[str, Any]:
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(INSERT_TX, body.user, body.amount)
            await conn.execute(UPSERT_BALANCE, body.user, body.amount)
        return {
            "id": row["id"],
            "user": body.user,
            "amount": body.amount,
            "created_at": row["created_at"].isoformat(),
        }

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        """No database: the framework's floor, to compare with the server's."""
        return {"ok": True}

    return app


def main() -> None:
    level = os.environ.get("BASELINE_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=level)
    app = create_app(
        os.environ["BASELINE_DATABASE_URL"], int(os.environ.get("BASELINE_POOL_SIZE", "20"))
    )
    port = int(os.environ["BASELINE_PORT"])
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
