from __future__ import annotations

from pers.errors import BusinessRuleViolation, Conflict, NotFound


class CampaignNotFound(NotFound):
    code = "CAMPAIGN_NOT_FOUND"
    title = "Campaign not found"


class TriggerNotFound(NotFound):
    code = "CAMPAIGN_TRIGGER_NOT_FOUND"
    title = "Campaign trigger not found"


class TriggerConditionNotFound(NotFound):
    code = "TRIGGER_CONDITION_NOT_FOUND"
    title = "Trigger condition not found"


class TokenUnitNotFound(NotFound):
    code = "TOKEN_UNIT_NOT_FOUND"
    title = "The campaign has no such token unit"


class BusinessEngagementNotFound(NotFound):
    code = "BUSINESS_ENGAGEMENT_NOT_FOUND"
    title = "The campaign has no such business engagement"


class TokenUnitExists(Conflict):
    code = "TOKEN_UNIT_ALREADY_EXISTS"
    title = "The campaign already rewards this token (and item); update that token unit"


class BusinessAlreadyEngaged(Conflict):
    code = "BUSINESS_ALREADY_ENGAGED"
    title = "The business is already in another engagement of this campaign"


class TriggerConditionIdTaken(Conflict):
    code = "TRIGGER_CONDITION_ID_TAKEN"
    title = "A trigger condition with this id already exists"


class TokenNotOnMainnet(BusinessRuleViolation):
    code = "TOKEN_NOT_ON_MAINNET"
    title = "A mainnet campaign rewards only tokens that have a mainnet address"
