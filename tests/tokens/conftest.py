"""Helpers for the Token module tests: addresses, token creation, every kind of caller."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from eth_utils.address import to_checksum_address

from tests.conftest import TenantHandle
from tests.contracts import MAINNET_CHAIN_ID, deployed, registrable

TOKENS = "/v1.7/token"
ADMIN_TOKENS = "/v1.7/token/admin"
PROBLEM = "application/problem+json"
TOKEN_FIELDS = {
    "id",
    "contractAddress",
    "metadata",
    "abi",
    "chainId",
    "abiUrl",
    "name",
    "symbol",
    "decimals",
    "isActive",
    "isGallery",
    "type",
}
METADATA_FIELDS = {
    "imageUrl",
    "externalUrl",
    "description",
    "name",
    "expiryDate",
    "animationUrl",
    "youtubeUrl",
    "creatorAccountAddress",
    "previewUrl",
    "id",
    "animationWeb3StorageUrl",
    "imageWeb3StorageUrl",
    "web3StorageUrl",
    "tokenMetadataIncrementalId",
    "isActive",
}
TYPE_FIELDS = {"nativeTokenType", "name", "imageUrl", "description"}
DEV_CHAIN_ID = 131277322940537


def new_address() -> str:
    """A fresh address in its EIP-55 checksum form, with no contract behind it (the check
    refuses it: use ``deployed`` for an address to register)."""
    return str(to_checksum_address("0x" + secrets.token_hex(20)))


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    return body


def validation_error(response: httpx.Response, field: str) -> dict[str, Any]:
    """A 400 VALIDATION_ERROR that names ``field`` (in the path or the message)."""
    body = problem(response, 400, "VALIDATION_ERROR")
    reported = [f"{e['field']}: {e['message']}" for e in body["errors"]]
    assert any(field in r for r in reported), f"{field} not among the reported errors {reported}"
    return body


async def create_token(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    token_type: str = "ERC20",
    *,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    body = {"type": token_type, **fields}
    body.setdefault("contractAddress", registrable(tenant.id, body))
    response = await client.post(ADMIN_TOKENS, json=body, headers=headers or tenant.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def promote(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    token_id: str,
    address: str | None = None,
    chain_id: int = MAINNET_CHAIN_ID,
) -> dict[str, Any]:
    """Give the token a mainnet contract: ``address``, else one deployed for it (of its type
    and decimals) on the tests' mainnet chain."""
    if address is None:
        token = await client.get(f"{TOKENS}?active=false", headers=tenant.admin)
        assert token.status_code == 200, token.text
        (found,) = [t for t in token.json() if t["id"] == token_id]
        address = deployed(tenant.id, found["type"], decimals=found["decimals"], chain_id=chain_id)
    response = await client.put(
        f"{ADMIN_TOKENS}/{token_id}/mainnet/{address}/chain/{chain_id}",
        headers=tenant.admin,
    )
    assert response.status_code == 200, response.text
    promoted: dict[str, Any] = response.json()
    return promoted


async def add_metadata(
    client: httpx.AsyncClient, tenant: TenantHandle, token_id: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{ADMIN_TOKENS}/{token_id}/metadata", json=fields, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def list_tokens(
    client: httpx.AsyncClient, headers: dict[str, str], path: str = "", **params: str
) -> list[dict[str, Any]]:
    response = await client.get(f"{TOKENS}{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    tokens: list[dict[str, Any]] = response.json()
    return tokens


def ids(tokens: list[dict[str, Any]]) -> set[str]:
    return {t["id"] for t in tokens}


def mainnet_public(tenant: TenantHandle) -> dict[str, str]:
    return {"x-project-key": tenant.project_key}


async def mainnet_admin(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, str]:
    response = await client.post(
        "/v1.7/tenant/admin/jwt", json={"isTestnet": False}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['jwt']}"}


async def system_headers(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, str]:
    response = await client.post(
        "/v1.7/tenant/admin/api-key", json={"keyName": "backend"}, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    return {"x-project-key": tenant.testnet_key, "x-api-key": response.json()["apiPrivateKey"]}


async def user_headers(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, str]:
    """A guest user session (the tenant allows unauthenticated users for this)."""
    allow = await client.put(
        "/v1.7/tenant/admin",
        json={"allowJWTForUnauthenticatedUsers": True},
        headers=tenant.admin,
    )
    assert allow.status_code == 200, allow.text
    response = await client.post(
        "/v1.7/auth/token",
        json={"rawLoginData": {"source": "tokens-tests"}},
        headers={"x-project-key": tenant.testnet_key},
    )
    assert response.status_code == 200, response.text
    return {
        "Authorization": f"Bearer {response.json()['accessToken']}",
        "x-project-key": tenant.testnet_key,
    }


@pytest.fixture
async def user(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, str]:
    return await user_headers(client, tenant)


@pytest.fixture
async def system(client: httpx.AsyncClient, tenant: TenantHandle) -> dict[str, str]:
    return await system_headers(client, tenant)
