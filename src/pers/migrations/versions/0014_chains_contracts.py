"""chains and contracts: the tenant's registry of web3 contracts

Chains are settings, not rows; ``contracts`` names its chain by id and the service checks the
id against the configured chains on registration. Tenant-owned: Row Level Security (forced);
the app role reads and inserts (a registration is not changed or deleted through the API).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONTRACT_TYPE = sa.Enum(
    "SMART_WALLET_FACTORY", "SMART_WALLET_IMPLEMENTATION", "SMART_WALLET_PROXY",
    "COUNTERFACTUAL_WALLET_FACTORY", "COUNTERFACTUAL_WALLET_IMPLEMENTATION",
    "ERC20", "ERC721", "ERC1155",
    name="contract_type", native_enum=False, length=40,
)  # fmt: skip
_NATIVE_TOKEN_TYPE = sa.Enum(
    "ERC20", "ERC721", "ERC1155", name="native_token_type", native_enum=False, length=16
)
_ADDRESS = "~ '^0x[0-9a-fA-F]{40}$'"


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract_address", sa.String(length=42), nullable=False),
        sa.Column("contract_type", _CONTRACT_TYPE, nullable=False),
        sa.Column("implementation_address", sa.String(length=42), nullable=True),
        sa.Column("owner_address", sa.String(length=42), nullable=True),
        sa.Column("factory_address", sa.String(length=42), nullable=True),
        sa.Column("contract_version", sa.String(length=64), nullable=True),
        sa.Column("native_token_type", _NATIVE_TOKEN_TYPE, nullable=True),
        sa.Column("salt", sa.String(length=256), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("abi_url", sa.String(length=2048), nullable=True),
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
        sa.CheckConstraint("chain_id > 0", name=op.f("ck_contracts_chain_id_positive")),
        sa.CheckConstraint(
            f"contract_address {_ADDRESS}", name=op.f("ck_contracts_contract_address_format")
        ),
        sa.CheckConstraint(
            f"implementation_address IS NULL OR implementation_address {_ADDRESS}",
            name=op.f("ck_contracts_implementation_address_format"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contracts")),
        sa.UniqueConstraint(
            "tenant_id",
            "chain_id",
            "contract_address",
            name=op.f("uq_contracts_tenant_id_chain_id_contract_address"),
        ),
    )
    op.create_index(
        "ix_contracts_tenant_id_chain_id_type",
        "contracts",
        ["tenant_id", "chain_id", "contract_type", "created_at"],
    )
    grant("contracts", "SELECT, INSERT")
    enable_tenant_rls("contracts")


def downgrade() -> None:
    disable_tenant_rls("contracts")
    revoke("contracts")
    op.drop_index("ix_contracts_tenant_id_chain_id_type", table_name="contracts")
    op.drop_table("contracts")
