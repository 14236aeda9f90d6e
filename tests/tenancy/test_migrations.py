"""The migrations on fresh databases: up, all the way down, up again, and ``alembic check``.

``pers.migrate`` is synchronous and runs its own event loop, so it is called in a thread.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pytest
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import pers.models  # noqa: F401 - registers every table on Base.metadata
from pers import migrate
from pers.db import Base, async_url

MODEL_TABLES = set(Base.metadata.tables)
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _head() -> str:
    head = ScriptDirectory.from_config(
        migrate.alembic_config("postgresql://unused")
    ).get_current_head()
    assert head is not None
    return head


async def _fresh(make_fresh_database: Callable[[str], str], purpose: str) -> str:
    return await asyncio.to_thread(make_fresh_database, f"pers_mig_{purpose}_{WORKER}")


async def _state(url: str) -> tuple[set[str], int, list[str]]:
    """Public tables, RLS policies, and the recorded Alembic revision(s)."""
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as conn:
            tables = set(
                (
                    await conn.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    )
                ).scalars()
            )
            policies = await conn.scalar(
                text("SELECT count(*) FROM pg_policies WHERE schemaname = 'public'")
            )
            versions: list[str] = []
            if "alembic_version" in tables:
                versions = list(
                    (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars()
                )
        return tables, policies, versions
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_to_base_and_upgrade_again(
    make_fresh_database: Callable[[str], str],
) -> None:
    url = await _fresh(make_fresh_database, "roundtrip")
    assert (await _state(url))[0] == set()

    await asyncio.to_thread(migrate.upgrade, url)
    tables, policies, versions = await _state(url)
    assert tables == MODEL_TABLES | {"alembic_version"}
    assert policies == len(MODEL_TABLES - {"tenants"})
    assert versions == [_head()]

    await asyncio.to_thread(migrate.downgrade, url, "base")
    tables, policies, versions = await _state(url)
    assert tables == {"alembic_version"}, f"left behind: {tables - {'alembic_version'}}"
    assert policies == 0
    assert versions == []

    await asyncio.to_thread(migrate.upgrade, url)
    tables, policies, versions = await _state(url)
    assert tables == MODEL_TABLES | {"alembic_version"}
    assert policies == len(MODEL_TABLES - {"tenants"})
    assert versions == [_head()]


async def test_check_passes_at_head(make_fresh_database: Callable[[str], str]) -> None:
    url = await _fresh(make_fresh_database, "check")
    await asyncio.to_thread(migrate.upgrade, url)
    await asyncio.to_thread(migrate.check, url)  # raises when models and schema differ


async def test_check_fails_on_an_unmigrated_database(
    make_fresh_database: Callable[[str], str],
) -> None:
    url = await _fresh(make_fresh_database, "unmigrated")
    with pytest.raises(CommandError, match="not up to date"):
        await asyncio.to_thread(migrate.check, url)
