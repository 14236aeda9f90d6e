"""Assertions shared by the web tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import PLATFORM_KEY, TenantHandle

PROBLEM = "application/problem+json"
PROBLEM_FIELDS = ("type", "title", "status", "detail", "code")
API_KEYS = "/v1.7/tenant/admin/api-key"
TENANTS = "/v1.7/tenant"
PLATFORM = {"x-api-key": PLATFORM_KEY}


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with the given status (and code); returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    for field in PROBLEM_FIELDS:
        assert field in body, f"problem lacks {field!r}: {body}"
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def unique(prefix: str = "idem") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


async def count_keys(client: httpx.AsyncClient, tenant: TenantHandle) -> int:
    response = await client.get(API_KEYS, headers=tenant.admin)
    assert response.status_code == 200, response.text
    return len(response.json())
