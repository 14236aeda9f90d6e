from __future__ import annotations

from pers.errors import BadRequest, BusinessRuleViolation, Forbidden, NotFound


class InvalidAmount(BadRequest):
    code = "INVALID_AMOUNT"
    title = "The amount is not valid for this token"


class TransactionNotFound(NotFound):
    code = "TRANSACTION_NOT_FOUND"
    title = "Transaction not found"


class AccountNotFound(NotFound):
    code = "ACCOUNT_NOT_FOUND"
    title = "No user or business of this tenant has this account address"


class ChainMismatch(BusinessRuleViolation):
    code = "CHAIN_MISMATCH"
    title = "The token is not on this chain in the request's environment"


class TokenNotActive(BusinessRuleViolation):
    code = "TOKEN_NOT_ACTIVE"
    title = "The token is not active"


class TokenIdRequired(BusinessRuleViolation):
    code = "TOKEN_METADATA_ID_REQUIRED"
    title = "tokenMetadataIncrementalId is required for this token type"


class SenderNotIssuer(BusinessRuleViolation):
    code = "SENDER_NOT_ISSUER"
    title = "Mints are sent by the tenant's issuer account"


class MintNotAllowed(Forbidden):
    code = "BUSINESS_CANNOT_MINT"
    title = "This business may not mint tokens (canMintToken is off)"


class ChargeNotAllowed(Forbidden):
    code = "BUSINESS_CANNOT_CHARGE"
    title = "This business may not charge users (canChargeToken is off)"


class UserNotActive(BusinessRuleViolation):
    code = "USER_NOT_ACTIVE"
    title = "The user is deactivated: no value moves to or from a deactivated account"
