"""foundation: tenants, admins, credentials, users, idempotency

Every tenant-owned table gets Row Level Security (forced) and grants for the app role; the
``tenants`` table is platform-level (see its model) and is only granted.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pers.migrations.helpers import (
    disable_tenant_rls,
    enable_tenant_rls,
    ensure_app_role,
    grant,
    revoke,
)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "admins", "api_keys", "idempotency_keys", "refresh_tokens", "users", "user_identities",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "admins",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=True),
        sa.Column(
            "type",
            sa.Enum("SUPER_ADMIN", "TENANT_ADMIN", name="admin_type", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_admins")),
    )
    op.create_index(
        "uq_admins_tenant_id_email",
        "admins",
        ["tenant_id", sa.literal_column("lower(email)")],
        unique=True,
    )
    op.create_table(
        "api_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "TENANT_SYSTEM_JWT",
                "ADMIN_JWT_ACCESS_TOKEN",
                "ADMIN_JWT_REFRESH_TOKEN",
                "USER_JWT_ACCESS_TOKEN",
                "USER_JWT_REFRESH_TOKEN",
                "BLOCKCHAIN_WRITER_JWT",
                "BLOCKCHAIN_READER_JWT",
                "TENANT_ADMIN_JWT",
                name="api_key_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("shortened_private_key", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_api_keys")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key_hash", sa.String(), nullable=False),
        sa.Column("request_hash", sa.String(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key_hash", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("subject_kind", sa.String(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_refresh_tokens")),
    )
    op.create_index(
        "ix_refresh_tokens_tenant_id_family_id",
        "refresh_tokens",
        ["tenant_id", "family_id"],
        unique=False,
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_name", sa.String(), nullable=False),
        sa.Column("project_description", sa.String(), nullable=True),
        sa.Column("project_website", sa.String(), nullable=True),
        sa.Column("project_email", sa.String(), nullable=True),
        sa.Column("project_image_url", sa.String(), nullable=True),
        sa.Column("project_api_key", sa.String(), nullable=False),
        sa.Column("testnet_project_api_key", sa.String(), nullable=False),
        sa.Column("stripe_api_key_sealed", sa.String(), nullable=True),
        sa.Column("stripe_webhook_secret_sealed", sa.String(), nullable=True),
        sa.Column("stripe_publishable_key", sa.String(), nullable=True),
        sa.Column("login_token", sa.String(), nullable=True),
        sa.Column(
            "allow_jwt_for_unauthenticated_users",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column("firebase_tenant_id", sa.String(), nullable=True),
        sa.Column("infura_api_key", sa.String(), nullable=True),
        sa.Column("poly_scan_api_key", sa.String(), nullable=True),
        sa.Column(
            "auth_providers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("project_api_key", name=op.f("uq_tenants_project_api_key")),
        sa.UniqueConstraint(
            "testnet_project_api_key", name=op.f("uq_tenants_testnet_project_api_key")
        ),
    )
    op.create_table(
        "users",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("first_name", sa.String(), nullable=True),
        sa.Column("last_name", sa.String(), nullable=True),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("instagram_account_id", sa.String(), nullable=True),
        sa.Column("google_account_name", sa.String(), nullable=True),
        sa.Column(
            "custom_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "public_profile",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_tenant_id_email",
        "users",
        ["tenant_id", sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.create_index(
        "uq_users_tenant_id_external_id",
        "users",
        ["tenant_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_index(
        "uq_users_tenant_id_instagram_account_id",
        "users",
        ["tenant_id", "instagram_account_id"],
        unique=True,
        postgresql_where=sa.text("instagram_account_id IS NOT NULL"),
    )
    op.create_table(
        "user_identities",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("raw_login_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_login_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_user_identities_tenant_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "issuer", "subject", name=op.f("pk_user_identities")),
    )
    op.create_index(
        "ix_user_identities_tenant_id_user_id",
        "user_identities",
        ["tenant_id", "user_id"],
        unique=False,
    )

    ensure_app_role()
    grant("tenants", "SELECT, INSERT, UPDATE")
    for table in TENANT_TABLES:
        grant(table)
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
        revoke(table)
    revoke("tenants")
    op.drop_index("ix_user_identities_tenant_id_user_id", table_name="user_identities")
    op.drop_table("user_identities")
    op.drop_index(
        "uq_users_tenant_id_instagram_account_id",
        table_name="users",
        postgresql_where=sa.text("instagram_account_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_users_tenant_id_external_id",
        table_name="users",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_users_tenant_id_email",
        table_name="users",
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.drop_table("users")
    op.drop_table("tenants")
    op.drop_index("ix_refresh_tokens_tenant_id_family_id", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_table("idempotency_keys")
    op.drop_table("api_keys")
    op.drop_index("uq_admins_tenant_id_email", table_name="admins")
    op.drop_table("admins")
