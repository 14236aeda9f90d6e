"""Deployment key material: resolved from settings, else generated once into the data directory.

Files are written with mode 0600 and never overwritten, so every process started on the same
data directory shares the same platform key, master secret and JWT signing key.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pers.config import Settings


@dataclass(frozen=True)
class Deployment:
    settings: Settings
    platform_api_key: str
    platform_api_key_generated: bool
    master_secret: bytes
    jwt_private_key: ec.EllipticCurvePrivateKey


def _read_or_create(path: Path, make: bytes) -> tuple[bytes, bool]:
    """Read ``path``; create it with ``make`` atomically (O_EXCL) when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes(), False
    with os.fdopen(fd, "wb") as f:
        f.write(make)
    return make, True


def _new_ec_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_deployment(settings: Settings) -> Deployment:
    keys_dir = settings.data_dir / "keys"
    generated = False
    if settings.platform_api_key:
        platform_key = settings.platform_api_key
    else:
        raw, generated = _read_or_create(
            keys_dir / "platform_api_key",
            ("pers_platform_" + secrets.token_urlsafe(32)).encode(),
        )
        platform_key = raw.decode().strip()

    if settings.secret_key:
        master = bytes.fromhex(settings.secret_key)
        if len(master) < 32:
            raise ValueError("PERS_SECRET_KEY must be at least 32 bytes of hex")
    else:
        raw, _ = _read_or_create(keys_dir / "master_secret", secrets.token_hex(32).encode())
        master = bytes.fromhex(raw.decode().strip())

    if settings.jwt_private_key:
        pem = settings.jwt_private_key.encode()
    else:
        pem, _ = _read_or_create(keys_dir / "jwt_signing_key.pem", _new_ec_pem())
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the JWT signing key must be an EC P-256 private key (ES256)")
    return Deployment(
        settings=settings,
        platform_api_key=platform_key,
        platform_api_key_generated=generated,
        master_secret=master,
        jwt_private_key=key,
    )
