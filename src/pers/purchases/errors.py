"""Why a purchase operation is refused; each case has its own stable code."""

from __future__ import annotations

from pers.errors import (
    BadRequest,
    BusinessRuleViolation,
    Conflict,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)


class PaymentsNotConfigured(BusinessRuleViolation):
    code = "PAYMENTS_NOT_CONFIGURED"
    title = "The tenant has no usable Stripe keys (stripeApiKey, stripeWebhookSecret)"


class PaymentProviderRejected(BusinessRuleViolation):
    code = "PAYMENT_PROVIDER_REJECTED"
    title = "Stripe refused the request"


class PaymentProviderUnavailable(ServiceUnavailable):
    code = "PAYMENT_PROVIDER_UNAVAILABLE"
    title = "Stripe could not be reached"


class PaymentIntentNotFound(NotFound):
    code = "PAYMENT_INTENT_NOT_FOUND"
    title = "Payment intent not found"


class PaymentIntentNotPayable(Conflict):
    code = "PAYMENT_INTENT_NOT_PAYABLE"
    title = "The payment intent can no longer be paid or changed"


class PaymentIntentHasPurchase(Conflict):
    code = "PAYMENT_INTENT_HAS_PURCHASE"
    title = "A purchase already uses this payment intent"


class PaymentIntentAmountMismatch(BusinessRuleViolation):
    code = "PAYMENT_INTENT_AMOUNT_MISMATCH"
    title = "The payment intent was paid for another amount than the purchase costs"


class PurchaseTypeNotFound(NotFound):
    code = "PURCHASE_TYPE_NOT_FOUND"
    title = "Purchase type not found"


class PurchaseTokenNotFound(NotFound):
    code = "PURCHASE_TOKEN_NOT_FOUND"
    title = "Purchase token not found"


class PurchaseTokenNotActive(BusinessRuleViolation):
    code = "PURCHASE_TOKEN_NOT_ACTIVE"
    title = "The purchase token is not on sale"


class PurchaseTokenNotErc20(BusinessRuleViolation):
    code = "PURCHASE_TOKEN_NOT_ERC20"
    title = "Only ERC20 (credit) tokens can be sold"


class DonationTypeNotFound(NotFound):
    code = "DONATION_TYPE_NOT_FOUND"
    title = "Donation type not found"


class DonationTypeExists(Conflict):
    code = "DONATION_TYPE_EXISTS"
    title = "A donation type with this id exists"


class DonationIncomplete(ValidationFailed):
    code = "DONATION_INCOMPLETE"
    title = "A donation needs both donationTypeId and donationAccountAddress"


class DonationNotAllowed(BusinessRuleViolation):
    code = "DONATION_NOT_ALLOWED"
    title = "The donation account is no active business that can receive donations"


class InvalidQuantity(ValidationFailed):
    code = "INVALID_QUANTITY"
    title = "The quantity is not a positive amount of the token"


class AmountNotWholeCents(BusinessRuleViolation):
    code = "AMOUNT_NOT_WHOLE_CENTS"
    title = "quantity x conversionRate is not a whole number of cents"


class InvalidWebhookPayload(BadRequest):
    code = "INVALID_WEBHOOK_PAYLOAD"
    title = "The webhook body is no Stripe event"


class WebhookTenantUnknown(BadRequest):
    code = "WEBHOOK_TENANT_UNKNOWN"
    title = "The event names no tenant of this deployment"


class InvalidStripeSignature(BadRequest):
    code = "INVALID_STRIPE_SIGNATURE"
    title = "The Stripe-Signature header does not verify"


class PurchaseNotYetRecorded(Conflict):
    """Answered to a payment_intent.succeeded whose purchase does not exist yet: Stripe
    redelivers it later (with backoff, for up to three days)."""

    code = "PURCHASE_NOT_YET_RECORDED"
    title = "No purchase uses this payment intent yet; Stripe will redeliver the event"
    retryable = True
