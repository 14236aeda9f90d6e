"""users: account addresses, user status types

``users.account_address`` is NOT NULL, as the model says. Addresses cannot be derived in SQL
(HKDF of the deployment master secret, then secp256k1), so rows that exist before this
revision are filled in Python with the deployment's WalletDeriver, handed in by ``pers db
upgrade`` / ``pers serve`` as the ``wallets`` attribute of the Alembic config (see
pers.migrate). A database with users but no deriver stops with an error rather than store a
wrong or missing address; a database without users needs none.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke
from pers.wallets.derivation import OwnerType, WalletDeriver

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fill_account_addresses() -> None:
    """Derive the address of every existing user, tenant by tenant (the owner may be subject
    to the forced Row Level Security, so each tenant is bound like a request would)."""
    conn = op.get_bind()
    pending = sa.text("SELECT id FROM users WHERE tenant_id = :t AND account_address IS NULL")
    factory: Callable[[], WalletDeriver] | None = context.config.attributes.get("wallets")
    wallets: WalletDeriver | None = None
    for tenant_id in conn.execute(sa.text("SELECT id FROM tenants")).scalars().all():
        conn.execute(
            sa.text("SELECT set_config('pers.tenant_id', :t, true)"), {"t": str(tenant_id)}
        )
        user_ids = conn.execute(pending, {"t": tenant_id}).scalars().all()
        if user_ids and wallets is None:
            if factory is None:
                raise RuntimeError(
                    "users exist without an account address; run `pers db upgrade` with the "
                    "deployment's PERS_SECRET_KEY (or data directory) so they can be derived"
                )
            wallets = factory()
        for user_id in user_ids:
            assert wallets is not None
            conn.execute(
                sa.text("UPDATE users SET account_address = :a WHERE tenant_id = :t AND id = :u"),
                {
                    "a": wallets.address(tenant_id, OwnerType.USER, user_id),
                    "t": tenant_id,
                    "u": user_id,
                },
            )
    conn.execute(sa.text("SELECT set_config('pers.tenant_id', '', true)"))


def upgrade() -> None:
    op.add_column("users", sa.Column("account_address", sa.String(length=42), nullable=True))
    _fill_account_addresses()
    op.alter_column("users", "account_address", nullable=False)
    op.create_index(
        "uq_users_tenant_id_account_address",
        "users",
        ["tenant_id", "account_address"],
        unique=True,
    )

    op.create_table(
        "user_status_types",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("min_token_balance", sa.Numeric(), nullable=False),
        sa.Column("discount_percentage", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("image_url", sa.String(), nullable=True),
        sa.Column(
            "eligible_token_addresses",
            sa.ARRAY(sa.String(length=42)),
            server_default=sa.text("'{}'"),
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
        sa.CheckConstraint(
            "discount_percentage >= 0 AND discount_percentage <= 100",
            name=op.f("ck_user_status_types_discount_percentage_range"),
        ),
        sa.CheckConstraint(
            "min_token_balance >= 0",
            name=op.f("ck_user_status_types_min_token_balance_not_negative"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_user_status_types")),
    )
    op.create_index(
        "uq_user_status_types_tenant_id_name",
        "user_status_types",
        ["tenant_id", sa.literal_column("lower(name)")],
        unique=True,
    )
    grant("user_status_types")
    enable_tenant_rls("user_status_types")


def downgrade() -> None:
    disable_tenant_rls("user_status_types")
    revoke("user_status_types")
    op.drop_index("uq_user_status_types_tenant_id_name", table_name="user_status_types")
    op.drop_table("user_status_types")
    op.drop_index("uq_users_tenant_id_account_address", table_name="users")
    op.drop_column("users", "account_address")
