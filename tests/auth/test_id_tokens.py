"""Verification of identity-provider ID tokens at login."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import jwt
import pytest

from pers.auth import oidc
from pers.runtime import Runtime
from tests.auth.conftest import UserStore
from tests.auth.helpers import (
    IdentityProvider,
    code_of,
    configure_tenant,
    exchange,
    login_user,
    new_key,
    pers_claims,
)
from tests.conftest import MovableClock, TenantHandle


async def _user_login(
    client: httpx.AsyncClient, tenant: TenantHandle, token: str
) -> httpx.Response:
    return await exchange(client, tenant.testnet_key, {"authToken": token, "authType": "user"})


async def test_token_from_unconfigured_issuer_is_refused(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    make_idp: Callable[..., IdentityProvider],
    users: UserStore,
) -> None:
    stranger = make_idp()
    response = await _user_login(client, trusting_tenant, stranger.id_token("mallory"))
    assert response.status_code == 401
    assert code_of(response) == "IDENTITY_PROVIDER_NOT_CONFIGURED"
    assert await users.count(trusting_tenant.id) == 0


async def test_tenant_without_providers_refuses_every_id_token(
    client: httpx.AsyncClient, tenant: TenantHandle, idp: IdentityProvider
) -> None:
    response = await _user_login(client, tenant, idp.id_token("nina"))
    assert response.status_code == 401
    assert code_of(response) == "IDENTITY_PROVIDER_NOT_CONFIGURED"


async def test_provider_of_another_tenant_is_not_trusted(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    other_tenant: TenantHandle,
    make_idp: Callable[..., IdentityProvider],
) -> None:
    ours, theirs = make_idp(), make_idp()
    await configure_tenant(client, tenant, ours)
    await configure_tenant(client, other_tenant, theirs)
    response = await _user_login(client, tenant, theirs.id_token("oscar"))
    assert response.status_code == 401
    assert code_of(response) == "IDENTITY_PROVIDER_NOT_CONFIGURED"


async def test_token_for_another_audience_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    response = await _user_login(
        client, trusting_tenant, idp.id_token("pat", audience="some-other-app")
    )
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_expired_id_token_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    response = await _user_login(
        client, trusting_tenant, idp.id_token("quinn", expires_in=timedelta(seconds=-30))
    )
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_id_token_expires_by_the_server_clock(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    clock: MovableClock,
) -> None:
    token = idp.id_token("rita", expires_in=timedelta(minutes=5))
    clock.advance(timedelta(minutes=6))
    response = await _user_login(client, trusting_tenant, token)
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_token_signed_by_foreign_key_under_published_kid_is_refused(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    users: UserStore,
) -> None:
    forged = idp.id_token("admin", key=new_key("RSA"), kid=idp.signing_kid)
    response = await _user_login(client, trusting_tenant, forged)
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"
    assert await users.count(trusting_tenant.id) == 0


async def test_token_with_unknown_kid_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    forged = idp.id_token("sam", key=new_key("RSA"), kid="not-published")
    response = await _user_login(client, trusting_tenant, forged)
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_symmetric_algorithm_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    claims = jwt.decode(idp.id_token("tom"), options={"verify_signature": False})
    forged = jwt.encode(
        claims,
        "a-shared-secret-of-32-bytes-or-more!",
        algorithm="HS256",
        headers={"kid": idp.signing_kid},
    )
    response = await _user_login(client, trusting_tenant, forged)
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_id_token_without_subject_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    response = await _user_login(client, trusting_tenant, idp.id_token("x", extra={"sub": ""}))
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


@pytest.mark.parametrize("auth_token", ["not-a-jwt", "a.b.c", ""])
async def test_malformed_auth_token_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, auth_token: str
) -> None:
    response = await _user_login(client, trusting_tenant, auth_token)
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_user_login_without_auth_token_or_guest_data_is_refused(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle
) -> None:
    response = await exchange(client, trusting_tenant.testnet_key, {"authType": "user"})
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"


async def test_unsupported_auth_type_is_a_bad_request(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    response = await exchange(
        client,
        trusting_tenant.testnet_key,
        {"authToken": idp.id_token("uma"), "authType": "business"},
    )
    assert response.status_code == 400
    assert code_of(response) == "AUTH_TYPE_NOT_SUPPORTED"


async def test_login_needs_a_valid_project_key(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    body = {"authToken": idp.id_token("vic"), "authType": "user"}
    missing = await client.post("/v1.7/auth/token", json=body)
    assert missing.status_code == 401
    assert code_of(missing) == "MISSING_CREDENTIALS"
    unknown = await exchange(client, "pk_test_" + "0" * 64, body)
    assert unknown.status_code == 401
    assert code_of(unknown) == "INVALID_PROJECT_KEY"


async def test_unreachable_jwks_is_a_retryable_503(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    idp.broken = True
    response = await exchange(
        client, trusting_tenant.testnet_key, {"authToken": idp.id_token("walt")}, version="v2"
    )
    assert response.status_code == 503
    assert code_of(response) == "IDENTITY_PROVIDER_UNAVAILABLE"
    assert response.json()["retryable"] is True
    idp.broken = False
    assert (await _user_login(client, trusting_tenant, idp.id_token("walt"))).status_code == 200


# --- key rotation ---------------------------------------------------------------------------


async def test_key_rotation_new_kid_is_accepted(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    before = await login_user(client, trusting_tenant.testnet_key, idp.id_token("xena"))
    old_kid = idp.signing_kid
    new_kid = idp.rotate()
    assert new_kid != old_kid
    rotated_token = idp.id_token("xena")
    assert jwt.get_unverified_header(rotated_token)["kid"] == new_kid
    after = await login_user(client, trusting_tenant.testnet_key, rotated_token)
    assert (await pers_claims(client, before["accessToken"]))["sub"] == (
        await pers_claims(client, after["accessToken"])
    )["sub"]
    # Still published: tokens signed before the rotation keep working until they expire.
    assert (
        await _user_login(client, trusting_tenant, idp.id_token("xena", kid=old_kid))
    ).status_code == 200


async def test_retired_key_is_refused_after_rotation(
    client: httpx.AsyncClient, trusting_tenant: TenantHandle, idp: IdentityProvider
) -> None:
    old_kid = idp.signing_kid
    old_token = idp.id_token("yuri")
    assert (await _user_login(client, trusting_tenant, old_token)).status_code == 200
    idp.rotate(retire_old=True)
    response = await _user_login(client, trusting_tenant, old_token)
    assert response.status_code == 401
    assert code_of(response) == "INVALID_TOKEN"
    assert old_kid not in {k["kid"] for k in idp.jwks()["keys"]}


async def test_key_rotation_refetches_a_cached_jwks_once_for_the_unknown_kid(
    client: httpx.AsyncClient,
    trusting_tenant: TenantHandle,
    idp: IdentityProvider,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a long-lived JWKS cache (the production setting) a new kid forces a refetch."""
    monkeypatch.setattr(runtime, "jwks", oidc.JwksCache(runtime.http, ttl_seconds=3600))
    monkeypatch.setattr(oidc, "MIN_REFETCH_SECONDS", 0.0)
    await login_user(client, trusting_tenant.testnet_key, idp.id_token("zoe"))
    await login_user(client, trusting_tenant.testnet_key, idp.id_token("zoe"))
    assert idp.jwks_fetches == 1  # cached
    idp.rotate()
    await login_user(client, trusting_tenant.testnet_key, idp.id_token("zoe"))
    assert idp.jwks_fetches == 2  # the unknown kid refetched the set
    await login_user(client, trusting_tenant.testnet_key, idp.id_token("zoe"))
    assert idp.jwks_fetches == 2
