"""claims: no foreign keys to the campaign and the trigger

A foreign key's check runs with every inserted claim and locks the referenced row
``FOR KEY SHARE`` until the claim commits. Every claim on a campaign locked that campaign's row
and its trigger's: with claims arriving together, each lock on a row another open transaction
holds creates a new MultiXact (an SLRU entry and WAL), and every lock rewrites the row's
header and writes a WAL record, on the same heap page for every claim. The campaign was a hot
row, which issue 4 rules out (claims on one campaign at 0.8 or more of claims spread over 50).

Neither row is ever deleted (campaigns and triggers are soft-deleted; no code path deletes
them), and a claim is only written for a live campaign and trigger read in the same operation,
so the keys guarded nothing the claim path does not. The keys to the user and the business stay:
their rows are a different one for most claims.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("fk_campaign_claims_campaign", "campaign_claims", type_="foreignkey")
    op.drop_constraint("fk_campaign_claims_trigger", "campaign_claims", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        "fk_campaign_claims_campaign",
        "campaign_claims",
        "campaigns",
        ["tenant_id", "campaign_id"],
        ["tenant_id", "id"],
    )
    op.create_foreign_key(
        "fk_campaign_claims_trigger",
        "campaign_claims",
        "campaign_triggers",
        ["tenant_id", "trigger_id"],
        ["tenant_id", "id"],
    )
