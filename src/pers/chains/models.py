"""The tenant's registry of web3 contracts (the spec's Web3 Contract module)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Enum, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pers.db import Base
from pers.kit.models import TenantOwned, Timestamps, WithId


class ContractType(StrEnum):
    """What a registered contract is: the spec's wallet kinds, and token contracts."""

    SMART_WALLET_FACTORY = "SMART_WALLET_FACTORY"
    SMART_WALLET_IMPLEMENTATION = "SMART_WALLET_IMPLEMENTATION"
    SMART_WALLET_PROXY = "SMART_WALLET_PROXY"
    COUNTERFACTUAL_WALLET_FACTORY = "COUNTERFACTUAL_WALLET_FACTORY"
    COUNTERFACTUAL_WALLET_IMPLEMENTATION = "COUNTERFACTUAL_WALLET_IMPLEMENTATION"
    ERC20 = "ERC20"
    ERC721 = "ERC721"
    ERC1155 = "ERC1155"


class NativeTokenType(StrEnum):
    ERC20 = "ERC20"
    ERC721 = "ERC721"
    ERC1155 = "ERC1155"


TOKEN_CONTRACT_TYPES = frozenset({ContractType.ERC20, ContractType.ERC721, ContractType.ERC1155})
CONTRACT_TYPE = Enum(ContractType, name="contract_type", native_enum=False, length=40)
NATIVE_TOKEN_TYPE = Enum(NativeTokenType, name="native_token_type", native_enum=False, length=16)
ADDRESS_CHECK = "~ '^0x[0-9a-fA-F]{40}$'"


class Contract(TenantOwned, WithId, Timestamps, Base):
    """A contract a tenant admin registered on a configured chain; one row per (chain,
    address) in a tenant. Addresses are stored in their EIP-55 form. Chains come from settings,
    not from a table, so ``chain_id`` references none: the service checks it on registration."""

    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "chain_id", "contract_address"),
        Index(
            "ix_contracts_tenant_id_chain_id_type",
            "tenant_id",
            "chain_id",
            "contract_type",
            "created_at",
        ),
        CheckConstraint("chain_id > 0", name="chain_id_positive"),
        CheckConstraint(f"contract_address {ADDRESS_CHECK}", name="contract_address_format"),
        CheckConstraint(
            f"implementation_address IS NULL OR implementation_address {ADDRESS_CHECK}",
            name="implementation_address_format",
        ),
    )

    chain_id: Mapped[int] = mapped_column(BigInteger)
    contract_address: Mapped[str] = mapped_column(String(42))
    contract_type: Mapped[ContractType] = mapped_column(CONTRACT_TYPE)
    implementation_address: Mapped[str | None] = mapped_column(String(42))
    owner_address: Mapped[str | None] = mapped_column(String(42))
    factory_address: Mapped[str | None] = mapped_column(String(42))
    contract_version: Mapped[str | None] = mapped_column(String(64))
    native_token_type: Mapped[NativeTokenType | None] = mapped_column(NATIVE_TOKEN_TYPE)
    salt: Mapped[str | None] = mapped_column(String(256))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    abi_url: Mapped[str | None] = mapped_column(String(2048))
