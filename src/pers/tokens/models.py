from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKeyConstraint,
    Index,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from pers.db import Base
from pers.kit.enums import Environment
from pers.kit.models import TenantOwned, Timestamps, WithId


class TokenType(StrEnum):
    """The web3 standard a token contract implements (the spec's ``type``/``nativeTokenType``)."""

    ERC20 = "ERC20"  # credits (points): fungible, with decimals
    ERC721 = "ERC721"  # status and stamps: one holder per token id
    ERC1155 = "ERC1155"  # rewards: many holders per token id


TOKEN_TYPE = Enum(TokenType, name="token_type", native_enum=False, length=16)

# The credit token rule (at most one active ERC20 per tenant and environment) as a predicate
# each partial unique index below enforces.
CREDIT_ACTIVE = {
    Environment.TESTNET: "type = 'ERC20' AND testnet_is_active",
    Environment.MAINNET: "type = 'ERC20' AND mainnet_is_active",
}


class TokenTypeDefinition(TenantOwned, Timestamps, Base):
    """How a tenant presents one native token type (name, image, description). One per native
    type: the spec's TokenType has no id, so ``nativeTokenType`` is its key."""

    __tablename__ = "token_types"

    native_token_type: Mapped[TokenType] = mapped_column(TOKEN_TYPE, primary_key=True)
    name: Mapped[str | None]
    image_url: Mapped[str | None]
    description: Mapped[str | None]


class Token(TenantOwned, WithId, Timestamps, Base):
    """A token contract of a tenant. It is registered on testnet and may later be given a
    mainnet address; each environment has its own address, chain and active flag, and a request
    sees the side of its own environment only."""

    __tablename__ = "tokens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "testnet_contract_address"),
        UniqueConstraint("tenant_id", "mainnet_contract_address"),
        Index(
            "uq_tokens_tenant_id_testnet_credit",
            "tenant_id",
            unique=True,
            postgresql_where=text(CREDIT_ACTIVE[Environment.TESTNET]),
        ),
        Index(
            "uq_tokens_tenant_id_mainnet_credit",
            "tenant_id",
            unique=True,
            postgresql_where=text(CREDIT_ACTIVE[Environment.MAINNET]),
        ),
        CheckConstraint("decimals BETWEEN 0 AND 36", name="decimals_range"),
        CheckConstraint("type = 'ERC20' OR decimals = 0", name="nft_without_decimals"),
        CheckConstraint(
            "(mainnet_contract_address IS NULL) = (mainnet_chain_id IS NULL)",
            name="mainnet_address_with_chain",
        ),
        CheckConstraint(
            "mainnet_contract_address IS NOT NULL OR NOT mainnet_is_active",
            name="mainnet_active_needs_address",
        ),
        CheckConstraint("last_metadata_incremental_id >= 0", name="metadata_counter_not_negative"),
    )

    type: Mapped[TokenType] = mapped_column(TOKEN_TYPE)
    name: Mapped[str | None]
    symbol: Mapped[str | None]
    decimals: Mapped[int] = mapped_column(server_default=text("0"))
    abi_url: Mapped[str | None]
    is_gallery: Mapped[bool] = mapped_column(server_default=text("false"))
    testnet_contract_address: Mapped[str]
    testnet_chain_id: Mapped[int] = mapped_column(BigInteger)
    testnet_is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    mainnet_contract_address: Mapped[str | None]
    mainnet_chain_id: Mapped[int | None] = mapped_column(BigInteger)
    mainnet_is_active: Mapped[bool] = mapped_column(server_default=text("false"))
    # The last tokenMetadataIncrementalId handed out; bumped in the same UPDATE that allocates.
    last_metadata_incremental_id: Mapped[int] = mapped_column(server_default=text("0"))

    def address_in(self, env: Environment) -> str | None:
        if env is Environment.MAINNET:
            return self.mainnet_contract_address
        return self.testnet_contract_address

    def chain_in(self, env: Environment) -> int | None:
        return self.mainnet_chain_id if env is Environment.MAINNET else self.testnet_chain_id

    def is_active_in(self, env: Environment) -> bool:
        return self.mainnet_is_active if env is Environment.MAINNET else self.testnet_is_active


class TokenMetadata(TenantOwned, WithId, Timestamps, Base):
    """One item of an NFT token (OpenSea metadata fields). ``incremental_id`` numbers a token's
    items 1, 2, 3...: it is the on-chain token id campaigns and redemptions mint."""

    __tablename__ = "token_metadata"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "token_id"], ["tokens.tenant_id", "tokens.id"]),
        UniqueConstraint("tenant_id", "token_id", "incremental_id"),
        CheckConstraint("incremental_id > 0", name="incremental_id_positive"),
    )

    token_id: Mapped[uuid.UUID]
    incremental_id: Mapped[int]
    name: Mapped[str | None]
    description: Mapped[str | None]
    image_url: Mapped[str | None]
    external_url: Mapped[str | None]
    animation_url: Mapped[str | None]
    youtube_url: Mapped[str | None]
    preview_url: Mapped[str | None]
    creator_account_address: Mapped[str | None]
    expiry_date: Mapped[datetime | None]
    image_web3_storage_url: Mapped[str | None]
    animation_web3_storage_url: Mapped[str | None]
    web3_storage_url: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
