"""A real OpenID Connect identity provider for the auth tests, and small HTTP helpers.

The provider publishes its JWKS over real HTTP (a threaded ``http.server`` on 127.0.0.1) and
mints ID tokens with PyJWT; PERS fetches the keys with httpx exactly as in production.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from pers.auth.models import ApiKeyType
from pers.kit.enums import Environment
from pers.runtime import Runtime
from tests.conftest import MovableClock, TenantHandle

PROBLEM_JSON = "application/problem+json"

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def new_key(kind: str = "RSA") -> SigningKey:
    if kind == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _algorithm(key: SigningKey) -> str:
    return "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"


def _public_jwk(key: SigningKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": _algorithm(key)}


class IdentityProvider:
    """One issuer: its signing keys, the JWKS it publishes, and an ID-token minting helper."""

    def __init__(self, base_url: str, name: str, clock: MovableClock, kind: str = "RSA") -> None:
        self.name = name
        self.issuer = f"{base_url}/{name}"
        self.jwks_uri = f"{base_url}/{name}/jwks.json"
        self.audience = f"pers-tests-{name}"
        self.kind = kind
        self._clock = clock
        self._lock = threading.Lock()
        self._published: dict[str, SigningKey] = {}
        self.signing_kid = ""
        self.jwks_fetches = 0
        self.broken = False  # answer the JWKS request with 500
        self.rotate()

    # --- keys -----------------------------------------------------------------------------
    def rotate(self, *, retire_old: bool = False) -> str:
        """Publish a new key under a new kid and sign with it from now on."""
        kid = f"{self.name}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            if retire_old:
                self._published.clear()
            self._published[kid] = new_key(self.kind)
            self.signing_kid = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            self.jwks_fetches += 1
            return {"keys": [_public_jwk(k, kid) for kid, k in self._published.items()]}

    @property
    def config(self) -> dict[str, str]:
        """The tenant's ``authProviders`` entry for this provider."""
        return {"issuer": self.issuer, "jwksUri": self.jwks_uri, "audience": self.audience}

    # --- tokens ---------------------------------------------------------------------------
    def id_token(
        self,
        sub: str | None = None,
        *,
        email: str | None = None,
        email_verified: bool | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        expires_in: timedelta = timedelta(minutes=5),
        key: SigningKey | None = None,
        kid: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        now = self._clock.now()
        claims: dict[str, Any] = {
            "iss": issuer or self.issuer,
            "aud": audience or self.audience,
            "sub": sub or f"user-{uuid.uuid4().hex}",
            "iat": int(now.timestamp()),
            "exp": int((now + expires_in).timestamp()),
        }
        if email is not None:
            claims["email"] = email
        if email_verified is not None:
            claims["email_verified"] = email_verified
        claims.update(extra or {})
        kid = kid or self.signing_kid
        if key is None:
            with self._lock:
                key = self._published[kid]
        return jwt.encode(claims, key, algorithm=_algorithm(key), headers={"kid": kid})


class IdentityProviderServer:
    """A threaded HTTP server publishing ``/<provider>/jwks.json`` for every registered one."""

    def __init__(self) -> None:
        self.providers: dict[str, IdentityProvider] = {}
        providers = self.providers

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name, _, rest = self.path.lstrip("/").partition("/")
                provider = providers.get(name)
                if provider is None or rest != "jwks.json":
                    self._send(404, {"error": "not found"})
                elif provider.broken:
                    self._send(500, {"error": "boom"})
                else:
                    self._send(200, provider.jwks())

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def new_provider(self, clock: MovableClock, kind: str = "RSA") -> IdentityProvider:
        provider = IdentityProvider(self.base_url, f"idp-{uuid.uuid4().hex[:12]}", clock, kind)
        self.providers[provider.name] = provider
        return provider


# --- HTTP helpers ---------------------------------------------------------------------------


def code_of(response: httpx.Response) -> str:
    """The problem+json ``code`` of an error response."""
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
    code = response.json()["code"]
    assert isinstance(code, str)
    return code


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_access_token(runtime: Runtime, tenant: TenantHandle, admin_id: str) -> dict[str, str]:
    """An admin's access token, as ``POST /auth/admin/login`` would issue it, as headers."""
    token = runtime.signer.issue(
        typ=ApiKeyType.ADMIN_JWT_ACCESS_TOKEN,
        tenant_id=tenant.id,
        environment=Environment.TESTNET,
        subject=admin_id,
        now=runtime.clock.now(),
        ttl=timedelta(minutes=5),
        jti=uuid.uuid4(),
    )
    return bearer(token)


async def configure_tenant(
    client: httpx.AsyncClient,
    tenant: TenantHandle,
    *providers: IdentityProvider,
    allow_guests: bool | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"authProviders": [p.config for p in providers]}
    if allow_guests is not None:
        body["allowJWTForUnauthenticatedUsers"] = allow_guests
    response = await client.put("/v1.7/tenant/admin", json=body, headers=tenant.admin)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def exchange(
    client: httpx.AsyncClient,
    project_key: str,
    body: dict[str, Any],
    *,
    version: str = "v1.7",
) -> httpx.Response:
    return await client.post(
        f"/{version}/auth/token", json=body, headers={"x-project-key": project_key}
    )


async def login_user(
    client: httpx.AsyncClient, project_key: str, id_token: str, *, version: str = "v1.7"
) -> dict[str, str]:
    """A user login that must succeed; returns ``{accessToken, refreshToken}``."""
    response = await exchange(
        client, project_key, {"authToken": id_token, "authType": "user"}, version=version
    )
    assert response.status_code == 200, response.text
    pair: dict[str, str] = response.json()
    assert set(pair) == {"accessToken", "refreshToken"}
    return pair


async def refresh(
    client: httpx.AsyncClient, refresh_token: str, *, version: str = "v1.7", **headers: str
) -> httpx.Response:
    return await client.post(
        f"/{version}/auth/refresh", json={"refreshToken": refresh_token}, headers=headers
    )


async def pers_claims(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """Verify a PERS token against the published JWKS (ES256) and return its claims."""
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    keys = jwt.PyJWKSet.from_dict(response.json())
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    key = keys[header["kid"]]
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["ES256"], options={"verify_iat": False, "verify_exp": False}
    )
    return claims
