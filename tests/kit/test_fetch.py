"""URL safety for fetching what callers type: schemes, address classification, resolution."""

from __future__ import annotations

import ipaddress
import time

import httpx
import pytest

from pers.kit import fetch
from pers.kit.fetch import (
    FetchFailed,
    FetchRefused,
    FetchTooLarge,
    non_public_reason,
    parse_url,
    resolve,
)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoints
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),  # unique local
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:0001::", "loopback"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("fec0::1", "site-local"),
    ],
)
def test_non_public_addresses_are_refused_with_a_reason(address: str, reason: str) -> None:
    found = non_public_reason(ipaddress.ip_address(address))
    assert found is not None
    assert found.startswith(reason), found


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert non_public_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/rows.csv",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "example.com/rows.csv",
        "http:///rows.csv",
        "",
    ],
)
def test_only_absolute_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(FetchRefused):
        parse_url(url)


def test_http_and_https_urls_parse() -> None:
    assert parse_url(" HTTPS://Example.com/a.csv ").host == "example.com"
    assert parse_url("http://[::1]:8080/a").host == "::1"


async def test_literal_and_resolved_loopback_are_refused_unless_allowed() -> None:
    for raw in ("http://127.0.0.1:1/x", "http://[::1]/x", "http://localhost/x"):
        with pytest.raises(FetchRefused):
            await resolve(parse_url(raw), allow_private=False)
    allowed = await resolve(parse_url("http://127.0.0.1:1/x"), allow_private=True)
    assert allowed == ipaddress.ip_address("127.0.0.1")


async def test_a_name_is_refused_when_any_of_its_addresses_is_not_public(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio
    import socket

    async def fake_getaddrinfo(*_args: object, **_kwargs: object) -> list[tuple[object, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 80)),
        ]

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(FetchRefused, match="private"):
        await resolve(parse_url("http://mixed.example/rows.csv"), allow_private=False)


def _mock_names(monkeypatch: pytest.MonkeyPatch, names: dict[str, str]) -> None:
    async def lookup(host: str, _port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return [ipaddress.ip_address(names[host])]

    monkeypatch.setattr(fetch, "_lookup", lookup)


async def _read(client: httpx.AsyncClient, url: str, max_bytes: int = 1000) -> bytes:
    deadline = time.monotonic() + 10
    async with fetch._open(client, parse_url(url), False, max_bytes, deadline) as download:
        return b"".join([chunk async for chunk in download.chunks()])


async def test_the_connection_goes_to_the_checked_address_under_the_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _mock_names(monkeypatch, {"files.example": "93.184.216.34", "cdn.example": "93.184.216.35"})
    seen: list[tuple[str, str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(
            (str(request.url), request.headers["host"], request.extensions.get("sni_hostname"))
        )
        if request.url.path == "/start":
            return httpx.Response(302, headers={"location": "http://cdn.example:8080/rows.csv"})
        return httpx.Response(200, content=b"email\na@b.io\n")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        assert await _read(client, "https://files.example/start") == b"email\na@b.io\n"
    assert seen == [
        ("https://93.184.216.34/start", "files.example", "files.example"),
        ("http://93.184.216.35:8080/rows.csv", "cdn.example:8080", None),
    ]


async def test_a_redirect_into_the_private_network_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _mock_names(monkeypatch, {"files.example": "93.184.216.34", "inner.example": "10.0.0.5"})
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://inner.example/admin"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(FetchRefused, match="private"):
            await _read(client, "https://files.example/start")
    assert seen == ["https://93.184.216.34/start"]


async def test_too_many_redirects_and_too_much_content_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _mock_names(monkeypatch, {"files.example": "93.184.216.34"})

    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "/again"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(loop)) as client:
        with pytest.raises(FetchFailed, match="redirects"):
            await _read(client, "http://files.example/start")

    def big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 2000)

    async with httpx.AsyncClient(transport=httpx.MockTransport(big)) as client:
        with pytest.raises(FetchTooLarge):
            await _read(client, "http://files.example/rows.csv")
