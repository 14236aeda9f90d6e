"""campaigns: campaigns, triggers, trigger conditions, token units, business engagements

Every table is tenant-owned (forced Row Level Security, tenant_id leading every key). Campaigns
and triggers are soft deleted and token units and engagements soft removed, so the app role has
no DELETE on them: a claim table can keep foreign keys to any of them forever. The two link
tables (condition to trigger, business to engagement) describe only the current configuration
and are the only ones the app role deletes from.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRANTS = {
    "campaign_triggers": "SELECT, INSERT, UPDATE",
    "campaign_trigger_conditions": "SELECT, INSERT, UPDATE",
    "campaign_trigger_condition_links": "SELECT, INSERT, DELETE",
    "campaigns": "SELECT, INSERT, UPDATE",
    "campaign_token_units": "SELECT, INSERT, UPDATE",
    "campaign_business_engagements": "SELECT, INSERT, UPDATE",
    "campaign_engagement_businesses": "SELECT, INSERT, DELETE",
}


def upgrade() -> None:
    op.create_table(
        "campaign_trigger_conditions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "condition_type",
            sa.Enum(
                "EQUALS",
                "NOT_EQUALS",
                "GREATER_THAN",
                "LESS_THAN",
                "CONTAINS",
                "IS_PART_OF",
                name="condition_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_campaign_trigger_conditions")),
    )
    op.create_table(
        "campaign_triggers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("max_per_day", sa.Integer(), nullable=True),
        sa.Column("max_per_user", sa.Integer(), nullable=True),
        sa.Column("min_cooldown_seconds", sa.Integer(), nullable=True),
        sa.Column("max_geo_distance_in_meters", sa.Double(), nullable=True),
        sa.Column(
            "required_user_info",
            postgresql.ARRAY(sa.String(length=32)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "trigger_type",
            sa.Enum(
                "CLAIM_BY_USER",
                "CLAIM_BY_SYSTEM",
                "CLAIM_BY_BUSINESS",
                name="trigger_type",
                native_enum=False,
                length=32,
            ),
            server_default=sa.text("'CLAIM_BY_USER'"),
            nullable=False,
        ),
        sa.Column("max_multiplier", sa.Numeric(), nullable=True),
        sa.Column("completion_threshold", sa.Integer(), nullable=True),
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
            "completion_threshold IS NULL OR completion_threshold >= 1",
            name=op.f("ck_campaign_triggers_completion_threshold"),
        ),
        sa.CheckConstraint(
            "max_geo_distance_in_meters IS NULL OR max_geo_distance_in_meters > 0",
            name=op.f("ck_campaign_triggers_max_geo_distance"),
        ),
        sa.CheckConstraint(
            "max_multiplier IS NULL OR max_multiplier > 0",
            name=op.f("ck_campaign_triggers_max_multiplier"),
        ),
        sa.CheckConstraint(
            "max_per_day IS NULL OR max_per_day >= 1", name=op.f("ck_campaign_triggers_max_per_day")
        ),
        sa.CheckConstraint(
            "max_per_user IS NULL OR max_per_user >= 1",
            name=op.f("ck_campaign_triggers_max_per_user"),
        ),
        sa.CheckConstraint(
            "min_cooldown_seconds IS NULL OR min_cooldown_seconds >= 0",
            name=op.f("ck_campaign_triggers_min_cooldown"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_campaign_triggers")),
    )
    op.create_table(
        "campaign_trigger_condition_links",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("trigger_id", sa.Uuid(), nullable=False),
        sa.Column("condition_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "condition_id"],
            ["campaign_trigger_conditions.tenant_id", "campaign_trigger_conditions.id"],
            name="fk_campaign_trigger_condition_links_condition",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "trigger_id"],
            ["campaign_triggers.tenant_id", "campaign_triggers.id"],
            name="fk_campaign_trigger_condition_links_trigger",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "trigger_id",
            "condition_id",
            name=op.f("pk_campaign_trigger_condition_links"),
        ),
    )
    op.create_index(
        "ix_campaign_trigger_condition_links_tenant_id_condition_id",
        "campaign_trigger_condition_links",
        ["tenant_id", "condition_id"],
        unique=False,
    )
    op.create_table(
        "campaigns",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("beneficiary_account_address", sa.String(length=42), nullable=True),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("image_url", sa.String(), nullable=True),
        sa.Column("external_url", sa.String(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("trigger_id", sa.Uuid(), nullable=True),
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
            "end_date IS NULL OR end_date > start_date", name=op.f("ck_campaigns_date_range")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "trigger_id"],
            ["campaign_triggers.tenant_id", "campaign_triggers.id"],
            name=op.f("fk_campaigns_tenant_id_trigger_id_campaign_triggers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_campaigns")),
    )
    op.create_index(
        "ix_campaigns_tenant_id_environment",
        "campaigns",
        ["tenant_id", "environment", "is_active"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_campaigns_tenant_id_trigger_id", "campaigns", ["tenant_id", "trigger_id"], unique=False
    )
    op.create_table(
        "campaign_business_engagements",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("short_description", sa.String(), nullable=True),
        sa.Column("max_per_bussiness", sa.Integer(), nullable=True),
        sa.Column("max_per_day", sa.Integer(), nullable=True),
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
        sa.CheckConstraint(
            "max_per_bussiness IS NULL OR max_per_bussiness >= 1",
            name=op.f("ck_campaign_business_engagements_max_per_bussiness"),
        ),
        sa.CheckConstraint(
            "max_per_day IS NULL OR max_per_day >= 1",
            name=op.f("ck_campaign_business_engagements_max_per_day"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["campaigns.tenant_id", "campaigns.id"],
            name="fk_campaign_business_engagements_campaign",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_campaign_business_engagements")),
        sa.UniqueConstraint(
            "tenant_id",
            "id",
            "campaign_id",
            name=op.f("uq_campaign_business_engagements_tenant_id_id_campaign_id"),
        ),
    )
    op.create_index(
        "ix_campaign_business_engagements_tenant_id_campaign_id",
        "campaign_business_engagements",
        ["tenant_id", "campaign_id"],
        unique=False,
    )
    op.create_table(
        "campaign_token_units",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
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
        sa.CheckConstraint("amount > 0", name=op.f("ck_campaign_token_units_amount_positive")),
        sa.CheckConstraint(
            "max_amount IS NULL OR max_amount >= amount",
            name=op.f("ck_campaign_token_units_max_amount"),
        ),
        sa.CheckConstraint(
            "token_metadata_incremental_id IS NULL OR token_metadata_incremental_id > 0",
            name=op.f("ck_campaign_token_units_metadata_incremental_id_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["campaigns.tenant_id", "campaigns.id"],
            name=op.f("fk_campaign_token_units_tenant_id_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "token_id"],
            ["tokens.tenant_id", "tokens.id"],
            name=op.f("fk_campaign_token_units_tenant_id_token_id_tokens"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_campaign_token_units")),
    )
    op.create_index(
        "uq_campaign_token_units_tenant_id_token",
        "campaign_token_units",
        [
            "tenant_id",
            "campaign_id",
            "token_id",
            sa.literal_column("coalesce(token_metadata_incremental_id, 0)"),
        ],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_table(
        "campaign_engagement_businesses",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("engagement_id", sa.Uuid(), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "business_id"],
            ["businesses.tenant_id", "businesses.id"],
            name="fk_campaign_engagement_businesses_business",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "engagement_id", "campaign_id"],
            [
                "campaign_business_engagements.tenant_id",
                "campaign_business_engagements.id",
                "campaign_business_engagements.campaign_id",
            ],
            name="fk_campaign_engagement_businesses_engagement",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "engagement_id",
            "business_id",
            name=op.f("pk_campaign_engagement_businesses"),
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "campaign_id",
            "business_id",
            name="uq_campaign_engagement_businesses_business",
        ),
    )
    op.create_index(
        "ix_campaign_engagement_businesses_tenant_id_business_id",
        "campaign_engagement_businesses",
        ["tenant_id", "business_id"],
        unique=False,
    )

    for table, privileges in GRANTS.items():
        grant(table, privileges)
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in GRANTS:
        disable_tenant_rls(table)
        revoke(table)
    op.drop_index(
        "ix_campaign_engagement_businesses_tenant_id_business_id",
        table_name="campaign_engagement_businesses",
    )
    op.drop_table("campaign_engagement_businesses")
    op.drop_index(
        "uq_campaign_token_units_tenant_id_token",
        table_name="campaign_token_units",
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.drop_table("campaign_token_units")
    op.drop_index(
        "ix_campaign_business_engagements_tenant_id_campaign_id",
        table_name="campaign_business_engagements",
    )
    op.drop_table("campaign_business_engagements")
    op.drop_index("ix_campaigns_tenant_id_trigger_id", table_name="campaigns")
    op.drop_index(
        "ix_campaigns_tenant_id_environment",
        table_name="campaigns",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("campaigns")
    op.drop_index(
        "ix_campaign_trigger_condition_links_tenant_id_condition_id",
        table_name="campaign_trigger_condition_links",
    )
    op.drop_table("campaign_trigger_condition_links")
    op.drop_table("campaign_triggers")
    op.drop_table("campaign_trigger_conditions")
