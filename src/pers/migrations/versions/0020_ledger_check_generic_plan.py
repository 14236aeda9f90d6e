"""ledger: the balanced-entry check plans once per connection, on the primary key

The deferred trigger's ``sum(amount) FROM postings WHERE tenant_id = $1 AND entry_id = $2``
ran with ``plan_cache_mode = force_custom_plan`` (revision 0007), because a cached generic plan
made on a small table could pick the index on ``(tenant_id, environment, account_address,
token_id)``, which the planner then saw as equal to the primary key, and read every posting of
the tenant for each entry. Planning the query on every commit cost about 0.2 ms of PostgreSQL
CPU per movement, a quarter of a credit mint's.

Now the planner has one choice whatever the statistics: the account index no longer starts with
``tenant_id`` (it is ``(account_address, token_id, environment)``, which still serves the
position of one holder), and the function runs with ``enable_seqscan = off``, so the only plan
for the check is the primary key. It is made once per connection (``force_generic_plan``) and
reused. Measured on an empty table, analyzed or not: the primary key.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_postings_tenant_id_account", table_name="postings")
    op.create_index(
        "ix_postings_account_address", "postings", ["account_address", "token_id", "environment"]
    )
    op.execute(
        "ALTER FUNCTION pers_check_entry_balanced() SET plan_cache_mode = force_generic_plan"
    )
    op.execute("ALTER FUNCTION pers_check_entry_balanced() SET enable_seqscan = off")


def downgrade() -> None:
    op.execute("ALTER FUNCTION pers_check_entry_balanced() RESET enable_seqscan")
    op.execute("ALTER FUNCTION pers_check_entry_balanced() SET plan_cache_mode = force_custom_plan")
    op.drop_index("ix_postings_account_address", table_name="postings")
    op.create_index(
        "ix_postings_tenant_id_account",
        "postings",
        ["tenant_id", "environment", "account_address", "token_id"],
    )
