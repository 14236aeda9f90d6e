"""Why a claim is refused: each broken rule has its own code (422 unless said otherwise)."""

from __future__ import annotations

from pers.errors import BusinessRuleViolation, ValidationFailed


class CampaignWrongEnvironment(BusinessRuleViolation):
    code = "CAMPAIGN_WRONG_ENVIRONMENT"
    title = "The campaign runs in the other environment than the project key's"


class CampaignNotActive(BusinessRuleViolation):
    code = "CAMPAIGN_NOT_ACTIVE"
    title = "The campaign is not active"


class CampaignNotStarted(BusinessRuleViolation):
    code = "CAMPAIGN_NOT_STARTED"
    title = "The campaign has not started yet"


class CampaignEnded(BusinessRuleViolation):
    code = "CAMPAIGN_ENDED"
    title = "The campaign has ended"


class CampaignHasNoTrigger(BusinessRuleViolation):
    code = "CAMPAIGN_HAS_NO_TRIGGER"
    title = "The campaign has no trigger, so it cannot be claimed"


class ClaimerNotAllowed(BusinessRuleViolation):
    code = "TRIGGER_TYPE_MISMATCH"
    title = "The campaign's trigger does not let this kind of caller claim"


class UserNotActive(BusinessRuleViolation):
    code = "USER_NOT_ACTIVE"
    title = "The user is deactivated"


class BusinessMismatch(BusinessRuleViolation):
    code = "BUSINESS_MISMATCH"
    title = "A business claims at itself: businessId must be the calling business"


class BusinessNotEngaged(BusinessRuleViolation):
    code = "BUSINESS_NOT_ENGAGED"
    title = "The business takes no part in this campaign"


class MultiplierAboveMaximum(BusinessRuleViolation):
    code = "MULTIPLIER_ABOVE_MAXIMUM"
    title = "The multiplier is above the trigger's maxMultiplier"


class InvalidMultiplier(ValidationFailed):
    code = "INVALID_MULTIPLIER"
    title = "The multiplier must be a number above 0"


class LocationRequired(BusinessRuleViolation):
    code = "LOCATION_REQUIRED"
    title = (
        "The trigger limits the distance to the business: send businessId, latitude and longitude"
    )


class BusinessLocationUnknown(BusinessRuleViolation):
    code = "BUSINESS_LOCATION_UNKNOWN"
    title = "The business has no coordinates to measure the distance from"


class TooFarFromBusiness(BusinessRuleViolation):
    code = "TOO_FAR_FROM_BUSINESS"
    title = "The claim is farther from the business than the trigger allows"


class UserInfoMissing(BusinessRuleViolation):
    code = "USER_INFO_MISSING"
    title = "The user's profile lacks information the trigger requires"


class ConditionNotMet(BusinessRuleViolation):
    code = "CONDITION_NOT_MET"
    title = "A condition of the trigger does not hold on the claim's conditionsData"


class MaxPerUserReached(BusinessRuleViolation):
    code = "MAX_PER_USER_REACHED"
    title = "The user has claimed this campaign as often as the trigger allows"


class MaxPerDayReached(BusinessRuleViolation):
    code = "MAX_PER_DAY_REACHED"
    title = "The user has claimed this campaign as often as the trigger allows today (UTC)"


class CooldownActive(BusinessRuleViolation):
    code = "COOLDOWN_ACTIVE"
    title = "The user claimed this campaign too recently"


class MaxPerBusinessReached(BusinessRuleViolation):
    code = "MAX_PER_BUSINESS_REACHED"
    title = "The user has claimed this campaign at this business as often as allowed"


class MaxPerDayAtBusinessReached(BusinessRuleViolation):
    code = "MAX_PER_DAY_AT_BUSINESS_REACHED"
    title = "The user has claimed this campaign at this business as often as allowed today (UTC)"


class RewardTokenNotActive(BusinessRuleViolation):
    code = "REWARD_TOKEN_NOT_ACTIVE"
    title = "A token the campaign rewards is not active"


class UserIdentifierRequired(ValidationFailed):
    code = "USER_IDENTIFIER_REQUIRED"
    title = "Name the user: userIdentifier and the field it names"
