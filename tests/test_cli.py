"""`pers db ...` against an external database (PERS_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from pers.cli import GC_YOUNG_THRESHOLD, prepare_gc_for_serving


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


def test_worker_starts_settles_nothing_and_stops_cleanly_on_sigterm(
    make_fresh_database: Any, tmp_path: Any
) -> None:
    """`pers worker` on an external database: it starts, polls (no tenant, nothing to do) and
    stops at SIGTERM with status 0, letting go of its connections."""
    import signal
    import time

    url = make_fresh_database("pers_cli_worker")
    assert _pers("db", "upgrade", database_url=url).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERS_")}
    env |= {"PERS_DATABASE_URL": url, "PERS_DATA_DIR": str(tmp_path), "PERS_LOG_LEVEL": "INFO"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pers.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "pers worker: settling" in out
    assert "settlement worker stopped" in err


def test_serving_freezes_start_up_objects_and_collects_young_ones_less_often() -> None:
    before = gc.get_threshold()
    try:
        prepare_gc_for_serving()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
