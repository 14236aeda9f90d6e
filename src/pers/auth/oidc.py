"""Verification of OpenID Connect ID tokens from a tenant's identity providers.

Keys come from each provider's JWKS URI over HTTP and are cached; an unknown ``kid`` forces one
refetch (key rotation) at most every ``MIN_REFETCH_SECONDS``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

from pers.auth.errors import (
    IdentityProviderNotConfigured,
    IdentityProviderUnavailable,
    InvalidToken,
)

ALLOWED_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip
MIN_REFETCH_SECONDS = 10.0


@dataclass(frozen=True)
class AuthProvider:
    issuer: str
    jwks_uri: str
    audience: str


class JwksCache:
    def __init__(self, client: httpx.AsyncClient, ttl_seconds: float) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._sets: dict[str, tuple[float, PyJWKSet]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _fetch(self, uri: str) -> PyJWKSet:
        try:
            response = await self._client.get(uri)
            response.raise_for_status()
            return PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            raise IdentityProviderUnavailable(f"fetching {uri} failed: {exc}") from exc

    async def key(self, uri: str, kid: str | None) -> PyJWK:
        lock = self._locks.setdefault(uri, asyncio.Lock())
        async with lock:
            cached = self._sets.get(uri)
            age = time.monotonic() - cached[0] if cached else None
            if cached is None or (age is not None and age > self._ttl):
                cached = (time.monotonic(), await self._fetch(uri))
                self._sets[uri] = cached
            found = _pick(cached[1], kid)
            if found is None and time.monotonic() - cached[0] > MIN_REFETCH_SECONDS:
                cached = (time.monotonic(), await self._fetch(uri))
                self._sets[uri] = cached
                found = _pick(cached[1], kid)
        if found is None:
            raise InvalidToken("the token's signing key is not in the provider's JWKS")
        return found


def _pick(keys: PyJWKSet, kid: str | None) -> PyJWK | None:
    if kid is None:
        return keys.keys[0] if len(keys.keys) == 1 else None
    for key in keys.keys:
        if key.key_id == kid:
            return key
    return None


def parse_providers(raw: list[Any]) -> list[AuthProvider]:
    return [
        AuthProvider(issuer=p["issuer"], jwks_uri=p["jwksUri"], audience=p["audience"]) for p in raw
    ]


async def verify_id_token(
    token: str, providers: list[AuthProvider], cache: JwksCache, now: datetime
) -> tuple[AuthProvider, dict[str, Any]]:
    """Check signature (provider JWKS), ``iss``, ``aud``, ``exp``; return provider and claims."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"authToken is not a JWT: {exc}") from exc
    issuer = unverified.get("iss")
    provider = next((p for p in providers if p.issuer == issuer), None)
    if provider is None:
        raise IdentityProviderNotConfigured(
            f"issuer {issuer!r} is not configured in this tenant's authProviders"
        )
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise InvalidToken(f"signature algorithm {alg!r} is not accepted")
    key = await cache.key(provider.jwks_uri, header.get("kid"))
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[alg],
            audience=provider.audience,
            issuer=provider.issuer,
            options={"verify_exp": False, "verify_iat": False, "require": ["sub", "exp"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"authToken rejected: {exc}") from exc
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= now.timestamp():
        raise InvalidToken("authToken expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf > now.timestamp() + 60:
        raise InvalidToken("authToken not valid yet")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("authToken has no subject")
    return provider, claims
