from __future__ import annotations

from pers.errors import BusinessRuleViolation, Conflict, NotFound


class BusinessNotFound(NotFound):
    code = "BUSINESS_NOT_FOUND"
    title = "Business not found"


class BusinessNotActive(BusinessRuleViolation):
    code = "BUSINESS_NOT_ACTIVE"
    title = "The business is not active"


class BusinessTypeNotFound(NotFound):
    code = "BUSINESS_TYPE_NOT_FOUND"
    title = "Business type not found"


class BusinessTypeCodeTaken(Conflict):
    code = "BUSINESS_TYPE_CODE_TAKEN"
    title = "Another business type of this tenant has this code"


class BusinessEmailTaken(Conflict):
    code = "BUSINESS_EMAIL_TAKEN"
    title = "Another business of this tenant has this e-mail"
