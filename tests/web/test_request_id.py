"""X-Request-ID: always answered; a sane incoming one is echoed, anything else replaced."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.helpers import unique


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1.7/"),
        ("GET", "/v1.7/healthcheck"),  # 401
        ("GET", "/v1.7/nowhere"),  # 404
        ("DELETE", "/v1.7/"),  # 405
        ("GET", "/openapi.json"),
        ("GET", "/.well-known/jwks.json"),
    ],
)
async def test_every_response_carries_a_request_id(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)

    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", response.headers["x-request-id"])


async def test_generated_request_ids_differ(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1.7/")
    second = await client.get("/v1.7/")

    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("incoming", ["abc-123", "trace:1.2_3", "x" * 128])
async def test_sane_incoming_request_id_is_echoed(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/v1.7/", headers={"X-Request-ID": incoming})

    assert response.headers["x-request-id"] == incoming


async def test_echoed_request_id_is_the_problem_correlation_id(client: httpx.AsyncClient) -> None:
    incoming = unique("req")
    response = await client.post("/v2/auth/token", json={}, headers={"X-Request-ID": incoming})

    assert response.headers["x-request-id"] == incoming
    assert response.json()["correlationId"] == incoming


@pytest.mark.parametrize(
    "incoming", ["x" * 500, "x" * 129, "has spaces", "semi;colon", 'quote"d', "slash/"]
)
async def test_insane_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, incoming: str
) -> None:
    response = await client.get("/v1.7/", headers={"X-Request-ID": incoming})

    echoed = response.headers["x-request-id"]
    assert echoed != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)


async def test_request_id_is_a_single_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1.7/", headers={"X-Request-ID": "only-once"})

    assert response.headers.get_list("x-request-id") == ["only-once"]
