"""The User module in the OpenAPI document: its operations and who may call them."""

from __future__ import annotations

import httpx

USER_OPERATIONS = {
    ("get", "/v1.7/user/auth/me"): [{"bearerAuth": [], "projectKey": []}],
    ("put", "/v1.7/user/auth/me"): [{"bearerAuth": [], "projectKey": []}],
    ("get", "/v1.7/user/admin"): [{"bearerAuth": []}],
    ("post", "/v1.7/user/admin"): [{"bearerAuth": []}],
    ("get", "/v1.7/user/admin/{userId}"): [{"bearerAuth": []}],
    ("put", "/v1.7/user/admin/{userId}"): [{"bearerAuth": []}],
    ("put", "/v1.7/user/admin/{userId}/toggle-active"): [{"bearerAuth": []}],
    ("post", "/v1.7/user/info"): [{"bearerAuth": []}, {"apiKey": [], "projectKey": []}],
    ("get", "/v1.7/user/auth/me/status"): [{"bearerAuth": [], "projectKey": []}],
    ("get", "/v1.7/user/admin/{userId}/status"): [{"bearerAuth": []}],
    ("post", "/v1.7/user/admin/status-type"): [{"bearerAuth": []}],
    ("put", "/v1.7/user/admin/status-type/{statusTypeId}"): [{"bearerAuth": []}],
}


async def test_user_operations_are_documented_with_their_security(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    documented = {
        (method, path): operation["security"]
        for path, item in spec["paths"].items()
        if path.startswith("/v1.7/user")
        for method, operation in item.items()
    }
    status_types = documented.pop(("get", "/v1.7/user/status-type"))
    assert documented == USER_OPERATIONS
    assert {"projectKey": []} in status_types  # a project key alone reads them
    info = spec["paths"]["/v1.7/user/info"]["post"]["responses"]
    assert "application/problem+json" in info["404"]["content"]
    page = spec["components"]["schemas"]["UserPage"]["properties"]
    assert set(page) == {"data", "pagination"}
