"""PERS-issued JWTs: ES256 with the deployment key, published as a JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from pers.auth.errors import InvalidToken
from pers.auth.models import ApiKeyType
from pers.kit.enums import Environment

ALGORITHM = "ES256"

ACCESS_TYPES = frozenset(
    {
        ApiKeyType.USER_JWT_ACCESS_TOKEN,
        ApiKeyType.ADMIN_JWT_ACCESS_TOKEN,
        ApiKeyType.TENANT_ADMIN_JWT,
        ApiKeyType.TENANT_SYSTEM_JWT,
    }
)
# Tokens whose signature and claims were verified, kept by TokenSigner.decode: about 1.8 KB
# each (the token and its claims), so at most about 60 MB. Sized for tens of thousands of
# sessions in use at once: with 8,192, a load of 10,000 users each presenting their own token
# re-verified one request in five, 15% of the server's CPU (bench/claim_load).
VERIFIED_CACHE_SIZE = 32_768
REFRESH_TYPES = frozenset({ApiKeyType.USER_JWT_REFRESH_TOKEN, ApiKeyType.ADMIN_JWT_REFRESH_TOKEN})


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and not value.startswith("pers_")


class TokenSigner:
    def __init__(self, private_key: ec.EllipticCurvePrivateKey, issuer: str) -> None:
        self._private = private_key
        self._public = private_key.public_key()
        self.issuer = issuer
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(self._public, as_dict=True)
        canonical = json.dumps(
            {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
        )
        digest = hashlib.sha256(canonical.encode()).digest()
        self.kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        self._jwk = {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}
        self._verified: dict[str, dict[str, Any]] = {}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._jwk]}

    def issue(
        self,
        *,
        typ: ApiKeyType,
        tenant_id: uuid.UUID,
        environment: Environment,
        subject: str,
        now: datetime,
        ttl: timedelta | None,
        jti: uuid.UUID,
        extra: dict[str, Any] | None = None,
    ) -> str:
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "tenantId": str(tenant_id),
            "env": environment.value,
            "typ": typ.value,
            "jti": str(jti),
            "iat": int(now.timestamp()),
        }
        if ttl is not None:
            payload["exp"] = int((now + ttl).timestamp())
        if extra:
            payload.update(extra)
        token = jwt.encode(payload, self._private, algorithm=ALGORITHM, headers={"kid": self.kid})
        if typ not in REFRESH_TYPES:
            # Signed here, so valid by construction: remembered as decoding would read it (the
            # JSON round trip), so the session's first request skips the ES256 check too.
            self._remember(token, _checked(json.loads(json.dumps(payload))))
        return token

    def is_ours(self, token: str) -> bool:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return isinstance(claims, dict) and claims.get("iss") == self.issuer

    def decode(self, token: str, *, now: datetime) -> dict[str, Any]:
        """Verify signature, issuer and expiry (against the injectable clock).

        Verifying an ES256 signature costs about a quarter of a millisecond, on every request
        that presents a token. The outcome depends on nothing but the token's bytes and this
        signer's key, so well-formed tokens are remembered (a bounded map, oldest out first),
        and so are the access tokens this signer issues, which it signed itself;
        expiry is checked on every call, and revocation is the callers' business as before.
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            self._remember(token, claims)
        exp = claims.get("exp")
        if exp is not None and (not isinstance(exp, int) or exp <= int(now.timestamp())):
            raise InvalidToken("token expired")
        return dict(claims)

    def _remember(self, token: str, claims: dict[str, Any]) -> None:
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                options={"verify_exp": False, "verify_iat": False, "require": ["iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"token rejected: {exc}") from exc
        return _checked(claims)


def _checked(claims: dict[str, Any]) -> dict[str, Any]:
    """The claims every PERS token carries, well formed (InvalidToken otherwise)."""
    for claim in ("tenantId", "env", "typ", "jti"):
        if not isinstance(claims.get(claim), str):
            raise InvalidToken(f"token lacks the {claim} claim")
    try:
        ApiKeyType(claims["typ"])
        Environment(claims["env"])
        uuid.UUID(claims["tenantId"])
        uuid.UUID(claims["jti"])
    except ValueError as exc:
        raise InvalidToken("token claims are malformed") from exc
    return claims
