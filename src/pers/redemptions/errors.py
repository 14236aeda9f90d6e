"""Redemption errors; each refused redeem rule has its own code (422 unless said otherwise)."""

from __future__ import annotations

from pers.errors import BusinessRuleViolation, Conflict, NotFound


class RedemptionNotFound(NotFound):
    code = "REDEMPTION_NOT_FOUND"
    title = "Redemption not found"


class RedemptionTypeNotFound(NotFound):
    code = "REDEMPTION_TYPE_NOT_FOUND"
    title = "Redemption type not found"


class TokenUnitNotFound(NotFound):
    code = "TOKEN_UNIT_NOT_FOUND"
    title = "The redemption has no such token unit"


class TokenUnitExists(Conflict):
    code = "TOKEN_UNIT_ALREADY_EXISTS"
    title = "The redemption already gives this token (and item); update that token unit"


class TokenNotOnMainnet(BusinessRuleViolation):
    code = "TOKEN_NOT_ON_MAINNET"
    title = "A mainnet redemption gives only tokens that have a mainnet address"


class SupplyBelowRedeemed(BusinessRuleViolation):
    code = "MAX_TOTAL_SUPPLY_BELOW_REDEEMED"
    title = "maxTotalSupply cannot be lower than the number of redeems already made"


class RedemptionWrongEnvironment(BusinessRuleViolation):
    code = "REDEMPTION_WRONG_ENVIRONMENT"
    title = "The redemption runs in the other environment than the project key's"


class RedemptionNotActive(BusinessRuleViolation):
    code = "REDEMPTION_NOT_ACTIVE"
    title = "The redemption is not active"


class RedemptionHasNoTokenUnits(BusinessRuleViolation):
    code = "REDEMPTION_HAS_NO_TOKEN_UNITS"
    title = "The redemption gives nothing yet (no token units)"


class UserNotActive(BusinessRuleViolation):
    code = "USER_NOT_ACTIVE"
    title = "The user is deactivated"


class UserStatusTooLow(BusinessRuleViolation):
    code = "USER_STATUS_TOO_LOW"
    title = "The user's status is below the redemption's minimum user status type"


class MaxPerUserReached(BusinessRuleViolation):
    code = "MAX_PER_USER_REACHED"
    title = "The user has redeemed this redemption as often as allowed"


class SupplyExhausted(BusinessRuleViolation):
    code = "REDEMPTION_SUPPLY_EXHAUSTED"
    title = "The redemption has no supply left"


class CountryNotAllowed(BusinessRuleViolation):
    code = "COUNTRY_NOT_ALLOWED"
    title = "The redemption is not available in the user's country"


class RewardTokenNotActive(BusinessRuleViolation):
    code = "REWARD_TOKEN_NOT_ACTIVE"
    title = "A token the redemption gives is not active"
