"""contract deployments: an admin's request that pers deploy a token contract for the tenant

A durable intent (chain writes never run inside a request): the settlement relayer claims
``created`` rows, sends the creation transaction signed by the tenant's operator, and on
confirmation the token is registered and the row ``succeeded``. Tenant-owned: Row Level
Security (forced); the app role reads, inserts and updates (no delete: the history stays).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENVIRONMENT = sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16)
_KIND = sa.Enum("credit", "status", "reward", name="deployment_kind", native_enum=False, length=16)
_STATUS = sa.Enum(
    "created", "processing", "broadcasted", "succeeded", "failed",
    name="deployment_status", native_enum=False, length=16,
)  # fmt: skip
_ADDRESS = "~ '^0x[0-9a-fA-F]{40}$'"


def upgrade() -> None:
    op.create_table(
        "contract_deployments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("environment", _ENVIRONMENT, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", _KIND, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("base_uri", sa.String(), nullable=True),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("contract_address", sa.String(length=42), nullable=True),
        sa.Column("token_id", sa.Uuid(), nullable=True),
        sa.Column("transaction_hash", sa.String(length=66), nullable=True),
        sa.Column("failure_reason", sa.String(), nullable=True),
        sa.Column("chain_send_id", sa.Uuid(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint("chain_id > 0", name=op.f("ck_contract_deployments_chain_id_positive")),
        sa.CheckConstraint(
            "decimals BETWEEN 0 AND 36", name=op.f("ck_contract_deployments_decimals_range")
        ),
        sa.CheckConstraint(
            "kind = 'credit' OR decimals = 0",
            name=op.f("ck_contract_deployments_nft_without_decimals"),
        ),
        sa.CheckConstraint(
            f"contract_address IS NULL OR contract_address {_ADDRESS}",
            name=op.f("ck_contract_deployments_contract_address_format"),
        ),
        sa.CheckConstraint(
            "status <> 'succeeded' OR (token_id IS NOT NULL AND contract_address IS NOT NULL "
            "AND transaction_hash IS NOT NULL)",
            name=op.f("ck_contract_deployments_succeeded_has_token"),
        ),
        sa.CheckConstraint(
            "status <> 'failed' OR failure_reason IS NOT NULL",
            name=op.f("ck_contract_deployments_failed_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "token_id"],
            ["tokens.tenant_id", "tokens.id"],
            name=op.f("fk_contract_deployments_tenant_id_token_id_tokens"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contract_deployments")),
    )
    op.create_index(
        "ix_contract_deployments_tenant_id_created_at",
        "contract_deployments",
        ["tenant_id", "created_at"],
    )
    op.create_index(
        "ix_contract_deployments_tenant_id_pending",
        "contract_deployments",
        ["tenant_id", "created_at"],
        postgresql_where=sa.text("status IN ('created', 'processing', 'broadcasted')"),
    )
    grant("contract_deployments", "SELECT, INSERT, UPDATE")
    enable_tenant_rls("contract_deployments")


def downgrade() -> None:
    disable_tenant_rls("contract_deployments")
    revoke("contract_deployments")
    op.drop_index("ix_contract_deployments_tenant_id_pending", table_name="contract_deployments")
    op.drop_index("ix_contract_deployments_tenant_id_created_at", table_name="contract_deployments")
    op.drop_table("contract_deployments")
