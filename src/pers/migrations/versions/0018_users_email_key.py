"""users: e-mails are matched on a stored lower-cased column, ``email_key``

Every lookup of a user by e-mail (mints and system claims naming users by e-mail, mint from
URL, logins) compared ``lower(email)``, with a unique index on ``(tenant_id, lower(email))``.
Under Row Level Security that index served no query: ``lower()`` is not leakproof, so
PostgreSQL evaluates it only after the policy's filter, never as an index condition, and
each lookup read every user of the tenant (74 buffers and 1.2 ms for 2,000 users, measured;
the owner, not subject to the policy, used the index: 3 buffers). ``email_key`` is generated
from ``lower(email)`` and compared with ``=``, which is leakproof: one index probe again. The
unique index moves to it, with the same meaning.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "email_key", sa.String(), sa.Computed("lower(email)", persisted=True), nullable=True
        ),
    )
    op.drop_index("uq_users_tenant_id_email", table_name="users")
    op.create_index(
        "uq_users_tenant_id_email_key",
        "users",
        ["tenant_id", "email_key"],
        unique=True,
        postgresql_where=sa.text("email_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_users_tenant_id_email_key", table_name="users")
    op.create_index(
        "uq_users_tenant_id_email",
        "users",
        ["tenant_id", sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.drop_column("users", "email_key")
