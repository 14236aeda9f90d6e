from __future__ import annotations

from pers.errors import BusinessRuleViolation, Conflict, NotFound


class TokenNotFound(NotFound):
    code = "TOKEN_NOT_FOUND"
    title = "Token not found"


class TokenMetadataNotFound(NotFound):
    code = "TOKEN_METADATA_NOT_FOUND"
    title = "Token metadata not found"


class CreditTokenNotConfigured(BusinessRuleViolation):
    code = "CREDIT_TOKEN_NOT_CONFIGURED"
    title = "The tenant has no active credit (ERC20) token in this environment"


class CreditTokenAlreadyActive(Conflict):
    code = "CREDIT_TOKEN_ALREADY_ACTIVE"
    title = "Another credit (ERC20) token is active in this environment"


class TokenAddressTaken(Conflict):
    code = "TOKEN_ADDRESS_TAKEN"
    title = "Another token of the tenant has this contract address in this environment"


class MainnetAddressAlreadySet(Conflict):
    code = "TOKEN_MAINNET_ADDRESS_ALREADY_SET"
    title = "The token already has another mainnet address"


class TokenMetadataNotSupported(BusinessRuleViolation):
    code = "TOKEN_METADATA_NOT_SUPPORTED"
    title = "Credit (ERC20) tokens have no item metadata"
