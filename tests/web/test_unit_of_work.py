"""One transaction per request, committed before answering.

A commit-time failure is provoked without touching src: the test installs, in the test database,
a DEFERRABLE INITIALLY DEFERRED constraint trigger. PostgreSQL runs it at COMMIT, so the
request's statements all succeed and only ``session.commit()`` fails, as with a deferred
constraint or a serialization failure detected at commit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from pers.app import create_app
from pers.logs import request_id_var
from pers.runtime import Runtime
from tests.conftest import TenantHandle
from tests.web.helpers import API_KEYS, PLATFORM, TENANTS, assert_problem, count_keys, unique

CONFLICT_NAME = "uow-commit-conflict"
CRASH_NAME = "uow-commit-crash"
RETRY_NAME = "uow-commit-retry-once"
TENANT_PREFIX = "uow-tenant-"

SETUP = [
    "CREATE SEQUENCE uow_commit_attempts",
    f"""
    CREATE FUNCTION uow_fail_at_commit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    BEGIN
        IF TG_TABLE_NAME = 'tenants' THEN
            RAISE EXCEPTION 'deferred check failed' USING ERRCODE = 'unique_violation';
        ELSIF NEW.name = '{CONFLICT_NAME}' THEN
            RAISE EXCEPTION 'deferred check failed' USING ERRCODE = 'unique_violation';
        ELSIF NEW.name = '{CRASH_NAME}' THEN
            RAISE EXCEPTION 'commit-time crash' USING ERRCODE = 'data_exception';
        ELSIF NEW.name = '{RETRY_NAME}' AND nextval('uow_commit_attempts') = 1 THEN
            RAISE EXCEPTION 'could not serialize' USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER uow_fail_at_commit AFTER INSERT ON api_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.name LIKE 'uow-commit-%') EXECUTE FUNCTION uow_fail_at_commit()
    """,
    f"""
    CREATE CONSTRAINT TRIGGER uow_fail_at_commit AFTER INSERT ON tenants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.project_name LIKE '{TENANT_PREFIX}%') EXECUTE FUNCTION uow_fail_at_commit()
    """,
]
TEARDOWN = [
    "DROP TRIGGER IF EXISTS uow_fail_at_commit ON tenants",
    "DROP TRIGGER IF EXISTS uow_fail_at_commit ON api_keys",
    "DROP FUNCTION IF EXISTS uow_fail_at_commit()",
    "DROP SEQUENCE IF EXISTS uow_commit_attempts",
]


async def _run(engine: AsyncEngine, statements: list[str]) -> None:
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


@pytest.fixture
async def commit_failures(owner_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """Commit fails for api keys named uow-commit-* and tenants named uow-tenant-*."""
    await _run(owner_engine, TEARDOWN)
    await _run(owner_engine, SETUP)
    yield owner_engine
    await _run(owner_engine, TEARDOWN)


@pytest.fixture
async def lenient_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """Like ``client``, but an unhandled error is answered (500) instead of re-raised."""
    transport = httpx.ASGITransport(
        app=create_app(runtime, own_runtime=False), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://pers.test") as c:
        yield c


async def test_commit_time_conflict_reaches_the_client_as_409_and_writes_nothing(
    client: httpx.AsyncClient, tenant: TenantHandle, commit_failures: AsyncEngine
) -> None:
    before = await count_keys(client, tenant)

    response = await client.post(API_KEYS, json={"keyName": CONFLICT_NAME}, headers=tenant.admin)

    body = assert_problem(response, 409, "CONFLICT")
    assert "apiPrivateKey" not in body
    assert await count_keys(client, tenant) == before


async def test_commit_time_conflict_stores_no_idempotency_record(
    client: httpx.AsyncClient, tenant: TenantHandle, commit_failures: AsyncEngine
) -> None:
    before = await count_keys(client, tenant)
    headers = {**tenant.admin, "Idempotency-Key": unique()}

    failed = await client.post(API_KEYS, json={"keyName": CONFLICT_NAME}, headers=headers)
    assert_problem(failed, 409, "CONFLICT")
    await _run(commit_failures, TEARDOWN)  # the cause is gone: the same request now succeeds

    retried = await client.post(API_KEYS, json={"keyName": CONFLICT_NAME}, headers=headers)

    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert await count_keys(client, tenant) == before + 1


async def test_commit_time_failure_of_tenant_creation_leaves_nothing_half_written(
    client: httpx.AsyncClient, commit_failures: AsyncEngine
) -> None:
    name = unique(TENANT_PREFIX.rstrip("-"))
    headers = {**PLATFORM, "Idempotency-Key": unique()}

    failed = await client.post(TENANTS, json={"projectName": name}, headers=headers)

    assert_problem(failed, 409, "CONFLICT")
    async with commit_failures.connect() as conn:
        count = text("SELECT count(*) FROM tenants WHERE project_name = :n")
        assert await conn.scalar(count, {"n": name}) == 0
        orphans = text("SELECT count(*) FROM api_keys k WHERE NOT EXISTS "
                       "(SELECT 1 FROM tenants t WHERE t.id = k.tenant_id)")  # fmt: skip
        # Needs an owner that bypasses RLS (the embedded server's postgres superuser does).
        await conn.execute(text("SELECT set_config('row_security', 'off', true)"))
        assert await conn.scalar(orphans) == 0
    await _run(commit_failures, TEARDOWN)
    retried = await client.post(TENANTS, json={"projectName": name}, headers=headers)
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers


async def test_commit_time_serialization_failure_is_retried_once_with_one_effect(
    client: httpx.AsyncClient, tenant: TenantHandle, commit_failures: AsyncEngine
) -> None:
    before = await count_keys(client, tenant)

    response = await client.post(
        API_KEYS,
        json={"keyName": RETRY_NAME},
        headers={**tenant.admin, "Idempotency-Key": unique()},
    )

    assert response.status_code == 201, response.text
    async with commit_failures.connect() as conn:
        attempts = await conn.scalar(text("SELECT last_value FROM uow_commit_attempts"))
    assert attempts == 2, "first commit failed, the retried unit of work committed"
    assert await count_keys(client, tenant) == before + 1


async def test_unexpected_commit_time_error_is_a_500_problem_and_writes_nothing(
    lenient_client: httpx.AsyncClient, tenant: TenantHandle, commit_failures: AsyncEngine
) -> None:
    before = await count_keys(lenient_client, tenant)

    response = await lenient_client.post(
        API_KEYS, json={"keyName": CRASH_NAME}, headers=tenant.admin
    )

    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert "commit-time crash" not in response.text, "internals must not leak"
    assert "apiPrivateKey" not in body
    assert await count_keys(lenient_client, tenant) == before


async def test_500_problem_carries_the_request_id_the_detail_points_to(
    lenient_client: httpx.AsyncClient, tenant: TenantHandle, commit_failures: AsyncEngine
) -> None:
    response = await lenient_client.post(
        API_KEYS,
        json={"keyName": CRASH_NAME},
        headers={**tenant.admin, "X-Request-ID": "uow-crash-1"},
    )

    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert "request id" in body["detail"]
    assert response.headers.get("x-request-id") == "uow-crash-1"


class _RequestIdRecorder(logging.Handler):
    """Records each log line with the request id in effect when it was emitted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.getMessage(), request_id_var.get()))


async def test_unhandled_error_is_logged_under_the_request_id(
    lenient_client: httpx.AsyncClient, tenant: TenantHandle, commit_failures: AsyncEngine
) -> None:
    recorder = _RequestIdRecorder()
    logger = logging.getLogger("pers")
    logger.addHandler(recorder)
    try:
        response = await lenient_client.post(
            API_KEYS,
            json={"keyName": CRASH_NAME},
            headers={**tenant.admin, "X-Request-ID": "uow-crash-2"},
        )
    finally:
        logger.removeHandler(recorder)

    assert_problem(response, 500, "INTERNAL_ERROR")
    assert ("unhandled error", "uow-crash-2") in recorder.lines, recorder.lines
