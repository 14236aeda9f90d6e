"""Fixtures for the web tests: a direct owner connection to inspect what was committed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pers.db import async_url


@pytest.fixture(scope="session")
async def owner_engine(owner_url: str) -> AsyncIterator[AsyncEngine]:
    """The table owner's connection, outside the app, to check what was committed.

    Row Level Security is forced on tenant tables: set ``pers.tenant_id`` to read them.
    """
    engine = create_async_engine(async_url(owner_url))
    yield engine
    await engine.dispose()
