"""Claims of campaign rewards and the per-user counters their limits are checked against.

A claim is recorded once and never changed. Limits are checked on counters kept per user (and
per user at a business), never on a row every claimer of a campaign shares: a campaign is not a
hot row, and one user's concurrent claims queue on that user's counter row alone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKeyConstraint, Index, Numeric, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pers.auth.models import ENVIRONMENT_TYPE
from pers.db import Base
from pers.kit.enums import Environment
from pers.kit.models import TenantOwned, WithId

# The counter of a user's claims of a campaign as a whole (not at one business).
CAMPAIGN_SCOPE = uuid.UUID(int=0)


class ClaimedBy(StrEnum):
    """Who made the claim: the trigger's ``triggerType`` decides who may."""

    USER = "USER"
    SYSTEM = "SYSTEM"
    BUSINESS = "BUSINESS"


CLAIMED_BY_TYPE = Enum(ClaimedBy, name="claimed_by", native_enum=False, length=16)


class CampaignClaim(TenantOwned, WithId, Base):
    __tablename__ = "campaign_claims"
    # No foreign keys to the campaign and the trigger (revision 0024): a key check locks the
    # referenced row FOR KEY SHARE, which made the campaign a hot row; neither is ever deleted
    # (soft deletes only), and a claim is written only for a live one.
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name="fk_campaign_claims_user",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "business_id"],
            ["businesses.tenant_id", "businesses.id"],
            name="fk_campaign_claims_business",
        ),
        Index("ix_campaign_claims_tenant_id_user", "tenant_id", "user_id", "created_at"),
        Index("ix_campaign_claims_tenant_id_campaign", "tenant_id", "campaign_id", "created_at"),
        Index("ix_campaign_claims_tenant_id_created_at", "tenant_id", "created_at"),
    )

    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    campaign_id: Mapped[uuid.UUID]
    trigger_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    business_id: Mapped[uuid.UUID | None]
    claimed_by: Mapped[ClaimedBy] = mapped_column(CLAIMED_BY_TYPE)
    # The system key or business that claimed for the user (None for the user's own claims).
    claimer_id: Mapped[uuid.UUID | None]
    conditions_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    multiplier: Mapped[Decimal] = mapped_column(Numeric())
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    # This claim is the user's n-th completion of the campaign; it minted when ``rewarded``.
    completion_count: Mapped[int]
    completion_threshold: Mapped[int | None]
    rewarded: Mapped[bool]
    transaction_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class ClaimCounter(TenantOwned, Base):
    """A user's claims of a campaign: as a whole (``business_id`` = CAMPAIGN_SCOPE) or at one
    business. ``day`` is the UTC day ``day_count`` counts."""

    __tablename__ = "campaign_claim_counters"

    campaign_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    total: Mapped[int]
    day: Mapped[date]
    day_count: Mapped[int]
    last_claim_at: Mapped[datetime]
