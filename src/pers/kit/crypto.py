"""Hashing of presented secrets and authenticated encryption of stored ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def sha256_hex(value: str | bytes) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def derive_key(master: bytes, purpose: str, length: int = 32) -> bytes:
    """A sub-key of the deployment master secret, one per purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(
        master
    )


class SecretBox:
    """AES-256-GCM; the associated data binds a ciphertext to its row and column."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, associated: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), associated.encode())
        return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str, associated: str) -> str:
        if not token.startswith("v1:"):
            raise ValueError("unknown secret format")
        raw = base64.urlsafe_b64decode(token[3:].encode())
        return self._aead.decrypt(raw[:12], raw[12:], associated.encode()).decode()
