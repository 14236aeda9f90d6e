"""Campaign configuration: campaigns, triggers, trigger conditions, token units and business
engagements.

Nothing here is ever deleted while a claim may refer to it: campaigns and triggers are soft
deleted (``deleted_at``), token units and engagements soft removed (``removed_at``), so a claim
table can hold foreign keys to ``campaigns``, ``campaign_triggers``, ``campaign_token_units``
and ``campaign_business_engagements``. Only the two link tables (trigger-condition and
engagement-business) lose rows: they describe the current configuration, not history.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pers.auth.models import ENVIRONMENT_TYPE
from pers.db import Base
from pers.kit.enums import Environment
from pers.kit.models import BaseUnits, TenantOwned, Timestamps, WithId


class TriggerType(StrEnum):
    """Who may claim a campaign whose trigger this is (seed 001)."""

    CLAIM_BY_USER = "CLAIM_BY_USER"  # the user, with a user session
    CLAIM_BY_SYSTEM = "CLAIM_BY_SYSTEM"  # the tenant's systems, with a system API key
    CLAIM_BY_BUSINESS = "CLAIM_BY_BUSINESS"  # an active business, with its API key


class ConditionType(StrEnum):
    """How a trigger condition compares ``conditionsData[key]`` of a claim with its value."""

    EQUALS = "EQUALS"
    NOT_EQUALS = "NOT_EQUALS"
    GREATER_THAN = "GREATER_THAN"
    LESS_THAN = "LESS_THAN"
    CONTAINS = "CONTAINS"
    IS_PART_OF = "IS_PART_OF"


class RequiredUserInfo(StrEnum):
    """User fields a trigger may require the claiming user to have (v1.7 ``requiredUserInfo``)."""

    ID = "id"
    EMAIL = "email"
    INSTAGRAM_ACCOUNT_ID = "instagramAccountId"
    EXTERNAL_ID = "externalId"
    FIRST_NAME = "firstName"
    LAST_NAME = "lastName"
    ACCOUNT_ADDRESS = "accountAddress"
    PUBLIC_PROFILE = "publicProfile"
    CUSTOM_DATA = "customData"
    IS_ACTIVE = "isActive"


TRIGGER_TYPE = Enum(TriggerType, name="trigger_type", native_enum=False, length=32)
CONDITION_TYPE = Enum(ConditionType, name="condition_type", native_enum=False, length=32)


class CampaignTrigger(TenantOwned, WithId, Timestamps, Base):
    """The rules of claiming: who claims (``trigger_type``), how often, where, with which data.
    A trigger is shared: several campaigns may use it. ``NULL`` limits mean no limit."""

    __tablename__ = "campaign_triggers"
    __table_args__ = (
        CheckConstraint("max_per_day IS NULL OR max_per_day >= 1", name="max_per_day"),
        CheckConstraint("max_per_user IS NULL OR max_per_user >= 1", name="max_per_user"),
        CheckConstraint(
            "min_cooldown_seconds IS NULL OR min_cooldown_seconds >= 0", name="min_cooldown"
        ),
        CheckConstraint(
            "max_geo_distance_in_meters IS NULL OR max_geo_distance_in_meters > 0",
            name="max_geo_distance",
        ),
        CheckConstraint("max_multiplier IS NULL OR max_multiplier > 0", name="max_multiplier"),
        CheckConstraint(
            "completion_threshold IS NULL OR completion_threshold >= 1",
            name="completion_threshold",
        ),
    )

    name: Mapped[str]
    description: Mapped[str | None]
    max_per_day: Mapped[int | None]
    max_per_user: Mapped[int | None]
    min_cooldown_seconds: Mapped[int | None]
    max_geo_distance_in_meters: Mapped[float | None]
    required_user_info: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), default=list, server_default=text("'{}'")
    )
    trigger_type: Mapped[TriggerType] = mapped_column(
        TRIGGER_TYPE, server_default=text("'CLAIM_BY_USER'")
    )
    max_multiplier: Mapped[Decimal | None] = mapped_column(Numeric())
    completion_threshold: Mapped[int | None]
    deleted_at: Mapped[datetime | None]


class TriggerCondition(TenantOwned, WithId, Timestamps, Base):
    """One test on a claim's ``conditionsData``; attached to any number of triggers."""

    __tablename__ = "campaign_trigger_conditions"

    condition_type: Mapped[ConditionType] = mapped_column(CONDITION_TYPE)
    key: Mapped[str]
    value: Mapped[Any] = mapped_column(JSONB)


