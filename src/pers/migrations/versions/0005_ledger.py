"""ledger: holder balances and append-only postings

Balances never go negative (CHECK); an ERC721 id has one holder (partial unique index); the app
role may only INSERT and SELECT postings; a deferred constraint trigger checks at commit that
every entry's legs sum to zero.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pers.migrations.helpers import disable_tenant_rls, enable_tenant_rls, grant, revoke

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BALANCED_ENTRY_FUNCTION = """
CREATE FUNCTION pers_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT sum(amount) FROM postings
        WHERE tenant_id = NEW.tenant_id AND entry_id = NEW.entry_id) <> 0 THEN
        RAISE EXCEPTION 'ledger entry % does not sum to zero', NEW.entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "balances",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("account_address", sa.String(length=42), nullable=False),
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("token_key", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("amount", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("is_unique", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_balances_not_negative")),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "environment",
            "account_address",
            "token_id",
            "token_key",
            name=op.f("pk_balances"),
        ),
    )
    op.create_index(
        "uq_balances_tenant_id_unique_holding",
        "balances",
        ["tenant_id", "environment", "token_id", "token_key"],
        unique=True,
        postgresql_where=sa.text("is_unique AND amount > 0"),
    )
    op.create_table(
        "postings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("leg", sa.SmallInteger(), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("account_address", sa.String(length=42), nullable=False),
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("token_key", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("amount", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_postings_not_zero")),
        sa.PrimaryKeyConstraint("tenant_id", "entry_id", "leg", name=op.f("pk_postings")),
    )
    op.create_index(
        "ix_postings_tenant_id_account",
        "postings",
        ["tenant_id", "environment", "account_address", "token_id"],
        unique=False,
    )

    op.create_table(
        "nft_items",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("testnet", "mainnet", name="environment", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("token_key", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("metadata_incremental_id", sa.Integer(), nullable=True),
        sa.Column("minted_in", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "environment", "token_id", "token_key", name=op.f("pk_nft_items")
        ),
    )
    op.execute(BALANCED_ENTRY_FUNCTION)
    # Fires once per entry (on its first leg), at commit, when every leg is in.
    op.execute(
        "CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.leg = 0) "
        "EXECUTE FUNCTION pers_check_entry_balanced()"
    )
    grant("balances", "SELECT, INSERT, UPDATE")
    grant("postings", "SELECT, INSERT")
    grant("nft_items", "SELECT, INSERT")
    for table in ("balances", "postings", "nft_items"):
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in ("balances", "postings", "nft_items"):
        disable_tenant_rls(table)
        revoke(table)
    op.drop_table("nft_items")
    op.execute("DROP TRIGGER IF EXISTS postings_balanced ON postings")
    op.execute("DROP FUNCTION IF EXISTS pers_check_entry_balanced()")
    op.drop_index("ix_postings_tenant_id_account", table_name="postings")
    op.drop_table("postings")
    op.drop_index(
        "uq_balances_tenant_id_unique_holding",
        table_name="balances",
        postgresql_where=sa.text("is_unique AND amount > 0"),
    )
    op.drop_table("balances")
