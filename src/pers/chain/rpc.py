"""JSON-RPC clients of the configured chains: web3.py's asynchronous HTTP provider, one per RPC
URL for the life of the process, with a short timeout and no retries.

A request that asks a chain (the registration check of a token contract) must answer quickly
either way: web3's default retries (five, with back-off) would hold the request for seconds
before saying the chain is down. The caller retries instead (503 is retryable).

Two departures from web3's defaults, both measured on the dev chain (a contract check of eight
calls: 78 ms with the defaults, 35 ms without):

- connections are kept alive (web3's own session closes each one after a call);
- no middleware. The defaults resolve ENS names, build attribute dicts, fill gas prices and
  validate transactions; the validator asks ``eth_chainId`` again before every ``eth_call``.
  These clients only read, and the callers check the chain id themselves.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout
from web3 import AsyncHTTPProvider, AsyncWeb3

HTTP_SCHEMES = frozenset({"http", "https"})


class ChainUnavailable(Exception):
    """The chain could not be asked: unreachable, too slow, an RPC error that is not a revert,
    or an endpoint that answers for another chain. The message never holds the RPC URL (it may
    embed the provider's key)."""


class RpcClients:
    """``AsyncWeb3`` clients by RPC URL, created on first use and closed with :meth:`close`."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self._clients: dict[str, AsyncWeb3[AsyncHTTPProvider]] = {}
        self._lock: asyncio.Lock | None = None

    async def client(self, rpc_url: str) -> AsyncWeb3[AsyncHTTPProvider]:
        known = self._clients.get(rpc_url)
        if known is not None:
            return known
        if urlsplit(rpc_url).scheme.lower() not in HTTP_SCHEMES:
            # WebSocket endpoints need a persistent provider; pers asks chains over HTTP.
            raise ChainUnavailable("pers asks chains over HTTP(S); this chain's rpcUrl is not")
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            known = self._clients.get(rpc_url)
            if known is not None:
                return known
            timeout = ClientTimeout(total=self.timeout_seconds)
            provider = AsyncHTTPProvider(
                rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
            )
            await provider.cache_async_session(
                ClientSession(raise_for_status=True, timeout=timeout)
            )
            client = self._clients[rpc_url] = AsyncWeb3(provider, middleware=[])
            return client

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.provider.disconnect()
