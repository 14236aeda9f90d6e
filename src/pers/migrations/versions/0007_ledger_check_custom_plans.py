"""ledger: plan the balanced-entry check for each entry (no cached generic plan)

The deferred trigger's query ``sum(amount) ... WHERE tenant_id = $1 AND entry_id = $2`` runs
once per entry at commit. PL/pgSQL caches its plan per connection, and after five runs may keep
a generic plan made while ``postings`` was empty and had no statistics: that plan can use an
index on ``tenant_id`` alone and read every posting of the tenant for each entry, which makes a
commit of n entries cost n x (tenant's postings). A pooled connection keeps such a plan until
the table is analyzed; a fresh database (a new deployment, a benchmark) hits it at once:
10,000 entries took 41 s instead of 0.2 s. A custom plan per call always uses the primary key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER FUNCTION pers_check_entry_balanced() SET plan_cache_mode = force_custom_plan")


def downgrade() -> None:
    op.execute("ALTER FUNCTION pers_check_entry_balanced() RESET plan_cache_mode")
