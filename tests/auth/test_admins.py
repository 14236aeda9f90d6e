"""Admin logins, admin types, and the tenant admin JWT."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.auth.helpers import (
    IdentityProvider,
    bearer,
    code_of,
    configure_tenant,
    exchange,
    pers_claims,
    refresh,
)
from tests.conftest import MovableClock, TenantHandle

ADMIN_LOGIN = "admin_login"  # POST /auth/admin/login, ID token as the bearer
TOKEN_EXCHANGE = "token_exchange"  # POST /auth/token with authType "tenant"


async def _admin_login(
    client: httpx.AsyncClient, tenant: TenantHandle, id_token: str, via: str = ADMIN_LOGIN
) -> httpx.Response:
    if via == ADMIN_LOGIN:
        return await client.post(
            "/v1.7/auth/admin/login",
            headers={"x-project-key": tenant.testnet_key, **bearer(id_token)},
        )
    return await exchange(client, tenant.testnet_key, {"authToken": id_token, "authType": "tenant"})


async def _admin_session(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    idp: IdentityProvider,
    email: str,
    via: str = TOKEN_EXCHANGE,
) -> dict[str, Any]:
    """An admin session. Tests about what admins may do log in through the token exchange, so
    they do not depend on the admin-login route (see test_admin_login_*)."""
    response = await _admin_login(
        client, tenant, idp.id_token(f"sub-{email}", email=email, email_verified=True), via
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(params=[ADMIN_LOGIN, TOKEN_EXCHANGE])
def login_route(request: pytest.FixtureRequest) -> str:
    """Both ways an admin logs in; each must behave the same."""
    route: str = request.param
    return route


async def test_admin_login_returns_a_session_and_the_admin(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
) -> None:
    admin = await admin_factory(trusting_tenant, "ada@example.com", display_name="Ada")
    body = await _admin_session(client, trusting_tenant, idp, "ada@example.com", ADMIN_LOGIN)

    assert body["admin"]["id"] == admin["id"]
    assert body["admin"]["email"] == "ada@example.com"
    assert body["admin"]["displayName"] == "Ada"
    assert body["admin"]["type"] == "SUPER_ADMIN"
    assert body["admin"]["isActive"] is True
    assert [t["id"] for t in body["admin"]["tenants"]] == [str(trusting_tenant.id)]
    claims = await pers_claims(client, body["accessToken"])
    assert claims["typ"] == "ADMIN_JWT_ACCESS_TOKEN"
    assert claims["sub"] == admin["id"]
    assert (await pers_claims(client, body["refreshToken"]))["typ"] == "ADMIN_JWT_REFRESH_TOKEN"

    check = await client.get("/v1.7/admin", headers=bearer(body["accessToken"]))
    assert check.status_code == 200
    assert check.json() is True
    tenant_view = await client.get("/v1.7/tenant/admin", headers=bearer(body["accessToken"]))
    assert tenant_view.status_code == 200
    assert tenant_view.json()["id"] == str(trusting_tenant.id)


async def test_admin_login_through_token_exchange_with_auth_type_tenant(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
) -> None:
    admin = await admin_factory(trusting_tenant, "bo@example.com", "TENANT_ADMIN")
    token = idp.id_token("bo", email="bo@example.com", email_verified=True)
    for version in ("v1.7", "v2"):
        response = await exchange(
            client,
            trusting_tenant.testnet_key,
            {"authToken": token, "authType": "tenant"},
            version=version,
        )
        assert response.status_code == 200, response.text
        claims = await pers_claims(client, response.json()["accessToken"])
        assert claims["typ"] == "ADMIN_JWT_ACCESS_TOKEN"
        assert claims["sub"] == admin["id"]


async def test_admin_login_matches_email_case_insensitively(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
    login_route: str,
) -> None:
    admin = await admin_factory(trusting_tenant, "Cy.Admin@Example.com")
    body = await _admin_session(client, trusting_tenant, idp, "cy.admin@example.com", login_route)
    assert (await pers_claims(client, body["accessToken"]))["sub"] == admin["id"]
    if login_route == ADMIN_LOGIN:
        assert body["admin"]["id"] == admin["id"]


async def test_admin_login_with_unknown_email_is_refused(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
    login_route: str,
) -> None:
    await admin_factory(trusting_tenant, "dee@example.com")
    response = await _admin_login(
        client,
        trusting_tenant,
        idp.id_token("x", email="intruder@example.com", email_verified=True),
        login_route,
    )
    assert response.status_code == 401
    assert code_of(response) == "ADMIN_NOT_FOUND"


async def test_admin_login_with_unverified_email_is_refused(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
    login_route: str,
) -> None:
    await admin_factory(trusting_tenant, "ed@example.com")
    for token in (
        idp.id_token("ed", email="ed@example.com", email_verified=False),
        idp.id_token("ed", email="ed@example.com"),
        idp.id_token("ed"),
    ):
        response = await _admin_login(client, trusting_tenant, token, login_route)
        assert response.status_code == 401
        assert code_of(response) == "ADMIN_NOT_FOUND"


async def test_admin_login_with_untrusted_issuer_is_refused(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    make_idp: Callable[..., IdentityProvider],
    admin_factory: Callable[..., Any],
    login_route: str,
) -> None:
    await admin_factory(trusting_tenant, "flo@example.com")
    stranger = make_idp()
    response = await _admin_login(
        client,
        trusting_tenant,
        stranger.id_token("flo", email="flo@example.com", email_verified=True),
        login_route,
    )
    assert response.status_code == 401
    assert code_of(response) == "IDENTITY_PROVIDER_NOT_CONFIGURED"


async def test_admin_login_needs_the_id_token_as_bearer(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle
) -> None:
    for headers in ({}, {"Authorization": "Basic x"}, {"Authorization": "Bearer "}):
        response = await client.post(
            "/v1.7/auth/admin/login",
            headers={"x-project-key": trusting_tenant.testnet_key, **headers},
        )
        assert response.status_code == 401, headers
        assert code_of(response) == "INVALID_TOKEN"


async def test_admin_of_tenant_a_cannot_log_in_to_tenant_b(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
    login_route: str,
) -> None:
    await configure_tenant(client, tenant, idp)
    await configure_tenant(client, other_tenant, idp)
    await admin_factory(tenant, "gil@example.com")
    response = await _admin_login(
        client,
        other_tenant,
        idp.id_token("gil", email="gil@example.com", email_verified=True),
        login_route,
    )
    assert response.status_code == 401
    assert code_of(response) == "ADMIN_NOT_FOUND"


async def test_deactivated_admin_cannot_log_in_and_loses_the_session(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
    login_route: str,
) -> None:
    await admin_factory(trusting_tenant, "hu@example.com", "TENANT_ADMIN")
    session = await _admin_session(client, trusting_tenant, idp, "hu@example.com", login_route)

    deactivated = await admin_factory(
        trusting_tenant, "hu@example.com", "TENANT_ADMIN", is_active=False
    )
    assert deactivated["isActive"] is False

    response = await _admin_login(
        client,
        trusting_tenant,
        idp.id_token("hu", email="hu@example.com", email_verified=True),
        login_route,
    )
    assert response.status_code == 401
    assert code_of(response) == "ADMIN_NOT_FOUND"
    check = await client.get("/v1.7/admin", headers=bearer(session["accessToken"]))
    assert check.status_code == 401
    assert code_of(check) == "INVALID_TOKEN"
    renewed = await refresh(client, session["refreshToken"])
    assert renewed.status_code == 401
    assert code_of(renewed) == "INVALID_TOKEN"

    await admin_factory(trusting_tenant, "hu@example.com", "TENANT_ADMIN", is_active=True)
    await _admin_session(client, trusting_tenant, idp, "hu@example.com", login_route)


async def test_expired_admin_access_token_is_refused(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
    clock: MovableClock,
) -> None:
    await admin_factory(trusting_tenant, "ina@example.com")
    session = await _admin_session(client, trusting_tenant, idp, "ina@example.com")
    clock.advance(timedelta(minutes=16))
    response = await client.get("/v1.7/admin", headers=bearer(session["accessToken"]))
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_admins_are_listed_per_tenant(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
    admin_factory: Callable[..., Any],
) -> None:
    await admin_factory(tenant, "jay@example.com", "SUPER_ADMIN")
    await admin_factory(tenant, "kay@example.com", "TENANT_ADMIN")
    await admin_factory(other_tenant, "lou@example.com", "SUPER_ADMIN")
    response = await client.get("/v1.7/admin/admin", headers=tenant.admin)
    assert response.status_code == 200, response.text
    assert {(a["email"], a["type"]) for a in response.json()} == {
        ("jay@example.com", "SUPER_ADMIN"),
        ("kay@example.com", "TENANT_ADMIN"),
    }


# --- admin types ----------------------------------------------------------------------------


async def test_tenant_admin_cannot_issue_keys_or_manage_admins(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
) -> None:
    await admin_factory(trusting_tenant, "max@example.com", "TENANT_ADMIN")
    session = await _admin_session(client, trusting_tenant, idp, "max@example.com")
    auth = bearer(session["accessToken"])

    keys = await client.get("/v1.7/tenant/admin/api-key", headers=auth)
    assert keys.status_code == 200, keys.text
    some_key = keys.json()[0]["id"]
    for method, path, body in (
        ("POST", "/v1.7/tenant/admin/api-key", {"keyName": "ci"}),
        ("POST", "/v1.7/tenant/admin/jwt", {"isTestnet": True}),
        ("DELETE", f"/v1.7/tenant/admin/api-key/{some_key}", None),
        ("POST", "/v1.7/admin/admin", {"email": "new@example.com", "type": "SUPER_ADMIN"}),
        ("POST", "/v1.7/admin/admin", {"email": "max@example.com", "type": "SUPER_ADMIN"}),
    ):
        response = await client.request(method, path, json=body, headers=auth)
        assert response.status_code == 403, (method, path, response.text)
        assert code_of(response) == "OWNER_ADMIN_REQUIRED"

    # Still an admin for everything else.
    assert (await client.get("/v1.7/admin", headers=auth)).json() is True
    assert (await client.get("/v1.7/tenant/admin", headers=auth)).status_code == 200
    listed = await client.get("/v1.7/admin/admin", headers=auth)
    assert [a["email"] for a in listed.json()] == ["max@example.com"]
    assert listed.json()[0]["type"] == "TENANT_ADMIN"


async def test_super_admin_can_issue_a_system_key(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
) -> None:
    await admin_factory(trusting_tenant, "ned@example.com", "SUPER_ADMIN")
    session = await _admin_session(client, trusting_tenant, idp, "ned@example.com")
    response = await client.post(
        "/v1.7/tenant/admin/api-key",
        json={"keyName": "backend"},
        headers=bearer(session["accessToken"]),
    )
    assert response.status_code == 201, response.text
    key = response.json()["apiPrivateKey"]
    assert key
    check = await client.get(
        "/v1.7/system", headers={"x-api-key": key, "x-project-key": trusting_tenant.testnet_key}
    )
    assert check.status_code == 200, check.text
    assert check.json() is True

    created = await client.post(
        "/v1.7/admin/admin",
        json={"email": "oz@example.com", "type": "TENANT_ADMIN"},
        headers=bearer(session["accessToken"]),
    )
    assert created.status_code == 200, created.text


async def test_super_admin_cannot_demote_themselves(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
) -> None:
    await admin_factory(trusting_tenant, "pia@example.com", "SUPER_ADMIN")
    session = await _admin_session(client, trusting_tenant, idp, "pia@example.com")
    response = await client.post(
        "/v1.7/admin/admin",
        json={"email": "pia@example.com", "type": "TENANT_ADMIN"},
        headers=bearer(session["accessToken"]),
    )
    assert response.status_code == 422
    assert code_of(response) == "ADMIN_SELF_DEMOTION"


async def test_admin_type_change_applies_to_an_existing_session(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    admin_factory: Callable[..., Any],
) -> None:
    await admin_factory(trusting_tenant, "quin@example.com", "SUPER_ADMIN")
    session = await _admin_session(client, trusting_tenant, idp, "quin@example.com")
    auth = bearer(session["accessToken"])
    issue = {"keyName": "k"}
    first = await client.post("/v1.7/tenant/admin/api-key", json=issue, headers=auth)
    assert first.status_code == 201, first.text

    await admin_factory(trusting_tenant, "quin@example.com", "TENANT_ADMIN")
    demoted = await client.post("/v1.7/tenant/admin/api-key", json=issue, headers=auth)
    assert demoted.status_code == 403
    assert code_of(demoted) == "OWNER_ADMIN_REQUIRED"


# --- tenant admin JWT -----------------------------------------------------------------------


async def test_admin_jwt_of_tenant_a_only_reads_tenant_a(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    mine = await client.get("/v1.7/tenant/admin", headers=tenant.admin)
    assert mine.status_code == 200, mine.text
    assert mine.json()["id"] == str(tenant.id)
    assert mine.json()["projectApiKey"] == tenant.project_key
    assert other_tenant.project_key not in mine.text

    crossed = await client.get(
        "/v1.7/tenant/admin",
        headers={**tenant.admin, "x-project-key": other_tenant.project_key},
    )
    assert crossed.status_code == 401
    assert code_of(crossed) == "TENANT_MISMATCH"


async def test_admin_jwt_cannot_revoke_another_tenants_key(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    theirs = await client.get("/v1.7/tenant/admin/api-key", headers=other_tenant.admin)
    assert theirs.status_code == 200
    their_key = theirs.json()[0]["id"]
    response = await client.delete(f"/v1.7/tenant/admin/api-key/{their_key}", headers=tenant.admin)
    assert response.status_code == 404
    still = await client.get("/v1.7/admin", headers=other_tenant.admin)
    assert still.status_code == 200


async def test_new_admin_jwt_works_and_revoked_one_is_refused(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    issued = await client.post(
        "/v1.7/tenant/admin/jwt", json={"isTestnet": False}, headers=tenant.admin
    )
    assert issued.status_code == 201, issued.text
    new_jwt = issued.json()["jwt"]
    claims = await pers_claims(client, new_jwt)
    assert claims["typ"] == "TENANT_ADMIN_JWT"
    assert claims["env"] == "mainnet"
    assert claims["tenantId"] == str(tenant.id)

    keys = await client.get("/v1.7/tenant/admin/api-key", headers=bearer(new_jwt))
    admin_jwts = [k for k in keys.json() if k["type"] == "TENANT_ADMIN_JWT"]
    assert len(admin_jwts) == 2
    original_id = (await pers_claims(client, tenant.admin_jwt))["jti"]
    assert original_id in {k["id"] for k in admin_jwts}

    revoked = await client.delete(
        f"/v1.7/tenant/admin/api-key/{original_id}", headers=bearer(new_jwt)
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["isRevoked"] is True

    refused = await client.get("/v1.7/admin", headers=tenant.admin)
    assert refused.status_code == 401
    assert code_of(refused) == "INVALID_TOKEN"
    assert (await client.get("/v1.7/admin", headers=bearer(new_jwt))).json() is True
    listed = await client.get(
        "/v1.7/tenant/admin/api-key", params={"includeRevoked": "true"}, headers=bearer(new_jwt)
    )
    by_id = {k["id"]: k for k in listed.json()}
    assert by_id[original_id]["isRevoked"] is True
    not_revoked = await client.get("/v1.7/tenant/admin/api-key", headers=bearer(new_jwt))
    assert original_id not in {k["id"] for k in not_revoked.json()}
