"""catalog version: a per-tenant counter that moves whenever what a claim or a redeem reads of
the catalog changes (campaigns, their triggers, conditions, token units and engagements;
redemptions, their types and token units; tokens and their items; businesses and user status
types, and their types)

Row triggers on those tables bump ``tenants.catalog_version`` in the writing transaction, so a
process that cached a campaign's or a redemption's detail can tell, with one indexed read of the tenant row,
whether the cache still holds. Only admin and business-profile operations write these tables;
the hot paths (claims, redeems, movements) never do, so the tenant row is not a hot row.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOG_TABLES = (
    "campaigns",
    "campaign_triggers",
    "campaign_trigger_conditions",
    "campaign_trigger_condition_links",
    "campaign_token_units",
    "campaign_business_engagements",
    "campaign_engagement_businesses",
    "tokens",
    "token_metadata",
    "token_types",
    "businesses",
    "business_types",
    "redemptions",
    "redemption_types",
    "redemption_token_units",
    "user_status_types",
)

_BUMP = """
CREATE FUNCTION pers_bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE tenants SET catalog_version = catalog_version + 1 WHERE id = OLD.tenant_id;
        RETURN OLD;
    END IF;
    UPDATE tenants SET catalog_version = catalog_version + 1 WHERE id = NEW.tenant_id;
    IF TG_OP = 'UPDATE' AND OLD.tenant_id IS DISTINCT FROM NEW.tenant_id THEN
        UPDATE tenants SET catalog_version = catalog_version + 1 WHERE id = OLD.tenant_id;
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("catalog_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(_BUMP)
    for table in CATALOG_TABLES:
        op.execute(
            f"CREATE TRIGGER pers_catalog_version AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION pers_bump_catalog_version()"
        )


def downgrade() -> None:
    for table in CATALOG_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS pers_catalog_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS pers_bump_catalog_version()")
    op.drop_column("tenants", "catalog_version")
