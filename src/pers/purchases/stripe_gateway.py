"""The few Stripe calls the Purchase module makes, through the official SDK.

Each call uses the tenant's own secret key and the deployment's API base
(``PERS_STRIPE_API_BASE``), with a client made for the call and closed after it: keys differ per
tenant, and an HTTP connection pool must not outlive the event loop it was opened on. Stripe's
errors become PersErrors here, so services never see an SDK exception.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import stripe

from pers.purchases.errors import (
    InvalidStripeSignature,
    InvalidWebhookPayload,
    PaymentIntentNotFound,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intent:
    """What pers reads of a Stripe PaymentIntent."""

    id: str
    client_secret: str | None
    amount: int
    amount_received: int
    currency: str
    status: str
    metadata: dict[str, str]
    last_error: str | None = None


# Stripe lets these intents change amount and currency (and be canceled).
PAYABLE_STATUSES = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action"}
)


def intent_of(obj: Any) -> Intent:
    """An Intent from a PaymentIntent (SDK object or plain event data)."""
    metadata = obj.get("metadata") or {}
    error = obj.get("last_payment_error") or None
    message = None
    if error:
        message = str(error.get("code") or error.get("message") or "payment_failed")[:255]
    return Intent(
        id=str(obj["id"]),
        client_secret=obj.get("client_secret"),
        amount=int(obj.get("amount") or 0),
        amount_received=int(obj.get("amount_received") or 0),
        currency=str(obj.get("currency") or ""),
        status=str(obj.get("status") or ""),
        metadata={str(k): str(v) for k, v in dict(metadata).items()},
        last_error=message,
    )


class StripeGateway:
    """Use as ``async with StripeGateway(key, base, timeout) as stripe_api: ...``."""

    def __init__(self, api_key: str, api_base: str, timeout: float) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=self._http,
            max_network_retries=1,
        )

    async def __aenter__(self) -> StripeGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create(
        self,
        *,
        amount: int,
        currency: str,
        receipt_email: str | None,
        description: str | None,
        metadata: dict[str, str],
    ) -> Intent:
        params: dict[str, Any] = {"amount": amount, "currency": currency, "metadata": metadata}
        if receipt_email is not None:
            params["receipt_email"] = receipt_email
        if description is not None:
            params["description"] = description
        return await self._call("create", None, params)

    async def retrieve(self, intent_id: str) -> Intent:
        return await self._call("retrieve", intent_id, None)

    async def update(self, intent_id: str, **params: Any) -> Intent:
        return await self._call("update", intent_id, params)

    async def cancel(self, intent_id: str) -> Intent:
        return await self._call("cancel", intent_id, None)

    async def _call(self, op: str, intent_id: str | None, params: dict[str, Any] | None) -> Intent:
        service = self._client.v1.payment_intents
        try:
            match op:
                case "create":
                    result = await service.create_async(params or {})  # type: ignore[arg-type]
                case "retrieve":
                    assert intent_id is not None
                    result = await service.retrieve_async(intent_id)
                case "update":
                    assert intent_id is not None
                    result = await service.update_async(intent_id, params or {})  # type: ignore[arg-type]
                case _:
                    assert intent_id is not None
                    result = await service.cancel_async(intent_id)
        except stripe.AuthenticationError as exc:
            raise PaymentsNotConfigured(
                "Stripe refused the tenant's stripeApiKey; an admin must set a valid one"
            ) from exc
        except stripe.PermissionError as exc:
            raise PaymentsNotConfigured(
                "the tenant's stripeApiKey may not manage payment intents"
            ) from exc
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404 or exc.code == "resource_missing":
                raise PaymentIntentNotFound(f"no payment intent {intent_id}") from exc
            raise PaymentProviderRejected(
                f"Stripe refused the request: {exc.user_message or exc.code or 'invalid request'}",
                stripeCode=exc.code,
            ) from exc
        except stripe.CardError as exc:
            raise PaymentProviderRejected(
                f"Stripe refused the request: {exc.user_message or exc.code}", stripeCode=exc.code
            ) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            log.warning("Stripe unavailable during %s: %s", op, type(exc).__name__)
            raise PaymentProviderUnavailable("Stripe could not be reached; retry later") from exc
        except stripe.StripeError as exc:
            log.warning("Stripe error during %s: %s", op, exc)
            raise PaymentProviderUnavailable("Stripe answered with an error; retry later") from exc
        return intent_of(result.to_dict())


def verify_event(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event, when ``signature`` (the ``Stripe-Signature`` header) is Stripe's signature of
    ``payload`` with ``secret``, made within the SDK's tolerance (5 minutes)."""
    try:
        event = stripe.Webhook.construct_event(payload.decode("utf-8"), signature, secret)
    except stripe.SignatureVerificationError as exc:
        raise InvalidStripeSignature("the Stripe-Signature header does not verify") from exc
    except ValueError as exc:
        raise InvalidWebhookPayload("the body is not a JSON Stripe event") from exc
    data: dict[str, Any] = event.to_dict()
    return data
