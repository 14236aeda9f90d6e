"""Fetching a URL that a caller typed, without letting it reach inside the network (SSRF).

Only ``http`` and ``https``. The host is resolved here, every address it resolves to must be
public (not loopback, private, link-local, multicast, unspecified, reserved, or any other
non-global range; IPv6 forms that embed an IPv4 address are judged by that address), and the
connection is then made **to the address that was checked**: the URL's host is replaced by the
IP, ``Host`` and TLS SNI/certificate checks keep the original name. A DNS answer that changes
between the check and the connection (rebinding) therefore cannot redirect the request.
Redirects are followed by hand, each hop checked the same way.

The body is streamed: :meth:`Download.chunks` yields what arrives, enforces a size cap on the
decoded bytes and a deadline over the whole download, and turns transport failures into
:class:`FetchFailed`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class FetchRefused(Exception):
    """The URL may not be fetched: not http(s), malformed, or not a public address."""


class FetchFailed(Exception):
    """The URL could not be fetched: DNS, connection, HTTP status, broken transfer."""


class FetchTooLarge(Exception):
    """The content is larger than allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the content is larger than {limit} bytes")
        self.limit = limit


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def non_public_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = non_public_reason(embedded)
            return None if reason is None else f"{reason} (embedded in {ip})"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
    )
    for reason, matches in checks:
        if matches:
            return f"{reason} address {ip}"
    if not ip.is_global:
        return f"non-public address {ip}"  # e.g. shared address space 100.64.0.0/10
    return None


def parse_url(raw: str) -> httpx.URL:
    """An absolute http(s) URL with a host, or :class:`FetchRefused`."""
    try:
        url = httpx.URL(raw.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchRefused(f"not a valid URL: {exc}") from None
    if url.scheme not in ALLOWED_SCHEMES:
        raise FetchRefused(f"only http and https URLs are fetched, not {url.scheme or 'none'!r}")
    if not url.host:
        raise FetchRefused("the URL has no host")
    return url


async def _lookup(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc}") from None
    # Drop an IPv6 zone (fe80::1%eth0): the address is link-local anyway, and judged so.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise FetchFailed(f"{host} has no address")
    return addresses


async def resolve(url: httpx.URL, *, allow_private: bool) -> IPAddress:
    """The address to connect to for ``url``: every address its host resolves to must be public
    (unless ``allow_private``); the first one is used."""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(url.host)]
    except ValueError:
        addresses = await _lookup(url.host, port)
    if not allow_private:
        for address in addresses:
            reason = non_public_reason(address)
            if reason is not None:
                raise FetchRefused(f"{url.host} resolves to a {reason}")
    return addresses[0]


def _pinned(url: httpx.URL, address: IPAddress) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    headers = {"Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return url.copy_with(host=str(address)), headers, extensions


@dataclass
class Download:
    url: httpx.URL
    content_type: str | None
    response: httpx.Response
    max_bytes: int
    deadline: float

    async def chunks(self) -> AsyncIterator[bytes]:
        """The decoded body as it arrives; :class:`FetchTooLarge` past ``max_bytes``,
        :class:`FetchFailed` on a broken transfer or past the deadline."""
        received = 0
        stream = self.response.aiter_bytes().__aiter__()
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise FetchFailed("the download took too long")
            try:
                chunk = await asyncio.wait_for(stream.__anext__(), remaining)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise FetchFailed("the download took too long") from None
            except httpx.HTTPError as exc:
                raise FetchFailed(f"the download broke off: {_describe(exc)}") from None
            received += len(chunk)
            if received > self.max_bytes:
                raise FetchTooLarge(self.max_bytes)
            yield chunk


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@asynccontextmanager
async def open_url(
    raw_url: str,
    *,
    allow_private: bool,
    max_bytes: int,
    timeout_seconds: float,
    io_timeout_seconds: float,
) -> AsyncIterator[Download]:
    """GET ``raw_url`` (checked, pinned, redirects followed by hand) and stream its body.
    A non-2xx answer is :class:`FetchFailed`; a declared length over ``max_bytes`` is
    :class:`FetchTooLarge` before anything is read. ``timeout_seconds`` bounds everything
    until the last byte; ``io_timeout_seconds`` each connect and each wait for data.

    Each call has its own client: no connection is shared with other requests (a pooled
    connection to a pinned address was verified for the name it was opened for), and proxy
    settings from the environment are not used (through a proxy, the address checked would not
    be the one connected to)."""
    deadline = time.monotonic() + timeout_seconds
    url = parse_url(raw_url)
    client = httpx.AsyncClient(timeout=io_timeout_seconds, follow_redirects=False, trust_env=False)
    async with client, _open(client, url, allow_private, max_bytes, deadline) as download:
        yield download


@asynccontextmanager
async def _open(
    client: httpx.AsyncClient,
    url: httpx.URL,
    allow_private: bool,
    max_bytes: int,
    deadline: float,
) -> AsyncIterator[Download]:
    for _ in range(MAX_REDIRECTS + 1):
        address = await resolve(url, allow_private=allow_private)
        target, headers, extensions = _pinned(url, address)
        request = client.build_request("GET", target, headers=headers, extensions=extensions)
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise FetchFailed(f"cannot fetch {url.host}: {_describe(exc)}") from None
        try:
            if response.status_code in REDIRECTS and "location" in response.headers:
                url = parse_url(str(url.join(response.headers["location"])))
                continue
            if not response.is_success:
                raise FetchFailed(f"the server answered {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchTooLarge(max_bytes)
            yield Download(url, response.headers.get("content-type"), response, max_bytes, deadline)
            return
        finally:
            await response.aclose()
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")
