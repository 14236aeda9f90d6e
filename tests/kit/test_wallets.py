import uuid

from eth_keys import keys

from pers.wallets.derivation import OwnerType, WalletDeriver, _address


def test_addresses_are_deterministic_and_distinct_per_owner_and_tenant() -> None:
    deriver = WalletDeriver(b"s" * 32)
    tenant, other_tenant, owner = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    address = deriver.address(tenant, OwnerType.USER, owner)
    assert address == WalletDeriver(b"s" * 32).address(tenant, OwnerType.USER, owner)
    assert address.startswith("0x")
    assert len(address) == 42
    assert address != deriver.address(other_tenant, OwnerType.USER, owner)
    assert address != deriver.address(tenant, OwnerType.BUSINESS, owner)
    assert address != WalletDeriver(b"t" * 32).address(tenant, OwnerType.USER, owner)


def test_address_is_the_derived_keys_address() -> None:
    deriver = WalletDeriver(b"s" * 32)
    tenant, owner = uuid.uuid4(), uuid.uuid4()
    key = keys.PrivateKey(deriver.private_key(tenant, OwnerType.TENANT, owner))
    assert key.public_key.to_checksum_address() == deriver.address(tenant, OwnerType.TENANT, owner)


def test_addresses_match_eth_keys_for_many_keys() -> None:
    deriver = WalletDeriver(b"m" * 32)
    tenant = uuid.uuid4()
    for _ in range(300):
        owner = uuid.uuid4()
        key = keys.PrivateKey(deriver.private_key(tenant, OwnerType.USER, owner))
        assert deriver.address(tenant, OwnerType.USER, owner) == (
            key.public_key.to_checksum_address()
        )


def test_a_tenant_address_is_remembered_and_equal_to_its_derivation() -> None:
    deriver = WalletDeriver(b"\x07" * 32)
    tenant = uuid.uuid4()
    first = deriver.address(tenant, OwnerType.TENANT, tenant)
    assert deriver.address(tenant, OwnerType.TENANT, tenant) == first
    fresh = WalletDeriver(b"\x07" * 32)
    assert fresh.address(tenant, OwnerType.TENANT, tenant) == first
    assert _address(fresh.private_key(tenant, OwnerType.TENANT, tenant)) == first
    other = uuid.uuid4()
    assert deriver.address(tenant, OwnerType.USER, other) != first
