from __future__ import annotations

from pers.errors import BadRequest, BusinessRuleViolation, Forbidden, NotFound


class InvalidAmount(BadRequest):
    code = "INVALID_AMOUNT"
    title = "The amount is not valid for this token"


class UserIdentifierRequired(BadRequest):
    code = "USER_IDENTIFIER_REQUIRED"
    title = "Name the user: userEmail holds the value of the field userIdentifier names"


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


class InvalidRow(BadRequest):
    code = "INVALID_ROW"
    title = "The row cannot be read or names no single recipient"


class UrlNotAllowed(BusinessRuleViolation):
    code = "URL_NOT_ALLOWED"
    title = "The URL may not be fetched (only http(s) to public addresses)"


class UrlFetchFailed(BusinessRuleViolation):
    code = "URL_FETCH_FAILED"
    title = "The URL could not be fetched"


class UrlContentTooLarge(BusinessRuleViolation):
    code = "URL_CONTENT_TOO_LARGE"
    title = "The file at the URL is larger than allowed"


class UrlContentInvalid(BusinessRuleViolation):
    code = "URL_CONTENT_INVALID"
    title = "The file at the URL cannot be read as CSV, NDJSON or a JSON array"


class TooManyRows(BusinessRuleViolation):
    code = "TOO_MANY_ROWS"
    title = "The file at the URL has more rows than allowed"
