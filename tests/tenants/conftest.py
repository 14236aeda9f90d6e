"""Fixtures for the tenancy tests: a connection as the table owner (bypasses RLS)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pers.db import async_url


@pytest.fixture
async def owner_engine(owner_url: str) -> AsyncIterator[AsyncEngine]:
    """The migration owner (a superuser on the embedded server): sees every tenant's rows."""
    engine = create_async_engine(async_url(owner_url))
    yield engine
    await engine.dispose()
