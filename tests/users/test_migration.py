"""Revision 0004 on a database that already has users: their addresses are derived in Python
with the deployment's deriver, or the upgrade stops."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from pers import migrate
from pers.db import async_url
from pers.wallets.derivation import OwnerType, WalletDeriver

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
SECRET = b"m" * 32

BEFORE = "0003"  # the revision 0004 follows


async def _database_with_users(
    make_fresh_database: Callable[[str], str], purpose: str
) -> tuple[str, uuid.UUID, list[uuid.UUID]]:
    """A database at the revision before 0004, with one tenant and two users (as the owner)."""
    url = await asyncio.to_thread(make_fresh_database, f"pers_mig_users_{purpose}_{WORKER}")
    await asyncio.to_thread(migrate.upgrade, url, BEFORE)
    tenant_id, user_ids = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO tenants (id, project_name, project_api_key, "
                    "testnet_project_api_key) VALUES (:id, 'Old', :k, :tk)"
                ),
                {"id": tenant_id, "k": f"k-{tenant_id}", "tk": f"pk_test_{tenant_id}"},
            )
            for user_id in user_ids:
                await conn.execute(
                    text("INSERT INTO users (tenant_id, id) VALUES (:t, :u)"),
                    {"t": tenant_id, "u": user_id},
                )
    finally:
        await engine.dispose()
    return url, tenant_id, user_ids


async def _addresses(url: str) -> dict[uuid.UUID, str]:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT id, account_address FROM users"))
            return {row.id: row.account_address for row in rows}
    finally:
        await engine.dispose()


async def _revision(url: str) -> str:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as conn:
            return str(await conn.scalar(text("SELECT version_num FROM alembic_version")))
    finally:
        await engine.dispose()


async def test_upgrade_derives_the_addresses_of_existing_users(
    make_fresh_database: Callable[[str], str],
) -> None:
    url, tenant_id, user_ids = await _database_with_users(make_fresh_database, "fill")
    deriver = WalletDeriver(SECRET)

    await asyncio.to_thread(migrate.upgrade, url, "0004", wallets=lambda: deriver)

    assert await _addresses(url) == {
        user_id: deriver.address(tenant_id, OwnerType.USER, user_id) for user_id in user_ids
    }


async def test_upgrade_without_the_deriver_stops_when_users_exist(
    make_fresh_database: Callable[[str], str],
) -> None:
    url, _, _ = await _database_with_users(make_fresh_database, "nokey")

    with pytest.raises(RuntimeError, match="without an account address"):
        await asyncio.to_thread(migrate.upgrade, url, "0004")

    assert await _revision(url) == BEFORE  # the failed revision left nothing behind


async def test_upgrade_of_an_empty_database_needs_no_deriver(
    make_fresh_database: Callable[[str], str],
) -> None:
    url = await asyncio.to_thread(make_fresh_database, f"pers_mig_users_empty_{WORKER}")

    def refuse() -> WalletDeriver:
        raise AssertionError("the deriver is needed only for existing users")

    await asyncio.to_thread(migrate.upgrade, url, "0004", wallets=refuse)
    assert await _revision(url) == "0004"


def _pers_db_upgrade(url: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PERS_")}
    return subprocess.run(
        [sys.executable, "-m", "pers.cli", "db", "upgrade"],
        env={**base, "PERS_DATABASE_URL": url, "PERS_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_pers_db_upgrade_derives_addresses_with_the_deployment_secret(
    make_fresh_database: Callable[[str], str], tmp_path: Path
) -> None:
    url, tenant_id, user_ids = await _database_with_users(make_fresh_database, "cli")

    # A data directory without key material: deriving with a new secret would be wrong.
    refused = await asyncio.to_thread(_pers_db_upgrade, url, tmp_path / "empty")
    assert refused.returncode != 0
    assert "PERS_SECRET_KEY" in refused.stderr
    assert await _revision(url) == BEFORE
    assert not (tmp_path / "empty" / "keys" / "master_secret").exists()

    done = await asyncio.to_thread(
        _pers_db_upgrade, url, tmp_path / "keyed", PERS_SECRET_KEY=SECRET.hex()
    )
    assert done.returncode == 0, done.stderr
    deriver = WalletDeriver(SECRET)
    assert await _addresses(url) == {
        user_id: deriver.address(tenant_id, OwnerType.USER, user_id) for user_id in user_ids
    }
