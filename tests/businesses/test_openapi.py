"""The Business module's 13 operations of seed 001, as the OpenAPI document declares them."""

from __future__ import annotations

import httpx

V1 = "/v1.7/business"
ADMIN_ONLY = [{"bearerAuth": []}]
BUSINESS_ONLY = [{"apiKey": [], "projectKey": []}]
SEED_OPERATIONS = {
    ("POST", f"{V1}/admin/type"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/type"): ADMIN_ONLY,
    ("DELETE", f"{V1}/admin/type/{{id}}"): ADMIN_ONLY,
    ("GET", f"{V1}/type"): None,
    ("GET", f"{V1}/business/me"): BUSINESS_ONLY,
    ("GET", V1): None,
    ("GET", f"{V1}/admin"): ADMIN_ONLY,
    ("POST", f"{V1}/admin"): ADMIN_ONLY,
    ("GET", f"{V1}/account/{{accountAddress}}"): None,
    ("GET", f"{V1}/{{id}}"): None,
    ("PUT", f"{V1}/admin/{{id}}/api-key"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/{{id}}"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/activate/{{id}}"): ADMIN_ONLY,
}


async def test_openapi_declares_exactly_the_seed_operations_with_their_security(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    found = {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        if path == V1 or path.startswith(V1 + "/")
        for method, operation in item.items()
    }
    assert set(found) == set(SEED_OPERATIONS)
    for key, security in SEED_OPERATIONS.items():
        if security is not None:
            assert found[key]["security"] == security, key
        else:  # readable with the project key by every principal of the tenant
            assert {"projectKey": []} in found[key]["security"], key
    admin_list = found[("GET", f"{V1}/admin")]
    assert {p["name"] for p in admin_list["parameters"]} == {"active", "sanitize"}
