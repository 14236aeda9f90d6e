"""The Campaign operations of seed 001, claims included, as the OpenAPI document declares them."""

from __future__ import annotations

import httpx

V1 = "/v1.7/campaign"
ADMIN_ONLY = [{"bearerAuth": []}]
KEY_HOLDER = [{"apiKey": [], "projectKey": []}]
USER_ONLY = [{"bearerAuth": [], "projectKey": []}]
SEED_OPERATIONS = {
    ("GET", V1): None,
    ("GET", f"{V1}/admin"): ADMIN_ONLY,
    ("POST", f"{V1}/admin"): ADMIN_ONLY,
    ("GET", f"{V1}/{{id}}"): None,
    ("PUT", f"{V1}/admin/{{id}}"): ADMIN_ONLY,
    ("DELETE", f"{V1}/admin/{{id}}"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/{{id}}/activate"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/{{id}}/environment"): ADMIN_ONLY,
    ("POST", f"{V1}/admin/{{id}}/token-units"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/{{id}}/token-units/{{tokenUnitId}}"): ADMIN_ONLY,
    ("DELETE", f"{V1}/admin/{{id}}/token-units/{{tokenUnitId}}"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/{{id}}/trigger/{{triggerId}}"): ADMIN_ONLY,
    ("POST", f"{V1}/admin/{{id}}/business-engagement"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/{{id}}/business-engagement/{{businessEngagementId}}"): ADMIN_ONLY,
    ("DELETE", f"{V1}/admin/{{id}}/business-engagement/{{businessEngagementId}}"): ADMIN_ONLY,
    ("GET", f"{V1}/trigger/all"): None,
    ("POST", f"{V1}/admin/trigger"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/trigger/{{id}}"): ADMIN_ONLY,
    ("DELETE", f"{V1}/admin/trigger/{{id}}"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/trigger/{{triggerId}}/condition/{{conditionId}}"): ADMIN_ONLY,
    ("POST", f"{V1}/admin/trigger-condition"): ADMIN_ONLY,
    ("PUT", f"{V1}/admin/trigger-condition/{{id}}"): ADMIN_ONLY,
    # claims and their history
    ("POST", f"{V1}/system/claim"): KEY_HOLDER,
    ("POST", f"{V1}/business/claim"): KEY_HOLDER,
    ("POST", f"{V1}/auth/claim"): USER_ONLY,
    ("GET", f"{V1}/auth/claim"): USER_ONLY,
    ("GET", f"{V1}/auth/{{campaignId}}/claim"): USER_ONLY,
    ("GET", f"{V1}/admin/claim"): ADMIN_ONLY,
    ("GET", f"{V1}/admin/{{campaignId}}/claim"): ADMIN_ONLY,
    ("GET", f"{V1}/admin/claim/user/{{userId}}"): ADMIN_ONLY,
    ("GET", f"{V1}/admin/claim/business/{{businessId}}"): ADMIN_ONLY,
}


async def test_openapi_declares_the_seed_operations_with_their_security(
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
    assert {p["name"] for p in admin_list["parameters"]} == {"active"}
    schemas = spec["components"]["schemas"]
    assert "maxPerBussiness" in schemas["EngagementWrite"]["properties"]
    assert set(schemas["ConditionWrite"]["properties"]["conditionType"].get("enum", [])) | set(
        schemas.get("ConditionType", {}).get("enum", [])
    ) == {"EQUALS", "NOT_EQUALS", "GREATER_THAN", "LESS_THAN", "CONTAINS", "IS_PART_OF"}
    assert set(schemas["TriggerType"]["enum"]) == {
        "CLAIM_BY_USER",
        "CLAIM_BY_SYSTEM",
        "CLAIM_BY_BUSINESS",
    }
