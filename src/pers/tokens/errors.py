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


class ContractNotDeployed(BusinessRuleViolation):
    code = "CONTRACT_NOT_DEPLOYED"
    title = "No contract code at this address on the chain"


class ContractInterfaceMissing(BusinessRuleViolation):
    code = "CONTRACT_INTERFACE_MISSING"
    title = "The contract does not offer the interface settlement calls for this token type"


class ContractOperatorMismatch(BusinessRuleViolation):
    code = "CONTRACT_OPERATOR_MISMATCH"
    title = "The contract's owner is not the tenant's operator"


class ContractDecimalsMismatch(BusinessRuleViolation):
    code = "CONTRACT_DECIMALS_MISMATCH"
    title = "The contract's decimals differ from the token's"
