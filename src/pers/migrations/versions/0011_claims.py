"""claims: campaign claims and the per-user counters their limits are checked on

``campaign_claims`` records every claim (the app role may only add and read them);
``campaign_claim_counters`` holds, per user, the claims of a campaign as a whole and at each
business, with the UTC day count and the last claim time, so maxPerUser, maxPerDay, the cooldown
and the per-business limits are one conditional upsert on the claiming user's own row.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_claims",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("trigger_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=True),
        sa.Column(
            "claimed_by",
            sa.Enum("USER", "SYSTEM", "BUSINESS", name="claimed_by", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("claimer_id", sa.Uuid(), nullable=True),
        sa.Column("conditions_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("multiplier", sa.Numeric(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completion_count", sa.Integer(), nullable=False),
        sa.Column("completion_threshold", sa.Integer(), nullable=True),
        sa.Column("rewarded", sa.Boolean(), nullable=False),
        sa.Column("transaction_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "business_id"],
            ["businesses.tenant_id", "businesses.id"],
            name="fk_campaign_claims_business",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["campaigns.tenant_id", "campaigns.id"],
            name="fk_campaign_claims_campaign",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "trigger_id"],
            ["campaign_triggers.tenant_id", "campaign_triggers.id"],
            name="fk_campaign_claims_trigger",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name="fk_campaign_claims_user",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_campaign_claims")),
    )
    op.create_index(
        "ix_campaign_claims_tenant_id_campaign",
        "campaign_claims",
        ["tenant_id", "campaign_id", "created_at"],
    )
    op.create_index(
        "ix_campaign_claims_tenant_id_created_at", "campaign_claims", ["tenant_id", "created_at"]
    )
    op.create_index(
        "ix_campaign_claims_tenant_id_user",
        "campaign_claims",
        ["tenant_id", "user_id", "created_at"],
    )
    op.create_table(
        "campaign_claim_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("day_count", sa.Integer(), nullable=False),
        sa.Column("last_claim_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "campaign_id",
            "user_id",
            "business_id",
            name=op.f("pk_campaign_claim_counters"),
        ),
    )
    grant("campaign_claims", "SELECT, INSERT")
    grant("campaign_claim_counters", "SELECT, INSERT, UPDATE")
    for table in ("campaign_claims", "campaign_claim_counters"):
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in ("campaign_claim_counters", "campaign_claims"):
        disable_tenant_rls(table)
        revoke(table)
    op.drop_table("campaign_claim_counters")
    op.drop_index("ix_campaign_claims_tenant_id_user", table_name="campaign_claims")
    op.drop_index("ix_campaign_claims_tenant_id_created_at", table_name="campaign_claims")
    op.drop_index("ix_campaign_claims_tenant_id_campaign", table_name="campaign_claims")
    op.drop_table("campaign_claims")
