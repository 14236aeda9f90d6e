"""The seven Tenant operations of the v1.7 contract, field by field, and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from pers.runtime import Runtime
from tests.conftest import PLATFORM_KEY, TenantHandle, create_tenant

PROBLEM = "application/problem+json"
PUBLIC_FIELDS = {
    "projectName",
    "id",
    "createdAt",
    "projectDescription",
    "projectWebsite",
    "projectEmail",
    "projectImageUrl",
}
CLIENT_CONFIG_FIELDS = {
    "projectName",
    "id",
    "stripePublishableKey",
    "firebaseTenantId",
    "infuraApiKey",
    "polyScanApiKey",
}
EVERY_FIELD: dict[str, Any] = {
    "projectName": "Renamed Project",
    "projectDescription": "Loyalty for coffee lovers",
    "stripeApiKey": "sk_test_secret_51abc",
    "stripeWebhookSecret": "whsec_secret_xyz",
    "stripePublishableKey": "pk_test_publishable_123",
    "loginToken": "login-token-42",
    "allowJWTForUnauthenticatedUsers": True,
    "firebaseTenantId": "firebase-tenant-7",
    "projectWebsite": "https://coffee.example",
    "projectEmail": "hello@coffee.example",
    "projectImageUrl": "https://coffee.example/logo.png",
    "infuraApiKey": "infura-key-1",
    "polyScanApiKey": "polyscan-key-1",
}
CLEARABLE = [
    "projectDescription",
    "stripeApiKey",
    "stripeWebhookSecret",
    "stripePublishableKey",
    "loginToken",
    "firebaseTenantId",
    "projectWebsite",
    "projectEmail",
    "projectImageUrl",
    "infuraApiKey",
    "polyScanApiKey",
]
SECRETS = ("stripeApiKey", "stripeWebhookSecret")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def assert_validation_error(response: httpx.Response, field: str) -> None:
    """A 400 VALIDATION_ERROR whose ``errors`` name ``field`` (in the path or, for whole-body
    rules, in the message)."""
    body = assert_problem(response, 400, "VALIDATION_ERROR")
    reported = [f"{e['field']}: {e['message']}" for e in body["errors"]]
    assert any(field in r for r in reported), f"{field} not among the reported errors {reported}"


async def put_tenant(client: httpx.AsyncClient, tenant: TenantHandle, body: Any) -> httpx.Response:
    return await client.put("/v1.7/tenant/admin", json=body, headers=tenant.admin)


async def get_admin_tenant(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, Any]:
    response = await client.get("/v1.7/tenant/admin", headers=tenant.admin)
    assert response.status_code == 200, response.text
    return response.json()


# --- POST /tenant ------------------------------------------------------------------------------


async def test_platform_key_creates_tenant_with_every_documented_field(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1.7/tenant", json={"projectName": "Brand New"}, headers={"x-api-key": PLATFORM_KEY}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["projectName"] == "Brand New"
    assert uuid.UUID(body["id"])
    assert isinstance(datetime.fromisoformat(body["createdAt"]), datetime)
    assert body["projectApiKey"]
    assert not body["projectApiKey"].startswith("pk_test_")
    assert body["testnetProjectApiKey"].startswith("pk_test_")
    assert body["projectApiKey"] != body["testnetProjectApiKey"]
    assert body["allowJWTForUnauthenticatedUsers"] is False
    assert body["jwt"].count(".") == 2
    assert body["apiPrivateKey"] is None
    # The one-time JWT is a working tenant admin credential for exactly this tenant.
    me = await client.get("/v1.7/tenant/admin", headers={"Authorization": f"Bearer {body['jwt']}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == body["id"]
    assert me.json()["jwt"] is None


async def test_both_project_keys_identify_the_new_tenant(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    for key in (tenant.project_key, tenant.testnet_key):
        response = await client.get("/v1.7/tenant/public", headers={"x-project-key": key})
        assert response.status_code == 200, response.text
        assert response.json()["id"] == str(tenant.id)


async def _tenant_count(owner_engine: AsyncEngine, name: str) -> int:
    async with owner_engine.connect() as conn:
        return await conn.scalar(
            text("SELECT count(*) FROM tenants WHERE project_name = :n"), {"n": name}
        )


async def test_create_tenant_without_credentials_is_refused_when_signup_is_closed(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    name = f"anon-{uuid.uuid4()}"
    response = await client.post("/v1.7/tenant", json={"projectName": name})
    assert response.status_code == 401, response.text
    assert_problem(response, 401)
    assert response.json()["code"] == "MISSING_CREDENTIALS"
    assert await _tenant_count(owner_engine, name) == 0


async def test_open_signup_lets_anyone_create_a_tenant(
    client: httpx.AsyncClient, runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    name = f"open-{uuid.uuid4()}"
    runtime.settings.open_signup = True
    try:
        response = await client.post("/v1.7/tenant", json={"projectName": name})
    finally:
        runtime.settings.open_signup = False
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["projectName"] == name
    assert body["jwt"]
    assert await _tenant_count(owner_engine, name) == 1
    # The one-time admin JWT works for the new tenant.
    me = await client.get("/v1.7/tenant/admin", headers={"Authorization": f"Bearer {body['jwt']}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == body["id"]


async def test_create_tenant_with_a_wrong_platform_key_is_refused(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    name = f"wrongkey-{uuid.uuid4()}"
    response = await client.post(
        "/v1.7/tenant", json={"projectName": name}, headers={"x-api-key": "not-the-platform-key"}
    )
    assert_problem(response, 401)
    assert await _tenant_count(owner_engine, name) == 0


async def test_a_tenant_admin_cannot_create_tenants(
    client: httpx.AsyncClient, tenant: TenantHandle, owner_engine: AsyncEngine
) -> None:
    name = f"byadmin-{uuid.uuid4()}"
    response = await client.post("/v1.7/tenant", json={"projectName": name}, headers=tenant.admin)
    assert_problem(response, 403)
    assert await _tenant_count(owner_engine, name) == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"projectName": ""}, {"projectName": None}, {"projectName": "x" * 201}],
    ids=["missing", "empty", "null", "too-long"],
)
async def test_create_tenant_rejects_a_bad_project_name(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/v1.7/tenant", json=body, headers={"x-api-key": PLATFORM_KEY})
    assert_validation_error(response, "projectName")


async def test_create_tenant_rejects_unknown_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1.7/tenant",
        json={"projectName": "Ok", "projectApiKey": "chosen-by-me"},
        headers={"x-api-key": PLATFORM_KEY},
    )
    assert_validation_error(response, "projectApiKey")


# --- POST /tenant/admin/api-key ------------------------------------------------------------------


async def test_admin_creates_a_system_api_key(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.post(
        "/v1.7/tenant/admin/api-key", json={"keyName": "backend"}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    key = body["apiPrivateKey"]
    assert key
    assert key.count(".") == 2
    assert body["id"] == str(tenant.id)
    assert body["jwt"] is None

    listed = await client.get("/v1.7/tenant/admin/api-key", headers=tenant.admin)
    assert listed.status_code == 200, listed.text
    mine = [k for k in listed.json() if k["name"] == "backend"]
    assert len(mine) == 1
    assert mine[0]["type"] == "TENANT_SYSTEM_JWT"
    assert mine[0]["environment"] == "testnet"
    assert key not in listed.text, "the secret must never be shown again"

    # The key is a valid credential (a SYSTEM principal): admin-only operations say 403, not 401.
    as_system = await client.get("/v1.7/tenant/admin", headers={"x-api-key": key, **tenant.public})
    assert_problem(as_system, 403)
    tampered = await client.get(
        "/v1.7/tenant/login-token", headers={"x-api-key": key[:-2] + "xx", **tenant.public}
    )
    assert_problem(tampered, 401)


@pytest.mark.parametrize("body", [{}, {"keyName": ""}], ids=["missing", "empty"])
async def test_create_api_key_requires_a_key_name(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, Any]
) -> None:
    response = await client.post("/v1.7/tenant/admin/api-key", json=body, headers=tenant.admin)
    assert_validation_error(response, "keyName")


async def test_create_api_key_needs_an_admin(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.post(
        "/v1.7/tenant/admin/api-key", json={"keyName": "x"}, headers=tenant.public
    )
    assert response.status_code in (401, 403), response.text


# --- POST /tenant/admin/jwt ---------------------------------------------------------------------


@pytest.mark.parametrize(("is_testnet", "environment"), [(True, "testnet"), (False, "mainnet")])
async def test_admin_issues_a_tenant_admin_jwt(
    client: httpx.AsyncClient, tenant: TenantHandle, is_testnet: bool, environment: str
) -> None:
    response = await client.post(
        "/v1.7/tenant/admin/jwt", json={"isTestnet": is_testnet}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    new_jwt = body["jwt"]
    assert new_jwt
    assert new_jwt != tenant.admin_jwt
    assert body["id"] == str(tenant.id)
    assert body["apiPrivateKey"] is None

    me = await client.get("/v1.7/tenant/admin", headers={"Authorization": f"Bearer {new_jwt}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(tenant.id)
    listed = await client.get("/v1.7/tenant/admin/api-key", headers=tenant.admin)
    admin_jwts = [k for k in listed.json() if k["type"] == "TENANT_ADMIN_JWT"]
    assert environment in {k["environment"] for k in admin_jwts}
    assert len(admin_jwts) == 2  # the one from creation and this one


async def test_admin_jwt_requires_is_testnet(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.post("/v1.7/tenant/admin/jwt", json={}, headers=tenant.admin)
    assert_validation_error(response, "isTestnet")


# --- PUT /tenant/admin --------------------------------------------------------------------------


async def test_update_sets_every_field_and_persists_it(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await put_tenant(client, tenant, EVERY_FIELD)
    assert response.status_code == 200, response.text
    body = response.json()
    for field, value in EVERY_FIELD.items():
        assert body[field] == value, field
    assert body["id"] == str(tenant.id)
    assert body["jwt"] is None
    assert body["apiPrivateKey"] is None
    stored = await get_admin_tenant(client, tenant)
    for field, value in EVERY_FIELD.items():
        assert stored[field] == value, field
    # The project keys are not settable and stay as issued.
    assert stored["projectApiKey"] == tenant.project_key
    assert stored["testnetProjectApiKey"] == tenant.testnet_key


async def test_update_changes_only_the_fields_sent(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert (await put_tenant(client, tenant, EVERY_FIELD)).status_code == 200
    response = await put_tenant(client, tenant, {"projectDescription": "only this"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["projectDescription"] == "only this"
    for field, value in EVERY_FIELD.items():
        if field != "projectDescription":
            assert body[field] == value, field


async def test_update_with_null_clears_every_optional_field(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert (await put_tenant(client, tenant, EVERY_FIELD)).status_code == 200
    response = await put_tenant(client, tenant, dict.fromkeys(CLEARABLE))
    assert response.status_code == 200, response.text
    stored = await get_admin_tenant(client, tenant)
    for field in CLEARABLE:
        assert stored[field] is None, field
    assert stored["projectName"] == EVERY_FIELD["projectName"]
    assert stored["allowJWTForUnauthenticatedUsers"] is True


async def test_update_can_turn_guest_jwts_off_again(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert (await put_tenant(client, tenant, {"allowJWTForUnauthenticatedUsers": True})).json()[
        "allowJWTForUnauthenticatedUsers"
    ] is True
    off = await put_tenant(client, tenant, {"allowJWTForUnauthenticatedUsers": False})
    assert off.status_code == 200, off.text
    assert (await get_admin_tenant(client, tenant))["allowJWTForUnauthenticatedUsers"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"notAField": 1}, "notAField"),
        ({"projectApiKey": "mine"}, "projectApiKey"),
        ({"projectName": None}, "body.projectName"),
        ({"projectName": ""}, "projectName"),
        ({"allowJWTForUnauthenticatedUsers": None}, "body.allowJWTForUnauthenticatedUsers"),
        ({"projectEmail": "not-an-email"}, "projectEmail"),
        ({"projectEmail": "a b@c.example"}, "projectEmail"),
    ],
    ids=[
        "unknown-field",
        "project-key-not-settable",
        "project-name-null",
        "project-name-empty",
        "allow-guests-null",
        "bad-email",
        "email-with-space",
    ],
)
async def test_update_rejects_invalid_bodies_and_changes_nothing(
    client: httpx.AsyncClient, tenant: TenantHandle, body: dict[str, Any], field: str
) -> None:
    before = await get_admin_tenant(client, tenant)
    response = await put_tenant(client, tenant, body)
    assert_validation_error(response, field)
    assert await get_admin_tenant(client, tenant) == before


async def test_update_needs_admin_credentials(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    no_creds = await client.put("/v1.7/tenant/admin", json={"projectName": "hijack"})
    assert_problem(no_creds, 401)
    public_only = await client.put(
        "/v1.7/tenant/admin", json={"projectName": "hijack"}, headers=tenant.public
    )
    assert public_only.status_code in (401, 403), public_only.text
    assert (await get_admin_tenant(client, tenant))["projectName"] == "Tenant A"


# --- GET /tenant/login-token --------------------------------------------------------------------


async def test_login_token_is_returned_for_the_project_key(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    unset = await client.get("/v1.7/tenant/login-token", headers=tenant.public)
    assert unset.status_code == 200, unset.text
    assert unset.json() is None
    assert (await put_tenant(client, tenant, {"loginToken": "lt-abc"})).status_code == 200
    for key in (tenant.testnet_key, tenant.project_key):
        response = await client.get("/v1.7/tenant/login-token", headers={"x-project-key": key})
        assert response.status_code == 200, response.text
        assert response.json() == "lt-abc"


async def test_login_token_needs_a_known_project_key(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1.7/tenant/login-token"), 401)
    unknown = await client.get("/v1.7/tenant/login-token", headers={"x-project-key": "pk_test_no"})
    assert_problem(unknown, 401, "INVALID_PROJECT_KEY")


# --- GET /tenant/public -------------------------------------------------------------------------


async def test_public_tenant_shows_only_public_fields(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert (await put_tenant(client, tenant, EVERY_FIELD)).status_code == 200
    response = await client.get("/v1.7/tenant/public", headers=tenant.public)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert body["id"] == str(tenant.id)
    for field in PUBLIC_FIELDS - {"id", "createdAt"}:
        assert body[field] == EVERY_FIELD[field], field
    for secret in (
        tenant.project_key,
        tenant.testnet_key,
        tenant.admin_jwt,
        EVERY_FIELD["stripeApiKey"],
        EVERY_FIELD["stripeWebhookSecret"],
        EVERY_FIELD["loginToken"],
    ):
        assert secret not in response.text


# --- GET /tenant/client-config ------------------------------------------------------------------


async def test_client_config_has_exactly_the_front_end_fields(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    assert (await put_tenant(client, tenant, EVERY_FIELD)).status_code == 200
    response = await client.get("/v1.7/tenant/client-config", headers=tenant.public)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == CLIENT_CONFIG_FIELDS
    assert body["id"] == str(tenant.id)
    for field in CLIENT_CONFIG_FIELDS - {"id"}:
        assert body[field] == EVERY_FIELD[field], field
    for secret in (EVERY_FIELD["stripeApiKey"], EVERY_FIELD["stripeWebhookSecret"]):
        assert secret not in response.text


async def test_client_config_of_a_new_tenant_has_empty_web3_keys(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    response = await client.get("/v1.7/tenant/client-config", headers=tenant.public)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "projectName": "Tenant A",
        "id": str(tenant.id),
        "stripePublishableKey": None,
        "firebaseTenantId": None,
        "infuraApiKey": "",
        "polyScanApiKey": "",
    }


# --- isolation and storage ----------------------------------------------------------------------


async def test_admin_jwt_only_ever_sees_its_own_tenant(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    assert (await put_tenant(client, other_tenant, EVERY_FIELD)).status_code == 200
    mine = await get_admin_tenant(client, tenant)
    assert mine["id"] == str(tenant.id)
    assert mine["projectName"] == "Tenant A"
    assert mine["stripeApiKey"] is None
    keys = await client.get("/v1.7/tenant/admin/api-key", headers=tenant.admin)
    assert keys.status_code == 200
    theirs = await client.get("/v1.7/tenant/admin/api-key", headers=other_tenant.admin)
    assert {k["id"] for k in keys.json()}.isdisjoint({k["id"] for k in theirs.json()})


async def test_admin_jwt_with_another_tenants_project_key_is_rejected(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    response = await client.put(
        "/v1.7/tenant/admin",
        json={"projectName": "cross"},
        headers={**tenant.admin, **other_tenant.public},
    )
    assert_problem(response, 401, "TENANT_MISMATCH")
    assert (await get_admin_tenant(client, other_tenant))["projectName"] == "Tenant B"
    assert (await get_admin_tenant(client, tenant))["projectName"] == "Tenant A"


async def test_updating_one_tenant_leaves_the_other_unchanged(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    before = await get_admin_tenant(client, other_tenant)
    assert (await put_tenant(client, tenant, EVERY_FIELD)).status_code == 200
    assert await get_admin_tenant(client, other_tenant) == before


async def test_each_project_key_gives_its_own_public_info(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    a = await client.get("/v1.7/tenant/public", headers=tenant.public)
    b = await client.get("/v1.7/tenant/public", headers=other_tenant.public)
    assert (a.json()["id"], a.json()["projectName"]) == (str(tenant.id), "Tenant A")
    assert (b.json()["id"], b.json()["projectName"]) == (str(other_tenant.id), "Tenant B")


async def test_stripe_secrets_are_stored_encrypted(
    client: httpx.AsyncClient, tenant: TenantHandle, owner_engine: AsyncEngine
) -> None:
    secrets = {"stripeApiKey": "sk_live_PLAINTEXT_4242", "stripeWebhookSecret": "whsec_PLAIN_99"}
    response = await put_tenant(client, tenant, secrets)
    assert response.status_code == 200, response.text
    async with owner_engine.connect() as conn:
        row = (
            (await conn.execute(text("SELECT * FROM tenants WHERE id = :id"), {"id": tenant.id}))
            .mappings()
            .one()
        )
    stored = " ".join(str(v) for v in row.values())
    for plaintext in secrets.values():
        assert plaintext not in stored
    assert row["stripe_api_key_sealed"].startswith("v1:")
    assert row["stripe_webhook_secret_sealed"].startswith("v1:")
    assert row["stripe_api_key_sealed"] != row["stripe_webhook_secret_sealed"]
    # ... and the tenant's admin still reads them back in clear.
    stored_view = await get_admin_tenant(client, tenant)
    assert {k: stored_view[k] for k in SECRETS} == secrets


async def test_same_stripe_secret_is_sealed_differently_per_tenant(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    a = await create_tenant(client, "Seal A")
    b = await create_tenant(client, "Seal B")
    for t in (a, b):
        assert (await put_tenant(client, t, {"stripeApiKey": "sk_same"})).status_code == 200
    async with owner_engine.connect() as conn:
        sealed = (
            await conn.execute(
                text("SELECT stripe_api_key_sealed FROM tenants WHERE id IN (:a, :b)"),
                {"a": a.id, "b": b.id},
            )
        ).scalars()
        values = list(sealed)
    assert len(values) == 2
    assert values[0] != values[1]
