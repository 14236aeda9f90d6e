"""users: account addresses

``users.account_address`` is NOT NULL, as the model says. Addresses cannot be derived in SQL
(HKDF of the deployment master secret, then secp256k1), so rows that exist before this
revision are filled in Python with the deployment's WalletDeriver, handed in by ``pers db
upgrade`` / ``pers serve`` as the ``wallets`` attribute of the Alembic config (see
pers.migrate). A database with users but no deriver stops with an error rather than store a
wrong or missing address; a database without users needs none.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from pers.wallets.derivation import OwnerType, WalletDeriver

revision: str = "0004"
down_revision: str | None = "0001"
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


def downgrade() -> None:
    op.drop_index("uq_users_tenant_id_account_address", table_name="users")
    op.drop_column("users", "account_address")
