"""redemptions: types, redemptions, token units, supply shards, per-user counters, redeems

Every table is tenant-owned (forced Row Level Security, tenant_id leading every key).
Redemptions are soft deleted and token units soft removed, so the app role cannot DELETE them
and ``redemption_redeems`` keeps foreign keys to both forever. Redeems are append-only (SELECT,
INSERT). Supply shards are the one table the app role deletes from: an admin changing
``maxTotalSupply`` replaces a redemption's shards.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRANTS = {
    "redemption_types": "SELECT, INSERT, UPDATE",
    "redemptions": "SELECT, INSERT, UPDATE",
    "redemption_token_units": "SELECT, INSERT, UPDATE",
    "redemption_supply_shards": "SELECT, INSERT, UPDATE, DELETE",
    "redemption_user_counters": "SELECT, INSERT, UPDATE",
    "redemption_redeems": "SELECT, INSERT",
}


def upgrade() -> None:
    op.create_table(
        "redemption_types",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("image_url", sa.String(), nullable=True),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_redemption_types")),
    )
    op.create_table(
        "redemption_user_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("redemption_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("last_redeem_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "redemption_id", "user_id", name=op.f("pk_redemption_user_counters")
        ),
    )
    op.create_table(
        "redemptions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("image_url", sa.String(), nullable=True),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("credit_token_amount", sa.Numeric(), nullable=False),
        sa.Column("redemption_type_id", sa.BigInteger(), nullable=True),
        sa.Column("min_user_status_type_id", sa.BigInteger(), nullable=True),
        sa.Column("max_total_supply", sa.Integer(), nullable=True),
        sa.Column("max_per_user", sa.Integer(), nullable=True),
        sa.Column("supply_shards", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("display_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "country_code_restrictions",
            postgresql.ARRAY(sa.String(length=6)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=100)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "credit_token_amount >= 0", name=op.f("ck_redemptions_credit_token_amount_not_negative")
        ),
        sa.CheckConstraint(
            "max_per_user IS NULL OR max_per_user >= 1", name=op.f("ck_redemptions_max_per_user")
        ),
        sa.CheckConstraint(
            "max_total_supply IS NULL OR max_total_supply >= 0",
            name=op.f("ck_redemptions_max_supply"),
        ),
        sa.CheckConstraint("supply_shards >= 0", name=op.f("ck_redemptions_supply_shards")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "min_user_status_type_id"],
            ["user_status_types.tenant_id", "user_status_types.id"],
            name="fk_redemptions_min_user_status_type",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "redemption_type_id"],
            ["redemption_types.tenant_id", "redemption_types.id"],
            name="fk_redemptions_type",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_redemptions")),
    )
    op.create_index(
        "ix_redemptions_tenant_id_environment",
        "redemptions",
        ["tenant_id", "environment", "is_active"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_redemptions_tenant_id_min_user_status_type_id",
        "redemptions",
        ["tenant_id", "min_user_status_type_id"],
        unique=False,
    )
    op.create_index(
        "ix_redemptions_tenant_id_redemption_type_id",
        "redemptions",
        ["tenant_id", "redemption_type_id"],
        unique=False,
    )
    op.create_table(
        "redemption_redeems",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("redemption_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("credit_token_amount", sa.Numeric(), nullable=False),
        sa.Column("credit_base_units", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("user_country_code", sa.String(length=2), nullable=True),
        sa.Column("transaction_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "redemption_id"],
            ["redemptions.tenant_id", "redemptions.id"],
            name="fk_redemption_redeems_redemption",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name="fk_redemption_redeems_user",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_redemption_redeems")),
    )
    op.create_index(
        "ix_redemption_redeems_tenant_id_redemption",
        "redemption_redeems",
        ["tenant_id", "redemption_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_redemption_redeems_tenant_id_user",
        "redemption_redeems",
        ["tenant_id", "user_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "redemption_supply_shards",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("redemption_id", sa.Uuid(), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "remaining >= 0", name=op.f("ck_redemption_supply_shards_remaining_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "redemption_id"],
            ["redemptions.tenant_id", "redemptions.id"],
            name="fk_redemption_supply_shards_redemption",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "redemption_id", "shard", name=op.f("pk_redemption_supply_shards")
        ),
    )
    op.create_table(
        "redemption_token_units",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("redemption_id", sa.Uuid(), nullable=False),
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("token_metadata_incremental_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("max_amount", sa.Numeric(precision=78, scale=0), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint("amount > 0", name=op.f("ck_redemption_token_units_amount_positive")),
        sa.CheckConstraint(
            "max_amount IS NULL OR max_amount >= amount",
            name=op.f("ck_redemption_token_units_max_amount"),
        ),
        sa.CheckConstraint(
            "token_metadata_incremental_id IS NULL OR token_metadata_incremental_id > 0",
            name=op.f("ck_redemption_token_units_metadata_incremental_id_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "redemption_id"],
            ["redemptions.tenant_id", "redemptions.id"],
            name="fk_redemption_token_units_redemption",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "token_id"],
            ["tokens.tenant_id", "tokens.id"],
            name="fk_redemption_token_units_token",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_redemption_token_units")),
    )
    op.create_index(
        "ix_redemption_token_units_tenant_id_token_id",
        "redemption_token_units",
        ["tenant_id", "token_id"],
        unique=False,
    )
    op.create_index(
        "uq_redemption_token_units_tenant_id_token",
        "redemption_token_units",
        [
            "tenant_id",
            "redemption_id",
            "token_id",
            sa.literal_column("coalesce(token_metadata_incremental_id, 0)"),
        ],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    for table, privileges in GRANTS.items():
        grant(table, privileges)
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in GRANTS:
        disable_tenant_rls(table)
        revoke(table)
    op.drop_index(
        "uq_redemption_token_units_tenant_id_token",
        table_name="redemption_token_units",
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.drop_index(
        "ix_redemption_token_units_tenant_id_token_id", table_name="redemption_token_units"
    )
    op.drop_table("redemption_token_units")
    op.drop_table("redemption_supply_shards")
    op.drop_index("ix_redemption_redeems_tenant_id_user", table_name="redemption_redeems")
    op.drop_index("ix_redemption_redeems_tenant_id_redemption", table_name="redemption_redeems")
    op.drop_table("redemption_redeems")
    op.drop_index("ix_redemptions_tenant_id_redemption_type_id", table_name="redemptions")
    op.drop_index("ix_redemptions_tenant_id_min_user_status_type_id", table_name="redemptions")
    op.drop_index(
        "ix_redemptions_tenant_id_environment",
        table_name="redemptions",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("redemptions")
    op.drop_table("redemption_user_counters")
    op.drop_table("redemption_types")
