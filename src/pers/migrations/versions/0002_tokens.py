"""tokens: token contracts per environment, their item metadata, token types

Every table is tenant-owned: Row Level Security (forced) and grants for the app role. The
partial unique indexes ``uq_tokens_tenant_id_{testnet,mainnet}_credit`` keep at most one active
ERC20 (the credit token) per tenant and environment.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("token_types", "tokens", "token_metadata")
TOKEN_TYPE = sa.Enum("ERC20", "ERC721", "ERC1155", name="token_type", native_enum=False, length=16)
TESTNET_CREDIT = "type = 'ERC20' AND testnet_is_active"
MAINNET_CREDIT = "type = 'ERC20' AND mainnet_is_active"


def _timestamps() -> list[sa.Column[datetime]]:
    return [
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "token_types",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("native_token_type", TOKEN_TYPE, nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("image_url", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("tenant_id", "native_token_type", name=op.f("pk_token_types")),
    )
    op.create_table(
        "tokens",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", TOKEN_TYPE, nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("symbol", sa.String(), nullable=True),
        sa.Column("decimals", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("abi_url", sa.String(), nullable=True),
        sa.Column("is_gallery", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("testnet_contract_address", sa.String(), nullable=False),
        sa.Column("testnet_chain_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "testnet_is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("mainnet_contract_address", sa.String(), nullable=True),
        sa.Column("mainnet_chain_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "mainnet_is_active", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "last_metadata_incremental_id",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        *_timestamps(),
        sa.CheckConstraint(
            "type = 'ERC20' OR decimals = 0", name=op.f("ck_tokens_nft_without_decimals")
        ),
        sa.CheckConstraint(
            "(mainnet_contract_address IS NULL) = (mainnet_chain_id IS NULL)",
            name=op.f("ck_tokens_mainnet_address_with_chain"),
        ),
        sa.CheckConstraint("decimals BETWEEN 0 AND 36", name=op.f("ck_tokens_decimals_range")),
        sa.CheckConstraint(
            "last_metadata_incremental_id >= 0",
            name=op.f("ck_tokens_metadata_counter_not_negative"),
        ),
        sa.CheckConstraint(
            "mainnet_contract_address IS NOT NULL OR NOT mainnet_is_active",
            name=op.f("ck_tokens_mainnet_active_needs_address"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tokens")),
        sa.UniqueConstraint(
            "tenant_id",
            "mainnet_contract_address",
            name=op.f("uq_tokens_tenant_id_mainnet_contract_address"),
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "testnet_contract_address",
            name=op.f("uq_tokens_tenant_id_testnet_contract_address"),
        ),
    )
    op.create_index(
        "uq_tokens_tenant_id_mainnet_credit",
        "tokens",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text(MAINNET_CREDIT),
    )
    op.create_index(
        "uq_tokens_tenant_id_testnet_credit",
        "tokens",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text(TESTNET_CREDIT),
    )
    op.create_table(
        "token_metadata",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("incremental_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("image_url", sa.String(), nullable=True),
        sa.Column("external_url", sa.String(), nullable=True),
        sa.Column("animation_url", sa.String(), nullable=True),
        sa.Column("youtube_url", sa.String(), nullable=True),
        sa.Column("preview_url", sa.String(), nullable=True),
        sa.Column("creator_account_address", sa.String(), nullable=True),
        sa.Column("expiry_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("image_web3_storage_url", sa.String(), nullable=True),
        sa.Column("animation_web3_storage_url", sa.String(), nullable=True),
        sa.Column("web3_storage_url", sa.String(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "incremental_id > 0", name=op.f("ck_token_metadata_incremental_id_positive")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "token_id"],
            ["tokens.tenant_id", "tokens.id"],
            name=op.f("fk_token_metadata_tenant_id_token_id_tokens"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_token_metadata")),
        sa.UniqueConstraint(
            "tenant_id",
            "token_id",
            "incremental_id",
            name=op.f("uq_token_metadata_tenant_id_token_id_incremental_id"),
        ),
    )

    for table in TENANT_TABLES:
        grant(table)
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        disable_tenant_rls(table)
        revoke(table)
    op.drop_table("token_metadata")
    op.drop_index(
        "uq_tokens_tenant_id_testnet_credit",
        table_name="tokens",
        postgresql_where=sa.text(TESTNET_CREDIT),
    )
    op.drop_index(
        "uq_tokens_tenant_id_mainnet_credit",
        table_name="tokens",
        postgresql_where=sa.text(MAINNET_CREDIT),
    )
    op.drop_table("tokens")
    op.drop_table("token_types")
