"""Imports every model module so Base.metadata knows every table (migrations, checks)."""

from pers.admins.models import Admin
from pers.auth.models import ApiKey, RefreshToken
from pers.businesses.models import Business, BusinessType
from pers.campaigns.models import (
    BusinessEngagement,
    Campaign,
    CampaignTokenUnit,
    CampaignTrigger,
    EngagedBusiness,
    TriggerCondition,
    TriggerConditionLink,
)
from pers.chains.models import Contract
from pers.claims.models import CampaignClaim, ClaimCounter
from pers.contract_deployments.models import ContractDeployment
from pers.idempotency.models import IdempotencyRecord
from pers.ledger.models import Balance, NftItem, Posting
from pers.purchases.models import DonationType, Purchase, PurchaseToken, PurchaseType, StripeEvent
from pers.redemptions.models import (
    Redemption,
    RedemptionRedeem,
    RedemptionSupplyShard,
    RedemptionTokenUnit,
    RedemptionType,
    RedemptionUserCounter,
)
from pers.settlement.models import SettlementAttempt, SettlementSend, SettlementSigner
from pers.tenants.models import Tenant
from pers.tokens.models import Token, TokenMetadata, TokenTypeDefinition
from pers.transactions.models import Transaction
from pers.users.models import User, UserIdentity, UserStatusType

__all__ = [
    "Admin",
    "ApiKey",
    "Balance",
    "Business",
    "BusinessEngagement",
    "BusinessType",
    "Campaign",
    "CampaignClaim",
    "CampaignTokenUnit",
    "CampaignTrigger",
    "ClaimCounter",
    "Contract",
    "ContractDeployment",
    "DonationType",
    "EngagedBusiness",
    "IdempotencyRecord",
    "NftItem",
    "Posting",
    "Purchase",
    "PurchaseToken",
    "PurchaseType",
    "Redemption",
    "RedemptionRedeem",
    "RedemptionSupplyShard",
    "RedemptionTokenUnit",
    "RedemptionType",
    "RedemptionUserCounter",
    "RefreshToken",
    "SettlementAttempt",
    "SettlementSend",
    "SettlementSigner",
    "StripeEvent",
    "Tenant",
    "Token",
    "TokenMetadata",
    "TokenTypeDefinition",
    "Transaction",
    "TriggerCondition",
    "TriggerConditionLink",
    "User",
    "UserIdentity",
    "UserStatusType",
]
