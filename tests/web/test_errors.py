"""Every error is application/problem+json with type, title, status, detail and code."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TenantHandle
from tests.web.helpers import PLATFORM, TENANTS, assert_problem


async def test_unknown_route_is_404_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1.7/no-such-thing")

    body = assert_problem(response, 404, "NOT_FOUND")
    assert "/v1.7/no-such-thing" in body["detail"]
    assert "category" not in body, "v1.7 problems carry no v2 fields"


async def test_wrong_method_is_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v1.7/healthcheck")

    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers.get("allow", "")


async def test_malformed_json_body_is_400_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TENANTS,
        content=b'{"projectName": "x",',
        headers={**PLATFORM, "content-type": "application/json"},
    )

    body = assert_problem(response, 400, "VALIDATION_ERROR")
    assert body["errors"], body


async def test_missing_required_field_is_400_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(TENANTS, json={}, headers=PLATFORM)

    body = assert_problem(response, 400, "VALIDATION_ERROR")
    fields = [e["field"] for e in body["errors"]]
    assert fields == ["body.projectName"]
    assert "body.projectName" in body["detail"]
    assert all(e["message"] and e["type"] for e in body["errors"])


async def test_unknown_extra_field_is_400(client: httpx.AsyncClient, tenant: TenantHandle) -> None:
    response = await client.put(
        "/v1.7/tenant/admin", json={"projectName": "x", "surprise": 1}, headers=tenant.admin
    )

    body = assert_problem(response, 400, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == ["body.surprise"]
    unchanged = await client.get("/v1.7/tenant/admin", headers=tenant.admin)
    assert unchanged.json()["projectName"] == "Tenant A"


async def test_invalid_query_parameter_is_400_not_422(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get(
        "/v1.7/tenant/admin/api-key", params={"includeRevoked": "maybe"}, headers=tenant.admin
    )

    body = assert_problem(response, 400, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == ["query.includeRevoked"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "MISSING_CREDENTIALS"),
        ({"Authorization": "Bearer not-a-jwt"}, "INVALID_TOKEN"),
        ({"Authorization": "Basic abc"}, "INVALID_TOKEN"),
        ({"x-api-key": "wrong"}, "INVALID_API_KEY"),
    ],
)
async def test_401_carries_www_authenticate(
    client: httpx.AsyncClient, headers: dict[str, str], code: str
) -> None:
    response = await client.get("/v1.7/admin", headers=headers)

    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_403_is_a_problem_without_www_authenticate(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get("/v1.7/system", headers=tenant.admin)

    assert_problem(response, 403, "PRINCIPAL_NOT_ALLOWED")
    assert "www-authenticate" not in response.headers


async def test_v2_problem_adds_category_retryable_and_correlation_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v2/auth/token", json={})

    body = assert_problem(response, 401, "MISSING_CREDENTIALS")
    assert body["category"] == "SECURITY"
    assert body["retryable"] is False
    assert body["correlationId"] == response.headers["x-request-id"]
    assert body["message"] == body["detail"]
    assert body["timestamp"]


async def test_v2_validation_problem_is_categorised_as_validation(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.post(
        "/v2/auth/token", json={"authType": "nonsense"}, headers=tenant.public
    )

    body = assert_problem(response, 400, "VALIDATION_ERROR")
    assert body["category"] == "VALIDATION"
    assert body["retryable"] is False
    assert body["correlationId"] == response.headers["x-request-id"]


async def test_v1_problem_has_no_v2_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1.7/auth/token", json={})

    body = assert_problem(response, 401, "MISSING_CREDENTIALS")
    assert not {"category", "retryable", "correlationId"} & body.keys()
