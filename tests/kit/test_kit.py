import uuid

import pytest
from cryptography.exceptions import InvalidTag

from pers.kit.crypto import SecretBox, derive_key
from pers.kit.ids import uuid7


def test_uuid7_is_version_7_and_time_ordered() -> None:
    ids = [uuid7() for _ in range(1000)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    timestamps = [i.int >> 80 for i in ids]
    assert timestamps == sorted(timestamps)
    assert len(set(ids)) == len(ids)


def test_secret_box_round_trips_and_binds_associated_data() -> None:
    box = SecretBox(derive_key(b"m" * 32, "test"))
    sealed = box.seal("sk_live_123", "tenants.x:1")
    assert "sk_live_123" not in sealed
    assert box.open(sealed, "tenants.x:1") == "sk_live_123"
    with pytest.raises(InvalidTag):
        box.open(sealed, "tenants.x:2")


def test_derived_keys_differ_by_purpose() -> None:
    assert derive_key(b"m" * 32, "a") != derive_key(b"m" * 32, "b")
