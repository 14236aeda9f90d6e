"""businesses: business types and business accounts

Both tables are tenant-owned: Row Level Security (forced) and grants for the app role. Business
type ids are numbers (the spec's), from one identity sequence shared by every tenant.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("business_types", "businesses")


def upgrade() -> None:
    op.create_table(
        "business_types",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=True),
        sa.Column("icon_url", sa.String(), nullable=True),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_business_types")),
    )
    op.create_index(
        "uq_business_types_tenant_id_code",
        "business_types",
        ["tenant_id", "code"],
        unique=True,
        postgresql_where=sa.text("code IS NOT NULL"),
    )
    op.create_table(
        "businesses",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("account_address", sa.String(), nullable=False),
        sa.Column("business_legal_name", sa.String(), nullable=True),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("short_description", sa.String(), nullable=True),
        sa.Column("website_url", sa.String(), nullable=True),
        sa.Column("image_url", sa.String(), nullable=True),
        sa.Column("street_address", sa.String(), nullable=True),
        sa.Column("city", sa.String(), nullable=True),
        sa.Column("postal_code", sa.String(), nullable=True),
        sa.Column("coords_latitude", sa.Double(), nullable=True),
        sa.Column("coords_longitude", sa.Double(), nullable=True),
        sa.Column("business_type_id", sa.BigInteger(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("can_mint_token", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "can_charge_token", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "can_manage_users", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "can_receive_donation", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("api_key_hash", sa.String(), nullable=False),
        sa.Column("api_key_issued_at", sa.DateTime(timezone=True), nullable=False),
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
            "coords_latitude IS NULL OR coords_latitude BETWEEN -90 AND 90",
            name=op.f("ck_businesses_latitude"),
        ),
        sa.CheckConstraint(
            "coords_longitude IS NULL OR coords_longitude BETWEEN -180 AND 180",
            name=op.f("ck_businesses_longitude"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "business_type_id"],
            ["business_types.tenant_id", "business_types.id"],
            name=op.f("fk_businesses_tenant_id_business_type_id_business_types"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_businesses")),
        sa.UniqueConstraint(
            "tenant_id", "account_address", name=op.f("uq_businesses_tenant_id_account_address")
        ),
        sa.UniqueConstraint(
            "tenant_id", "api_key_hash", name=op.f("uq_businesses_tenant_id_api_key_hash")
        ),
    )
    op.create_index(
        "ix_businesses_tenant_id_business_type_id",
        "businesses",
        ["tenant_id", "business_type_id"],
        unique=False,
    )
    op.create_index(
        "uq_businesses_tenant_id_email",
        "businesses",
        ["tenant_id", sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("email IS NOT NULL"),
    )

    for table in TENANT_TABLES:
        grant(table)
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
        revoke(table)
    op.drop_index(
        "uq_businesses_tenant_id_email",
        table_name="businesses",
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.drop_index("ix_businesses_tenant_id_business_type_id", table_name="businesses")
    op.drop_table("businesses")
    op.drop_index(
        "uq_business_types_tenant_id_code",
        table_name="business_types",
        postgresql_where=sa.text("code IS NOT NULL"),
    )
    op.drop_table("business_types")
