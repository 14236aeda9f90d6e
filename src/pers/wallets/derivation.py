"""The one place wallet keys and addresses are derived.

key = HKDF-SHA256(master secret, info="pers/wallet/v1/<tenant>/<owner type>/<owner id>") reduced
into secp256k1's range. Nothing is stored: the settlement worker re-derives the key to sign, and
the address (what the API shows as ``accountAddress``) is fixed from the moment the owner exists.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from functools import lru_cache

from eth_keys.backends.coincurve import CoinCurveECCBackend
from eth_keys.datatypes import PrivateKey

from pers.kit.crypto import derive_key

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_BACKEND = CoinCurveECCBackend()


class OwnerType(StrEnum):
    USER = "user"
    BUSINESS = "business"
    TENANT = "tenant"


class WalletDeriver:
    def __init__(self, master_secret: bytes) -> None:
        self._master = master_secret

    def private_key(self, tenant_id: uuid.UUID, owner: OwnerType, owner_id: uuid.UUID) -> bytes:
        seed = derive_key(self._master, f"pers/wallet/v1/{tenant_id}/{owner.value}/{owner_id}")
        scalar = int.from_bytes(seed, "big") % (SECP256K1_N - 1) + 1
        return scalar.to_bytes(32, "big")

    def address(self, tenant_id: uuid.UUID, owner: OwnerType, owner_id: uuid.UUID) -> str:
        return _address(self.private_key(tenant_id, owner, owner_id))


@lru_cache(maxsize=65536)
def _address(private_key: bytes) -> str:
    key = PrivateKey(private_key, backend=_BACKEND)
    return str(key.public_key.to_checksum_address())
