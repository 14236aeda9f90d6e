"""purchases: purchase types, donation types, purchase tokens, purchases and handled Stripe events

``purchases`` holds one row per Stripe payment intent (unique per tenant) and its state;
``purchase_stripe_events`` the ids of the Stripe events already handled, so a redelivered event
changes nothing. The app role never deletes: a purchase token is deleted by marking it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "purchase_types",
    "donation_types",
    "purchase_tokens",
    "purchases",
    "purchase_stripe_events",
)
_ENV = sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16)
_CURRENCY = sa.Enum("eur", name="currency", native_enum=False, length=8)
_STATUS = sa.Enum(
    "PENDING", "SUCCEEDED", "FAILED", "CANCELED", name="purchase_status", native_enum=False,
    length=16,
)  # fmt: skip


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "purchase_types",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False), autoincrement=True, nullable=False
        ),
        sa.Column("conversion_rate", sa.Numeric(), nullable=False),
        sa.Column("currency", _CURRENCY, nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(
            "conversion_rate > 0", name=op.f("ck_purchase_types_conversion_rate_positive")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchase_types")),
    )
    op.create_table(
        "donation_types",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("percentage", sa.Numeric(), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(
            "percentage >= 0 AND percentage <= 100",
            name=op.f("ck_donation_types_percentage_range"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_donation_types")),
    )
    op.create_table(
        "purchase_tokens",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("purchase_type_id", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("deleted_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "purchase_type_id"],
            ["purchase_types.tenant_id", "purchase_types.id"],
            name="fk_purchase_tokens_purchase_type",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "token_id"],
            ["tokens.tenant_id", "tokens.id"],
            name="fk_purchase_tokens_token",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchase_tokens")),
    )
    op.create_index(
        "ix_purchase_tokens_tenant_id_created_at", "purchase_tokens", ["tenant_id", "created_at"]
    )
    op.create_table(
        "purchases",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("environment", _ENV, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purchase_token_id", sa.Uuid(), nullable=False),
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", _CURRENCY, nullable=False),
        sa.Column("quantity", sa.Numeric(), nullable=False),
        sa.Column("conversion_rate", sa.Numeric(), nullable=False),
        sa.Column("units", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("donation_type_id", sa.BigInteger(), nullable=True),
        sa.Column("donation_percentage", sa.Numeric(), nullable=True),
        sa.Column("donation_account_address", sa.String(), nullable=True),
        sa.Column("donation_business_id", sa.Uuid(), nullable=True),
        sa.Column("donation_units", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("transaction_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("failure_reason", sa.String(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("amount > 0", name=op.f("ck_purchases_amount_positive")),
        sa.CheckConstraint(
            "donation_units >= 0 AND donation_units <= units",
            name=op.f("ck_purchases_donation_share"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "donation_business_id"],
            ["businesses.tenant_id", "businesses.id"],
            name="fk_purchases_donation_business",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "donation_type_id"],
            ["donation_types.tenant_id", "donation_types.id"],
            name="fk_purchases_donation_type",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "purchase_token_id"],
            ["purchase_tokens.tenant_id", "purchase_tokens.id"],
            name="fk_purchases_purchase_token",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], name="fk_purchases_user"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchases")),
        sa.UniqueConstraint(
            "tenant_id",
            "stripe_payment_intent_id",
            name=op.f("uq_purchases_tenant_id_stripe_payment_intent_id"),
        ),
    )
    op.create_index(
        "ix_purchases_tenant_id_user", "purchases", ["tenant_id", "user_id", "created_at"]
    )
    op.create_table(
        "purchase_stripe_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        _ts("received_at"),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_purchase_stripe_events")),
    )
    grant("purchase_types", "SELECT, INSERT")
    grant("donation_types", "SELECT, INSERT")
    grant("purchase_tokens", "SELECT, INSERT, UPDATE")
    grant("purchases", "SELECT, INSERT, UPDATE")
    grant("purchase_stripe_events", "SELECT, INSERT")
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        disable_tenant_rls(table)
        revoke(table)
    op.drop_table("purchase_stripe_events")
    op.drop_index("ix_purchases_tenant_id_user", table_name="purchases")
    op.drop_table("purchases")
    op.drop_index("ix_purchase_tokens_tenant_id_created_at", table_name="purchase_tokens")
    op.drop_table("purchase_tokens")
    op.drop_table("donation_types")
    op.drop_table("purchase_types")
