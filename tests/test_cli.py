"""`pers db ...` against an external database (PERS_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url


def _pers(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERS_")}
    env["PERS_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "pers.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _tables(url: str) -> set[str]:
    u = make_url(url)
    conn = await asyncpg.connect(
        user=u.username, host=u.query.get("host", u.host), port=u.port, database=u.database
    )
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows}


def test_db_commands_upgrade_check_and_downgrade(make_fresh_database: Any) -> None:
    url = make_fresh_database("pers_cli_test")

    check_before = _pers("db", "check", database_url=url)
    assert check_before.returncode != 0

    upgraded = _pers("db", "upgrade", database_url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert {"tenants", "users", "api_keys"} <= asyncio.run(_tables(url))

    checked = _pers("db", "check", database_url=url)
    assert checked.returncode == 0, checked.stderr

    downgraded = _pers("db", "downgrade", "base", database_url=url)
    assert downgraded.returncode == 0, downgraded.stderr
    assert asyncio.run(_tables(url)) == {"alembic_version"}
