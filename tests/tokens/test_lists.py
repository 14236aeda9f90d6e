"""The public lists: ``GET /token``, ``/token/reward`` (ERC1155), ``/token/status`` (ERC721),
with the ``active`` filter (default true; only admins may see inactive tokens)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TenantHandle
from tests.tokens.conftest import (
    ADMIN_TOKENS,
    TOKEN_FIELDS,
    TOKENS,
    create_token,
    ids,
    list_tokens,
    validation_error,
)

PATHS = {"": None, "/reward": "ERC1155", "/status": "ERC721"}


async def _catalogue(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, set[str]]:
    """One active and one inactive token of each type; returns ids by type and state."""
    made: dict[str, set[str]] = {}
    for token_type in ("ERC20", "ERC721", "ERC1155"):
        active = await create_token(client, tenant, token_type)
        inactive = await create_token(client, tenant, token_type)
        if inactive["isActive"]:
            off = await client.put(
                f"{ADMIN_TOKENS}/{inactive['id']}/toggle-active", headers=tenant.admin
            )
            assert off.json()["isActive"] is False
        made[f"{token_type}:active"] = {active["id"]}
        made[f"{token_type}:inactive"] = {inactive["id"]}
    return made


def _expected(made: dict[str, set[str]], token_type: str | None, *, inactive: bool) -> set[str]:
    types = [token_type] if token_type else ["ERC20", "ERC721", "ERC1155"]
    out: set[str] = set()
    for t in types:
        out |= made[f"{t}:active"]
        if inactive:
            out |= made[f"{t}:inactive"]
    return out


@pytest.mark.parametrize("path", list(PATHS))
async def test_lists_show_active_tokens_of_their_type_by_default(
    client: httpx.AsyncClient, tenant: TenantHandle, path: str
) -> None:
    made = await _catalogue(client, tenant)
    for headers in (tenant.public, tenant.admin):
        tokens = await list_tokens(client, headers, path)
        assert ids(tokens) == _expected(made, PATHS[path], inactive=False)
        assert all(set(t) == TOKEN_FIELDS for t in tokens)
        assert all(t["isActive"] for t in tokens)
        explicit = await list_tokens(client, headers, path, active="true")
        assert ids(explicit) == ids(tokens)


@pytest.mark.parametrize("path", list(PATHS))
async def test_admins_see_inactive_tokens_with_active_false(
    client: httpx.AsyncClient, tenant: TenantHandle, path: str
) -> None:
    made = await _catalogue(client, tenant)
    tokens = await list_tokens(client, tenant.admin, path, active="false")
    assert ids(tokens) == _expected(made, PATHS[path], inactive=True)
    assert {t["isActive"] for t in tokens} == {True, False}


@pytest.mark.parametrize("path", list(PATHS))
async def test_non_admins_never_see_inactive_tokens(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    user: dict[str, str],
    system: dict[str, str],
    path: str,
) -> None:
    made = await _catalogue(client, tenant)
    for headers in (tenant.public, user, system):
        tokens = await list_tokens(client, headers, path, active="false")
        assert ids(tokens) == _expected(made, PATHS[path], inactive=False)


@pytest.mark.parametrize("path", list(PATHS))
async def test_another_tenants_tokens_are_never_listed(
    client: httpx.AsyncClient, tenant: TenantHandle, other_tenant: TenantHandle, path: str
) -> None:
    await _catalogue(client, tenant)
    for headers in (other_tenant.public, other_tenant.admin):
        assert await list_tokens(client, headers, path, active="false") == []


@pytest.mark.parametrize("path", list(PATHS))
async def test_an_unreadable_active_filter_is_a_validation_error(
    client: httpx.AsyncClient, tenant: TenantHandle, path: str
) -> None:
    response = await client.get(
        f"{TOKENS}{path}", params={"active": "sometimes"}, headers=tenant.public
    )
    validation_error(response, "active")


async def test_lists_need_a_project_key_or_credential(client: httpx.AsyncClient) -> None:
    for path in [*PATHS, "/credit", "/type"]:
        response = await client.get(f"{TOKENS}{path}")
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "MISSING_CREDENTIALS"


async def test_tokens_are_listed_in_creation_order(
    client: httpx.AsyncClient, tenant: TenantHandle
) -> None:
    created = [(await create_token(client, tenant, "ERC721"))["id"] for _ in range(4)]
    assert [t["id"] for t in await list_tokens(client, tenant.public, "/status")] == created