class TriggerConditionLink(TenantOwned, Base):
    """A condition attached to a trigger."""

    __tablename__ = "campaign_trigger_condition_links"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "trigger_id"],
            ["campaign_triggers.tenant_id", "campaign_triggers.id"],
            name="fk_campaign_trigger_condition_links_trigger",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "condition_id"],
            ["campaign_trigger_conditions.tenant_id", "campaign_trigger_conditions.id"],
            name="fk_campaign_trigger_condition_links_condition",
        ),
        Index(
            "ix_campaign_trigger_condition_links_tenant_id_condition_id",
            "tenant_id",
            "condition_id",
        ),
    )

    trigger_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    condition_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class Campaign(TenantOwned, WithId, Timestamps, Base):
    """A campaign lives in one environment (``isTestnet`` on the wire): it is listed and claimed
    only with that environment's credentials, and an admin moves it with the environment
    toggle."""

    __tablename__ = "campaigns"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "trigger_id"], ["campaign_triggers.tenant_id", "campaign_triggers.id"]
        ),
        CheckConstraint("end_date IS NULL OR end_date > start_date", name="date_range"),
        Index(
            "ix_campaigns_tenant_id_environment",
            "tenant_id",
            "environment",
            "is_active",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_campaigns_tenant_id_trigger_id", "tenant_id", "trigger_id"),
    )

    name: Mapped[str]
    description: Mapped[str | None]
    beneficiary_account_address: Mapped[str | None] = mapped_column(String(42))
    start_date: Mapped[datetime]
    end_date: Mapped[datetime | None]
    image_url: Mapped[str | None]
    external_url: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    environment: Mapped[Environment] = mapped_column(ENVIRONMENT_TYPE)
    trigger_id: Mapped[uuid.UUID | None]
    deleted_at: Mapped[datetime | None]


class CampaignTokenUnit(TenantOwned, WithId, Timestamps, Base):
    """What a claim mints: ``amount`` (and at most ``max_amount`` once multiplied) of a token,
    in base units; NFTs name the item by ``token_metadata_incremental_id``."""

    __tablename__ = "campaign_token_units"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "campaign_id"], ["campaigns.tenant_id", "campaigns.id"]),
        ForeignKeyConstraint(["tenant_id", "token_id"], ["tokens.tenant_id", "tokens.id"]),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("max_amount IS NULL OR max_amount >= amount", name="max_amount"),
        CheckConstraint(
            "token_metadata_incremental_id IS NULL OR token_metadata_incremental_id > 0",
            name="metadata_incremental_id_positive",
        ),
        # One live unit per token item in a campaign: a second one is an update of the first.
        Index(
            "uq_campaign_token_units_tenant_id_token",
            "tenant_id",
            "campaign_id",
            "token_id",
            func.coalesce(text("token_metadata_incremental_id"), 0),
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    campaign_id: Mapped[uuid.UUID]
    token_id: Mapped[uuid.UUID]
    token_metadata_incremental_id: Mapped[int | None]
    amount: Mapped[int] = mapped_column(BaseUnits)
    max_amount: Mapped[int | None] = mapped_column(BaseUnits)
    removed_at: Mapped[datetime | None]


class BusinessEngagement(TenantOwned, WithId, Timestamps, Base):
    """Businesses taking part in a campaign, with per-user limits at each of them."""

    __tablename__ = "campaign_business_engagements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["campaigns.tenant_id", "campaigns.id"],
            name="fk_campaign_business_engagements_campaign",
        ),
        # The target of the engagement-business link's foreign key, which keeps the link's
        # campaign_id equal to its engagement's.
        UniqueConstraint("tenant_id", "id", "campaign_id"),
        CheckConstraint(
            "max_per_bussiness IS NULL OR max_per_bussiness >= 1", name="max_per_bussiness"
        ),
        CheckConstraint("max_per_day IS NULL OR max_per_day >= 1", name="max_per_day"),
        Index("ix_campaign_business_engagements_tenant_id_campaign_id", "tenant_id", "campaign_id"),
    )

    campaign_id: Mapped[uuid.UUID]
    short_description: Mapped[str | None]
    # Spelled as the spec spells the wire field (maxPerBussiness).
    max_per_bussiness: Mapped[int | None]
    max_per_day: Mapped[int | None]
    removed_at: Mapped[datetime | None]


class EngagedBusiness(TenantOwned, Base):
    """A business of a live engagement. A business is in at most one live engagement of a
    campaign, so a claim at a business finds its limits with one unique lookup."""

    __tablename__ = "campaign_engagement_businesses"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "engagement_id", "campaign_id"],
            [
                "campaign_business_engagements.tenant_id",
                "campaign_business_engagements.id",
                "campaign_business_engagements.campaign_id",
            ],
            name="fk_campaign_engagement_businesses_engagement",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "business_id"],
            ["businesses.tenant_id", "businesses.id"],
            name="fk_campaign_engagement_businesses_business",
        ),
        UniqueConstraint(
            "tenant_id",
            "campaign_id",
            "business_id",
            name="uq_campaign_engagement_businesses_business",
        ),
        Index(
            "ix_campaign_engagement_businesses_tenant_id_business_id", "tenant_id", "business_id"
        ),
    )

    engagement_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    campaign_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
