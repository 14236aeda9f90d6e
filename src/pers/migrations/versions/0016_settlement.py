"""settlement: the relayer's nonces, sends and signed attempts; the queue on transactions

Intents are the ``transactions`` rows in status ``created``; ``settle_seq`` (a sequence value
taken at insert, after the ledger entry locked its rows) orders them, ``settlement_send_id``
names the chain transaction that carries them, ``settle_solo`` marks those to send alone after
a batch reverted. ``settlement_signers`` is per tenant and chain; sends and attempts are
tenant-owned (Row Level Security, forced). Nothing here is deleted by the app role.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pers.migrations.helpers import (
    app_role,
    disable_tenant_rls,
    enable_tenant_rls,
    grant,
    revoke,
)

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEND_KIND = sa.Enum("intents", "deploy", name="settlement_send_kind", native_enum=False, length=16)
_SEND_STATUS = sa.Enum(
    "signed", "broadcasted", "mined", "confirmed", "reverted", "dropped",
    name="settlement_send_status", native_enum=False, length=16,
)  # fmt: skip
_NOW = sa.text("now()")

# Where the relayer has work: (tenant, chain) pairs with queued intents, open sends or queued
# contract deployments, on the given chains. One call instead of one query per tenant: the loop
# binds each tenant in turn (Row Level Security applies to the caller as to every query).
_LANES = """
CREATE FUNCTION pers_settlement_lanes(chains bigint[])
RETURNS TABLE (tenant_id uuid, chain_id bigint) LANGUAGE plpgsql AS $$
DECLARE
    t uuid;
BEGIN
    FOR t IN SELECT id FROM tenants ORDER BY id LOOP
        PERFORM set_config('pers.tenant_id', t::text, true);
        RETURN QUERY
            SELECT t, c FROM unnest(chains) AS c
            WHERE EXISTS (SELECT 1 FROM transactions x WHERE x.tenant_id = t
                          AND x.chain_id = c AND x.status = 'created')
               OR EXISTS (SELECT 1 FROM settlement_sends s WHERE s.tenant_id = t
                          AND s.chain_id = c AND s.status IN ('signed', 'broadcasted', 'mined'))
               OR EXISTS (SELECT 1 FROM contract_deployments d WHERE d.tenant_id = t
                          AND d.chain_id = c AND d.status = 'created');
    END LOOP;
    PERFORM set_config('pers.tenant_id', '', true);
END
$$
"""


def upgrade() -> None:
    op.execute("CREATE SEQUENCE transactions_settle_seq AS bigint")
    op.add_column(
        "transactions",
        sa.Column(
            "settle_seq",
            sa.BigInteger(),
            server_default=sa.text("nextval('transactions_settle_seq')"),
            nullable=False,
        ),
    )
    op.execute("ALTER SEQUENCE transactions_settle_seq OWNED BY transactions.settle_seq")
    op.add_column("transactions", sa.Column("settlement_send_id", sa.Uuid(), nullable=True))
    op.add_column(
        "transactions",
        sa.Column("settle_solo", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index(
        "ix_transactions_tenant_id_settlement_queue",
        "transactions",
        ["tenant_id", "chain_id", "settle_seq"],
        postgresql_where=sa.text("status = 'created'"),
    )
    op.create_index(
        "ix_transactions_tenant_id_settlement_send_id",
        "transactions",
        ["tenant_id", "settlement_send_id"],
        postgresql_where=sa.text("settlement_send_id IS NOT NULL"),
    )

    op.create_table(
        "settlement_signers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint("next_nonce >= 0", name=op.f("ck_settlement_signers_nonce")),
        sa.PrimaryKeyConstraint("tenant_id", "chain_id", name=op.f("pk_settlement_signers")),
    )
    op.create_table(
        "settlement_sends",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("kind", _SEND_KIND, nullable=False),
        sa.Column("status", _SEND_STATUS, nullable=False),
        sa.Column("to_address", sa.String(length=42), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("gas_limit", sa.BigInteger(), nullable=False),
        sa.Column("intent_count", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("mined_hash", sa.String(length=66), nullable=True),
        sa.Column("receipt_status", sa.Integer(), nullable=True),
        sa.Column("contract_address", sa.String(length=42), nullable=True),
        sa.Column("deployment_id", sa.Uuid(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("broadcast_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_settlement_sends")),
    )
    op.create_index(
        "ix_settlement_sends_tenant_id_open",
        "settlement_sends",
        ["tenant_id", "chain_id", "nonce"],
        postgresql_where=sa.text("status IN ('signed', 'broadcasted', 'mined')"),
    )
    # One live send per nonce: a dropped or reverted one frees nothing (the nonce is spent or
    # taken), but two open sends for one nonce would be two claims on it.
    op.create_index(
        "uq_settlement_sends_tenant_id_open_nonce",
        "settlement_sends",
        ["tenant_id", "chain_id", "signer", "nonce"],
        unique=True,
        postgresql_where=sa.text("status <> 'dropped'"),
    )
    op.create_table(
        "settlement_attempts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("send_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("max_fee_per_gas", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("max_priority_fee_per_gas", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "send_id"],
            ["settlement_sends.tenant_id", "settlement_sends.id"],
            name="fk_settlement_attempts_tenant_id_send_id_settlement_sends",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "send_id", "number", name=op.f("pk_settlement_attempts")
        ),
    )
    op.create_index(
        "ix_settlement_attempts_tenant_id_tx_hash", "settlement_attempts", ["tenant_id", "tx_hash"]
    )
    for table in ("settlement_signers", "settlement_sends"):
        grant(table, "SELECT, INSERT, UPDATE")
        enable_tenant_rls(table)
    grant("settlement_attempts", "SELECT, INSERT")
    enable_tenant_rls("settlement_attempts")
    op.execute(f"GRANT USAGE ON SEQUENCE transactions_settle_seq TO {app_role()}")
    op.execute(_LANES)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS pers_settlement_lanes(bigint[])")
    for table in ("settlement_attempts", "settlement_sends", "settlement_signers"):
        disable_tenant_rls(table)
        revoke(table)
    op.drop_index("ix_settlement_attempts_tenant_id_tx_hash", table_name="settlement_attempts")
    op.drop_table("settlement_attempts")
    op.drop_index("uq_settlement_sends_tenant_id_open_nonce", table_name="settlement_sends")
    op.drop_index("ix_settlement_sends_tenant_id_open", table_name="settlement_sends")
    op.drop_table("settlement_sends")
    op.drop_table("settlement_signers")
    op.drop_index("ix_transactions_tenant_id_settlement_send_id", table_name="transactions")
    op.drop_index("ix_transactions_tenant_id_settlement_queue", table_name="transactions")
    op.drop_column("transactions", "settle_solo")
    op.drop_column("transactions", "settlement_send_id")
    op.drop_column("transactions", "settle_seq")
