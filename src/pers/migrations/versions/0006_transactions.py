"""transactions: the record of every movement of value (its ledger entry has the same id)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transactions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "type",
            sa.Enum(
                "MINT",
                "TRANSFER",
                "BURN",
                "CLAIM",
                name="transaction_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "trigger_process_type",
            sa.Enum(
                "PURCHASE",
                "SPEND",
                "TRANSFER",
                "EARN",
                "CAMPAIGN_USER_CLAIM",
                "CAMPAIGN_SYSTEM_CLAIM",
                "CAMPAIGN_BUSINESS_CLAIM",
                "REDEMPTION_SPEND",
                "REDEMPTION_RECEIVE",
                "MIGRATION",
                "ADMIN_TRIGGERED",
                name="trigger_process_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("trigger_process_id", sa.String(), nullable=True),
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("token_address", sa.String(length=42), nullable=False),
        sa.Column("token_type", sa.String(length=16), nullable=False),
        sa.Column("token_decimals", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=True),
        sa.Column("contract_token_id", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("token_metadata_incremental_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("sender_address", sa.String(length=42), nullable=False),
        sa.Column(
            "sender_owner_type",
            sa.Enum(
                "user",
                "business",
                "tenant",
                "external",
                name="owner_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sender_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_address", sa.String(length=42), nullable=False),
        sa.Column(
            "recipient_owner_type",
            sa.Enum(
                "user",
                "business",
                "tenant",
                "external",
                name="owner_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recipient_id", sa.Uuid(), nullable=True),
        sa.Column("engaged_business_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "created",
                "processing",
                "pending_signature",
                "broadcasted",
                "succeeded",
                "failed",
                name="transaction_status",
                native_enum=False,
                length=32,
            ),
            server_default=sa.text("'created'"),
            nullable=False,
        ),
        sa.Column("transaction_hash", sa.String(), nullable=True),
        sa.Column("failure_reason", sa.String(), nullable=True),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_transactions")),
    )
    op.create_index(
        "ix_transactions_tenant_id_created_at",
        "transactions",
        ["tenant_id", "environment", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_transactions_tenant_id_recipient",
        "transactions",
        ["tenant_id", "environment", "recipient_address", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_transactions_tenant_id_sender",
        "transactions",
        ["tenant_id", "environment", "sender_address", "created_at"],
        unique=False,
    )
    grant("transactions", "SELECT, INSERT, UPDATE")
    enable_tenant_rls("transactions")


def downgrade() -> None:
    disable_tenant_rls("transactions")
    revoke("transactions")
    op.drop_index("ix_transactions_tenant_id_sender", table_name="transactions")
    op.drop_index("ix_transactions_tenant_id_recipient", table_name="transactions")
    op.drop_index("ix_transactions_tenant_id_created_at", table_name="transactions")
    op.drop_table("transactions")
